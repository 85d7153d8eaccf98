"""Dates: a column of them as naive timestamps, the date policies of
:mod:`rnnkit.timeseries.frames` (UTC offsets, day-first or month-first, years, mixed formats)
in one place; and the check every reader of a date-indexed frame makes of its index."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from rnnkit.timeseries.row_names import RowName, position


def parse_dates(values: pd.Series, date_format: str | None, source: str,
                 column: str, row_name: RowName = position) -> pd.Series:
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
        try:
            dates = _to_dates(values, date_format)
        except ValueError as error:  # '%Q': "'Q' is a bad directive in format '%Q'", alone
            raise ValueError(f"{source}: the date format {date_format!r} cannot be read "
                             f"({error}); write it with strftime codes such as %Y-%m-%d or "
                             f"%d/%m/%Y ({where})") from None
    if slashes and not text.str.match(r"\s*\d{4}[/.\-]").all():  # 2015/02/01 is year-first
        day_first = _to_dates(values, None, dayfirst=True)
        if dates.isna().any() and not day_first.isna().any():
            dates = day_first  # 13/01/2020 reads only day-first
        elif not dates.isna().any() and not day_first.isna().any() and \
                not dates.equals(day_first):
            row = int(np.flatnonzero((dates != day_first).to_numpy())[0])
            raise ValueError(f"{source}: column {column!r} reads both day-first and "
                             f"month-first ({values.iloc[row]!r} at {row_name(row)}); {hint}")
    if date_format is None and not slashes and dates.isna().any():
        dates = _to_dates(values, "mixed")  # e.g. '2020-01-01 00:00:00' then '2020-01-02'
    # whatever way they are written (a format, day-first): the offsets are read from the text
    dates = _local_days(values, text, dates, _offset_rows(values, text, source, column,
                                                             row_name))
    bad = dates.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        value = values.iloc[row]
        shown = "an empty value" if pd.isna(value) else repr(value)
        what = "a date" if date_format is None else f"a date of the format {date_format!r}"
        read = np.flatnonzero(~bad.to_numpy())
        if date_format is None and len(read) and not pd.isna(value) and \
                not _to_dates(values.iloc[[row]], None).isna().any():  # a date on its own
            first = int(read[0])
            raise ValueError(f"{source}: column {column!r} holds dates written in more than "
                             f"one way: {values.iloc[first]!r} at {row_name(first)}, {shown} "
                             f"at {row_name(row)}, a date on its own but not read the way of the "
                             "others; write every date the same way, such as 2020-01-31 (one "
                             "format cannot read both)")
        raise ValueError(f"{source}: column {column!r} holds {shown} at {row_name(row)}, not "
                         f"{what}; "
                         f"fix or drop that row, or {hint}")
    return dates


# a clock time followed by a UTC offset or zone: '10:00+01:00', '10:00:00Z', '10:00 UTC'
_CLOCK = r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?"
_ZONE = r"\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)\s*$"
_OFFSET = re.compile(_CLOCK + _ZONE, re.IGNORECASE)
# the offset at the end of a date: its sign, hours and minutes (none of them for Z, UTC, GMT)
_OFFSET_PARTS = r"(?:Z|UTC|GMT|([+-])(\d{2}):?(\d{2})?)\s*$"


def _offset_rows(values: pd.Series, text: pd.Series, source: str, column: str,
                 row_name: RowName) -> np.ndarray | None:
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
                         f"({values.iloc[with_offset]!r} at {row_name(with_offset)}) and "
                         f"dates without one ({values.iloc[without]!r} at "
                         f"{row_name(without)}), which "
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
    elif offsets is not None and offsets.any():  # the UTC times moved by their offsets
        # (not the text read again without them: that read lost a date format or day-first)
        parts = text.str.extract(_OFFSET_PARTS, flags=re.IGNORECASE)
        minutes = (parts[1].astype(float) * 60 + parts[2].astype(float).fillna(0)).fillna(0)
        sign = parts[0].map({"-": -1.0}).fillna(1.0)
        wall = dates + pd.to_timedelta(sign * minutes, unit="min")
    else:
        return dates
    clock = (wall - wall.dt.normalize()).dropna()
    # two instants at one local time stay apart in UTC; one instant written twice (a date
    # of the long format, once per series) is one
    instants = pd.DataFrame({"utc": dates, "wall": wall}).dropna().drop_duplicates()
    if clock.nunique() != 1 or instants["wall"].duplicated().any():
        return dates
    return wall


def _to_dates(values: pd.Series, date_format: str | None, dayfirst: bool = False) -> pd.Series:
    """``pd.to_datetime`` with bad values as ``NaT``, offsets converted to UTC, zone dropped."""
    with warnings.catch_warnings():  # pandas warns when it guesses a format; we check instead
        warnings.simplefilter("ignore", UserWarning)
        dates = pd.to_datetime(values, format=date_format, errors="coerce", utc=True,
                               dayfirst=dayfirst)
    return dates.dt.tz_convert(None)


def check_date_index(index: pd.Index, what: str, why: str = "") -> None:
    """Refuse an index that is not dates, or dates not ascending each once (``why``, in
    brackets after the rule, says what would go wrong)."""
    if not isinstance(index, pd.DatetimeIndex):
        raise ValueError(f"{what} needs a DatetimeIndex, not {type(index).__name__}; load it "
                         "with rnnkit.timeseries.frames.load_table or tidy")
    if not index.is_monotonic_increasing or index.has_duplicates:
        raise ValueError(f"the dates of {what} must be ascending, each once"
                         f"{f' ({why})' if why else ''}; sort them (frame.sort_index()) and "
                         "keep one row a date, or load the table with "
                         "rnnkit.timeseries.frames.tidy, which sorts them and names the first "
                         "repeat")
