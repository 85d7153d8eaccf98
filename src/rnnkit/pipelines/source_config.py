"""A time-series pipeline's data settings (``[data]`` of its config), the registry sources'
defaults, and the checks of those settings made before any data is read: where the
training and validation periods end, and the derived-column settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.config import ConfigError, changed_keys, check_at_least, check_date, number_list
from rnnkit.timeseries.datasets import ALL_STOCK_SYMBOLS, STOCK_SYMBOLS
from rnnkit.timeseries.features import CALENDAR_PERIODS
from rnnkit.timeseries.splits import check_period_order, period_end

# source -> (default target, train_end, val_end, seasonal period)
SOURCES = {"beijing": ("temperature", "2012", "2013", 24),
           "seattle": ("temp_max", "2013", "2014", 7)}


def registry_name(source: str) -> str | None:
    """The registry series ``source`` names, in any case as a stock symbol is (``Beijing``:
    ``beijing``), else None (a stock symbol or a file).

    Example:
        >>> registry_name("Beijing"), registry_name("AAPL")
        ('beijing', None)
    """
    return source.lower() if source.lower() in SOURCES else None


@dataclass(frozen=True)
class ForecastDataConfig:
    source: str = "beijing"  # beijing | seattle | AAPL, IBM, MSFT, GOOG | a CSV/Parquet path
    target: str = ""  # "" = the source's default (beijing temperature, a stock its log return)
    date_column: str = "date"  # for files
    date_format: str = ""  # for files, e.g. %d/%m/%Y; "" = ISO dates or an unambiguous format
    series_column: str = ""  # for files in the long format (date, series, value): the series
    value_column: str = ""  # ...and the values; each series becomes a column named after it
    frequency: str = ""  # for files: "" = the rows as given; infer | h | D | B | ...: put the
    # rows on that grid, a missing timestamp becoming a missing row (no window uses it)
    max_fill: int = 0  # with frequency: forward-fill the inputs this many steps (never the
    # target, nor the column a change or log1p target is made of: sources.target_sources)
    features: str = ""  # comma-separated input columns; "" = every numeric column
    calendar: str = "auto"  # comma-separated calendar parts; auto: by frequency; "" = none
    log1p: str = ""  # comma-separated columns replaced by <column>_log1p = log(1 + x)
    changes: str = ""  # comma-separated columns whose changes over change_lags rows are added
    change_lags: str = "1,24"  # as <column>_change_<k> = x[t] - x[t - k]
    lookback: int = 120
    horizon: int = 24
    stride: int = 1  # rows between the model's training windows (ridge, val, test: every row)
    train_end: str = ""  # last training period, e.g. "2012"; "" = source default or 70%
    val_end: str = ""  # last validation period; "" = source default, 85%, or half of the rest
    mirror: str = ""  # local dataset mirror (or RNNKIT_DATA)


def split_ends(data: ForecastDataConfig, index: pd.DatetimeIndex) -> tuple[str, str]:
    """The last training and validation periods: each as set, else the source's (beijing:
    2012 and 2013), else the rows at 70% and 85% of the series; with only ``train_end`` set
    (and no later source default), validation takes half of the rows after it.

    Raises:
        ConfigError: a setting that is not a date, a training end at or after the last row,
            or a validation end before the training end.
    """
    check_split_dates(data)
    if data.train_end and len(index) and period_end(moment(data.train_end)) >= index[-1]:
        raise ConfigError(f"data.train_end ({data.train_end}) is at or after the data's last "
                          f"row ({index[-1]}): no rows are left to validate and test on; set "
                          "it earlier")
    name = registry_name(data.source)
    defaults = SOURCES[name] if name else None
    last = len(index) - 1
    train_end = data.train_end or (defaults[1] if defaults else str(index[int(0.70 * last)]))
    if data.val_end:
        val_end = data.val_end
    elif defaults and period_end(defaults[2]) > period_end(train_end):
        val_end = defaults[2]
    elif data.train_end:  # half of the rows after the training period validate
        after = int(np.searchsorted(index.values, period_end(train_end), side="right"))
        val_end = str(index[min(last, (after + last) // 2)])
    else:
        val_end = str(index[int(0.85 * last)])
    note = "" if data.train_end else (  # a train_end the user never set
        f"{data.source}'s default" if defaults else "by default the row at 70%")
    check_period_order("data.train_end", train_end, "data.val_end", val_end, earlier_note=note)
    return train_end, val_end


def column_names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def change_lags(data: ForecastDataConfig) -> list[int]:
    """``data.change_lags`` as numbers (whole rows, at least one) when ``data.changes`` names
    columns, else none."""
    if not column_names(data.changes):
        return []
    return number_list(data.change_lags, "data.change_lags", int, minimum=1)


def check_split_dates(data: ForecastDataConfig) -> None:
    """Refuse a ``data.train_end`` or ``data.val_end`` that is no date, month or year, and
    a ``data.val_end`` set before a ``data.train_end`` (both set: no data needed)."""
    for key, value in (("data.train_end", data.train_end), ("data.val_end", data.val_end)):
        if value:
            check_date(value, key)
    if data.train_end and data.val_end:
        check_period_order("data.train_end", data.train_end, "data.val_end", data.val_end)


def check_data(data: ForecastDataConfig) -> None:
    """The data settings checked before any data is read (``train forecaster``, ``train
    signal``, their ``--print-config``): split ends that are no date (``2014-13-01``) or out of
    order, a stride, lookback or horizon below 1, a negative ``data.max_fill``, and
    ``data.change_lags`` set without ``data.changes``, whose columns alone the lags are read
    for, and a ``data.calendar`` part that is none.
    """
    check_split_dates(data)
    for key in ("stride", "lookback", "horizon"):  # as prepare and read_file check them
        check_at_least(getattr(data, key), f"data.{key}", 1)
    check_at_least(data.max_fill, "data.max_fill", 0)
    unknown = [part for part in column_names(data.calendar) if part not in CALENDAR_PERIODS]
    if data.calendar != "auto" and unknown:  # else refused once the data is read, unnamed
        raise ConfigError(f"data.calendar: unknown calendar part {unknown[0]!r}; give parts of "
                          f"{', '.join(CALENDAR_PERIODS)}, comma-separated, or auto (by the "
                          "rows' frequency), or \"\" for none")
    if not column_names(data.changes) and changed_keys("data", data, ForecastDataConfig(),
                                                 ("change_lags",)):
        raise ConfigError("data.change_lags is read only with data.changes (the columns whose "
                          "changes are added); add --set data.changes=<columns>, or leave it out")


def moment(text: str) -> str | pd.Timestamp:
    """A split end as ``split_by_time`` reads it: a period (``2013``) or, with a clock time, a
    timestamp."""
    return pd.Timestamp(text) if ":" in text else text


def is_stock(source: str) -> bool:
    """A symbol of bokeh-sampledata's stocks: the registry's four, and FB (2012-2013), which
    ``train dqn`` trains on and whose bundles are read back here."""
    return source.upper() in ALL_STOCK_SYMBOLS


def check_source(source: str | None, key: str = "data.source", must_exist: bool = True,
                 required: bool = False) -> None:
    """Refuse a time-series source ``key`` (``data.source``, ``--data``) that is neither a
    registry series, a stock symbol nor an existing CSV/Parquet file (or Parquet folder), before
    any data is read; an empty one is none given (``--data``: the model's own). With
    ``must_exist=False`` (the settings, which ``--print-config`` prints whatever files they
    name) a path with a suffix need not be there: the input check looks at it before a run.
    ``required`` (``data.source``, which a run reads) refuses an empty one, which would name
    the current folder.

    Example:
        >>> check_source("Beijing"), check_source("AAPL", "--data")
        (None, None)
        >>> check_source("meters.csv", must_exist=False)
        >>> check_source("APPL", "--data")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: --data 'APPL' is neither a source (beijing, ...
    """
    if required and not (source or "").strip():
        known = ", ".join([*SOURCES, *STOCK_SYMBOLS])
        raise ConfigError(f"{key} is empty: give a source ({known}) or the path of a "
                          "CSV/Parquet file (or Parquet folder)")
    path = Path(source or "")
    if source and not (registry_name(source) or is_stock(source) or path.exists()
                       or not must_exist and path.suffix):
        raise unknown_source(source, key)


def unknown_source(source: str, key: str = "data.source") -> ConfigError:
    """The refusal of a source ``key`` that names no registry series, stock or file."""
    known = ", ".join([*SOURCES, *STOCK_SYMBOLS])
    return ConfigError(f"{key} {source!r} is neither a source ({known}) nor an existing "
                       "CSV/Parquet file (or Parquet folder); give one of those, or the path "
                       "of an existing file")


def is_file(source: str) -> bool:
    """A CSV/Parquet path rather than a registry name (in any case)."""
    return registry_name(source) is None and not is_stock(source) and bool(
        Path(source).suffix or Path(source).exists())
