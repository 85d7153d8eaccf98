"""Long and wide tables of series: long has one row per date and series (columns ``date``,
series and value), wide one column per series with the dates as rows, the shape
:mod:`rnnkit.timeseries.frames` returns."""

from __future__ import annotations

import pandas as pd


def to_wide(frame: pd.DataFrame, series_column: str = "series",
            value_column: str = "value") -> pd.DataFrame:
    """Long (one row per date and series: dates as the index, or in a ``date`` column as
    :func:`to_long` writes them) to wide (one column per series), dates as rows.

    Example:
        >>> wide = pd.DataFrame({"A": [1.0, 2.0], "B": [3.0, 4.0]},
        ...                     index=pd.date_range("2020-01-01", periods=2, name="date"))
        >>> to_wide(to_long(wide)).equals(wide)
        True
    """
    if not isinstance(frame.index, pd.DatetimeIndex):
        if "date" not in frame.columns:
            raise ValueError("to_wide needs the dates as a DatetimeIndex or in a 'date' column")
        frame = frame.set_index(pd.DatetimeIndex(frame["date"])).drop(columns=["date"])
    wide = frame.pivot(columns=series_column, values=value_column)
    wide.columns = [str(name) for name in wide.columns]
    wide.index.name = "date"
    return wide.sort_index()


def to_long(frame: pd.DataFrame, series_column: str = "series",
            value_column: str = "value") -> pd.DataFrame:
    """Wide to long: columns ``date``, ``series_column``, ``value_column``; NaN cells dropped."""
    long = frame.rename_axis("date").reset_index().melt(
        id_vars="date", var_name=series_column, value_name=value_column)
    return long.dropna(subset=[value_column]).reset_index(drop=True)
