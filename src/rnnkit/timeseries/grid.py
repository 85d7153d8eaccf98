"""Regular time grids: the step of a date index (clock steps, trading days, calendar months),
the timestamps missing from it, and a frame put onto it (:func:`regularize`).

Used by :mod:`rnnkit.timeseries.frames` (``frequency`` and ``max_fill`` when a table loads), by
the forecasting pipelines (gap warnings), by the backtester (periods a year) and by the recursive
forecaster (:mod:`rnnkit.models.recursive`: the dates of the steps it forecasts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnnkit.timeseries.dates import check_date_index
from rnnkit.timeseries.windows import one_or_many


@dataclass(frozen=True)
class GapReport:
    """Timestamps missing from a regular grid: what :func:`describe_gaps` found."""

    frequency: str
    rows: int
    expected_rows: int
    largest_gap: pd.Timedelta
    first_missing: tuple[pd.Timestamp, ...]
    off_grid: int = 0  # rows between the grid's timestamps

    @property
    def missing(self) -> int:
        """How many grid timestamps have no row (a row off the grid fills none)."""
        return self.expected_rows - (self.rows - self.off_grid)

    def __str__(self) -> str:
        head = ", ".join(str(stamp) for stamp in self.first_missing)
        return (f"{self.rows} rows at frequency {self.frequency}: {self.missing} missing of "
                f"{self.expected_rows}, largest step {self.largest_gap}"
                + (f"; first missing: {head}" if head else ""))


def calendar_periods(index: pd.DatetimeIndex) -> float | None:
    """12, 4 or 1 when the rows are calendar months, quarters or years (steps of uneven days
    around a month, a quarter or a year: month ends, first or last trading days), else None.

    Example:
        >>> calendar_periods(pd.date_range("2020-01-31", periods=6, freq="ME"))
        12.0
        >>> calendar_periods(pd.date_range("2020-01-01", periods=6, freq="28D")) is None
        True
    """
    if len(index) < 3:
        return None
    days = np.diff(index.to_numpy()) / np.timedelta64(1, "D")
    if np.all(days == days[0]):  # a fixed step (28 days) is a clock grid, not a calendar
        return None
    typical = float(np.median(days))
    for low, high, count in ((26, 35, 12.0), (85, 97, 4.0), (360, 370, 1.0)):
        if low <= typical <= high:
            return count
    return None


def infer_frequency(index: pd.DatetimeIndex) -> str:
    """The grid step of a sorted index: its most common step, ``"B"`` for trading days, or
    calendar months, quarters or years (``"MS"``, ``"3MS"``, ``"12MS"``, or ``"ME"``, ...).

    A one-day step with no Saturday or Sunday in the index is business days (``"B"``); rows a
    month, a quarter or a year apart (:func:`calendar_periods`) all on the first (or all on
    the last) day of their month are month starts (ends).

    Example:
        >>> infer_frequency(pd.DatetimeIndex(["2020-01-01 00:00", "2020-01-01 01:00",
        ...                                   "2020-01-01 03:00"]))
        'h'
        >>> infer_frequency(pd.date_range("2020-01-31", periods=8, freq="QE"))
        '3ME'
    """
    _check_index(index)
    if len(index) < 3:
        raise ValueError(f"cannot infer a frequency from {len(index)} timestamps; need at "
                         "least 3, or pass the frequency")
    calendar = calendar_periods(index)
    if calendar is not None:  # months are 28 to 31 days: no fixed step is their grid
        ends = {"MS": index.is_month_start, "ME": index.is_month_end}
        anchor = next((name for name, on in ends.items() if on.all()), None)
        if anchor is not None:
            months = round(12 / calendar)
            return f"{months}{anchor}" if months > 1 else anchor
    step = pd.Timedelta(pd.Series(np.diff(index.to_numpy())).mode().iloc[0])
    if step == pd.Timedelta(days=1) and not (index.day_of_week >= 5).any():
        return "B"
    if step % pd.Timedelta(days=1) == pd.Timedelta(0):
        return f"{step.days}D" if step.days > 1 else "D"
    return str(pd.tseries.frequencies.to_offset(step).freqstr)


def describe_gaps(index: pd.DatetimeIndex, frequency: str | None = None) -> GapReport:
    """Compare a sorted index with the regular grid from its first to its last timestamp."""
    _check_index(index)
    chosen = frequency or infer_frequency(index)
    grid = pd.date_range(index[0], index[-1], freq=chosen)
    missing = grid.difference(index)
    largest = pd.Timedelta(np.diff(index.to_numpy()).max() if len(index) > 1 else 0)
    return GapReport(chosen, len(index), len(grid), largest, tuple(missing[:5]),
                     len(index.difference(grid)))


def skipped_periods(index: pd.DatetimeIndex) -> tuple[int, int, str] | None:
    """For rows of calendar months, quarters or years (:func:`calendar_periods`: first days,
    last days or first and last trading days alike), how many of the months (quarters, years)
    from the first row's to the last row's have no row, of how many, and the first of them
    (``2010-03``; a year: ``2008``); None for other rows (:func:`describe_gaps` reads those).

    Example:
        >>> skipped_periods(pd.date_range("2010-01-01", periods=12, freq="BMS").delete([2, 3]))
        (2, 12, '2010-03')
    """
    calendar = calendar_periods(index)
    if calendar is None:
        return None
    step = round(12 / calendar)
    months = index.to_period("M")
    grid = pd.period_range(months[0], months[-1], freq="M")[::step]
    missing = grid.difference(months)
    first = "" if not len(missing) else str(missing[0].year) if step == 12 else str(missing[0])
    return len(missing), len(grid), first


def _check_index(index: pd.Index) -> None:
    """Refuse an index that is not dates in ascending order, each once: its steps (and the
    grid from its first to its last row) would be wrong, not missing."""
    check_date_index(index, "the table")


def _calendar_advice(index: pd.DatetimeIndex, calendar: float) -> str:
    """What to do with calendar dates not on the first or last day of their months: set the
    business grid they are all on (``BMS``, ``3BME``...), where there is one; first or last
    trading days, which holidays move, are on none."""
    months = round(12 / calendar)
    for anchor in ("BMS", "BME"):
        name = f"{months}{anchor}" if months > 1 else anchor
        if index.difference(pd.date_range(index[0], index[-1], freq=name)).empty:
            return (f"set the frequency to {name!r} (every date is on that business grid), or "
                    "leave it out to use the rows as given")
    return ("leave the frequency out to use the rows as given (they are on no business grid "
            "either: holidays move first and last trading days off it)")


def regularize(frame: pd.DataFrame, frequency: str = "infer", max_fill: int = 0,
               keep: Sequence[str] = ()) -> pd.DataFrame:
    """Reindex to the regular grid; forward-fill all but ``keep`` for up to ``max_fill`` steps.

    Rows inserted for missing timestamps are ``NaN``; so are missing values already there.
    Filling uses past values only. A run longer than ``max_fill`` keeps its later ``NaN``.

    Raises:
        ValueError: a timestamp that is not on the grid (resample such data first).

    Example:
        >>> frame = pd.DataFrame({"x": [1.0, 3.0], "y": [5.0, 6.0]},
        ...                      index=pd.DatetimeIndex(["2020-01-01", "2020-01-03"]))
        >>> regularize(frame, "D", max_fill=1, keep=["y"])
                      x    y
        2020-01-01  1.0  5.0
        2020-01-02  1.0  NaN
        2020-01-03  3.0  6.0
    """
    _check_index(frame.index)
    if max_fill < 0:
        raise ValueError(f"max_fill must be >= 0 (0: no filling), not {max_fill}")
    chosen = infer_frequency(frame.index) if frequency == "infer" else frequency
    if not len(frame):  # no rows, no grid (frame.index[0] was an IndexError)
        return frame.copy()
    grid = pd.date_range(frame.index[0], frame.index[-1], freq=chosen, name=frame.index.name)
    off_grid = frame.index.difference(grid)
    calendar = calendar_periods(pd.DatetimeIndex(frame.index))
    if len(off_grid) and frequency == "infer" and calendar is not None:
        raise ValueError(f"the dates are {calendar:g} a year but not all on the first (or all "
                         "on the last) day of their month, so there is no grid to infer; "
                         + _calendar_advice(pd.DatetimeIndex(frame.index), calendar))
    if len(off_grid):
        raise ValueError(f"{len(off_grid)} timestamps are not on the {chosen!r} grid, the "
                         f"first {off_grid[0]}; resample the data to {chosen!r} first")
    result = frame.reindex(grid)
    kept = one_or_many(keep)  # 'load' is not in 'payload'
    fill = [name for name in result.columns if name not in kept]
    if max_fill > 0 and fill:
        result[fill] = result[fill].ffill(limit=max_fill)
    return result
