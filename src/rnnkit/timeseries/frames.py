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

import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.data.tagged import GZIP_ERRORS, not_gzip
from rnnkit.timeseries.grid import regularize
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
        source: how messages name the table (a file name).

    Raises:
        ValueError: a missing column, an unreadable date, a non-numeric value, or a repeated
            date. Rows in messages count from 0 in the table's order, header not counted.

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
                         f"{_names(table.columns)}. Name the one holding the dates with "
                         "data.date_column (training) or --date-column (forecast, evaluate, "
                         "backtest)")
    for name in (series_column, value_column, *categorical):
        if name is not None and name not in table.columns:
            raise ValueError(f"{source} has no column {name!r}; its columns: "
                             f"{_names(table.columns)}. Check the spelling")
    if series_column is not None and value_column is None:
        raise ValueError(f"{source}: the long format (series_column={series_column!r}) needs "
                         f"value_column, one of {_names(table.columns)}")
    dates = _parse_dates(table[date_column], date_format, source, date_column)
    if series_column is not None and table[series_column].isna().any():
        row = int(np.flatnonzero(table[series_column].isna().to_numpy())[0])
        raise ValueError(f"{source}: column {series_column!r} holds no series name at row {row} "
                         f"(date {dates.iloc[row]}); in the long format each row names its "
                         "series. Fill in the name, or drop the row")
    skip = {date_column, series_column, *categorical}
    checked = [value_column] if series_column else [c for c in table.columns if c not in skip]
    for name in checked:
        try:
            table[name] = _numeric(table[name], dates, source)
        except ValueError:
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
        raise ValueError(f"{source}: {what} appears more than once (again at row {row}); "
                         "each date must appear once per series. Drop or aggregate the "
                         f"duplicates first{clock}")
    backwards = _first_backwards(dates, None if series_column is None else table[series_column])
    if backwards is not None:
        row, before = backwards
        warnings.warn(f"{source}: dates are not in ascending order (row {row}, "
                      f"{dates.iloc[row]}, comes after row {before}, {dates.iloc[before]}); "
                      "sorted them. Sort the file to silence this warning", UserWarning,
                      stacklevel=2)
    frame = table.drop(columns=[date_column]).set_index(pd.DatetimeIndex(dates, name="date"))
    frame = frame.iloc[np.argsort(dates.to_numpy(), kind="stable")]
    if series_column is not None and value_column is not None:
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
    table = _read_file(path, date_column)
    frame = tidy(table, date_column, target, series_column=series_column,
                 value_column=value_column, categorical=categorical, date_format=date_format,
                 needed=needed, source=str(path))
    if frequency is None:
        return frame
    if frequency != "infer":
        try:
            pd.tseries.frequencies.to_offset(frequency)
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
    keep = [*one_or_many(target or ()), *one_or_many(keep)]  # 'load': kept, not l, o...
    try:
        return regularize(frame, frequency, max_fill=max_fill, keep=keep)
    except ValueError as error:  # timestamps off the grid
        raise ValueError(f"{path}: {error}") from None


