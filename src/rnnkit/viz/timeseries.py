"""Time-series plots (matplotlib): forecast against actual with an optional
interval band, equity curves of several strategies, and their drawdowns. Each function saves
a PNG and returns its path."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.viz.save import save_figure, subplots


def _times(length: int, times: np.ndarray | None) -> np.ndarray:
    if times is None:
        return np.arange(length)
    times = np.asarray(times)
    if len(times) != length:
        raise ValueError(f"{len(times)} times for {length} values; give one time per value")
    return times


def plot_forecast(actual: np.ndarray, predicted: Mapping[str, np.ndarray], path: str | Path,
                  times: np.ndarray | None = None, lower: np.ndarray | None = None,
                  upper: np.ndarray | None = None, title: str = "forecast vs actual",
                  unit: str = "", level: float | None = None) -> Path:
    """Actual values and one line per forecast; ``lower``/``upper`` shade an interval band
    around the first forecast, its legend naming its ``level`` when given (0.9: "90%").

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     plot_forecast(np.arange(5.0), {"persistence": np.arange(5.0) - 1},
        ...                   Path(folder) / "f.png", lower=np.arange(5.0) - 2,
        ...                   upper=np.arange(5.0)).name
        'f.png'
    """
    actual = np.asarray(actual, dtype=float)
    if not actual.size:  # drew empty axes without a word
        raise ValueError(f"nothing to plot in {path}: no actual values (give at least one)")
    x = _times(len(actual), times)
    forecasts = {name: np.asarray(values, dtype=float) for name, values in predicted.items()}
    for name, values in forecasts.items():
        if values.shape != actual.shape:
            raise ValueError(f"forecast {name!r} has shape {values.shape}, actual "
                             f"{actual.shape}; plot one step ahead ([N]) at a time")
    band = None
    if (lower is None) != (upper is None):
        raise ValueError("give both lower and upper for an interval band, or neither")
    if lower is not None and upper is not None:
        band = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
        for side, values in zip(("lower", "upper"), band, strict=True):
            if values.shape != actual.shape:
                raise ValueError(f"the interval's {side} bound has shape {values.shape}, "
                                 f"actual {actual.shape}; give one bound per value")
    figure, axes = subplots(figsize=(10, 4))
    axes.plot(x, actual, color="black", linewidth=1.2, label="actual")
    for i, (name, values) in enumerate(forecasts.items()):
        line = axes.plot(x, values, linewidth=1.0, label=name)[0]
        if i == 0 and band is not None:
            share = "" if level is None else f" {100 * level:g}%"
            axes.fill_between(x, *band, color=line.get_color(), alpha=0.2,
                              label=f"{name}{share} interval")
    _title(axes, title)
    axes.set_ylabel(unit)
    _legend(axes)
    return save_figure(figure, path, dpi=120)


def _curves(equity: Mapping[str, np.ndarray], path: str | Path) -> dict[str, np.ndarray]:
    """The equity curves as float arrays; none, or an empty one, refused (they drew empty
    axes without a word)."""
    curves = {name: np.asarray(curve, dtype=float) for name, curve in equity.items()}
    if not curves:
        raise ValueError(f"nothing to plot in {path}: no equity curves (give {{strategy: "
                         "curve}})")
    for name, curve in curves.items():
        if not curve.size:
            raise ValueError(f"the equity curve {name!r} for {path} is empty: it needs at "
                             "least its starting value")
    return curves


def _title(axes: Any, title: str) -> None:
    """The title, its font made smaller past 90 characters: centred over the axes, a long
    one (a forecast's names its target, horizon, windows and span) ran off the figure."""
    axes.set_title(title, fontsize=min(12.0, 12.0 * 90 / max(len(title), 1)))


def _legend(axes: Any) -> None:
    """The legend below the axes, in one row (up to 4 entries a row): inside, it hid the
    curves or the interval band it fell over (the first days of a forecast's band, under
    loc="best"); beside them, it narrowed the axes, and the long title centred over them
    (a forecast's names its span) was cut off at the figure's edge."""
    entries = len(axes.get_legend_handles_labels()[1])
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=min(max(entries, 1), 4),
                fontsize=8, frameon=False)


def _mark(axes: Any, mark: tuple[Any, str] | None) -> None:
    """A dashed vertical line at ``mark``'s time, with its label in the legend."""
    if mark is not None:
        axes.axvline(mark[0], color="grey", linestyle="--", linewidth=1.0, label=mark[1])


def plot_equity(equity: Mapping[str, np.ndarray], path: str | Path,
                times: np.ndarray | None = None, title: str = "equity",
                log_scale: bool = False, mark: tuple[Any, str] | None = None) -> Path:
    """One equity curve per strategy (starting equity 1), e.g. model, persistence,
    buy-and-hold; ``mark``: a (time, label) drawn as a dashed vertical line."""
    curves = _curves(equity, path)
    xs = {name: _times(len(curve), times) for name, curve in curves.items()}
    figure, axes = subplots(figsize=(10, 4))
    for name, curve in curves.items():
        axes.plot(xs[name], curve, linewidth=1.0, label=name)
    axes.axhline(1.0, color="grey", linewidth=0.5)
    _mark(axes, mark)
    if log_scale:
        axes.set_yscale("log")
    _title(axes, title)
    axes.set_ylabel("equity")
    _legend(axes)
    return save_figure(figure, path, dpi=120)


def plot_drawdown(equity: Mapping[str, np.ndarray], path: str | Path,
                  times: np.ndarray | None = None, title: str = "drawdown",
                  mark: tuple[Any, str] | None = None) -> Path:
    """The fall from the running peak of each equity curve, in percent (0 at a new peak);
    ``mark`` as :func:`plot_equity`'s."""
    curves = _curves(equity, path)
    xs = {name: _times(len(curve), times) for name, curve in curves.items()}
    figure, axes = subplots(figsize=(10, 3))
    for name, curve in curves.items():
        peaks = np.maximum.accumulate(np.maximum(curve, 1.0))
        axes.plot(xs[name], 100.0 * (curve / peaks - 1.0), linewidth=1.0, label=name)
    _mark(axes, mark)
    _title(axes, title)
    axes.set_ylabel("drawdown (%)")
    _legend(axes)
    return save_figure(figure, path, dpi=120)
