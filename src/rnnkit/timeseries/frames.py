"""Tables of dated rows: one checked, date-indexed frame from a CSV/Parquet file or a dataset.

Every loader returns a :class:`pandas.DataFrame` with a sorted, duplicate-free
:class:`~pandas.DatetimeIndex` named ``date`` and one column per variable (the *wide* format).

The policies, the same for every loader:

- **unsorted dates** are sorted (a stable sort) with a :class:`UserWarning` that names the first
  row out of order: exports in descending date order are common and sorting loses nothing.
- **duplicate dates** are an error naming the first date that repeats (the first
  ``(date, series)`` pair in the long format): which of two rows is right cannot be guessed.
- **missing values** (``NA``, empty cells) stay ``NaN``; nothing is invented.
- **non-numeric values** in a column not listed in ``categorical`` are an error naming the
  column, the row and the value.
- **dates with a UTC offset** (``2020-01-01T10:00+01:00``, a zone-aware Parquet column) are
  converted to UTC, the zone dropped, unless every date is at the same local clock time (daily
  or coarser rows written as local midnights): those are the local dates they name, as UTC
  would put midnight east of UTC on the day before and move the rows off the daily grid when
  daylight saving changes the offset. Dates with and dates without an offset are an error.
- **gaps** (timestamps missing from the regular grid) are only filled on request: with
  ``frequency`` set, :func:`~rnnkit.timeseries.grid.regularize` reindexes to the grid and
  forward-fills the non-target columns for at most ``max_fill`` steps (past values only, so it
  is causal). Target columns are never filled: a ``NaN`` target stays ``NaN`` and
  :func:`~rnnkit.timeseries.windows.make_windows` never uses it as a target. Without
  ``frequency`` the rows as given are the time axis (right for trading days);
  :func:`~rnnkit.timeseries.grid.describe_gaps` reports what is missing.

The registry's series (stocks, Seattle and Beijing weather) load through
:mod:`rnnkit.timeseries.datasets`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.timeseries.dates import parse_dates
from rnnkit.timeseries.files import read_file
from rnnkit.timeseries.grid import regularize
from rnnkit.timeseries.long_format import to_long as to_long  # re-exported: its old home
from rnnkit.timeseries.long_format import to_wide
from rnnkit.timeseries.row_names import RowName, position
from rnnkit.timeseries.values import numeric_column
from rnnkit.timeseries.windows import one_or_many


def tidy(
    table: pd.DataFrame,
    date_column: str,
    target: str | Sequence[str] | None = None,
    *,
    series_column: str | None = None,
    value_column: str | None = None,
    categorical: Sequence[str] = (),
    date_format: str | None = None,
    needed: Sequence[str] | None = None,
    source: str = "the table",
    row_name: RowName = position,
) -> pd.DataFrame:
    """Check a table and turn it into the wide, date-indexed frame (see the module policies).

    Args:
        table: one row per date (wide), or with ``series_column`` one row per date and series.
        date_column: the column holding the dates.
        target: column(s) that must exist after the pivot; an absent one is an error listing
            the columns there are.
        series_column, value_column: the long format: each series becomes a column named
            after it, holding ``value_column``.
        categorical: columns kept as labels instead of being checked as numbers.
        date_format: a :func:`pandas.to_datetime` format; None guesses.
        needed: the columns the caller reads: only they must hold numbers, and another column
            that holds text is left out. None: every column must hold numbers.
        source: how messages name the table (a file name); ``row_name`` how they name a row
            (:mod:`~rnnkit.timeseries.row_names`; default: its position, counted from 0).

    Raises:
        ValueError: a missing column, an unreadable date, a non-numeric value, or a repeated
            date.

    Example:
        >>> long = pd.DataFrame({"day": ["2020-01-01", "2020-01-01", "2020-01-02"],
        ...                      "symbol": ["A", "B", "A"], "price": [1.0, 5.0, 2.0]})
        >>> wide = tidy(long, "day", target="A", series_column="symbol", value_column="price")
        >>> wide.index.name, wide.columns.tolist(), wide["B"].tolist()
        ('date', ['A', 'B'], [5.0, nan])
    """
    table = table.reset_index(drop=True)
    categorical = one_or_many(categorical)  # 'weather', not w, e, a...
    needed = None if needed is None else one_or_many(needed)
    if date_column not in table.columns:
        raise ValueError(f"{source} has no date column {date_column!r}; its columns: "
                         f"{_names(table.columns)}. " + (_unnamed_dates(table) or
                         "Name the one holding the dates with data.date_column (training) or "
                         "--date-column (forecast, evaluate, backtest)"))
    for name in (series_column, value_column, *categorical):
        if name is not None and name not in table.columns:
            raise ValueError(f"{source} has no column {name!r}; its columns: "
                             f"{_names(table.columns)}. Check the spelling")
    if series_column is not None and value_column is None:
        raise ValueError(f"{source}: the long format (series_column={series_column!r}) needs "
                         f"value_column, one of {_names(table.columns)}")
    if value_column is not None and series_column is None:
        raise ValueError(f"{source}: value_column={value_column!r} is for the long format; name "
                         "the column holding each row's series too (series_column), or leave "
                         "value_column out for a file with one column per series")
    dates = parse_dates(table[date_column], date_format, source, date_column, row_name)
    if series_column is not None and table[series_column].isna().any():
        row = int(np.flatnonzero(table[series_column].isna().to_numpy())[0])
        raise ValueError(f"{source}: column {series_column!r} holds no series name at "
                         f"{row_name(row)} "
                         f"(date {dates.iloc[row]}); in the long format each row names its "
                         "series. Fill in the name, or drop the row")
    skip = {date_column, series_column, *categorical}
    checked = [value_column] if series_column else [c for c in table.columns if c not in skip]
    for name in checked:
        try:
            table[name] = numeric_column(table[name], dates, source, row_name)
        except ValueError:
            if series_column is None and _series_names(table[name], dates):
                raise ValueError(_long_advice(table, dates, name, checked, source,
                                              row_name)) from None
            if needed is None or name in needed or series_column is not None:
                raise
            table = table.drop(columns=[name])  # text the caller never reads
    duplicated = (dates.duplicated() if series_column is None
                  else pd.MultiIndex.from_arrays([dates, table[series_column]]).duplicated())
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        what = f"date {dates.iloc[row]}" + ("" if series_column is None
                                           else f" for series {table[series_column][row]!r}")
        clock = "" if (dates == dates.dt.normalize()).all() else (
            " (an hour repeated where the clock went back for daylight saving is two hours: "
            "write the dates with their UTC offset, e.g. 2020-10-25T02:00+01:00, or in UTC)")
        raise ValueError(f"{source}: {what} appears more than once (again at {row_name(row)}); "
                         "each date must appear once per series. Drop or aggregate the "
                         f"duplicates first{clock}")
    backwards = _first_backwards(dates, None if series_column is None else table[series_column])
    if backwards is not None:
        row, before = backwards
        warnings.warn(f"{source}: dates are not in ascending order ({row_name(row)}, "
                      f"{dates.iloc[row]}, comes after {row_name(before)}, "
                      f"{dates.iloc[before]}); "
                      "sorted them. Sort the file to silence this warning", UserWarning,
                      stacklevel=2)
    frame = table.drop(columns=[date_column]).set_index(pd.DatetimeIndex(dates, name="date"))
    frame = frame.iloc[np.argsort(dates.to_numpy(), kind="stable")]
    if series_column is not None and value_column is not None:
        others = [name for name in frame.columns if name not in (series_column, value_column)]
        if others:  # a NeuralForecast-style exogenous column is not an input here
            warnings.warn(f"{source}: the long format reads one value per date and series "
                          f"({value_column!r}); left out the other columns: {_names(others)}. "
                          "To use them as inputs, write the file in the wide format (one "
                          "column per series and input)", UserWarning, stacklevel=2)
        frame = to_wide(frame, series_column, value_column)
    targets = one_or_many(target or ())
    missing = [name for name in targets if name not in frame.columns]
    if missing:
        raise ValueError(f"{source} has no target column {missing[0]!r}; its columns: "
                         f"{_names(frame.columns)}. Pass target=<one of them>")
    return frame


def load_table(
    path: str | Path,
    date_column: str,
    target: str | Sequence[str] | None = None,
    *,
    series_column: str | None = None,
    value_column: str | None = None,
    categorical: Sequence[str] = (),
    date_format: str | None = None,
    needed: Sequence[str] | None = None,
    frequency: str | None = None,
    max_fill: int = 0,
    keep: Sequence[str] = (),
) -> pd.DataFrame:
    """Read a CSV (``.csv``, ``.csv.gz``, ``.tsv``) or Parquet file into a checked frame.

    Arguments as :func:`tidy`; with ``frequency`` (a pandas alias such as ``"h"``, ``"D"``,
    ``"B"``, or ``"infer"``) the frame is then put on a regular grid by :func:`regularize`,
    keeping ``target`` and ``keep`` unfilled.

    Raises:
        ValueError: an unknown file type, or any check of :func:`tidy` failing.
    """
    path = Path(path)
    table, row_name = read_file(path, date_column)
    frame = tidy(table, date_column, target, series_column=series_column,
                 value_column=value_column, categorical=categorical, date_format=date_format,
                 needed=needed, source=str(path), row_name=row_name)
    if frequency is None:
        return frame
    if frequency != "infer":
        try:
            step = pd.tseries.frequencies.to_offset(frequency)
        except ValueError:
            renamed = {"H": ("h",), "T": ("min",), "S": ("s",), "L": ("ms",), "U": ("us",),
                       "N": ("ns",), "M": ("ME", "MS"), "A": ("YE", "YS"), "Y": ("YE", "YS"),
                       "Q": ("QE", "QS"), "BM": ("BME", "BMS")}  # (period ends, starts)
            old = frequency.lstrip("0123456789")
            count = frequency[:len(frequency) - len(old)]
            new = " or ".join(f"{count}{name}" for name in renamed.get(old.upper(), ()))
            hint = f" (an alias pandas removed: write {new})" if new else ""
            raise ValueError(f"unknown frequency {frequency!r}{hint}; use infer or a pandas "
                             "alias such as h, D, B, W-SUN or MS") from None
        if step.n <= 0:  # 0D divided by zero (a traceback); -1D put no timestamp on its grid
            raise ValueError(f"frequency {frequency!r} is a step of {step.n}: give a step "
                             "forward, such as D, 2h or W-SUN (or infer)")
    keep = [*one_or_many(target or ()), *one_or_many(keep)]  # 'load': kept, not l, o...
    try:
        return regularize(frame, frequency, max_fill=max_fill, keep=keep)
    except ValueError as error:  # timestamps off the grid
        raise ValueError(f"{path}: {error}") from None


def _first_backwards(dates: pd.Series, series: pd.Series | None) -> tuple[int, int] | None:
    """The first row whose date is before the previous row's (of the same series), if any."""
    groups = [np.arange(len(dates))] if series is None else [
        np.flatnonzero((series == name).to_numpy()) for name in series.unique()]
    found: list[tuple[int, int]] = []
    for rows in groups:
        back = np.flatnonzero(np.diff(dates.to_numpy()[rows]) < np.timedelta64(0, "s"))
        if len(back):
            found.append((int(rows[back[0] + 1]), int(rows[back[0]])))
    return min(found) if found else None


