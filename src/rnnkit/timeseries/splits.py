"""Chronological splits and walk-forward folds of windows: no target in two splits, no
training target after a test origin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

import numpy as np
import pandas as pd

from rnnkit.config import ConfigError
from rnnkit.plural import plural
from rnnkit.timeseries.windows import Windows

Model = TypeVar("Model")


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
        >>> from rnnkit.timeseries.windows import make_windows
        >>> split = split_by_time(make_windows(frame, "y", lookback=2), "2020-01-06", "2020-01-08")
        >>> len(split.train), len(split.validation), len(split.test)
        (4, 2, 2)
    """
    zone = getattr(windows.index, "tz", None)
    if zone is not None:  # its times are Timestamps with a zone: no order with naive ends
        raise ValueError(f"the windows' dates carry a time zone ({zone}), and split_by_time "
                         "compares dates without one; make the frame's dates naive first: "
                         "frame.tz_localize(None) for the local dates and times, "
                         "frame.tz_convert(None) for UTC (tidy and load_table do this)")
    first, last = windows.target_times[:, 0], windows.target_times[:, -1]
    train_stop = _named_end(train_end, "train_end")
    val_stop = train_stop if val_end is None else _named_end(val_end, "val_end")
    if val_stop < train_stop:
        raise ValueError(f"val_end {val_end} is before train_end {train_end}; the validation "
                         "period must end after the training period")
    train = windows.subset(last <= train_stop)
    if not len(train):
        first_window = "there are no windows"
        if len(windows):
            first_window = (f"the first window's last target is "
                            f"{pd.Timestamp(windows.target_times[0, -1])} (each window reads "
                            f"{windows.lookback} rows first)")
        raise ValueError(f"no window has all its targets at or before train_end {train_end}; "
                         f"{first_window}. Move train_end later or shorten the lookback")
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
    for name, value in (("initial", initial), ("step", step), ("test_size", test_size),
                        *((("max_train", max_train),) if max_train is not None else ())):
        if value < 1:  # max_train 0 gave folds of no training windows, refused only at fit
            raise ValueError(f"{name} must be >= 1, not {value}")
    if refit_every < 0:
        raise ValueError(f"refit_every must be >= 0 (0: refit only the first fold), not "
                         f"{refit_every}")
    if gap < 0 or initial - gap < 1:
        raise ValueError(f"gap {gap} must be >= 0 and leave training windows before "
                         f"initial={initial}")
    if n <= initial:
        raise ValueError(f"{plural(n, 'window')} leave{'s' * (n == 1)} no test windows after "
                         f"initial={initial}; "
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
    if not len(train) or not len(test):
        raise ValueError(f"a fold has {len(train)} training and {len(test)} test windows; "
                         "each needs at least one")
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
            ``gap``), or a window in the test windows of two folds (``test_size`` above
            ``step``: one fold's predictions of it would replace the other's).
    """
    predictions = np.full((len(windows), windows.horizon), np.nan)
    tested_by = np.zeros(len(windows), dtype=int)  # the fold (from 1) testing each window
    for number, fold in enumerate(folds, start=1):
        twice = np.flatnonzero(tested_by[fold.test])
        if len(twice):
            window = int(fold.test[twice[0]])
            raise ValueError(f"window {window} is in the test windows of folds "
                             f"{tested_by[window]} and {number}; walk_forward_predict gives "
                             "one prediction a window: use test_size <= step in walk_forward")
        tested_by[fold.test] = number
    model: Any = None
    for fold in folds:
        train, test = windows.subset(fold.train), windows.subset(fold.test)
        check_fold(train, test, "use gap >= horizon - 1 in walk_forward")
        if fold.refit or model is None:
            model = fit(train)
        predictions[fold.test] = predict(model, test)
    return predictions


def period_end(moment: str | pd.Timestamp) -> np.datetime64:
    """The last instant of a period written as text (``"2012"``: the end of 2012,
    ``"2012-06"``: of June, ``"2012-06-30"``: of that day); a timestamp is itself.

    Example:
        >>> str(period_end("2012-02"))[:19]
        '2012-02-29T23:59:59'
    """
    try:
        stamp = pd.Period(moment).end_time if isinstance(moment, str) else pd.Timestamp(moment)
    except (ValueError, AttributeError):  # pandas' DateParseError; '' is NaT, with no end
        stamp = None
    if stamp is None or pd.isna(stamp):
        raise ValueError(f"{moment!r} is not a date, month or year; write one such as 2012, "
                         "2012-06, 2012-06-30 or 2012-06-30 12:00")
    return np.datetime64(stamp.to_datetime64())


def _named_end(moment: str | pd.Timestamp, name: str) -> np.datetime64:
    """:func:`period_end`, its refusal naming the argument."""
    try:
        return period_end(moment)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def check_period_order(earlier_key: str, earlier: str, later_key: str, later: str,
                       consequence: str = "", earlier_note: str = "") -> None:
    """Refuse a setting ``later_key`` whose period ends before that of ``earlier_key``
    (periods compared by their ends: ``2016-12`` and ``2016`` end together); ``consequence``
    says what that would do, ``earlier_note`` where ``earlier`` came from (a default).

    Example:
        >>> check_period_order("data.train_end", "2013",  # doctest: +ELLIPSIS
        ...                    "data.val_end", "2012-06")
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: data.val_end (2012-06) is before data.train_end (2013); ...
    """
    if period_end(later) < period_end(earlier):
        why = f": {consequence}" if consequence else ""
        shown = f"{earlier}, {earlier_note}" if earlier_note else earlier
        raise ConfigError(f"{later_key} ({later}) is before {earlier_key} ({shown}){why}; set "
                          f"{later_key} after it, or move {earlier_key} earlier")
