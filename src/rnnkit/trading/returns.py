"""Returns that strategies and backtests need from windows and model outputs.

:func:`next_period_returns` is FUTURE data (what a position decided at the origin earns over the
next row): for the backtester only, never an input. :func:`forecast_returns` turns a
forecaster's ``[N, H]`` output into the return it predicts over its horizon, known at the
origin.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from rnnkit.timeseries.grid import calendar_periods, infer_frequency
from rnnkit.timeseries.labels import compound_returns
from rnnkit.timeseries.windows import Windows
from rnnkit.trading.backtest import BacktestResult, backtest, buy_and_hold


def next_period_returns(windows: Windows, kind: str) -> np.ndarray:
    """``[N]`` the asset's simple return from each origin's row to the next row (future).

    ``kind`` says what the target holds: ``price``, ``return`` or ``log_return``.

    Example:
        >>> import pandas as pd
        >>> from rnnkit.timeseries.windows import make_windows
        >>> frame = pd.DataFrame({"p": [100.0, 110.0, 99.0, 99.0]},
        ...                      index=pd.date_range("2020-01-01", periods=4))
        >>> next_period_returns(make_windows(frame, "p", lookback=1), "price").round(3).tolist()
        [0.1, -0.1, 0.0]
    """
    following = windows.targets[:, :1]  # [N, 1] the target at origin + 1
    check_tradable(windows, kind)
    if kind == "price":
        return following[:, 0] / windows.current - 1.0
    return compound_returns(following, kind)


def check_tradable(windows: Windows, kind: str) -> None:
    """Refuse a target read as a price (``kind``) with a value of 0 or below, a temperature
    say: it has no returns to trade; and one read as simple returns with a value of -1 or
    below (returns in percent, say), which would take the price to 0 or below."""
    if kind == "price" and ((windows.current <= 0).any() or (windows.targets <= 0).any()):
        raise ValueError(f"the target {windows.target_name!r} is read as a price (its name "
                         "does not end in return or log_return) but holds values of 0 or "
                         "below, so it has no returns to trade: a backtest needs a model of a "
                         "price or its returns")
    if kind == "return" and (windows.targets <= -1).any():
        lowest = float(windows.targets.min())
        raise ValueError(f"the target {windows.target_name!r} is read as simple returns but "
                         f"holds {lowest:g}, and a return of -1 or below would take the price "
                         "to 0 or below: returns in percent? Divide them by 100 (log returns: "
                         "a name ending in log_return, or signal.kind=log_return)")


def forecast_returns(mean: np.ndarray, windows: Windows, kind: str) -> np.ndarray:
    """``[N]`` the simple return over the horizon that ``[N, H]`` forecasts of the target
    predict, from each origin (known at the origin)."""
    mean = np.asarray(mean, dtype=float)
    if kind == "price":
        return mean[:, -1] / windows.current - 1.0
    return compound_returns(mean, kind)


def equity_times(windows: Windows) -> np.ndarray:
    """``[N + 1]`` times to plot an equity curve ``np.r_[1.0, result.equity]`` at: the first
    decision day for its start at 1, then each value on the day its return is earned (the
    row after its decision), so that no point is drawn before it is known."""
    return np.concatenate([windows.input_end[:1], windows.target_times[:, 0]])


def periods_per_year(index: pd.DatetimeIndex) -> float:
    """Bars a year of a series' grid, for annualising: 252 for trading days, 12 for months, 4
    for quarters; a clock grid a 365-day year over its step (365 for calendar days, 8,760 for
    hours), unless its rows cover well under that grid (trading sessions: hourly bars on
    weekdays only), then the bars its dates hold per year.

    Example:
        >>> periods_per_year(pd.date_range("2020-01-01", periods=5, freq="h"))
        8760.0
        >>> periods_per_year(pd.date_range("2020-01-31", periods=24, freq="ME"))
        12.0
    """
    if len(index) < 3:
        return 252.0  # too short to tell: the common case, daily trading
    calendar = calendar_periods(index)  # months (also month ends on trading days), quarters
    if calendar is not None:
        return calendar
    days = np.diff(index.to_numpy()) / np.timedelta64(1, "D")
    frequency = infer_frequency(index)
    if frequency == "B":  # trading days, holidays left out
        return 252.0
    # an offset's length measured on a date: pandas 3.0 has no Timedelta of a Day offset
    start = pd.Timestamp("2001-01-01")
    step = start + pd.tseries.frequencies.to_offset(frequency) - start
    grid = float(pd.Timedelta(days=365) / step)
    years = (index[-1] - index[0]) / pd.Timedelta(days=365.25)
    held = (len(index) - 1) / years
    breaks = int((days > step / pd.Timedelta(days=1)).sum())  # steps longer than the grid's
    sessions = years >= 0.25 and held < 0.8 * grid and breaks / years >= 20  # not one long gap
    return held if sessions else grid


def day_text(time: object) -> str:
    """A decision time as a date, with the hour only when it is not midnight.

    Example:
        >>> day_text(np.datetime64("2008-10-17")), day_text("2014-03-01 13:00")
        ('2008-10-17', '2014-03-01 13:00:00')
    """
    stamp = pd.Timestamp(time)
    return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)


def span_text(first: object, last: object) -> str:
    """``first to last``: dates when both are midnights, else both with their time (an hourly
    span from a midnight, as :func:`day_text` gives each end, read '2014-12-10 to 2014-12-31
    23:00:00').

    Example:
        >>> span_text("2014-12-10", "2014-12-31"), span_text("2014-12-10", "2014-12-10 23:00")
        ('2014-12-10 to 2014-12-31', '2014-12-10 00:00:00 to 2014-12-10 23:00:00')
    """
    ends = [pd.Timestamp(first), pd.Timestamp(last)]
    dates = all(end == end.normalize() for end in ends)
    return " to ".join(str(end.date()) if dates else str(end) for end in ends)


def decision_gaps(windows: Windows) -> str:
    """Why these windows cannot be backtested ("" when they can): a backtest chains one
    decision per row, so a row without one (a window dropped for a missing value) would
    silently drop that row's return."""
    gaps = np.flatnonzero(np.diff(windows.origins) != 1)
    if not len(gaps):
        return ""
    first, last = (day_text(windows.input_end[row]) for row in (gaps[0], gaps[0] + 1))
    return (f"no decision between {first} and {last} ({len(gaps)} such gap(s)): windows there "
            "were dropped because a value they need is missing, and a backtest needs one "
            "decision per row. Fill or drop the missing values, or backtest a period without "
            "them (rnnkit backtest --start/--end)")


def check_consecutive(windows: Windows) -> None:
    """Refuse windows that skip rows (see :func:`decision_gaps`)."""
    reason = decision_gaps(windows)
    if reason:
        raise ValueError(reason)


def run_strategies(positions: Mapping[str, np.ndarray], windows: Windows, kind: str,
                   cost_bps: float, slippage_bps: float) -> dict[str, BacktestResult]:
    """Backtest every named position series (one per window) on the windows' next-period
    returns (``kind``: what the target holds) with the same costs, and buy-and-hold;
    annualised by the series' grid (:func:`periods_per_year`)."""
    check_consecutive(windows)
    next_returns = next_period_returns(windows, kind)
    options = {"cost_bps": cost_bps, "slippage_bps": slippage_bps,
               "periods_per_year": periods_per_year(windows.index)}
    results = {name: backtest(held, next_returns, **options) for name, held in positions.items()}
    results["buy_and_hold"] = buy_and_hold(next_returns, **options)
    return results