def _read_file(path: Path, date_column: str) -> pd.DataFrame:
    """A CSV/TSV or Parquet file (or folder) as read, with header names stripped; a file
    pandas cannot read is an error naming the file and what to do."""
    name = path.name.lower()
    if path.is_dir() and not _data_files(path):
        raise ValueError(f"{path} is a folder that holds no data files; give a CSV/Parquet "
                         "file, or a folder of Parquet files")
    try:
        if path.is_dir() or name.endswith((".parquet", ".pq")):
            table = _read_parquet(path)
            index = table.index
            if index.name == date_column or isinstance(index, pd.DatetimeIndex):
                table = table.reset_index()  # pandas saves a date index as one
                table = table.rename(columns={table.columns[0]: index.name or date_column})
        elif name.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz")):
            table = pd.read_csv(path, sep="\t" if ".tsv" in name else ",", index_col=False,
                                encoding="utf-8-sig")
        else:
            raise ValueError(f"{path}: unknown file type; expected .csv, .csv.gz, .tsv, "
                             ".parquet or a Parquet folder. Convert the file or read it with "
                             "pandas and call tidy()")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text; save it as UTF-8 (CSV UTF-8 in a "
                         "spreadsheet)") from None
    except GZIP_ERRORS as error:  # a .csv.gz cut short or damaged: EOFError, zlib.error
        if not name.endswith(".gz"):
            raise
        raise not_gzip(error, path) from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty: it holds no data, not even a header row; give a "
                         "file with a header row and a row per date") from None
    except pd.errors.ParserError as error:
        raise ValueError(f"{path} cannot be read as a table: {str(error).strip()}. Check "
                         "that every row has the header's number of fields") from None
    table.columns = [str(column).strip() for column in table.columns]
    _warn_saved_index(table, path)
    repeated = sorted({c for c in table.columns if list(table.columns).count(c) > 1})
    if repeated:
        raise ValueError(f"{path}: the columns {', '.join(map(repr, repeated))} appear more than "
                         "once (spaces around header names do not count); rename them")
    if len(table.columns) == 1 and ";" in table.columns[0]:
        raise ValueError(f"{path} looks separated by ';' (its one column is "
                         f"{table.columns[0]!r}); save it separated by commas")
    return table


def _data_files(folder: Path) -> list[Path]:
    """The files of a Parquet folder that pyarrow reads: those whose name does not start with
    ``.`` or ``_`` (``_SUCCESS``, ``.DS_Store``), in it or in its subfolders."""
    return [file for file in folder.rglob("*") if file.is_file()
            and not any(part.startswith((".", "_")) for part in file.relative_to(folder).parts)]


