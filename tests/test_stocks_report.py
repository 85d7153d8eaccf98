"""The stock pipeline's report: the forecast plot's test days and the leak alarm's yardstick."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnkit.timeseries.features import price_features
from rnnkit.timeseries.windows import make_windows


@pytest.mark.parametrize("days, part", [
    (3, "the last 3 of 9 test days (2020-01-08 to 2020-01-10)"),
    (250, "test (2020-01-02 to 2020-01-10)"),
])
def test_the_forecast_plot_says_which_test_days_it_shows(
        days: int, part: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """forecast.png shows the last 250 test days and was titled '(test)', beside an
    equity.png of every test year; each point sits on its target day, the model's price
    implied from the price at its decision."""
    from rnnkit.pipelines import stocks_report

    drawn: dict[str, object] = {}
    monkeypatch.setattr("rnnkit.viz.timeseries.plot_forecast",
                        lambda actual, predicted, path, **options: drawn.update(
                            actual=actual, predicted=predicted, **options))
    monkeypatch.setattr("rnnkit.pipelines.backtest.plot_backtests", lambda *args: None)
    monkeypatch.setattr("rnnkit.viz.confusion.plot_confusion", lambda *args, **kw: None)
    index = pd.date_range("2020-01-01", periods=10, freq="D")
    price = pd.Series(100.0 + np.arange(10.0), index=index, name="AAPL")
    frame = pd.DataFrame({"AAPL_log_return": np.log(price).diff().fillna(0.0)}, index=index)
    windows = make_windows(frame, "AAPL_log_return", lookback=1, horizon=1)
    assert len(windows) == 9  # decisions 2020-01-01 .. 2020-01-09
    result = {"windows": windows, "price": price, "forecast": np.full((9, 1), np.log(1.01))}
    scores = {"classification": {"model": {"confusion": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}}}
    stocks_report.plot_symbol("AAPL", result, scores, {}, tmp_path, days=days)
    assert drawn["title"] == f"AAPL: adjusted close 1 day(s) ahead, {part}"
    shown = min(days, 9)
    np.testing.assert_array_equal(drawn["times"], windows.target_times[-shown:, -1])
    np.testing.assert_allclose(drawn["actual"], price.to_numpy()[-shown:])
    predicted = drawn["predicted"]
    assert isinstance(predicted, dict)
    np.testing.assert_allclose(predicted["persistence"], price.to_numpy()[-shown - 1:-1])
    np.testing.assert_allclose(predicted["model"], 1.01 * price.to_numpy()[-shown - 1:-1])


@pytest.mark.parametrize(("rises", "right", "alarm"), [
    (0.60, 0.58, False),  # below the drift: a forecast of up every day gets 60%
    (0.60, 0.62, True),  # above the drift and above 55%
    (0.50, 0.56, True),  # a coin flip's drift: above 55% is flagged as before
    (0.35, 0.60, False),  # a falling price: down every day gets 65%
    (0.50, 0.54, False),
])
def test_the_leak_alarm_flags_a_direction_the_drift_does_not_explain(
        rises: float, right: float, alarm: bool) -> None:
    """The alarm flagged any direction above 55%, a model that learnt the drift alone too:
    AAPL 2009-2013 five days ahead scored 58.6% where up every day got 58.9%, and the run
    said to check for a leak."""
    from rnnkit.pipelines.stocks import StocksRunConfig
    from rnnkit.pipelines.stocks_report import score_symbol

    days = 400
    rng = np.random.default_rng(3)
    up = rng.permutation(np.arange(days) < round(rises * days))  # the day after each decision
    moves = np.where(up, 0.01, -0.01)
    prices = pd.Series(100 * np.exp(np.cumsum(np.r_[rng.normal(0, 0.01, 30), moves])), name="X",
                       index=pd.bdate_range("2010-01-01", periods=days + 30))
    frame = pd.concat([prices, price_features(prices)], axis=1).dropna()
    windows = make_windows(frame, "X_log_return", [c for c in frame if c != "X"], 10, 1)
    assert len(windows) == days
    wrong = rng.permutation(np.arange(days) < round((1 - right) * days))
    forecast = np.where(up != wrong, 0.001, -0.001)[:, None]  # right on `right` of the days
    classes = np.ones(days, dtype=int)
    result = {"windows": windows, "forecast": forecast, "ridge": forecast, "price": prices,
              "probabilities": np.eye(3)[classes], "labels": classes, "majority": classes,
              "persistence_signal": classes, "folds": []}
    scores, _ = score_symbol("X", result, StocksRunConfig())
    assert scores["forecast"]["model"]["directional_accuracy"] == pytest.approx(right)
    assert scores["forecast"]["always_up"]["directional_accuracy"] == pytest.approx(rises)
    assert scores["leak_alarm"] is alarm