def _unnamed_dates(table: pd.DataFrame) -> str:
    """What to say of a first column with no header name that holds dates (a pandas date
    index written by ``to_csv``, whose header is ``,temp``): its name as read, or a name to
    give it; else nothing."""
    if not len(table.columns) or not str(table.columns[0]).startswith("Unnamed: "):
        return ""
    head = table.iloc[:5, 0]
    if pd.api.types.is_numeric_dtype(head) or not len(head) or head.isna().any():
        return ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' "could not infer format" for each value
        if pd.to_datetime(head.astype(str), errors="coerce", format="mixed").isna().any():
            return ""
    name = table.columns[0]
    return (f"Its first column has no name and holds dates ({str(head.iloc[0])!r}, ...: a "
            "pandas date index saved by to_csv): write a name in the header (to_csv("
            f"index_label='date')), or name it as read, data.date_column='{name}' (training) "
            f"or --date-column '{name}' (forecast, evaluate, backtest)")


def _series_names(column: pd.Series, dates: pd.Series) -> bool:
    """Whether a column of text reads as the series names of a long file, whose dates repeat
    from one series to the next: text alone (no numbers), no date twice for one name, and at
    least two names that each share two or more dates with other names. A date written twice
    (a note 'x' on every row, then a row again with 'y') is no such file: the duplicate date
    is the error there."""
    repeated = dates.duplicated(keep=False).to_numpy()
    if not repeated.any() or pd.to_numeric(column, errors="coerce").notna().any():
        return False
    if pd.MultiIndex.from_arrays([dates, column]).duplicated().any():
        return False
    return int((column[repeated].value_counts() >= 2).sum()) >= 2