def _read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file, or a folder of them read as one table; a folder pyarrow cannot read
    (one of CSVs) is an error saying a folder is read as a Parquet dataset."""
    try:
        return pd.read_parquet(path)
    except ValueError as error:  # pyarrow's ArrowInvalid
        if not path.is_dir():
            raise
        raise ValueError(f"{path} is a folder, read as one Parquet dataset, and it cannot be "
                         f"read as one ({str(error).strip()}); give a CSV/Parquet file, or a "
                         "folder of Parquet files of the same columns") from None


def _warn_saved_index(table: pd.DataFrame, path: Path) -> None:
    """Warn when the first column has no header name and counts up by one (the row numbers
    pandas' ``to_csv`` writes by default): it is read as a column like any other."""
    if not len(table.columns) or not str(table.columns[0]).startswith("Unnamed: "):
        return
    first = table.iloc[:, 0]
    if len(first) > 1 and pd.api.types.is_integer_dtype(first) and \
            (np.diff(first.to_numpy()) == 1).all():
        warnings.warn(f"{path}: its first column has no name and counts rows ({first.iloc[0]}, "
                      f"{first.iloc[1]}, ...: a saved pandas index); it is read as the column "
                      f"{table.columns[0]!r}, an input unless data.features lists the inputs. "
                      "Save the file with index=False to leave it out", UserWarning,
                      stacklevel=3)


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


def _parse_dates(values: pd.Series, date_format: str | None, source: str,
                 column: str) -> pd.Series:
    """Dates as naive timestamps. Dates with a UTC offset are converted to UTC and the zone
    dropped, but for dates all at one local clock time (days written as local midnights: the
    local dates are kept); a column of dates with and dates without one is refused. Without
    ``date_format``: a year column (``1960``) is read as years, other numbers are refused (not
    read as nanoseconds), and ``01/02/2010`` (or ``01.02.2010``, ``01-02-10``) that reads both
    day-first and month-first is refused rather than guessed."""
    # true from the CLI (training sets data.date_format; forecast, evaluate and backtest read
    # a --data file with the model's, and have no flag for it) and from the Python API
    where = ("data.date_format when training, date_format= in tidy and load_table; forecast, "
             "evaluate and backtest read a --data file with the model's data.date_format")
    hint = (f"write the dates in that format ({where})" if date_format is not None else
            f"write dates such as 2020-01-31, or give their format (e.g. %d/%m/%Y) as {where}")
    text = values.astype(str)
    # 01/02/2010, 01.02.2010, 01-02-10: day-first or month-first, never guessed
    slashes = date_format is None and bool(
        text.str.match(r"\s*\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}\b").any())
    if date_format is None and pd.api.types.is_numeric_dtype(values):
        years = values.dropna()
        if not ((years == years.round()) & years.between(1000, 2999)).all():
            raise ValueError(f"{source}: column {column!r} holds numbers ({values.iloc[0]}), "
                             f"not dates; {hint}")
        written = years.astype(int).astype(str).reindex(values.index)  # a gap stays missing
        dates = _to_dates(written, "%Y")
    else:
        dates = _to_dates(values, date_format)
    if slashes and not text.str.match(r"\s*\d{4}[/.\-]").all():  # 2015/02/01 is year-first
        day_first = _to_dates(values, None, dayfirst=True)
        if dates.isna().any() and not day_first.isna().any():
            dates = day_first  # 13/01/2020 reads only day-first
        elif not dates.isna().any() and not day_first.isna().any() and \
                not dates.equals(day_first):
            row = int(np.flatnonzero((dates != day_first).to_numpy())[0])
            raise ValueError(f"{source}: column {column!r} reads both day-first and "
                             f"month-first ({values.iloc[row]!r} at row {row}); {hint}")
    if date_format is None and not slashes and dates.isna().any():
        dates = _to_dates(values, "mixed")  # e.g. '2020-01-01 00:00:00' then '2020-01-02'
    if date_format is None and not slashes:
        dates = _local_days(values, text, dates, _offset_rows(values, text, source, column))
    bad = dates.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        value = values.iloc[row]
        shown = "an empty value" if pd.isna(value) else repr(value)
        what = "a date" if date_format is None else f"a date of the format {date_format!r}"
        raise ValueError(f"{source}: column {column!r} holds {shown} at row {row}, not {what}; "
                         f"fix or drop that row, or {hint}")
    return dates


# a clock time followed by a UTC offset or zone: '10:00+01:00', '10:00:00Z', '10:00 UTC'
_CLOCK = r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?"
_ZONE = r"\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)\s*$"
_OFFSET = re.compile(_CLOCK + _ZONE, re.IGNORECASE)
# the same, the clock time kept (group 1) to drop the offset after it (two patterns:
# str.contains warns of a pattern with a group)
_OFFSET_TAIL = re.compile(f"({_CLOCK}){_ZONE}", re.IGNORECASE)


def _offset_rows(values: pd.Series, text: pd.Series, source: str,
                 column: str) -> np.ndarray | None:
    """The rows of dates written with a UTC offset (``None``: no such row, or dates already
    parsed), every present row if any; dates of which some carry an offset and some do not
    are refused: those without were read as UTC, a guess that shifts them by the offset (and
    can make two rows one date)."""
    if pd.api.types.is_datetime64_any_dtype(values):  # one zone, or none, for the column
        return None
    present = values.notna().to_numpy()
    # a quick look first (the full pattern is slow on long files): a '+', Z, UTC or GMT, or a
    # '-' after the time's first ':'
    colon = text.str.find(":").to_numpy()
    if not (text.str.contains("+", regex=False).any()
            or text.str.contains(r"[zZ]|[uUgG][tTmM][cCtT]").any()
            or ((colon >= 0) & (text.str.rfind("-").to_numpy() > colon)).any()):
        return None
    aware = text.str.contains(_OFFSET).to_numpy() & present
    naive = present & ~aware
    if not aware.any() or not naive.any():
        return aware if aware.any() else None
    with_offset, without = int(np.flatnonzero(aware)[0]), int(np.flatnonzero(naive)[0])
    try:
        mixed = (pd.Timestamp(text.iloc[with_offset]).tzinfo is not None
                 and pd.Timestamp(text.iloc[without]).tzinfo is None)
    except (TypeError, ValueError):  # not a date pandas reads alone: the other checks say
        return None
    if mixed:
        raise ValueError(f"{source}: column {column!r} holds dates with a UTC offset "
                         f"({values.iloc[with_offset]!r} at row {with_offset}) and dates "
                         f"without one ({values.iloc[without]!r} at row {without}), which "
                         "cannot be placed in time beside them; write every date with its "
                         "offset, or every date in one zone without offsets")
    return None


def _local_days(values: pd.Series, text: pd.Series, dates: pd.Series,
                offsets: np.ndarray | None) -> pd.Series:
    """``dates`` (in UTC), or the local dates and times the column names when its dates carry
    UTC offsets and every one is at the same local clock time (daily or coarser rows, such as
    local midnights): in UTC, midnight east of UTC falls on the day before, and a change of
    offset (daylight saving) moves the rows off any daily grid."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        wall = values.dt.tz_localize(None)
    elif offsets is not None and offsets.any():
        kept = text.str.replace(_OFFSET_TAIL, r"\1", regex=True)  # the offset dropped
        wall = _to_dates(kept, None)
        if wall.isna().ne(dates.isna()).any():
            wall = _to_dates(kept, "mixed")
    else:
        return dates
    clock = (wall - wall.dt.normalize()).dropna()
    if wall.isna().ne(dates.isna()).any() or clock.nunique() != 1 or \
            wall.dropna().duplicated().any():
        return dates
    return wall


def _to_dates(values: pd.Series, date_format: str | None, dayfirst: bool = False) -> pd.Series:
    """``pd.to_datetime`` with bad values as ``NaT``, offsets converted to UTC, zone dropped."""
    with warnings.catch_warnings():  # pandas warns when it guesses a format; we check instead
        warnings.simplefilter("ignore", UserWarning)
        dates = pd.to_datetime(values, format=date_format, errors="coerce", utc=True,
                               dayfirst=dayfirst)
    return dates.dt.tz_convert(None)


def _numeric(column: pd.Series, dates: pd.Series, source: str) -> pd.Series:
    numbers = _numbers(column, dates, source)
    infinite = np.isinf(numbers.to_numpy())
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise ValueError(f"{source}: column {column.name!r} holds {numbers.iloc[row]} at row "
                         f"{row} (date {dates.iloc[row]}); expected finite numbers, with NA or "
                         "an empty cell for a missing value")
    return numbers


# the words pandas' read_csv reads as a missing value
MISSING_WORDS = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                           "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None",
                           "n/a", "nan", "null"})


def _numbers(column: pd.Series, dates: pd.Series, source: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return column.astype(float)
    numbers = pd.to_numeric(column, errors="coerce")
    bad = numbers.isna() & column.notna()
    if bad.any():  # ' NA' and '  ' (a file written '2020-01-01, 1.5, NA') are missing values,
        # as 'NA' and '' are: numbers with spaces around them were read, these refused
        text = column.map(lambda value: value.strip() if isinstance(value, str) else value)
        text = text.mask(text.isin(MISSING_WORDS))
        numbers = pd.to_numeric(text, errors="coerce")
        bad = numbers.isna() & text.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"{source}: column {column.name!r} holds the non-numeric value "
                         f"{column.iloc[row]!r} at row {row} (date {dates.iloc[row]}); "
                         "expected numbers, with NA or an empty cell for a missing value. "
                         "Fix the value, or leave the column out: list the inputs in "
                         "data.features (training), or the column in categorical=[...]")
    return numbers.astype(float)


def _names(columns: Iterable[object]) -> str:
    return ", ".join(repr(str(name)) for name in columns) or "(none)"
