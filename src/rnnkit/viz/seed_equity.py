"""Equity curves of strategies trained with several seeds: every seed's curve, one colour per
strategy, so the spread between seeds shows beside the gap between strategies. One panel
(:func:`plot_seed_equity`) or one panel per asset (:func:`plot_seed_equity_grid`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import numpy as np

from rnnkit.viz.save import save_figure, subplots

Curves = Mapping[str, Sequence[np.ndarray]]  # strategy -> one equity curve [N] per seed


def _draw(axes: Any, curves: Curves, times: np.ndarray | None, title: str) -> None:
    _check(curves, title)
    colours = matplotlib.colormaps["tab10"]
    for k, (name, runs) in enumerate(curves.items()):
        finals = [float(np.asarray(curve)[-1]) - 1.0 for curve in runs]
        label = (f"{name}: {np.mean(finals):+.0%}" + (f" ± {np.std(finals, ddof=1):.0%} "
                 f"({len(runs)} seeds)" if len(runs) > 1 else ""))
        for i, curve in enumerate(runs):
            curve = np.asarray(curve, dtype=float)
            x = np.arange(len(curve)) if times is None else np.asarray(times)
            if len(x) != len(curve):
                raise ValueError(f"{len(x)} times for a {name} curve of {len(curve)} values; "
                                 "give one time per value")
            axes.plot(x, curve, color=colours(k % 10), linewidth=1.6 if len(runs) == 1 else 0.8,
                      alpha=1.0 if len(runs) == 1 else 0.6, label=label if i == 0 else None)
    if times is not None and _dates(times):  # steps or other numbers keep their own ticks:
        locator = mdates.AutoDateLocator()  # read as days since 1970, 100 was '11 Apr'
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes.axhline(1.0, color="grey", linewidth=0.5)
    axes.set_title(title)
    axes.set_ylabel("equity (start 1)")
    # beside the axes: inside, upper left, it hid where every curve starts (1, at the top
    # of the panel when the curves fall)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)


def _check(curves: Curves, title: str) -> None:
    """Refuse nothing to draw: no strategy, a strategy without a seed's curve, or an empty
    curve (its final return, curve[-1], failed with an IndexError; no curve drew a blank
    panel, an empty strategy a legend of 'nan%')."""
    if not curves:
        raise ValueError(f"no equity curves to plot in {title!r}: give {{strategy: [one "
                         "curve per seed]}}")
    for name, runs in curves.items():
        if not len(runs):
            raise ValueError(f"strategy {name!r} of {title!r} has no curve: give one equity "
                             "curve per seed, or leave the strategy out")
        for seed, curve in enumerate(runs):
            if not np.asarray(curve).size:
                raise ValueError(f"{name!r}'s curve {seed} in {title!r} is empty: an equity "
                                 "curve needs at least its starting value")


def _dates(times: Any) -> bool:
    """Whether ``times`` are dates (datetime64, pandas or Python datetimes), not numbers."""
    values = np.asarray(times)
    if values.dtype.kind == "M":
        return True
    return values.dtype.kind == "O" and len(values) > 0 and isinstance(values[0], datetime)


def plot_seed_equity(curves: Curves, path: str | Path, times: np.ndarray | None = None,
                     title: str = "equity after costs") -> Path:
    """Every equity curve in one plot; the legend gives each strategy's final return (mean
    ± standard deviation over seeds).

    Example:
        >>> import tempfile
        >>> curves = {"agent": [np.array([1.0, 1.1]), np.array([1.0, 0.9])],
        ...           "buy_and_hold": [np.array([1.0, 1.05])]}
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     plot_seed_equity(curves, Path(folder) / "equity.png").name
        'equity.png'
    """
    figure, axes = subplots(figsize=(10, 4.5))
    _draw(axes, curves, times, title)
    return save_figure(figure, path, dpi=110)


def plot_seed_equity_grid(panels: Mapping[str, tuple[Curves, np.ndarray | None]],
                          path: str | Path, columns: int = 2) -> Path:
    """One :func:`plot_seed_equity` panel per title (e.g. per stock): ``{title: (curves,
    times)}``."""
    if not panels:
        raise ValueError("no panels to plot")
    columns = min(columns, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure, grid = subplots(rows, columns, figsize=(7 * columns, 4 * rows), squeeze=False)
    for axes, (title, (curves, times)) in zip(grid.flat, panels.items(), strict=False):
        _draw(axes, curves, times, title)
    for axes in list(grid.flat)[len(panels):]:
        axes.set_visible(False)
    return save_figure(figure, path, dpi=110)
