"""The time-series plots of rnnkit.viz (forecast, equity, drawdown) and the seed-equity
panels: where their legends, titles and date axes sit, and what they refuse to draw."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rnnkit.viz.seed_equity import plot_seed_equity, plot_seed_equity_grid
from rnnkit.viz.timeseries import plot_drawdown, plot_equity, plot_forecast

PNG = b"\x89PNG\r\n\x1a\n"
EQUITY = {"model": np.array([1.0, 1.1, 0.9])}
SEEDS = {"agent": [np.array([1.0, 1.1]), np.array([1.0, 0.9])]}


@pytest.mark.parametrize("kind, dated", [("steps", False), ("datetime64", True),
                                          ("pandas", True)])
def test_seed_equity_dates_its_axis_only_for_dates(
        kind: str, dated: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Steps given as times (100, 101) were labelled as dates, days after 1970-01-01."""
    import matplotlib.dates as mdates
    import pandas as pd

    import rnnkit.viz.seed_equity as module

    times = {"steps": np.arange(100, 102),
             "datetime64": np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[D]"),
             "pandas": pd.date_range("2020-01-01", periods=2)}[kind]
    kept: list[Any] = []
    monkeypatch.setattr(module, "save_figure", lambda figure, path, dpi: kept.append(figure))
    plot_seed_equity(SEEDS, tmp_path / "equity.png", times=times)
    formatter = kept[0].axes[0].xaxis.get_major_formatter()
    assert isinstance(formatter, mdates.ConciseDateFormatter) == dated


def _legend_and_axes_boxes(kept: list[Any]) -> list[tuple[Any, Any]]:
    """Each figure's (legend box, axes box) in pixels, once laid out as save_figure does."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    boxes = []
    for figure in kept:
        renderer = FigureCanvasAgg(figure).get_renderer()
        figure.tight_layout()
        for axes in figure.axes:
            if axes.get_legend() is not None:
                boxes.append((axes.get_legend().get_window_extent(renderer),
                              axes.get_window_extent(renderer)))
    return boxes


TITLE = "temperature, 6 steps ahead, the last 504 of 8755 test windows (2014-12-11 00:00:00 to \
2014-12-31 23:00:00)"  # a real forecast.png's
LONG_TITLED = {
    "forecast": lambda path: plot_forecast(np.arange(3.0), {"model": np.arange(3.0)}, path,
                                           title=TITLE, unit="degC"),
    "equity": lambda path: plot_equity(EQUITY, path, title=TITLE),
    "drawdown": lambda path: plot_drawdown(EQUITY, path, title=TITLE),
}


@pytest.mark.parametrize("name", LONG_TITLED)
def test_time_series_legends_sit_below_the_axes_and_titles_fit(
        name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """loc="best" put the legend inside the axes, over the curves or the interval band (a
    forecast.png of the Beijing temperature hid its band's first two days under it); beside
    the axes, it narrowed them and that plot's title, centred over them, was cut off."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    import rnnkit.viz.timeseries

    kept: list[Any] = []
    monkeypatch.setattr(rnnkit.viz.timeseries, "save_figure",
                        lambda figure, path, dpi: kept.append(figure))
    LONG_TITLED[name](tmp_path / f"{name}.png")
    [(legend, axes)] = _legend_and_axes_boxes(kept)
    assert legend.y1 < axes.y0  # below the axes, none of the data under it
    renderer = FigureCanvasAgg(kept[0]).get_renderer()
    title = kept[0].axes[0].title.get_window_extent(renderer)
    assert title.x0 >= 0 and title.x1 <= kept[0].bbox.width  # the title whole


@pytest.mark.parametrize("curves, words", [
    ({}, "no equity curves to plot"),
    ({"agent": []}, "'agent' of 'equity after costs' has no curve"),
    ({"agent": [np.array([1.0, 1.1]), np.array([])]}, "'agent''s curve 1 .* is empty"),
])
def test_seed_equity_refuses_nothing_to_draw(curves: dict[str, Any], words: str,
                                             tmp_path: Path) -> None:
    """An empty curve failed with an IndexError (its final value, curve[-1]); no curves at
    all drew a blank plot, a strategy without curves a legend of 'nan%'."""
    with pytest.raises(ValueError, match=words):
        plot_seed_equity(curves, tmp_path / "equity.png")
    assert not (tmp_path / "equity.png").exists()


@pytest.mark.parametrize("plot, words", [
    (lambda path: plot_forecast(np.array([]), {"model": np.array([])}, path),
     "no actual values"),
    (lambda path: plot_equity({}, path), "no equity curves"),
    (lambda path: plot_drawdown({}, path), "no equity curves"),
    (lambda path: plot_equity({"model": np.array([])}, path), "'model' .* is empty"),
    (lambda path: plot_drawdown({"model": np.array([])}, path), "'model' .* is empty"),
])
def test_time_series_plots_refuse_nothing_to_draw(plot: Callable[[Path], Any], words: str,
                                                  tmp_path: Path) -> None:
    """No values drew empty axes without a word (a blank PNG)."""
    with pytest.raises(ValueError, match=words):
        plot(tmp_path / "plot.png")
    assert not (tmp_path / "plot.png").exists()


def test_time_series_plots_draw_one_point(tmp_path: Path) -> None:
    for path in (plot_forecast(np.array([2.0]), {"model": np.array([1.0])}, tmp_path / "f.png"),
                 plot_equity({"model": np.array([1.0])}, tmp_path / "e.png"),
                 plot_drawdown({"model": np.array([1.0])}, tmp_path / "d.png")):
        assert path.read_bytes()[:8] == PNG


def test_seed_equity_legends_sit_beside_their_panels(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The legend sat inside, upper left, over where every curve starts (1, the top of the
    panel when the curves fall); in a grid it must not fall on the next panel either."""
    import rnnkit.viz.seed_equity

    kept: list[Any] = []
    monkeypatch.setattr(rnnkit.viz.seed_equity, "save_figure",
                        lambda figure, path, dpi: kept.append(figure))
    falling = {"agent": [np.linspace(1.0, 0.6, 50), np.linspace(1.0, 0.7, 50)],
               "buy_and_hold": [np.linspace(1.0, 0.8, 50)]}
    plot_seed_equity(falling, tmp_path / "equity.png")
    plot_seed_equity_grid({"AAPL": (falling, None), "IBM": (falling, None)},
                          tmp_path / "grid.png")
    boxes = _legend_and_axes_boxes(kept)
    assert len(boxes) == 3
    for legend, axes in boxes:
        assert legend.x0 > axes.x1
    (left_legend, _), (_, right_axes) = boxes[1:]
    assert left_legend.x1 < right_axes.x0
