"""Where a time-series pipeline's data comes from, and its chronological split into windows.

Flow: a source name (``beijing``, ``seattle``, a stock symbol) or a CSV/Parquet path -> a
date-indexed frame with its default target -> calendar columns -> windows -> the split into
train / validation / test by target time (:func:`~rnnkit.timeseries.splits.split_by_time`).
Shared by the forecaster, the buy/sell/hold classifier and the stock walk-forward.

A stock symbol gives the adjusted close (``AAPL``) and stationary, causal features of it
(:func:`~rnnkit.timeseries.features.price_features`); its default target is the daily log
return ``AAPL_log_return`` and the price level is not an input (it never returns to the range
a scaler saw in training).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from rnnkit.config import ConfigError, check_at_least
from rnnkit.models.window_inputs import add_calendar
from rnnkit.pipelines.series_grid import calendar_parts, warn_gaps
from rnnkit.pipelines.source_config import (
    SOURCES,
    ForecastDataConfig,
    change_lags,
    column_names,
    is_file,
    is_stock,
    moment,
    registry_name,
    split_ends,
    unknown_source,
)
from rnnkit.plural import plural
from rnnkit.timeseries.datasets import (
    beijing_weather,
    seattle_weather,
    stock_prices,
)
from rnnkit.timeseries.features import calendar_columns, derive, price_features
from rnnkit.timeseries.frames import load_table
from rnnkit.timeseries.splits import Split, split_by_time
from rnnkit.timeseries.windows import make_windows


@dataclass(frozen=True)
class Prepared:
    """A source read, windowed and split."""

    data: ForecastDataConfig
    frame: pd.DataFrame  # with calendar columns
    target: str
    features: list[str]
    calendar: list[str]
    split: Split
    left_out: str = ""  # "N windows were left out for missing values in 'x' (K rows)", if any


def stock_frame(symbol: str) -> pd.DataFrame:
    """One stock's adjusted close and its price features, from its first complete row."""
    prices = stock_prices([symbol.upper()], returns=False)[symbol.upper()].dropna()
    return pd.concat([prices, price_features(prices)], axis=1).dropna()


def load_source(data: ForecastDataConfig, advice: str = "Set data.target",
                columns: Sequence[str] = ()) -> tuple[pd.DataFrame, str]:
    """The raw frame and its target column (which must be in the frame; ``advice``: what to
    do if it is not); ``columns``: a saved model's inputs (:func:`read_source`)."""
    frame, target = read_source(data, columns)
    columns = ", ".join(map(str, frame.columns)) or "(none)"
    if not target:  # was "has no target column ''"
        raise ValueError(f"{data.source}: data.target is not set, and a file has no default "
                         f"target; its columns: {columns}. {advice}")
    if target not in frame.columns:
        raise ValueError(f"{data.source} has no target column {target!r}; its columns: "
                         f"{columns}. {advice}")
    return frame, target


def read_source(data: ForecastDataConfig, columns: Sequence[str] = ()
                ) -> tuple[pd.DataFrame, str]:
    """The raw frame (derived columns added) and the name of its target column, which the
    caller checks is there; ``columns``: a saved model's inputs, the columns of a file that
    must hold numbers beside ``data.features`` (:func:`read_file`)."""
    source = data.source
    if not is_file(source) and (data.frequency or data.series_column or data.value_column
                                or data.max_fill or data.date_format):
        raise ConfigError(f"data.frequency, data.max_fill, data.date_format, data.series_column "
                          f"and data.value_column are for files; {source} is a registry "
                          "series. Leave them out")
    name = registry_name(source)
    if name == "beijing":
        frame = beijing_weather(mirror=data.mirror or None).drop(columns=["pm25"])
    elif name == "seattle":
        frame = seattle_weather()
    elif is_stock(source):
        frame = stock_frame(source)
    elif is_file(source):
        frame = read_file(data, columns)
    else:
        raise unknown_source(source)
    default = (f"{source.upper()}_log_return" if is_stock(source)
               else SOURCES[name][0] if name else "")
    target = data.target or default
    logged = column_names(data.log1p)
    if target in logged:
        raise ValueError(f"data.log1p lists the target {target!r}; a target keeps its units. "
                         "Remove it from data.log1p")
    return derive(frame, logged, column_names(data.changes), change_lags(data)), target


def with_source(data: ForecastDataConfig, source: str) -> ForecastDataConfig:
    """A model's data settings with another ``source``: a registry series drops the settings
    that are only for files (a model trained on a file forecasts Beijing too)."""
    if is_file(source):
        return replace(data, source=source)
    return replace(data, source=source, frequency="", max_fill=0, date_format="",
                   series_column="", value_column="")


def read_file(data: ForecastDataConfig, columns: Sequence[str] = ()) -> pd.DataFrame:
    """A user's CSV/Parquet file as a checked frame (with ``data.features``, or a saved
    model's inputs ``columns``, only the columns read must hold numbers: another column of
    text is left out), put on the ``data.frequency`` grid if set; gaps in its dates are warned
    of when it is not."""
    check_at_least(data.max_fill, "data.max_fill", 0)
    if data.max_fill and not data.frequency:
        raise ConfigError("data.max_fill fills the rows data.frequency adds; set "
                          "data.frequency too (e.g. infer)")
    wanted = None
    if data.features or columns:
        wanted = [*column_names(data.features), *columns,
                  *([data.target] if data.target else []),
                  *column_names(data.log1p), *column_names(data.changes)]
    frame = load_table(data.source, data.date_column, date_format=data.date_format or None,
                       series_column=data.series_column or None,
                       value_column=data.value_column or None, needed=wanted,
                       frequency=data.frequency or None, max_fill=data.max_fill,
                       keep=target_sources(data))
    if not data.frequency and len(frame) >= 3:
        warn_gaps(frame.index, data.source)
    return frame


