"""The backtester: a hand-computed example, buy-and-hold and comparisons, annualisation by the
series' grid, Sharpe ratios, ruin, and the inputs it refuses (strategies, plots and the command
line in test_backtest_strategies.py, test_backtest_plots.py and test_backtest_cli.py)."""

from __future__ import annotations

import importlib.util
import re

import numpy as np
import pandas as pd
import pytest

from rnnkit.timeseries.windows import Windows, make_windows
from rnnkit.trading.backtest import backtest, buy_and_hold, compare, report_table
from rnnkit.trading.returns import periods_per_year, run_strategies
from rnnkit.trading.strategies import threshold_positions

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
