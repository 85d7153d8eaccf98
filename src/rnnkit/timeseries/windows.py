"""Lookback/horizon windows over a date-indexed frame.

A window ending at row ``t`` (its *origin*) reads the feature rows ``t-L+1 .. t`` and predicts
the target at rows ``t+1 .. t+H``. A window is kept only when all of those values are present:
a ``NaN`` target is never a target, a ``NaN`` input never reaches a model. Splits and folds:
:mod:`rnnkit.timeseries.splits`; the scaler: :mod:`rnnkit.timeseries.scaling`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from rnnkit.plural import plural
from rnnkit.timeseries.dates import check_date_index

if TYPE_CHECKING:
    from rnnkit.timeseries.scaling import StandardScaler


@dataclass(frozen=True, eq=False)
class Windows:
    """Windows over one frame; arrays are built from the shared ``values`` on access.

    Attributes:
        values: ``[T, F]`` the feature rows (float64), perhaps scaled.
        target_series: ``[T]`` the target in its own units, never scaled.
        index: ``[T]`` the frame's timestamps.
        origins: ``[N]`` the row of each window's last input step, ascending.
        lookback, horizon: ``L`` and ``H``.
        feature_names, target_name: the frame's column names.
        dropped: windows left out because a value they need is missing.

    Shape:
        inputs ``[N, L, F]``, targets ``[N, H]``, target_history ``[N, L]``, input_end ``[N]``,
        target_times ``[N, H]``.
    """

    values: np.ndarray
    target_series: np.ndarray
    index: pd.DatetimeIndex
    origins: np.ndarray
    lookback: int
    horizon: int
    feature_names: tuple[str, ...]
    target_name: str
    dropped: int = 0

    def __len__(self) -> int:
        return len(self.origins)

    @property
    def inputs(self) -> np.ndarray:
        """``[N, L, F]`` the input steps of every window (a new array)."""
        return self.inputs_at(np.arange(len(self)))

    def inputs_at(self, rows: np.ndarray | slice, steps: int | None = None,
                  dtype: np.dtype | type | None = None) -> np.ndarray:
        """``[n, steps, F]`` the last ``steps`` (default ``L``) input steps of some windows.

        ``dtype`` (default: the values' own) casts the rows before they are gathered: the same
        numbers as casting the windows after, with half the copying for float32."""
        steps = self.lookback if steps is None else steps
        if steps < 1:  # 0 gave empty windows, a negative count numpy's 'window_shape' error
            raise ValueError(f"steps must be at least 1, not {steps}")
        origins = self.origins[rows]  # [n]
        width = self.values.shape[1]
        if not len(origins):
            return np.empty((0, steps, width), self.values.dtype if dtype is None else dtype)
        # only the rows these windows read (a batch's, not the series'), row-major (a frame's
        # to_numpy is often column-major), so that each window is one contiguous block of the
        # view and the gather below is a single copy
        first = int(origins.min()) - steps + 1
        if first < 0:  # a negative start would slice from the series' end
            raise ValueError(f"{steps} steps reach before the series' first row: the window "
                             f"ending at row {int(origins.min())} has "
                             f"{plural(int(origins.min()) + 1, 'row')} up to it (the lookback "
                             f"is {self.lookback})")
        values = np.ascontiguousarray(self.values[first:int(origins.max()) + 1], dtype=dtype)
        view = sliding_window_view(values, (steps, width))[:, 0]  # [rows-steps+1, steps, F]
        return view[origins - first - steps + 1]  # [n, steps, F], a new array

    @property
    def targets(self) -> np.ndarray:
        """``[N, H]`` the target at rows ``t+1 .. t+H`` of each window."""
        return self.target_series[self.origins[:, None] + np.arange(1, self.horizon + 1)]

    @property
    def target_history(self) -> np.ndarray:
        """``[N, L]`` the target over each window's input steps, in its own units."""
        return self.target_series[self.origins[:, None] + np.arange(1 - self.lookback, 1)]

    @property
    def current(self) -> np.ndarray:
        """``[N]`` the target at each window's last input step: the value known now."""
        return self.target_series[self.origins]

    @property
    def input_end(self) -> np.ndarray:
        """``[N]`` datetime64: the timestamp of each window's last input step."""
        return self.index.to_numpy()[self.origins]

    @property
    def target_times(self) -> np.ndarray:
        """``[N, H]`` datetime64: the timestamp of each target."""
        return self.index.to_numpy()[self.origins[:, None] + np.arange(1, self.horizon + 1)]

    def subset(self, selection: np.ndarray | slice) -> Windows:
        """The windows picked by a boolean mask, positions or a slice (values are shared)."""
        return replace(self, origins=self.origins[selection], dropped=0)

    def scaled(self, scaler: StandardScaler) -> Windows:
        """The same windows with scaled features; targets stay in their own units."""
        return replace(self, values=scaler.transform(self.values))

    def period_rows(self) -> np.ndarray:
        """``[R, F]`` every row from the first window's first input to the last one's last target.

        For training windows this is the training period: fit scalers on it.
        """
        if not len(self):
            raise ValueError("no windows, so no period to fit on")
        first = int(self.origins[0]) - self.lookback + 1
        return self.values[first:int(self.origins[-1]) + self.horizon + 1]


def make_windows(frame: pd.DataFrame, target: str, features: Sequence[str] | None = None,
                 lookback: int = 24, horizon: int = 1, stride: int = 1) -> Windows:
    """Cut a date-indexed frame into windows (see the module docstring for what is kept).

    Args:
        frame: sorted, unique :class:`~pandas.DatetimeIndex`; numeric feature columns.
        target: the column to predict; it may also be a feature.
        features: input columns (default: every column).
        lookback, horizon: input steps ``L`` and target steps ``H``.
        stride: rows between consecutive origins.

    Raises:
        ValueError: a missing column (the message lists the columns), a non-numeric column,
            an index that is not sorted dates without repeats, or fewer than ``L + H`` rows.

    Example:
        >>> frame = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0, 5.0]},
        ...                      index=pd.date_range("2020-01-01", periods=5, freq="D"))
        >>> windows = make_windows(frame, "y", lookback=2, horizon=2)
        >>> windows.inputs[:, :, 0].tolist(), windows.targets.tolist()
        ([[1.0, 2.0], [2.0, 3.0]], [[3.0, 4.0], [4.0, 5.0]])
        >>> str(windows.input_end[0])[:10]
        '2020-01-02'
    """
    names = list(frame.columns) if features is None else one_or_many(features)
    for name in [target, *names]:
        if name not in frame.columns:
            raise ValueError(f"no column {name!r} in the frame; its columns: "
                             f"{', '.join(map(repr, map(str, frame.columns)))}")
        if not pd.api.types.is_numeric_dtype(frame[name]):
            raise ValueError(f"column {name!r} is not numeric ({frame[name].dtype}); encode it "
                             "(one-hot or codes) or leave it out of features")
    index = frame.index
    check_date_index(index, "the frame")
    lookback, horizon, stride = (_steps(name, value) for name, value in (
        ("lookback", lookback), ("horizon", horizon), ("stride", stride)))
    rows = len(frame)
    if rows < lookback + horizon:
        raise ValueError(f"{plural(rows, 'row')} {'is' if rows == 1 else 'are'} too few for "
                         f"lookback {lookback} + horizon {horizon}; "
                         f"need at least {lookback + horizon}. Shorten the lookback or horizon, "
                         "or give more rows")
    values = frame[names].to_numpy(dtype=float)
    series = frame[target].to_numpy(dtype=float)
    bad_row = np.isnan(values).any(axis=1) | np.isnan(series)
    bad_target = np.isnan(series)
    bad_before = np.concatenate([[0], np.cumsum(bad_row)])  # bad rows before each row
    bad_target_before = np.concatenate([[0], np.cumsum(bad_target)])
    candidates = np.arange(lookback - 1, rows - horizon, stride)
    missing_inputs = bad_before[candidates + 1] - bad_before[candidates - lookback + 1]
    missing_targets = (bad_target_before[candidates + horizon + 1]
                       - bad_target_before[candidates + 1])
    keep = (missing_inputs == 0) & (missing_targets == 0)
    return Windows(values, series, index, candidates[keep], lookback, horizon, tuple(names),
                   target, dropped=int((~keep).sum()))


def one_or_many(names: str | Sequence[str]) -> list[str]:
    """One column name, or several, as a list: ``"load"`` is one name, not its letters.

    Example:
        >>> one_or_many("load"), one_or_many(("a", "b"))
        (['load'], ['a', 'b'])
    """
    return [names] if isinstance(names, str) else list(names)


def whole_count(value: object) -> int | None:
    """``value`` as an ``int`` where it is a whole number of at least 1 (an int, a NumPy
    integer, ``24.0``: a TOML number, a computed value); None for anything else (0, 2.5, nan,
    inf, True, ``"2"``, None). The one rule of every count of rows here (lookbacks, horizons,
    lags), each refused in its own words.

    Example:
        >>> whole_count(24.0), whole_count(np.int64(3)), whole_count(True), whole_count(2.5)
        (24, 3, None, None)
    """
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
            and float(value).is_integer() and value >= 1:
        return int(value)
    return None


def _steps(name: str, value: object) -> int:
    """A count of rows (``lookback``, ``horizon``, ``stride``) as an ``int``: a whole number
    of at least 1 (``24.0`` is 24); anything else is refused, naming the setting."""
    count = whole_count(value)
    if count is None:
        raise ValueError(f"{name} must be a whole number >= 1, not {value!r}")
    return count


def decision_span(windows: Windows) -> dict[str, str]:
    """The first and last decision time (origin) of windows, as scores name them: dates when
    both are midnights (a daily series), else both with their time.

    Example:
        >>> frame = pd.DataFrame({"y": np.arange(5.0)},
        ...                      index=pd.date_range("2020-01-01", periods=5, freq="D"))
        >>> decision_span(make_windows(frame, "y", lookback=2))
        {'first_decision': '2020-01-02', 'last_decision': '2020-01-04'}
        >>> hourly = frame.set_axis(pd.date_range("2020-01-01", periods=5, freq="h"))
        >>> decision_span(make_windows(hourly, "y", lookback=2))["last_decision"]
        '2020-01-01 03:00:00'
    """
    if not len(windows):
        raise ValueError("no windows, so no decisions")
    ends = [pd.Timestamp(windows.input_end[0]), pd.Timestamp(windows.input_end[-1])]
    dates = all(end == end.normalize() for end in ends)
    first, last = (str(end.date()) if dates else str(end) for end in ends)
    return {"first_decision": first, "last_decision": last}


def input_batches(windows: Windows, batch_size: int = 4096,
                  steps: int | None = None) -> Iterator[np.ndarray]:
    """``[B, steps*F]`` flattened inputs (last ``steps`` input steps), batch by batch."""
    for start in range(0, len(windows), batch_size):
        chunk = windows.inputs_at(slice(start, start + batch_size), steps)  # [B, steps, F]
        yield chunk.reshape(len(chunk), -1)  # [B, steps, F] -> [B, steps*F]
