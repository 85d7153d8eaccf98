"""Plots of the vanishing/exploding gradient demonstration: gradient flow, training, explosion.

Example:
    >>> from rnnkit.training.diagnostics import GradientFlow
    >>> flow = GradientFlow("rnn", [[[1e-6, 1e-3, 1.0]]], loss=0.2)
    >>> plot_gradient_flow({"at initialisation": [flow]}, "flow.png")  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.axes import Axes

from rnnkit.training.diagnostics import DIRECTIONS, GradientFlow
from rnnkit.viz.save import save_figure, subplots

COLOURS = {"rnn": "tab:red", "lstm": "tab:blue", "gru": "tab:green"}
FLOOR = 1e-45  # 0 is drawn here on a log axis when a panel has no positive value at all


@dataclass
class Curve:
    """One line of a training plot: y against optimizer steps.

    Attributes:
        label: the legend entry.
        steps: the x values (optimizer steps).
        values: the y values (loss); non-finite values are dropped from the line.
        diverged_at: the step where the run broke down (NaN or inf), marked with an x; None if
            it never did.
    """

    label: str
    steps: Sequence[int]
    values: Sequence[float]
    diverged_at: int | None = None
    style: dict[str, str] = field(default_factory=dict)


def _colour(label: str, index: int) -> str:
    return COLOURS.get(label, f"C{(index + 4) % 10}")


def plot_gradient_flow(
    panels: Mapping[str, Sequence[GradientFlow]],
    path: str | Path,
    title: str = "gradient flow through time",
) -> Path:
    """Plot ``||dL/dh_t||`` against ``t`` on a log axis, one panel per entry of ``panels``.

    Each model gets one line per layer and direction (the backward direction dashed, higher
    layers fainter), so a vanishing gradient is a line that falls towards ``t = 0``.

    Args:
        panels: ``{panel title: [GradientFlow, ...]}``, e.g. at initialisation and after training.
        path: the PNG to write.
        title: the figure's title.

    Returns:
        the path written.
    """
    if not panels:
        raise ValueError("no panels to plot: give {panel title: [GradientFlow, ...]}")
    # the panels share their y axis, so 0 and inf are drawn below and above every real value
    # of the figure: one panel's own range put its "0" above another panel's real values
    every = [v for flows in panels.values() for flow in flows for directions in flow.norms
             for series in directions for v in series if v > 0 and math.isfinite(v)]
    low = min(every) / 10 if every else FLOOR  # 0 drawn below every real value
    high = max(every) * 10 if every else 1.0  # an overflow (inf) above them
    figure, axes_row = subplots(
        1, len(panels), figsize=(6.0 * len(panels), 4.5), squeeze=False, sharey=True
    )
    for axes, (panel, flows) in zip(axes_row[0], panels.items(), strict=True):
        _flow_panel(axes, panel, flows, low, high)
    axes_row[0][0].set_ylabel("‖dL/dh_t‖ (log scale)")
    figure.suptitle(title)
    return save_figure(figure, path, dpi=110)


def _flow_panel(axes: Axes, panel: str, flows: Sequence[GradientFlow], low: float,
                high: float) -> None:
    """One panel of :func:`plot_gradient_flow`: 0 drawn at ``low``, inf at ``high``."""
    marked: set[str] = set()
    for index, flow in enumerate(flows):
        for layer, directions in enumerate(flow.norms):
            for direction, series in enumerate(directions):
                label = flow.name
                if len(flow.norms) > 1 or len(directions) > 1:
                    label += f" L{layer} {DIRECTIONS[direction]}"
                colour = _colour(flow.name, index)
                values = [low if v == 0 else high if v == math.inf else v for v in series]
                axes.semilogy(  # a NaN is a gap in the line
                    range(len(values)), values, label=label, color=colour,
                    linestyle="--" if direction else "-", alpha=1.0 / (1 + 0.5 * layer),
                )
                for kind, marker, special, at in (("0: no gradient", "v", 0.0, low),
                                                  ("inf: overflow", "^", math.inf, high)):
                    steps = [t for t, v in enumerate(series) if v == special]
                    if steps:
                        axes.scatter(steps, [at] * len(steps), marker=marker, color=colour,
                                     s=12, label=None if kind in marked else kind)
                        marked.add(kind)
    axes.set_title(panel)
    axes.set_xlabel("time step t")
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(fontsize=8)


def plot_training_curves(
    curves: Sequence[Curve],
    path: str | Path,
    baseline: float,
    baseline_label: str = "trivial baseline",
    threshold: float | None = None,
    ylabel: str = "validation loss",
    title: str = "training",
) -> Path:
    """Plot loss against optimizer steps for several runs, the trivial baseline dashed.

    Args:
        curves: one :class:`Curve` per run.
        path: the PNG to write.
        baseline: the loss of the input-blind prediction, drawn as a dashed line.
        baseline_label: its legend entry.
        threshold: a "solved" level drawn dotted (None: none).
        ylabel: the y-axis label.
        title: the figure's title.

    Returns:
        the path written.
    """
    figure, axes = subplots(figsize=(9.0, 4.5))
    for index, curve in enumerate(curves):
        _line(axes, curve, _colour(curve.label, index))
    axes.axhline(baseline, color="black", linestyle="--", linewidth=1, label=baseline_label)
    if threshold is not None:
        axes.axhline(threshold, color="grey", linestyle=":", linewidth=1,
                     label="solved below")
    axes.set_yscale("log")
    axes.set_xlabel("optimizer step")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    # beside the axes: inside, it hid the part of a curve that fell below the baseline
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return save_figure(figure, path, dpi=110)


def plot_exploding(
    grad_norms: Sequence[Curve],
    losses: Sequence[Curve],
    path: str | Path,
    clip_norm: float | None = None,
    baseline: float | None = None,
    title: str = "exploding gradients",
) -> Path:
    """Two panels on log axes: the gradient norm per step and the loss per step.

    Args:
        grad_norms: per run, the global gradient norm before clipping at every step.
        losses: per run, the training loss at every step.
        path: the PNG to write.
        clip_norm: the clipping threshold, drawn dotted in the gradient panel.
        baseline: the trivial baseline's loss, drawn dashed in the loss panel.
        title: the figure's title.

    Returns:
        the path written; a run's divergence is marked with an x on both panels.
    """
    figure, (left, right) = subplots(1, 2, figsize=(12.0, 4.5))
    for axes, curves, ylabel in ((left, grad_norms, "‖grad‖ before clipping"),
                                 (right, losses, "training loss")):
        for index, curve in enumerate(curves):
            _line(axes, curve, f"C{index % 10}")
        axes.set_yscale("log")
        axes.set_xlabel("optimizer step")
        axes.set_ylabel(ylabel)
        axes.grid(True, alpha=0.3)
    if clip_norm:
        left.axhline(clip_norm, color="grey", linestyle=":", linewidth=1, label="clip norm")
    if baseline is not None:
        right.axhline(baseline, color="black", linestyle="--", linewidth=1,
                      label="baseline")
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    figure.suptitle(title)
    return save_figure(figure, path, dpi=110)


def _line(axes: Axes, curve: Curve, colour: str) -> None:
    """Draw a curve (finite points only) and an x where it diverged."""
    points = [(s, v) for s, v in zip(curve.steps, curve.values, strict=True)
              if math.isfinite(v) and v > 0]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    style = {"color": colour, **({"marker": "."} if len(xs) <= 60 else {}), **curve.style}
    axes.plot(xs, ys, label=curve.label, **style)  # type: ignore[arg-type]
    if curve.diverged_at is not None:
        top = max(ys, default=1.0)
        axes.plot([curve.diverged_at], [top], marker="x", markersize=12, markeredgewidth=3,
                  color=style["color"], linestyle="none")
        axes.annotate(f"NaN/inf at step {curve.diverged_at}", (curve.diverged_at, top),
                      textcoords="offset points", xytext=(6, -12), fontsize=8,
                      color=style["color"])
