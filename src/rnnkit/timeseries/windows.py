"""Lookback/horizon windows over a date-indexed frame, chronological splits, walk-forward folds,
and the scaler fitted on the training period only.

A window ending at row ``t`` (its *origin*) reads the feature rows ``t-L+1 .. t`` and predicts
the target at rows ``t+1 .. t+H``. A window is kept only when all of those values are present:
a ``NaN`` target is never a target, a ``NaN`` input never reaches a model.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple, TypeVar

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

Model = TypeVar("Model")


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

    def inputs_at(self, rows: np.ndarray | slice, steps: int | None = None) -> np.ndarray:
        """``[n, steps, F]`` the last ``steps`` (default ``L``) input steps of some windows."""
        steps = self.lookback if steps is None else steps
        view = sliding_window_view(self.values, steps, axis=0)  # [T-steps+1, F, steps]
        picked = view[self.origins[rows] - steps + 1]  # [n, F, steps]
        return np.ascontiguousarray(picked.transpose(0, 2, 1))  # [n, F, steps] -> [n, steps, F]

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
    names = list(frame.columns if features is None else features)
    for name in [target, *names]:
        if name not in frame.columns:
            raise ValueError(f"no column {name!r} in the frame; its columns: "
                             f"{', '.join(map(repr, map(str, frame.columns)))}")
        if not pd.api.types.is_numeric_dtype(frame[name]):
            raise ValueError(f"column {name!r} is not numeric ({frame[name].dtype}); encode it "
                             "(one-hot or codes) or leave it out of features")
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex):
        raise ValueError(f"the frame needs a DatetimeIndex, not {type(index).__name__}; load it "
                         "with rnnkit.timeseries.frames.load_table or tidy")
    if not index.is_monotonic_increasing or index.has_duplicates:
        raise ValueError("the frame's dates must be ascending with no repeats; load it with "
                         "rnnkit.timeseries.frames.tidy, which sorts and checks them")
    for name, value in (("lookback", lookback), ("horizon", horizon), ("stride", stride)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, not {value!r}")
    rows = len(frame)
    if rows < lookback + horizon:
        raise ValueError(f"{rows} rows are too few for lookback {lookback} + horizon {horizon}; "
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


class Split(NamedTuple):
    """Chronological train, validation and test windows."""

    train: Windows
    validation: Windows
    test: Windows


def split_by_time(windows: Windows, train_end: str | pd.Timestamp,
                  val_end: str | pd.Timestamp | None = None) -> Split:
    """Split windows by their target times, so that no target lies in two splits.

    Train: every target at or before ``train_end``; validation: every target after
    ``train_end`` and at or before ``val_end``; test: every target after ``val_end`` (or after
    ``train_end`` without ``val_end``). The ``H - 1`` windows whose targets straddle a
    boundary are in no split. A string is a period, inclusive: ``"2012"`` is up to the end of
    2012, ``"2012-06-30"`` up to the end of that day.

    Example:
        >>> frame = pd.DataFrame({"y": np.arange(10.0)},
        ...                      index=pd.date_range("2020-01-01", periods=10, freq="D"))
        >>> split = split_by_time(make_windows(frame, "y", lookback=2), "2020-01-06", "2020-01-08")
        >>> len(split.train), len(split.validation), len(split.test)
        (4, 2, 2)
    """
    first, last = windows.target_times[:, 0], windows.target_times[:, -1]
    train_stop = _boundary(train_end)
    val_stop = train_stop if val_end is None else _boundary(val_end)
    if val_stop < train_stop:
        raise ValueError(f"val_end {val_end} is before train_end {train_end}; the validation "
                         "period must end after the training period")
    train = windows.subset(last <= train_stop)
    if not len(train):
        raise ValueError(f"no window has all its targets at or before train_end {train_end}; "
                         f"the first target is {windows.index[0]}. Move train_end later")
    validation = windows.subset((first > train_stop) & (last <= val_stop))
    return Split(train, validation, windows.subset(first > val_stop))


@dataclass(frozen=True, eq=False)
class Fold:
    """One walk-forward step: fit on ``train`` (when ``refit``), predict ``test``."""

    train: np.ndarray
    test: np.ndarray
    refit: bool


def walk_forward(n: int, initial: int, step: int, *, gap: int = 0, test_size: int | None = None,
                 max_train: int | None = None, refit_every: int = 1) -> list[Fold]:
    """Rolling-origin folds over ``n`` windows in time order.

    Fold ``k`` tests windows ``initial + k*step`` onwards (``test_size``, default ``step``,
    of them) and trains on the windows before, less the last ``gap``: with windows one row
    apart, ``gap = horizon - 1`` keeps every training target before the first test origin.
    ``max_train`` makes the training window roll instead of grow. ``refit_every=k`` refits
    every k-th fold (``0``: only the first); a fold that does not refit lists the training
    windows of the model it reuses.

    Example:
        >>> [(f.train.tolist(), f.test.tolist(), f.refit) for f in walk_forward(7, 3, 2, gap=1)]
        [([0, 1], [3, 4], True), ([0, 1, 2, 3], [5, 6], True)]
    """
    test_size = step if test_size is None else test_size
    for name, value in (("initial", initial), ("step", step), ("test_size", test_size)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, not {value}")
    if gap < 0 or initial - gap < 1:
        raise ValueError(f"gap {gap} must be >= 0 and leave training windows before "
                         f"initial={initial}")
    if n <= initial:
        raise ValueError(f"{n} windows leave no test windows after initial={initial}; "
                         "lower initial or make more windows")
    folds: list[Fold] = []
    train = np.arange(0)
    for k, start in enumerate(range(initial, n, step)):
        refit = k == 0 or (refit_every > 0 and k % refit_every == 0)
        if refit:
            stop = start - gap
            train = np.arange(0 if max_train is None else max(0, stop - max_train), stop)
        folds.append(Fold(train, np.arange(start, min(start + test_size, n)), refit))
    return folds


def check_fold(train: Windows, test: Windows, hint: str) -> None:
    """Refuse a fold with a training target after the first test origin (a leak); ``hint``
    says how to fix it."""
    latest, earliest = train.target_times[:, -1].max(), test.input_end.min()
    if latest > earliest:
        raise ValueError(f"fold leaks: a training target at {latest} is after the test "
                         f"origin {earliest}; {hint}")


def walk_forward_predict(windows: Windows, folds: Sequence[Fold],
                         fit: Callable[[Windows], Model],
                         predict: Callable[[Model, Windows], np.ndarray]) -> np.ndarray:
    """``[N, H]`` predictions of every test window (NaN elsewhere), refitting as folds say.

    Raises:
        ValueError: a training target after a test window's origin (the fold leaks; raise
            ``gap``).
    """
    predictions = np.full((len(windows), windows.horizon), np.nan)
    model: Any = None
    for fold in folds:
        train, test = windows.subset(fold.train), windows.subset(fold.test)
        check_fold(train, test, "use gap >= horizon - 1 in walk_forward")
        if fold.refit or model is None:
            model = fit(train)
        predictions[fold.test] = predict(model, test)
    return predictions


class StandardScaler:
    """Per-feature ``(x - mean) / scale``, fitted on the training period only.

    ``NaN`` is ignored when fitting; a constant feature gets scale 1.

    Example:
        >>> scaler = StandardScaler().fit(np.array([[1.0], [3.0]]))
        >>> scaler.transform(np.array([[5.0]])).tolist(), scaler.to_json()
        ([[3.0]], '{"mean": [2.0], "scale": [1.0], "feature_names": null}')
    """

    def __init__(self, feature_names: Sequence[str] | None = None) -> None:
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None
        self.feature_names = None if feature_names is None else list(feature_names)

    def fit(self, values: np.ndarray) -> StandardScaler:
        """Learn mean and standard deviation per feature (the last axis)."""
        values = np.asarray(values, dtype=float)
        flat = values.reshape(-1, values.shape[-1])  # [..., F] -> [R, F]
        if not np.isfinite(flat).any(axis=0).all():
            raise ValueError("a feature has no finite value in the training rows; drop it")
        self.mean = np.nanmean(flat, axis=0)
        std = np.nanstd(flat, axis=0)
        self.scale = np.where(std > 0, std, 1.0)
        return self

    def _fitted(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.mean is None or self.scale is None:
            raise ValueError("the scaler is not fitted; call fit() on the training rows first")
        values = np.asarray(values, dtype=float)
        if values.shape[-1:] != self.mean.shape and len(self.mean) != 1:
            raise ValueError(f"the scaler was fitted on {len(self.mean)} features, these values "
                             f"have shape {values.shape}; the last axis must be the features")
        return values, self.mean, self.scale

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Scale values whose last axis is the features (any shape for one feature)."""
        values, mean, scale = self._fitted(values)
        return (values - mean) / scale

    def inverse_transform(self, values: np.ndarray) -> np.ndarray:
        """Undo :meth:`transform`."""
        values, mean, scale = self._fitted(values)
        return values * scale + mean

    def check(self, values: np.ndarray, ratio: float = 10.0, action: str = "raise") -> list[str]:
        """Find features whose scale is wildly outside the training range.

        A feature is flagged when the standard deviation of ``values`` exceeds ``ratio``
        times the training one, or their mean lies more than ``ratio`` training standard
        deviations from the training mean (default 10: a unit change such as cents for
        dollars, or a price level far beyond training). Single outliers do not trip it.
        ``action`` is ``"raise"`` (ValueError), ``"warn"`` or ``"ignore"``; the problems are
        returned.
        """
        values, mean, scale = self._fitted(values)
        flat = values.reshape(-1, len(mean))  # [..., F] -> [R, F]
        names = self.feature_names or [f"feature {i}" for i in range(len(mean))]
        new_mean, new_std = np.nanmean(flat, axis=0), np.nanstd(flat, axis=0)
        problems = [
            f"{names[i]}: mean {new_mean[i]:.4g} and std {new_std[i]:.4g}, training mean "
            f"{mean[i]:.4g} and std {scale[i]:.4g}"
            for i in range(len(mean))
            if new_std[i] > ratio * scale[i] or abs(new_mean[i] - mean[i]) > ratio * scale[i]
        ]
        if problems and action != "ignore":
            message = (f"{len(problems)} feature(s) lie more than {ratio:g}x outside the "
                       f"training scale: {'; '.join(problems)}. Check the units, use returns "
                       "instead of price levels, or refit on data that covers this range")
            if action == "raise":
                raise ValueError(message)
            warnings.warn(message, UserWarning, stacklevel=2)
        return problems

    def to_json(self) -> str:
        """The fitted state as JSON, for bundles."""
        if self.mean is None or self.scale is None:
            raise ValueError("the scaler is not fitted; call fit() on the training rows first")
        mean, scale = self.mean, self.scale
        return json.dumps({"mean": mean.tolist(), "scale": scale.tolist(),
                           "feature_names": self.feature_names})

    @classmethod
    def from_json(cls, text: str) -> StandardScaler:
        """A scaler from :meth:`to_json` output."""
        state = json.loads(text)
        scaler = cls(state.get("feature_names"))
        scaler.mean = np.asarray(state["mean"], dtype=float)
        scaler.scale = np.asarray(state["scale"], dtype=float)
        return scaler


def input_batches(windows: Windows, batch_size: int = 4096,
                  steps: int | None = None) -> Iterator[np.ndarray]:
    """``[B, steps*F]`` flattened inputs (last ``steps`` input steps), batch by batch."""
    for start in range(0, len(windows), batch_size):
        chunk = windows.inputs_at(slice(start, start + batch_size), steps)  # [B, steps, F]
        yield chunk.reshape(len(chunk), -1)  # [B, steps, F] -> [B, steps*F]


def _boundary(moment: str | pd.Timestamp) -> np.datetime64:
    stamp = pd.Period(moment).end_time if isinstance(moment, str) else pd.Timestamp(moment)
    return np.datetime64(stamp.to_datetime64())
