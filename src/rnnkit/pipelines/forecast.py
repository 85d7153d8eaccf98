"""Forecast with a saved model from the end of a series (``rnnkit forecast``).

A forecaster gives the ``H`` steps after the last row used (with an interval for a
probabilistic model; for a stock's log-return target also the price path it implies); a
buy/sell/hold classifier gives the class of the return over its horizon and the three
probabilities.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.models.recursive import times_after
from rnnkit.pipelines.saved_source import check_model_file, data_settings, feature_mismatch
from rnnkit.pipelines.source_config import ForecastDataConfig, change_lags
from rnnkit.pipelines.sources import read_source, with_source
from rnnkit.plural import plural
from rnnkit.timeseries.features import calendar_columns
from rnnkit.timeseries.splits import period_end
from rnnkit.training.bundle import load_bundle


def forecast_bundle(path: str | Path, source: str | None = None, as_of: str | None = None,
                    date_column: str | None = None, mirror: str | None = None
                    ) -> pd.DataFrame:
    """The forecast table of the bundle at ``path`` (see the module docstring)."""
    return forecast_model(load_bundle(path), path, source, as_of, date_column, mirror)


def forecast_model(model: Any, path: str | Path | None, source: str | None = None,
                   as_of: str | None = None, date_column: str | None = None,
                   mirror: str | None = None) -> pd.DataFrame:
    """The forecast table of a loaded bundle's ``model`` (``path``: where it was read, which
    the errors name; None for a model given loaded, named "the model")."""
    kind = str(getattr(model, "kind", ""))
    named = f"the model in {path}" if path is not None else "the model"
    if kind not in ("forecaster", "signal"):
        held = f"{path} holds" if path is not None else "the model is"
        raise ValueError(f"{held} a {kind!r} model; rnnkit forecast needs a forecaster or "
                         "signal bundle")
    trained = ForecastDataConfig(**data_settings(getattr(model, "trained_on", None)))
    data = replace(trained, target=model.target)
    if source:
        data = replace(with_source(data, source), date_column=date_column or data.date_column)
    else:
        check_model_file(data.source)
        data = with_source(data, data.source)  # a bundle whose registry source kept max_fill
    if mirror:
        data = replace(data, mirror=mirror)
    frame, _ = read_source(data, model.feature_names)
    _check_target(frame, model.target, data, trained.source)
    found = [*map(str, frame.columns), *calendar_columns(model.calendar)]
    if any(name not in found for name in model.feature_names):  # said "the frame lacks..."
        raise ValueError(feature_mismatch(list(model.feature_names), found, trained.source,
                                          data.source))
    if as_of:
        frame = _rows_up_to(frame, as_of, int(model.lookback), max(change_lags(data), default=0))
    if len(frame) < model.lookback:  # the model's own message named no file
        are = "is" if len(frame) == 1 else "are"
        raise ValueError(f"{plural(len(frame), 'row')} of {data.source} {are} too few: "
                         f"{named} reads the last {model.lookback} (its data.lookback); give "
                         "a longer series, or a model trained with a shorter lookback")
    _check_change_rows(frame, int(model.lookback), data)
    if kind == "signal":
        answer = model.classify(frame)
        row = {"as_of": answer["as_of"], "horizon": answer["horizon"],
               "signal": answer["signal"],
               **{f"p_{name}": value for name, value in answer["probabilities"].items()}}
        return pd.DataFrame([row])
    table = model.forecast(frame)
    price = model.target.removesuffix("_log_return")
    if model.target.endswith("_log_return") and price in frame.columns:
        last = float(frame[price].iloc[-1])
        table[f"{price}_implied"] = last * np.exp(np.cumsum(table["mean"].to_numpy()))
    return table


def _check_target(frame: pd.DataFrame, target: str, data: ForecastDataConfig,
                  trained_source: str) -> None:
    """The model's target among the data's columns (another source may name it otherwise)."""
    if target not in frame.columns:
        raise ValueError(f"the data {data.source} has no column {target!r}, the target the "
                         f"model forecasts (it was trained on {trained_source}); the data's "
                         f"columns: {', '.join(map(str, frame.columns))}. Give --data with "
                         "that column")


def _rows_up_to(frame: pd.DataFrame, as_of: str, lookback: int, lag: int = 0
                ) -> pd.DataFrame:
    """The rows up to the end of ``as_of``: a day, a month or a year (as the splits read);
    at least the ``lookback`` rows the model reads and the ``lag`` rows before them that its
    longest change (``data.changes``) reads. An ``as_of`` whose period starts after
    a row missing at the data's end (its grid's next timestamp, else after its last row) is
    refused: the forecast would start at that row, before the date asked for."""
    kept = frame.loc[:period_end(as_of)]
    if kept.empty:
        raise ValueError(f"--as-of {as_of}: no rows at or before it; the data starts on "
                         f"{frame.index[0]:%Y-%m-%d}. Give a later date, or leave --as-of "
                         "out to use every row")
    _check_as_of_within(frame, as_of)
    needed = lookback + lag
    if len(kept) < needed <= len(frame):
        changes = (f" and its {lag}-row changes (data.changes) need {plural(lag, 'row')} "
                   "before those" if lag else "")
        raise ValueError(f"--as-of {as_of}: {plural(len(kept), 'row')} at or before it, and the "
                         f"model reads the last {lookback}{changes}; give "
                         f"{frame.index[needed - 1]:%Y-%m-%d} or later")
    return kept


def _check_as_of_within(frame: pd.DataFrame, as_of: str) -> None:
    """Refuse an ``as_of`` that starts at or after the row the data lacks at its end (the
    next on its grid: the next business day of trading days, the next hour of hours, ...;
    without a grid, any time after its last row)."""
    index = pd.DatetimeIndex(frame.index)
    start = pd.Period(as_of).start_time if isinstance(as_of, str) else pd.Timestamp(as_of)
    following = times_after(index, 1)
    missing = following is not None and start >= following[0]
    if missing or (following is None and start > index[-1]):
        after = (f", and the row after it, {following[0]}, is missing" if following is not None
                 else "")
        raise ValueError(f"--as-of {as_of}: the data's last row is {index[-1]}{after}; give "
                         f"{index[-1]:%Y-%m-%d} or earlier (a forecast starts after the last "
                         "row, not after the date asked for), or leave --as-of out")


def _check_change_rows(frame: pd.DataFrame, lookback: int, data: ForecastDataConfig) -> None:
    """Enough rows before the lookback for the model's derived changes (a k-row change is
    unknown in a series' first k rows); the lookback alone is checked where it is read."""
    lag = max(change_lags(data), default=0)
    if lag and len(frame) < lookback + lag:
        are = "is" if len(frame) == 1 else "are"
        raise ValueError(f"{plural(len(frame), 'row')} {are} too few: the model reads the last "
                         f"{lookback}, and its {lag}-row changes (data.changes) need "
                         f"{plural(lag, 'row')} before "
                         f"those; give at least {lookback + lag}")
