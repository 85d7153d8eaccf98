"""Trading: strategies, the backtester on a hand-computed example, comparisons, and the plots."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnnkit.cli
from rnnkit.timeseries.labels import BUY, HOLD, MISSING, SELL
from rnnkit.timeseries.windows import Windows, make_windows
from rnnkit.trading.backtest import backtest, buy_and_hold, compare, report_table
from rnnkit.trading.returns import periods_per_year, run_strategies
from rnnkit.trading.strategies import class_positions, size_by_confidence, threshold_positions
from rnnkit.viz.timeseries import plot_drawdown, plot_equity, plot_forecast

needs_bokeh = pytest.mark.skipif(importlib.util.find_spec("bokeh_sampledata") is None,
                                 reason="bokeh-sampledata is not installed")


def test_five_days_with_costs_by_hand() -> None:
    positions = np.array([1.0, 1.0, 0.0, -1.0, -1.0])
    next_returns = np.array([0.01, -0.02, 0.03, -0.01, 0.02])
    result = backtest(positions, next_returns, cost_bps=10, slippage_bps=5, periods_per_year=252)
    # traded 1, 0, 1, 1, 0 units at 15 bps; gross 0.01, -0.02, 0, 0.01, -0.02
    net = [0.0085, -0.02, -0.0015, 0.0085, -0.02]
    np.testing.assert_allclose(result.costs, [0.0015, 0, 0.0015, 0.0015, 0])
    np.testing.assert_allclose(result.net_returns, net)
    equity = [1.0085, 0.98833, 0.986847505, 0.9952357088, 0.9753309946]
    np.testing.assert_allclose(result.equity, equity, rtol=1e-9)
    report = result.report
    assert report.total_return == pytest.approx(0.9753309946 - 1)
    assert report.annualized_return == pytest.approx(0.9753309946 ** (252 / 5) - 1)
    std = np.sqrt(0.0008267 / 4)  # squared deviations from the mean -0.0049 sum to 0.0008267
    assert report.annualized_volatility == pytest.approx(std * np.sqrt(252))
    assert report.sharpe == pytest.approx(-0.0049 / std * np.sqrt(252))
    assert report.max_drawdown == pytest.approx(1 - 0.9753309946 / 1.0085)
    assert (report.turnover, report.trades, report.periods) == (pytest.approx(0.6), 3, 5)
    assert report.hit_rate == 0.5  # in the market 4 periods; days 0 and 3 made money


def test_positions_earn_the_next_return_without_a_shift() -> None:
    next_returns = np.array([0.05, -0.03, 0.02])
    foresight = threshold_positions(next_returns, 0.0, "long_short")
    result = backtest(foresight, next_returns)
    np.testing.assert_allclose(result.gross_returns, np.abs(next_returns))
    assert result.report.hit_rate == 1.0 and result.report.max_drawdown == 0.0


def test_buy_and_hold_and_comparison() -> None:
    next_returns = np.array([0.01, 0.02, -0.01])
    hold = buy_and_hold(next_returns, cost_bps=10)
    assert hold.equity[-1] == pytest.approx((1 + 0.01 - 0.001) * 1.02 * 0.99)  # cost once
    assert hold.report.trades == 1
    results = compare(np.array([0.0, 1.0, 0.0]), next_returns,
                      persistence_positions=np.array([1.0, 1.0, 1.0]))
    assert list(results) == ["strategy", "persistence", "buy_and_hold"]
    assert results["strategy"].report.total_return == pytest.approx(0.02)
    table = report_table(results)
    assert table.splitlines()[1].startswith("strategy") and "buy_and_hold" in table


def test_strategies_turn_forecasts_into_positions() -> None:
    predicted = np.array([0.02, 0.004, -0.001, -0.03])
    assert threshold_positions(predicted, 0.005).tolist() == [1, 0, 0, 0]
    assert threshold_positions(predicted, 0.005, "long_short").tolist() == [1, 0, 0, -1]
    classes = np.array([HOLD, BUY, HOLD, MISSING, SELL, HOLD])
    assert class_positions(classes, "long_short").tolist() == [0, 1, 1, 1, -1, -1]
    assert class_positions(classes, "long_flat").tolist() == [0, 1, 1, 1, 0, 0]
    assert class_positions(classes, "long_short", hold="flat").tolist() == [0, 1, 0, 0, -1, 0]
    sized = size_by_confidence(np.array([1.0, -1.0, 1.0]), np.array([0.9, 0.6, 0.2]), 0.5)
    assert sized.tolist() == [0.9, -0.6, 0.0]
    with pytest.raises(ValueError, match="mode must be one of long_flat, long_short, not 'short'"):
        threshold_positions(predicted, 0.0, "short")


@pytest.mark.parametrize(("classes", "message"), [
    # the probabilities [N, 3] instead of their argmax: numpy's 'The truth value of an array
    # with more than one element is ambiguous'
    (np.full((4, 3), 1 / 3), r"classes must be one per decision \(\[N\]\), not shape "
                             r"\(4, 3\): class probabilities\? Take their argmax"),
    # a class that is none of them was read as hold, and a probability 0.9 as sell (0)
    (np.array([2, 5, 1]), r"classes must be sell 0, hold 1 or buy 2 \(-1: none\); got 5 at 1"),
    (np.array([2.0, 0.9, 1.0]), r"classes must be sell 0, hold 1 or buy 2 \(-1: none\); "
                                r"got 0.9 at 1"),
])
def test_classes_that_are_not_classes_are_refused(classes: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        class_positions(classes, "long_short")
    assert class_positions(np.array([2.0, 1.0, 0.0, -1.0]), "long_short").tolist() == [
        1, 1, -1, -1]  # whole numbers in a float array are classes


def test_a_negative_confidence_is_refused_not_read_as_flat() -> None:
    """A signed predicted return over its cap as the confidence made every short flat: -0.5
    was clipped to 0, without a word."""
    predicted = np.array([0.02, -0.01, 0.005])
    positions = threshold_positions(predicted, 0.0, "long_short")
    with pytest.raises(ValueError, match=r"confidence must be at least 0; got -0.5 at 1: size "
                                         r"by \|predicted return\| / cap"):
        size_by_confidence(positions, predicted / 0.02)
    sized = size_by_confidence(positions, np.abs(predicted) / 0.02)
    assert sized.tolist() == [1.0, -0.5, 0.25]


def test_backtest_input_errors() -> None:
    with pytest.raises(ValueError, match=r"positions \(2,\) and next_returns \(3,\) must be equal"):
        backtest(np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match="next_returns holds nan at 1"):
        backtest(np.ones(2), np.array([0.01, np.nan]))


@needs_bokeh
def test_aapl_buy_and_hold_is_the_price_ratio() -> None:
    from rnnkit.timeseries.baselines import persistence_return
    from rnnkit.timeseries.datasets import stock_prices
    from rnnkit.timeseries.labels import window_returns
    from rnnkit.timeseries.windows import make_windows

    prices = stock_prices(["AAPL"], returns=False)
    windows = make_windows(prices, "AAPL", lookback=2, horizon=1)
    next_returns = window_returns(windows)
    hold = buy_and_hold(next_returns)
    first, last = prices["AAPL"].iloc[1], prices["AAPL"].iloc[-1]
    assert hold.equity[-1] == pytest.approx(last / first)
    momentum = threshold_positions(persistence_return(windows), 0.0)
    results = compare(momentum, next_returns, persistence_positions=momentum, cost_bps=5)
    assert results["strategy"].report.periods == len(windows) == 3268


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


def _windows(rows: int, freq: str, missing: int | None = None) -> Windows:
    prices = 100.0 + np.arange(rows, dtype=float)
    frame = pd.DataFrame({"p": prices, "x": np.ones(rows)},
                         index=pd.date_range("2021-01-04", periods=rows, freq=freq))
    if missing is not None:
        frame.iloc[missing, 1] = np.nan
    return make_windows(frame, "p", lookback=2)


@pytest.mark.parametrize(("freq", "expected"), [("B", 252.0), ("D", 365.0), ("h", 8760.0)])
def test_backtests_are_annualised_by_the_series_grid(freq: str, expected: float) -> None:
    windows = _windows(30, freq)
    assert periods_per_year(windows.index) == expected
    result = run_strategies({"long": np.ones(len(windows))}, windows, "price", 0, 0)["long"]
    periods = result.report.periods
    equity = result.equity[-1]
    assert result.report.annualized_return == pytest.approx(equity ** (expected / periods) - 1)


def test_calendar_and_session_grids_are_annualised_by_the_bars_a_year_holds() -> None:
    assert periods_per_year(pd.date_range("2015-01-31", periods=36, freq="ME")) == 12.0
    assert periods_per_year(pd.date_range("2015-01-01", periods=36, freq="MS")) == 12.0
    assert periods_per_year(pd.date_range("2015-03-31", periods=12, freq="QE")) == 4.0
    month_ends = pd.date_range("2015-01-01", "2020-12-31", freq="BME")  # last trading days
    assert periods_per_year(month_ends) == 12.0
    assert periods_per_year(month_ends.delete(10)) == 12.0  # a month missing
    assert periods_per_year(pd.date_range("2015-01-01", periods=40, freq="BQE")) == 4.0
    assert periods_per_year(pd.date_range("2015-01-01", periods=40, freq="28D")) == \
        pytest.approx(365 / 28)  # a fixed 28-day step is not a month
    weekdays = pd.bdate_range("2020-01-01", periods=300)  # 1-minute bars 09:30-16:00
    minutes = pd.DatetimeIndex([d + pd.Timedelta(minutes=570 + k) for d in weekdays
                                for k in range(390)])
    assert periods_per_year(minutes) == pytest.approx(390 * 252, rel=0.05)  # not 525,600
    days = pd.bdate_range("2021-01-04", "2021-12-31")  # hourly bars 10:00-16:00 on weekdays
    sessions = pd.DatetimeIndex([d + pd.Timedelta(hours=h) for d in days for h in range(10, 17)])
    assert periods_per_year(sessions) == pytest.approx(1820 / 0.99, rel=0.01)  # not 8,760
    hours = pd.date_range("2020-01-01", periods=20_000, freq="h")
    assert periods_per_year(hours.delete(range(100, 5000))) == 8760.0  # one long gap: hourly
    assert periods_per_year(hours.delete(range(7, 20_000, 300))) == 8760.0  # a few missing


def test_a_backtest_refuses_windows_that_skip_rows() -> None:
    windows = _windows(30, "B", missing=10)  # rows 10-11 have no window: x is missing
    with pytest.raises(ValueError, match="no decision between .* a backtest needs one decision"
                       ) as refused:
        run_strategies({"long": np.ones(len(windows))}, windows, "price", 0, 0)
    # the days as dates (they read 2008-10-17T00:00:00.000000000)
    assert re.search(r"between \d{4}-\d\d-\d\d and \d{4}-\d\d-\d\d \(", str(refused.value))


def test_a_level_that_goes_below_zero_is_not_traded_as_a_price() -> None:
    frame = pd.DataFrame({"temperature": [3.0, 1.0, -2.0, 4.0, 5.0]},
                         index=pd.date_range("2014-01-01", periods=5))
    windows = make_windows(frame, "temperature", lookback=1)
    with pytest.raises(ValueError, match=r"the target 'temperature' is read as a price .* "
                                         r"holds values of 0 or below, so it has no returns"):
        run_strategies({"model": np.ones(len(windows))}, windows, "price", 5.0, 5.0)


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


def test_costs_beyond_all_that_a_trade_moves_are_refused_by_their_flags(tmp_path: Path,
                                                                       capsys) -> None:
    args = ["backtest", "--model", str(tmp_path / "model.rnnkit"), "--cost-bps", "1e9"]
    assert rnnkit.cli.main(args) == 2  # before the model is read
    assert "--cost-bps and --slippage-bps add up to 1e+09 basis points, more than 10000 " \
        "(100% of the value a trade moves); costs are in basis points: 5 means 0.05%" in \
        capsys.readouterr().err


def test_a_date_column_without_data_is_refused_as_forecast_and_evaluate_refuse_it(
        tmp_path: Path, capsys) -> None:
    # the flag was ignored: the backtest ran on the model's own data and exited 0
    args = ["backtest", "--model", str(tmp_path / "model.rnnkit"), "--date-column", "day"]
    assert rnnkit.cli.main(args) == 2  # before the model is read
    assert "--date-column day names the date column of a --data file; give --data too" in \
        capsys.readouterr().err


@pytest.mark.parametrize(("start", "end", "refused"), [
    ("2013-02-01", "2012-01-01", True), ("2013-01-01", "2012", True),
    ("2012-06-15", "2012-06", False), ("2012", "2012", False),
])
def test_a_start_after_the_end_is_refused_as_such(tmp_path: Path, capsys, start: str,
                                                  end: str, refused: bool) -> None:
    # it said 'no decision dates between 2013-02-01 and 2012-01-01; the data runs from ...',
    # after reading the model and its data
    args = ["backtest", "--model", str(tmp_path / "model.rnnkit"), "--start", start,
            "--end", end]
    assert rnnkit.cli.main(args) == 2  # before the model (not there) is read
    err = capsys.readouterr().err
    assert (f"--start {start} comes after --end {end}: no day lies between them" in err) \
        is refused, err


def test_a_table_prints_a_missing_percentage_as_nan() -> None:
    one_day = {"flat": backtest(np.zeros(1), np.array([0.01]))}
    row = report_table(one_day).splitlines()[1].split()
    assert row == ["flat", "0.00%", "0.00%", "nan", "nan", "0.00%", "0.000", "nan", "0"]


def test_a_short_hourly_run_of_big_gains_annualises_to_inf_not_a_crash() -> None:
    # 3 hours gaining 10% each, compounded over 8,760 hours a year: beyond a float (the
    # OverflowError of Python's float ** came out of the backtester as a traceback)
    frame = pd.DataFrame({"p": 100.0 * 1.1 ** np.arange(4)},
                         index=pd.date_range("2021-01-04", periods=4, freq="h"))
    windows = make_windows(frame, "p", lookback=1)
    results = run_strategies({"long": np.ones(len(windows))}, windows, "price", 0, 0)
    report = results["long"].report
    assert report.annualized_return == np.inf and report.total_return == pytest.approx(0.331)
    assert report_table(results).splitlines()[1].split()[:3] == ["long", "33.10%", "inf"]


@pytest.mark.parametrize(("options", "message"), [
    ({"cost_bps": np.nan}, "cost_bps nan and slippage_bps 0.0 must be finite numbers >= 0"),
    ({"slippage_bps": np.inf}, "slippage_bps inf must be finite numbers >= 0"),
    ({"periods_per_year": np.nan}, "periods_per_year must be a finite number > 0; got nan")])
def test_costs_or_a_year_that_are_no_number_are_refused(options: dict[str, float],
                                                        message: str) -> None:
    with pytest.raises(ValueError, match=message):
        backtest(np.ones(3), np.array([0.01, 0.02, 0.03]), **options)


def test_a_forecaster_with_a_lookback_shorter_than_the_persistence_return_is_backtested(
        ) -> None:
    # a forecaster trained with lookback 1 and horizon 2 (a price target): rnnkit backtest
    # refused it ('the past 2-step return of a price target needs a lookback of at least 3,
    # not 1'), a model that trained and evaluated, for its persistence baseline's sake
    from types import SimpleNamespace

    from rnnkit.pipelines.backtest import POSITIONS, BacktestOptions

    prices = 100.0 * 1.01 ** np.array([0, 1, 3, 2, 0, 1, 4, 2, 3, 0, 1, 2])
    frame = pd.DataFrame({"p": prices}, index=pd.date_range("2021-01-04", periods=12, freq="B"))
    everything = make_windows(frame, "p", lookback=1, horizon=2)
    model = SimpleNamespace(target="p", predict_windows=lambda windows: {
        "mean": np.repeat(windows.current[:, None], 2, axis=1) * 1.01})
    windows = everything.subset(slice(2, None))
    positions = POSITIONS["forecaster"](model, windows, BacktestOptions())
    past = prices[windows.origins] / prices[windows.origins - 2] - 1  # the last 2-day return
    assert positions["persistence"].tolist() == (past > 0).astype(float).tolist()
    assert positions["model"].tolist() == [1.0] * len(windows)
    with pytest.raises(ValueError, match=r"reads 3 rows of the target up to each decision, and "
                                         r"the first, 2021-01-04, has 1; choose a later --start"):
        POSITIONS["forecaster"](model, everything, BacktestOptions())


def test_the_command_prints_the_hours_of_hourly_decisions(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    # it cut the decision times to 10 characters: 'decisions 2021-02-28 to 2021-02-28' for a
    # backtest of 10:00 to 14:00
    import rnnkit.pipelines.backtest as pipeline

    summary = {"target": "price", "first_decision": "2021-02-28T10:00:00.000000000",
               "last_decision": "2021-02-28T14:00:00.000000000", "in_sample": "",
               "options": {"mode": "long_flat", "cost_bps": 5.0, "slippage_bps": 5.0},
               "table": "strategy"}
    monkeypatch.setattr(pipeline, "backtest_bundle", lambda *args, **options: summary)
    assert rnnkit.cli.main(["backtest", "--model", str(tmp_path / "model.rnnkit")]) == 0
    assert "price: decisions 2021-02-28 10:00:00 to 2021-02-28 14:00:00, long_flat" in \
        capsys.readouterr().out
    summary.update(first_decision="2010-01-04T00:00:00.000000000",
                   last_decision="2010-12-31T00:00:00.000000000")
    assert rnnkit.cli.main(["backtest", "--model", str(tmp_path / "model.rnnkit")]) == 0
    assert "decisions 2010-01-04 to 2010-12-31, long_flat" in capsys.readouterr().out


def test_returns_that_never_vary_have_no_sharpe_ratio() -> None:
    # a price rising 1% a period, held: np.std's rounding gave a spread of 3e-17 and a Sharpe
    # ratio of 9e16, where the report promises NaN for returns that never vary
    report = backtest(np.ones(10), np.full(10, 0.01)).report
    assert np.isnan(report.sharpe) and report.annualized_volatility == 0.0
    assert report.total_return == pytest.approx(1.01 ** 10 - 1)
    varying = backtest(np.ones(3), np.array([0.01, 0.01, 0.02])).report
    assert varying.sharpe == pytest.approx(np.mean([0.01, 0.01, 0.02]) /
                                           np.std([0.01, 0.01, 0.02], ddof=1) * np.sqrt(252))


def test_simple_returns_in_percent_are_refused_not_traded() -> None:
    # returns in percent (-3.2 for a 3.2% fall) read as simple returns: the backtest ran and
    # reported a total return of -100% and a max drawdown of 1733%, saying nothing
    returns = np.array([0.5, -3.2, 1.1, 0.4, -0.7, 2.0, -1.5, 0.3])
    frame = pd.DataFrame({"spx_return": returns},
                         index=pd.date_range("2021-01-04", periods=len(returns), freq="B"))
    windows = make_windows(frame, "spx_return", lookback=1)
    with pytest.raises(ValueError, match=r"'spx_return' is read as simple returns but holds "
                                         r"-3.2, .* returns in percent\? Divide them by 100"):
        run_strategies({"model": np.ones(len(windows))}, windows, "return", 5.0, 5.0)
    fine = make_windows(frame / 100, "spx_return", lookback=1)
    result = run_strategies({"model": np.ones(len(fine))}, fine, "return", 0, 0)["model"]
    assert result.equity[-1] == pytest.approx(np.prod(1 + returns[1:] / 100))


def test_train_signal_refuses_returns_in_percent_before_training(tmp_path: Path,
                                                                 capsys) -> None:
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2015-01-01", periods=300)
    pd.DataFrame({"date": days, "spx_return": rng.normal(0.05, 1.2, len(days))}).to_csv(
        tmp_path / "percent.csv", index=False)
    args = ["train", "signal", "--set", f"data.source={tmp_path / 'percent.csv'}", "--set",
            "data.target=spx_return", "--set", "data.lookback=5", "--set", "data.horizon=1",
            "--out", str(tmp_path / "run")]
    assert rnnkit.cli.main(args) == 2
    assert "read as simple returns but holds" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()  # before anything was trained or written


def test_a_threshold_that_is_no_number_is_refused() -> None:
    # NaN passed 'threshold < 0' and every position came out flat, saying nothing
    with pytest.raises(ValueError, match="threshold must be a finite number >= 0, not nan"):
        threshold_positions(np.array([0.02, -0.01]), float("nan"), "long_short")
    with pytest.raises(ValueError, match="threshold must be a finite number >= 0, not -0.1"):
        threshold_positions(np.array([0.02, -0.01]), -0.1)
    # inf passed '>= 0' and every position came out flat
    with pytest.raises(ValueError, match="threshold must be a finite number >= 0, not inf"):
        threshold_positions(np.array([0.02, -0.01]), float("inf"))


def test_an_infinite_predicted_return_is_refused() -> None:
    """An overflowed forecast (exp of a huge log return) was taken as a long position."""
    with pytest.raises(ValueError, match="the predicted returns hold 2 NaN or infinite"):
        threshold_positions(np.array([0.02, np.inf, -np.inf]), 0.0, "long_short")


def test_equity_that_is_wiped_out_stays_at_zero() -> None:
    # a short whose asset gained 150% took equity to -0.5; the next fall of 50% then "grew" it
    # to -0.75 and the report gave a total return of -168% and a drawdown of 175%
    result = backtest(np.array([-1.0, -1.0, -1.0]), np.array([1.5, -0.5, 0.1]))
    assert result.equity.tolist() == [0.0, 0.0, 0.0]
    assert result.net_returns.tolist() == [-1.0, 0.0, 0.0]
    assert result.report.total_return == -1.0
    assert result.report.max_drawdown == 1.0
    # the sign flipped back above zero: two losses beyond the equity read as a gain
    flipped = backtest(np.array([-1.0, -1.0]), np.array([1.5, 2.0]))
    assert flipped.equity.tolist() == [0.0, 0.0]
    assert flipped.report.total_return == -1.0
    # costs of a flip from short to long (two units) beyond the equity ruin it too
    costly = backtest(np.array([-1.0, 1.0, 1.0]), np.array([0.0, 0.0, 0.1]), cost_bps=6000)
    assert costly.equity[-1] == 0.0 and costly.report.max_drawdown == 1.0


def test_a_nan_predicted_return_is_refused_not_traded_flat() -> None:
    with pytest.raises(ValueError, match="the predicted returns hold 1 NaN"):
        threshold_positions(np.array([0.02, np.nan, -0.01]), 0.0, "long_short")


def test_a_wiped_out_run_reports_no_trades_or_hits_after_its_ruin() -> None:
    # ruined on the first day (a short as the asset gained 150%): the strategy's later flips
    # were counted as 3 more trades (turnover 1.75) and its later days as hits (50%), though
    # no equity was left to trade
    result = backtest(np.array([-1.0, 1.0, -1.0, 1.0]), np.array([1.5, 0.1, 0.1, 0.1]),
                      cost_bps=10)
    report = result.report
    assert (report.trades, report.turnover, report.hit_rate) == (1, 0.25, 0.0)
    assert result.costs.tolist() == [0.001, 0.0, 0.0, 0.0]
    assert result.positions.tolist() == [-1.0, 0.0, 0.0, 0.0]
    assert result.gross_returns.tolist() == [-1.5, 0.0, 0.0, 0.0]
    assert result.equity.tolist() == [0.0, 0.0, 0.0, 0.0]


def test_a_nan_confidence_or_minimum_is_refused_not_sized_flat() -> None:
    # a NaN confidence (a model that diverged) was silently flat, and a NaN minimum made
    # every position flat
    with pytest.raises(ValueError, match="the confidence holds 1 NaN"):
        size_by_confidence(np.array([1.0, -1.0, 1.0]), np.array([0.8, np.nan, 0.3]))
    with pytest.raises(ValueError, match="min_confidence must be a number in"):
        size_by_confidence(np.array([1.0, -1.0]), np.array([0.8, 0.5]), float("nan"))


def test_returns_that_vary_by_rounding_alone_have_no_sharpe_ratio() -> None:
    # a price rising 1% a day, held: its next-day returns p[t+1] / p[t] - 1 differ by 4e-16
    # from rounding, and the report gave a volatility of 2e-15 and a Sharpe ratio of 1.4e15
    frame = pd.DataFrame({"p": 100 * 1.01 ** np.arange(40)},
                         index=pd.bdate_range("2020-01-01", periods=40))
    windows = make_windows(frame, "p", lookback=3)
    report = run_strategies({"hold": np.ones(len(windows))}, windows, "price", 0.0,
                            0.0)["hold"].report
    assert np.isnan(report.sharpe) and report.annualized_volatility == 0.0
    assert report.total_return == pytest.approx(1.01 ** len(windows) - 1)


def test_a_weather_model_is_not_backtested_as_a_price(tmp_path: Path, capsys) -> None:
    # a Seattle temp_max forecaster was backtested: its target, read as a price by its name,
    # was traded, with a 231% "volatility" in the report
    out = tmp_path / "seattle"
    assert rnnkit.cli.main(["train", "forecaster", "--set", "data.source=Seattle",
                            "--set", "train.epochs=1", "--set", "model.hidden_size=4",
                            "--set", "train.progress=false", "--out", str(out)]) == 0
    capsys.readouterr()
    assert rnnkit.cli.main(["backtest", "--model", str(out / "model.rnnkit")]) == 2
    err = capsys.readouterr().err
    assert "Seattle's 'temp_max' is weather, not a price: rnnkit backtest trades a price" in err
    assert not (out / "backtest").exists()
    # the other way round, a price model given a weather series, named as --data's
    from rnnkit.pipelines.backtest import check_not_weather

    with pytest.raises(ValueError, match=r"^--data seattle is a weather series, not prices: "):
        check_not_weather("AAPL", "AAPL_log_return", "seattle")
    check_not_weather("AAPL", "AAPL_log_return", "IBM")
