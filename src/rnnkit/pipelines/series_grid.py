"""What a time series' grid decides for a pipeline (the rows' step: hours, days, trading days,
weeks, calendar months, quarters or years): the warning of the periods a file's rows skip, the
calendar inputs ``data.calendar=auto`` adds, and the seasonal-naive baseline's period.

Used by :mod:`rnnkit.pipelines.sources` (reading and preparing a source) and by the forecaster's
scoring.
"""

from __future__ import annotations

import warnings

import pandas as pd

from rnnkit.pipelines.source_config import (
    SOURCES,
    ForecastDataConfig,
    column_names,
    registry_name,
)
from rnnkit.timeseries.grid import (
    calendar_periods,
    describe_gaps,
    infer_frequency,
    skipped_periods,
)


def warn_gaps(index: pd.Index, source: str) -> None:
    """A ``UserWarning`` when the dates of a clock grid (hours, days, ...) skip timestamps, or
    rows of calendar months, quarters or years skip one (a monthly file without 2010-03): a
    window would then read rows that are not consecutive in time. Trading days (holidays) are
    not checked."""
    index = pd.DatetimeIndex(index)
    frequency = infer_frequency(index)
    if frequency == "B":
        return
    calendar = calendar_periods(index)
    skipped = skipped_periods(index)
    if skipped is not None and calendar is not None:  # months are 28 to 31 days: no clock grid
        missing, expected, first = skipped
        unit = {12.0: "month", 4.0: "quarter", 1.0: "year"}[calendar]
        what = f"{unit}s of its {unit}ly grid"
    else:
        try:
            report = describe_gaps(index, frequency)
        except ValueError:
            return
        missing, expected = report.missing, report.expected_rows
        first = str(report.first_missing[0]) if report.first_missing else ""
        what = f"timestamps of its {frequency!r} grid"
    if missing:
        warnings.warn(f"{source}: {missing} of {expected} {what} have no row (first missing: "
                      f"{first}); a window reads the rows as given, so it may span such a "
                      "gap. Trained with data.frequency=infer, a model makes each missing "
                      "timestamp a missing row, which no window uses (data.max_fill=N fills "
                      "inputs for N steps)",
                      UserWarning, stacklevel=2)


def calendar_parts(data: ForecastDataConfig, index: pd.DatetimeIndex) -> list[str]:
    """``data.calendar``'s parts; ``auto``: the parts that vary along the series' grid (from
    its first 100 rows): hour and day of year under a day, day of week and day of year for
    days (calendar or trading), day of year for weeks and other fixed steps under a year,
    month for calendar months and quarters, none for years (a weekday of each January 1st, or
    of each month's first day, is noise, and a constant column teaches nothing).

    Example:
        >>> auto = ForecastDataConfig(source="file.csv")
        >>> calendar_parts(auto, pd.date_range("2020-01-01", periods=30, freq="MS"))
        ['month']
        >>> calendar_parts(auto, pd.date_range("2000-01-01", periods=30, freq="YS"))
        []
    """
    if data.calendar != "auto":
        return column_names(data.calendar)
    head = pd.DatetimeIndex(index[: min(len(index), 100)])
    calendar = calendar_periods(head)  # months 12, quarters 4, years 1
    if calendar is not None:
        return ["month"] if calendar > 1 else []
    step = pd.Series(head).diff().median()
    if step < pd.Timedelta(days=1):
        return ["hour", "day_of_year"]
    if step < pd.Timedelta(days=7):
        return ["day_of_week", "day_of_year"]
    return ["day_of_year"] if step < pd.Timedelta(days=360) else []


def seasonal_period(data: ForecastDataConfig, frame: pd.DataFrame) -> int:
    """The seasonal-naive baseline's period (and MASE's): the source's, else a day of sub-daily
    rows (24 hourly, 48 half-hourly), a week of days (7, or 5 trading days: a stock's rows),
    a year of weeks (52), months (12) or quarters (4), and 1 for anything else.

    Example:
        >>> days = pd.DataFrame(index=pd.bdate_range("2020-01-01", periods=30))
        >>> seasonal_period(ForecastDataConfig(source="prices.csv"), days)
        5
    """
    name = registry_name(data.source)
    if name:
        return SOURCES[name][3]
    index = pd.DatetimeIndex(frame.index[: min(len(frame), 500)])
    if len(index) >= 3 and infer_frequency(index) == "B":
        return 5
    calendar = calendar_periods(index)  # months 12, quarters 4 (years: no season, 1)
    if calendar is not None:
        return int(calendar) if calendar > 1 else 1
    step = pd.Series(index).diff().median() / pd.Timedelta(days=1)
    if step < 1:
        return max(1, round(1 / step))
    return {1: 7, 7: 52}.get(step, 1)