def target_sources(data: ForecastDataConfig) -> list[str]:
    """The file's columns the target is made of, never filled: the target, and for a change
    target (``<column>_change_<k>`` of ``data.changes``) or a log target (``<column>_log1p``
    of ``data.log1p``) its column."""
    if not data.target:
        return []
    changed = [name for name in column_names(data.changes) for lag in change_lags(data)
               if data.target == f"{name}_change_{lag}"]
    logged = [name for name in column_names(data.log1p) if data.target == f"{name}_log1p"]
    return [data.target, *changed, *logged]


def input_features(data: ForecastDataConfig, frame: pd.DataFrame, target: str,
                   with_target: bool = True, parts: Sequence[str] = ()) -> list[str]:
    """The configured inputs (the calendar columns of ``parts`` added), else every numeric
    column (a stock's price level left out); the target first if ``with_target`` and not
    already in."""
    if data.features:
        features = column_names(data.features)
        features += [name for name in calendar_columns(parts) if name not in features]
    else:
        level = data.source.upper() if is_stock(data.source) else None
        features = [name for name in frame.columns
                    if pd.api.types.is_numeric_dtype(frame[name]) and name != level]
    if with_target and target not in features:
        features.insert(0, target)
    return features


def prepare(data: ForecastDataConfig, with_target: bool = True,
            advice: str = "Set data.target", order: Sequence[str] = (),
            lacking: Callable[[list[str]], str] | None = None) -> Prepared:
    """Read, add calendar columns, window and split a source (see the module docstring);
    ``advice``: what to do when the source lacks the target column; ``order``: a saved
    model's features, the order its inputs are read in when the source has just those
    columns (a file written with its columns in another order); ``lacking``: what to say,
    from the source's columns, when it lacks some of them (else: data.features names them)."""
    for key in ("stride", "lookback", "horizon"):
        check_at_least(getattr(data, key), f"data.{key}", 1)
    frame, target = load_source(data, advice, order)
    parts = calendar_parts(data, pd.DatetimeIndex(frame.index)) if len(frame) > 1 else []
    frame = add_calendar(frame, parts)
    features = input_features(data, frame, target, with_target, parts)
    absent = [name for name in features if name not in frame.columns]
    if absent:  # was "no column 'x' in the frame", naming no setting
        if lacking is not None:
            raise ValueError(lacking(list(map(str, frame.columns))))
        raise ConfigError(f"data.features names {', '.join(map(repr, absent))}, which "
                          f"{data.source} lacks; its columns: "
                          f"{', '.join(map(str, frame.columns))}. Name columns it has")
    if sorted(features) == sorted(order):  # columns are read by name
        features = list(order)
    windows = make_windows(frame, target, features, data.lookback, data.horizon)
    gaps = {name: int(frame[name].isna().sum()) for name in dict.fromkeys([*features, target])
            if frame[name].isna().any()}
    shown = ", ".join(f"{name!r} ({plural(count, 'row')})" for name, count in gaps.items())
    if not len(windows):
        raise ValueError(f"no window of {data.lookback} + {data.horizon} rows is free of missing "
                         f"values; missing in {shown or 'no column'}. Leave such columns out "
                         "(data.features), fill them, or shorten the lookback")
    advice = (": leave such columns out (data.features) or fill them"
              if set(gaps) - {target} else "")  # a target's gaps: nothing to leave out
    were = "was" if windows.dropped == 1 else "were"
    left_out = (f"{plural(windows.dropped, 'window')} {were} left out for missing values in "
                f"{shown}{advice}"
                if windows.dropped else "")
    missing = f". {left_out}" if left_out else ""
    leading = {f"{name}_change_{lag}": lag for name in column_names(data.changes)
               for lag in change_lags(data)}  # a change's first rows have no earlier value
    if not any(frame[name].iloc[leading.get(name, 0):].isna().any() for name in gaps):
        left_out = ""  # only those rows: nothing to fill or leave out (Beijing's recipe)
    train_end, val_end = split_ends(data, pd.DatetimeIndex(frame.index))
    try:
        split = split_by_time(windows, moment(train_end), moment(val_end))
    except ValueError as error:
        raise ValueError(f"{error}{missing}") from None
    if len(split.train) < 2:
        raise ValueError(f"only {len(split.train)} training window (targets up to {train_end}):"
                         f" a model and the baselines need at least 2. Give more rows, move "
                         f"data.train_end later, or shorten the lookback ({data.lookback}) or "
                         f"horizon ({data.horizon}){missing}")
    for name, part in zip(("validation", "test"), split[1:], strict=True):
        if not len(part):
            raise ValueError(f"no {name} windows: {plural(len(frame), 'row')} with lookback "
                             f"{data.lookback} and horizon {data.horizon} leave none after the "
                             f"split at {train_end}/{val_end}; give more rows or shorten them"
                             f"{missing}")
    return Prepared(data, frame, target, features, parts, split, left_out)


def same_source(first: str, second: str) -> bool:
    """Whether two source names read the same series: a registry series or a stock symbol in
    any case, a file by its path from here (``prices.csv``, ``./prices.csv`` or its absolute
    path)."""
    if is_stock(first) or is_stock(second) or registry_name(first) or registry_name(second):
        return first.upper() == second.upper()
    if is_file(first) and is_file(second):
        return Path(first).resolve() == Path(second).resolve()
    return first == second
