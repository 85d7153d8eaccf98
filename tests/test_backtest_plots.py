"""The trading plots: equity, drawdown and forecast, and equity drawn on the day its return is
earned."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_backtest import _windows

from rnnkit.trading.returns import run_strategies
from rnnkit.viz.timeseries import plot_drawdown, plot_equity, plot_forecast


def test_plots_are_written(tmp_path: Path) -> None:
    actual = np.sin(np.arange(50) / 5.0)
    forecast = plot_forecast(actual, {"model": actual + 0.1, "persistence": np.roll(actual, 1)},
                             tmp_path / "forecast.png", lower=actual - 0.2, upper=actual + 0.4,
                             unit="degC")
    curves = {"model": np.cumprod(1 + np.full(50, 0.001)), "hold": 1 + actual / 10}
    equity = plot_equity(curves, tmp_path / "equity.png")
    drawdown = plot_drawdown(curves, tmp_path / "drawdown.png")
    for path in (forecast, equity, drawdown):
        assert path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="forecast 'short' has shape"):
        plot_forecast(actual, {"short": actual[:3]}, tmp_path / "x.png")


def test_equity_is_plotted_on_the_day_its_return_is_earned(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rnnkit.viz.timeseries as viz
    from rnnkit.pipelines.backtest import plot_backtests

    windows = _windows(30, "B")
    results = run_strategies({"long": np.ones(len(windows))}, windows, "price", 0, 0)
    drawn: dict[str, object] = {}
    monkeypatch.setattr(viz, "plot_equity", lambda equity, path, times, title, mark: drawn.update(
        equity=equity["long"], times=times))
    monkeypatch.setattr(viz, "plot_drawdown", lambda *args, **options: None)
    plot_backtests(results, tmp_path, windows, "equity")
    times, equity = drawn["times"], drawn["equity"]
    assert equity[0] == 1.0 and times[0] == windows.input_end[0]  # start: the first decision
    frame_index = windows.index  # the price rows: a long position earns p[t+1] / p[t]
    last = frame_index.get_loc(windows.input_end[-1]) + 1
    assert times[-1] == frame_index[last] and len(times) == len(equity) == len(windows) + 1
    assert equity[-1] == pytest.approx(results["long"].equity[-1])