def _long_advice(table: pd.DataFrame, dates: pd.Series, text: object, checked: Sequence[object],
                 source: str, row_name: RowName) -> str:
    """The error for a column of text ``text`` in a table whose dates repeat: it looks like
    the long format (one row per date and series, such as symbol,date,price), read with its
    series and value columns named; the value column suggested is its one other column of
    numbers."""
    row = int(np.flatnonzero(dates.duplicated().to_numpy())[0])
    first = int(np.flatnonzero((dates == dates.iloc[row]).to_numpy())[0])
    word = table[text].dropna().iloc[0]
    numbers = [name for name in checked if name != text
               and pd.to_numeric(table[name], errors="coerce").notna().any()]
    value = numbers[0] if len(numbers) == 1 else "<its column of values>"
    return (f"{source}: column {text!r} holds text ({word!r}) and the dates repeat "
            f"({dates.iloc[row]} at {row_name(first)} and {row_name(row)}): a long file, of one "
            "row per date and series? Name its series and value columns, data.series_column="
            f"{text} and data.value_column={value} (series_column= and value_column= in tidy "
            "and load_table), and each series is read as a column; else drop the repeated "
            f"dates and leave {text!r} out (data.features)")


def _names(columns: Iterable[object]) -> str:
    """The columns' names for a message: the first 20, and how many there are past them."""
    names = [repr(str(name)) for name in columns]
    more = f", ... ({len(names)} columns)" if len(names) > 20 else ""
    return ", ".join(names[:20]) + more or "(none)"
