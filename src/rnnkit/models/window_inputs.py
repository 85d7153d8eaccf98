"""What every window model does with its inputs: scale them, batch them, read a raw frame.

A window model (forecaster, buy/sell/hold classifier) keeps its feature names, calendar parts,
lookback and the scaler fitted on its training period; these helpers turn windows or the tail
of a raw date-indexed frame into the ``[B, L, F]`` float32 tensors it reads.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from rnnkit.plural import plural
from rnnkit.timeseries.dates import check_date_index
from rnnkit.timeseries.features import calendar_features
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.windows import Windows, whole_count


def add_calendar(frame: pd.DataFrame, parts: Sequence[str]) -> pd.DataFrame:
    """The frame with ``<part>_sin``/``<part>_cos`` columns (known from the timestamp alone).

    Columns of those names already there are replaced when they hold the same values (a frame
    given its calendar columns before); a column of the user's own by such a name is an error.
    """
    if not parts:
        return frame
    calendar = calendar_features(pd.DatetimeIndex(frame.index), list(parts))
    for name in calendar.columns.intersection(frame.columns):
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
        if not np.allclose(values, calendar[name].to_numpy(), atol=1e-9, equal_nan=False):
            raise ValueError(f"the data has a column {name!r}, the name of a calendar input "
                             f"rnnkit adds (calendar parts: {', '.join(parts)}); rename that "
                             "column, or leave its part out of data.calendar")
    return pd.concat([frame.drop(columns=calendar.columns, errors="ignore"), calendar], axis=1)


def check_scaler(scaler: StandardScaler, feature_names: Sequence[str]) -> None:
    """Refuse a scaler not fitted on ``feature_names``, or fitted on them in another order
    (each column would be scaled by another's mean and std)."""
    if scaler.mean is None or len(scaler.mean) != len(feature_names):
        raise ValueError(f"the scaler must be fitted on the {len(feature_names)} features")
    if scaler.feature_names is not None and list(scaler.feature_names) != list(feature_names):
        raise ValueError(f"the scaler was fitted on the features {scaler.feature_names}, "
                         f"the model reads {list(feature_names)}; fit it on the model's "
                         "features, in that order")


def check_features(windows: Windows, feature_names: Sequence[str]) -> None:
    if windows.feature_names != tuple(feature_names):
        raise ValueError(f"the windows' features {list(windows.feature_names)} differ from "
                         f"the model's {list(feature_names)}")


def check_scale(windows: Windows, scaler: StandardScaler, ratio: float = 10.0) -> list[str]:
    """Warn (``UserWarning``) when the rows the windows read lie far outside the training
    scale, e.g. a price level or unit the model never saw (:meth:`StandardScaler.check`); the
    forecasts are still made. Returns the problems found."""
    if not len(windows):
        return []
    first = max(0, int(windows.origins[0]) - windows.lookback + 1)
    return scaler.check(windows.values[first:int(windows.origins[-1]) + 1], ratio,
                        action="warn")


def scaled_batches(windows: Windows, scaler: StandardScaler, batch_size: int,
                   device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
                   ) -> Iterator[Tensor]:
    """``[b, L, F]`` tensors (the model's ``dtype``, float32 by default) of the scaled windows,
    in order (the scale checked)."""
    check_scale(windows, scaler)
    scaled = windows.scaled(scaler)
    # cast before the gather where numpy has the dtype (the same numbers, less copying)
    cast = {torch.float32: np.float32, torch.float64: np.float64}.get(dtype)
    for start in range(0, len(windows), batch_size):
        rows = slice(start, start + batch_size)
        yield torch.as_tensor(scaled.inputs_at(rows, dtype=cast), dtype=dtype, device=device)


def check_window_sizes(lookback: Any, horizon: Any) -> None:
    """Refuse a lookback or horizon that is no whole number of at least 1
    (:func:`~rnnkit.timeseries.windows.whole_count`: an int, a NumPy integer and 6.0 pass;
    0, 2.5, nan, inf, True, None and a str do not)."""
    if whole_count(lookback) is None or whole_count(horizon) is None:
        raise ValueError(f"lookback and horizon must be whole numbers >= 1 (data.lookback, "
                         f"data.horizon), got {lookback} and {horizon}")


def last_rows(frame: pd.DataFrame, feature_names: Sequence[str], calendar: Sequence[str],
              lookback: int) -> np.ndarray:
    """``[L, F]``: the last ``L`` rows of a raw date-indexed frame, calendar columns added,
    unscaled (a frame without a :class:`~pandas.DatetimeIndex` is refused).

    Raises:
        ValueError: dates out of order or repeated, a missing feature column, too few rows,
            or missing values in those rows.
    """
    # the last rows are read as the latest: a newest-first frame was read backwards
    check_date_index(frame.index, "the frame", why="its last rows are read as the latest")
    frame = add_calendar(frame, calendar)
    missing = [name for name in feature_names if name not in frame.columns]
    if missing:
        raise ValueError(f"the frame lacks the model's feature(s) {missing}; its columns: "
                         f"{list(map(str, frame.columns))}")
    if len(frame) < lookback:
        are = "is" if len(frame) == 1 else "are"
        raise ValueError(f"{plural(len(frame), 'row')} {are} too few; the model reads the "
                         f"last {lookback}")
    values = frame[list(feature_names)].to_numpy(dtype=float)[-lookback:]
    gaps = np.isnan(values)
    if gaps.any():
        rows, columns = np.nonzero(gaps)
        named = sorted({feature_names[int(c)] for c in columns}, key=list(feature_names).index)
        first = frame.index[len(frame) - lookback + rows[0]]
        raise ValueError(f"the last {lookback} rows (the model's lookback) hold "
                         f"{plural(len(rows), 'missing value')}, in "
                         f"{', '.join(map(repr, named))}, the first at {first}; fill them, or "
                         "forecast from an earlier date (rnnkit forecast --as-of)")
    return values


def last_window(frame: pd.DataFrame, feature_names: Sequence[str], calendar: Sequence[str],
                lookback: int, scaler: StandardScaler, device: torch.device | str = "cpu",
                dtype: torch.dtype = torch.float32) -> Tensor:
    """``[1, L, F]``: the scaled :func:`last_rows` of a raw date-indexed frame, on the model's
    ``device`` in its ``dtype``."""
    values = last_rows(frame, feature_names, calendar, lookback)
    return torch.as_tensor(scaler.transform(values)[None], dtype=dtype, device=device)
