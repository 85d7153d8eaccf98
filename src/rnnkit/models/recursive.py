"""Recursive multi-step forecasting: a one-step model rolled forward ``H`` times.

The model predicts the next row of every *dynamic* feature: every feature but the calendar
columns (``<part>_sin``/``<part>_cos`` of a part :func:`~rnnkit.timeseries.features.
calendar_features` knows), which are computed from the next timestamp instead of predicted. To
forecast ``H`` steps, :func:`roll_forward` appends the predicted row, with the calendar columns
of its timestamp, drops the oldest row and predicts again. It reads the window's own rows and
the future timestamps only, so it is causal: no value after the window's origin reaches it.

A change column of ``data.changes`` (``<column>_change_<k>`` = ``x[t] - x[t - k]``) whose
column is an input too and whose lag fits in the window is, in each row fed back, computed
from that column's predicted value and its value ``k`` rows before (:func:`change_columns`),
as it was made from the data: the model's own prediction of it is not fed back, so the rows
it reads ahead agree with themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from rnnkit.timeseries.features import CALENDAR_PERIODS, calendar_columns, calendar_features
from rnnkit.timeseries.grid import calendar_periods, infer_frequency
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.windows import Windows

CALENDAR_COLUMNS = {name: part for part in CALENDAR_PERIODS for name in calendar_columns([part])}


def calendar_positions(feature_names: Sequence[str]) -> list[int]:
    """Positions of the calendar columns among the features.

    Example:
        >>> calendar_positions(["y", "hour_sin", "wind_sin", "hour_cos"])
        [1, 3]
    """
    return [i for i, name in enumerate(feature_names) if name in CALENDAR_COLUMNS]


def dynamic_positions(feature_names: Sequence[str]) -> list[int]:
    """Positions of the features a recursive model predicts: all but the calendar columns."""
    calendar = set(calendar_positions(feature_names))
    return [i for i in range(len(feature_names)) if i not in calendar]


def change_columns(feature_names: Sequence[str], changes: object, lags: object,
                   lookback: int) -> list[tuple[int, int, int]]:
    """``(position, column position, lag)`` of each ``<column>_change_<lag>`` input derived
    from ``changes`` and ``lags`` (``data.changes`` and ``data.change_lags`` as a bundle keeps
    them: ``"temperature"``, ``"1,24"``) whose column is an input too and whose lag is at most
    the ``lookback`` (the rows a roll-out holds); anything else (settings of another kind, an
    older bundle's none) gives none.

    Example:
        >>> change_columns(["y", "x", "y_change_1", "y_change_24"], "y", "1,24", 12)
        [(2, 0, 1)]
    """
    if not isinstance(changes, str) or not isinstance(lags, str):
        return []
    names = [name.strip() for name in changes.split(",") if name.strip()]
    try:
        steps = [int(step) for step in lags.split(",") if step.strip()]
    except ValueError:
        return []
    positions = {name: i for i, name in enumerate(feature_names)}
    return [(positions[f"{name}_change_{lag}"], positions[name], lag)
            for name in names for lag in steps
            if name in positions and f"{name}_change_{lag}" in positions and 1 <= lag <= lookback]


def next_rows(windows: Windows, dynamic: Sequence[int], scaler: StandardScaler) -> np.ndarray:
    """``[N, D]`` the one-step training targets of unscaled windows: the scaled dynamic
    features at row ``origin + 1``, NaN where one is missing (the loss leaves those out)."""
    assert scaler.mean is not None and scaler.scale is not None
    rows = windows.values[windows.origins + 1][:, dynamic]  # [N, F] -> [N, D]
    return (rows - scaler.mean[dynamic]) / scaler.scale[dynamic]


def times_after(index: pd.DatetimeIndex, horizon: int) -> pd.DatetimeIndex | None:
    """The ``horizon`` timestamps after the last one: the next business days for trading
    days (weekdays only; holidays are not known), the next month starts or ends when the last
    (up to 10) are calendar months, quarters or years on them, or the same day of the next
    months when they are all on one day up to the 28th (the 15th), else the next steps when
    the last (up to 10) are evenly spaced, else None (first trading days of months: unknown).

    Example:
        >>> [str(day.date()) for day in times_after(pd.date_range("2020-01-01", periods=3), 2)]
        ['2020-01-04', '2020-01-05']
    """
    recent = pd.DatetimeIndex(index[-min(len(index), 10):])
    steps = np.diff(recent.to_numpy())
    weeks = pd.DatetimeIndex(index[-min(len(index), 60):])
    skips = np.diff(weeks.to_numpy()) > np.timedelta64(1, "D")  # a weekend seen skipped
    if len(weeks) >= 3 and skips.any() and infer_frequency(weeks) == "B":
        return pd.date_range(recent[-1], periods=horizon + 1, freq="B")[1:]  # trading days
    calendar = calendar_periods(recent) if len(recent) >= 3 else None
    if calendar is not None:  # months: uneven steps
        months = infer_frequency(recent)
        if months.endswith(("MS", "ME")):
            return pd.date_range(recent[-1], periods=horizon + 1, freq=months)[1:]
        if (recent.day <= 28).all() and (recent - recent.to_period("M").start_time).nunique() == 1:
            step = round(12 / calendar)  # the same day and time of each month (the 15th)
            return pd.DatetimeIndex([recent[-1] + pd.DateOffset(months=step * ahead)
                                     for ahead in range(1, horizon + 1)])
    if not len(steps) or not (steps == steps[0]).all():
        return None
    return pd.DatetimeIndex(recent[-1] + pd.Timedelta(steps[0]) * np.arange(1, horizon + 1))


def future_calendar(times: np.ndarray, feature_names: Sequence[str],
                    scaler: StandardScaler) -> np.ndarray:
    """The scaled calendar columns at future timestamps; the dynamic columns are NaN.

    Args:
        times: ``[N, H]`` datetime64, the timestamp of each step to forecast (unused, and may
            be NaT, when there are no calendar columns).
        feature_names: the model's features, in order.
        scaler: the model's scaler, fitted on every feature.

    Shape:
        ``[N, H]`` times in, ``[N, H, F]`` rows out.
    """
    count, horizon = times.shape
    rows = np.full((count * horizon, len(feature_names)), np.nan)  # [N*H, F]
    positions = calendar_positions(feature_names)
    if positions:
        names = [feature_names[i] for i in positions]
        parts = list(dict.fromkeys(CALENDAR_COLUMNS[name] for name in names))
        stamps = pd.DatetimeIndex(np.asarray(times).reshape(-1))  # [N, H] -> [N*H]
        rows[:, positions] = calendar_features(stamps, parts)[names].to_numpy()
    return scaler.transform(rows).reshape(count, horizon, len(feature_names))  # -> [N, H, F]


def roll_forward(step: Callable[[Tensor], Tensor], inputs: Tensor, future: Tensor,
                 dynamic: Tensor, changes: Sequence[tuple[int, int, int]] = (),
                 scaler: StandardScaler | None = None) -> Tensor:
    """Forecast ``H`` rows by feeding each predicted row back in.

    Args:
        step: a scaled window ``[B, L, F]`` -> the next row's dynamic features ``[B, D]``.
        inputs: ``[B, L, F]`` the scaled window.
        future: ``[B, H, F]`` the scaled calendar columns of the next ``H`` steps (the values
            at dynamic positions are ignored).
        dynamic: ``[D]`` long, the positions of the dynamic features.
        changes: :func:`change_columns`: the change columns computed, in each row fed back,
            from their column's value in it and ``lag`` rows before (``scaler`` needed).
        scaler: the model's, fitted on every feature.

    Shape:
        returns ``[B, H, D]``: step ``h`` of the path is the ``h``-th row fed back (its
        change columns computed, the rest as predicted).
    """
    rows, path = inputs, []
    for ahead in range(future.shape[1]):
        predicted = step(rows)  # [B, D]
        row = future[:, ahead].index_copy(1, dynamic, predicted)  # [B, F]
        if changes:
            row = _with_changes(row, rows, changes, scaler)
        rows = torch.cat([rows[:, 1:], row[:, None]], dim=1)  # [B, L, F], one step later
        path.append(row.index_select(1, dynamic))  # [B, F] -> [B, D]
    return torch.stack(path, dim=1)  # H x [B, D] -> [B, H, D]


def _with_changes(row: Tensor, rows: Tensor, changes: Sequence[tuple[int, int, int]],
                  scaler: StandardScaler | None) -> Tensor:
    """The scaled ``row`` ``[B, F]`` after the window ``rows`` ``[B, L, F]``, each change
    column set to its column's value in ``row`` less its value ``lag`` rows before, scaled
    as the change column is."""
    assert scaler is not None and scaler.mean is not None and scaler.scale is not None
    row = row.clone()
    for position, column, lag in changes:
        # (x_new - x_old) in the column's units, from the scaled values: [B]
        moved = (row[:, column] - rows[:, -lag, column]) * float(scaler.scale[column])
        row[:, position] = (moved - float(scaler.mean[position])) / float(scaler.scale[position])
    return row
