"""Time series windows, splits, walk-forward folds and the scaler, and the no-future-data
(leak) test."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_timeseries import daily

from rnnkit.timeseries.baselines import (
    fit_ridge,
    moving_average,
    persistence,
    persistence_return,
    persistence_signal,
    ridge_predict,
    seasonal_naive,
)
from rnnkit.timeseries.features import (
    calendar_features,
    derive,
    lags,
    log_returns,
    simple_returns,
)
from rnnkit.timeseries.grid import regularize
from rnnkit.timeseries.labels import (
    window_labels,
)
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.splits import Fold, split_by_time, walk_forward, walk_forward_predict
from rnnkit.timeseries.windows import Windows, make_windows

# ---- windows, splits, folds, scaler -------------------------------------------------------------

def test_windows_shapes_timestamps_and_splits() -> None:
    frame = daily(list(np.arange(20.0))).assign(z=np.arange(20.0) * 10)
    windows = make_windows(frame, "y", ["y", "z"], lookback=4, horizon=2)
    assert windows.inputs.shape == (15, 4, 2) and windows.targets.shape == (15, 2)
    assert windows.inputs[0, :, 1].tolist() == [0.0, 10.0, 20.0, 30.0]
    assert windows.targets[0].tolist() == [4.0, 5.0] and windows.current[0] == 3.0
    assert str(windows.input_end[0])[:10] == "2020-01-04"
    assert [str(t)[:10] for t in windows.target_times[0]] == ["2020-01-05", "2020-01-06"]
    split = split_by_time(windows, "2020-01-10", "2020-01-15")
    assert split.train.target_times.max() <= np.datetime64("2020-01-10T23:59")
    assert split.validation.target_times.min() > np.datetime64("2020-01-10T23:59")
    assert split.test.target_times.min() > np.datetime64("2020-01-15T23:59")
    assert len(split.train) + len(split.validation) + len(split.test) == len(windows) - 2
    with pytest.raises(ValueError, match="before train_end 2019; the first window's last target "
                       "is 2020-01-06 00:00:00 .each window reads 4 rows first"):
        split_by_time(windows, "2019")


def test_window_inputs_match_the_rows_they_read_in_any_layout() -> None:
    """``inputs_at`` is rows ``t-steps+1 .. t`` of ``values`` for each origin ``t``, a new
    C-ordered array, whether ``values`` is row- or column-major (pandas gives the latter)."""
    rng = np.random.default_rng(0)
    frame = daily(list(rng.standard_normal(30))).assign(z=rng.standard_normal(30),
                                                        w=rng.standard_normal(30))
    windows = make_windows(frame, "y", ["y", "z", "w"], lookback=5, horizon=2, stride=2)
    for values in (np.asfortranarray(windows.values), np.ascontiguousarray(windows.values)):
        layout = replace(windows, values=values)
        for rows, steps in ((slice(None), None), (slice(2, 7), 3), (np.array([4, 0, 4]), 1)):
            got = layout.inputs_at(rows, steps)
            width = 5 if steps is None else steps
            expected = np.stack([values[t - width + 1:t + 1] for t in windows.origins[rows]])
            assert got.flags["C_CONTIGUOUS"] and not np.shares_memory(got, values)
            np.testing.assert_array_equal(got, expected)
            single = layout.inputs_at(rows, steps, dtype=np.float32)  # cast, then gathered
            assert single.dtype == np.float32
            np.testing.assert_array_equal(single, expected.astype(np.float32))


def test_a_batch_of_window_inputs_copies_its_own_rows_not_the_series() -> None:
    """Batch by batch (scaled_batches, input_batches), each call must cost its batch, not a
    copy of every row of the series: that made a pass over the windows quadratic."""
    import tracemalloc

    rows, width = 200_000, 4  # 6.4 MB of float64, column-major as pandas gives it
    values = np.asfortranarray(np.arange(rows * width, dtype=np.float64).reshape(rows, width))
    windows = Windows(values, values[:, 0].copy(), pd.date_range("2000", periods=rows,
                                                                  freq="min"),
                      np.arange(9, rows - 1), 10, 1, ("a", "b", "c", "d"), "a")
    tracemalloc.start()
    try:
        got = windows.inputs_at(slice(1000, 1002), dtype=np.float32)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(got[1], values[1001:1011].astype(np.float32))
    assert peak < 100_000
    assert windows.inputs_at(np.array([], dtype=int)).shape == (0, 10, 4)


def test_walk_forward_folds_refit_and_leak_guard() -> None:
    folds = walk_forward(10, 4, 3, gap=1, max_train=2, refit_every=2)
    assert [(f.train.tolist(), f.test.tolist(), f.refit) for f in folds] == [
        ([1, 2], [4, 5, 6], True), ([1, 2], [7, 8, 9], False)]
    with pytest.raises(ValueError, match="leave no test windows"):
        walk_forward(4, 4, 1)
    # max_train=0 gave folds of no training windows, which walk_forward_predict's leak check
    # met with numpy's 'zero-size array to reduction operation maximum which has no identity';
    # a negative refit_every was read as 0
    with pytest.raises(ValueError, match="max_train must be >= 1, not 0"):
        walk_forward(10, 4, 3, max_train=0)
    with pytest.raises(ValueError, match=r"refit_every must be >= 0 \(0: refit only the first"):
        walk_forward(10, 4, 3, refit_every=-1)
    windows = make_windows(daily(list(np.arange(30.0))), "y", lookback=3, horizon=3)
    fits: list[int] = []

    def fit(train: Windows) -> float:
        fits.append(len(train))
        return float(train.targets.mean())

    def predict(model: float, test: Windows) -> np.ndarray:
        return np.full((len(test), test.horizon), model)

    predictions = walk_forward_predict(windows, walk_forward(len(windows), 10, 5, gap=2), fit,
                                       predict)
    assert fits == [8, 13, 18] and np.isnan(predictions[:10]).all()
    assert not np.isnan(predictions[10:]).any()
    with pytest.raises(ValueError, match="fold leaks: a training target at .* use gap"):
        walk_forward_predict(windows, walk_forward(len(windows), 10, 5), fit, predict)
    empty = [Fold(np.arange(0), np.arange(10, 15), True)]
    with pytest.raises(ValueError, match="a fold has 0 training and 5 test windows"):
        walk_forward_predict(windows, empty, fit, predict)


def test_walk_forward_predict_refuses_folds_that_test_a_window_twice() -> None:
    """test_size above step makes folds whose test windows overlap; the predictions of the
    earlier fold were overwritten by the later one's, silently (windows 15-19 of the first
    fold below were predicted by the second)."""
    windows = make_windows(daily(list(np.arange(40.0))), "y", lookback=3, horizon=1)
    folds = walk_forward(len(windows), 10, 5, test_size=10)

    def fit(train: Windows) -> float:
        return float(len(train))

    def predict(model: float, test: Windows) -> np.ndarray:
        return np.full((len(test), test.horizon), model)

    with pytest.raises(ValueError, match=r"window 15 is in the test windows of folds 1 and 2; "
                                         r"walk_forward_predict gives one prediction a window: "
                                         r"use test_size <= step"):
        walk_forward_predict(windows, folds, fit, predict)
    assert not np.isnan(walk_forward_predict(windows, walk_forward(len(windows), 10, 5), fit,
                                             predict)[10:]).any()


def test_scaler_fits_training_rows_only_and_round_trips_json() -> None:
    frame = daily(list(np.arange(20.0)))
    windows = make_windows(frame, "y", lookback=3, horizon=1)
    train = split_by_time(windows, "2020-01-08").train
    assert train.period_rows()[:, 0].tolist() == list(np.arange(8.0))  # Jan 1-8 only
    scaler = StandardScaler(["y"]).fit(train.period_rows())
    assert scaler.mean is not None and scaler.mean.tolist() == [3.5]
    again = StandardScaler.from_json(scaler.to_json())
    np.testing.assert_array_equal(again.transform(frame.to_numpy()),
                                  scaler.transform(frame.to_numpy()))
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(frame.to_numpy())),
                               frame.to_numpy())
    assert again.feature_names == ["y"]
    with pytest.raises(ValueError, match="not fitted"):
        StandardScaler().transform(np.zeros((1, 1)))
    with pytest.raises(ValueError, match=r"^train_end: '2020-13-01' is not a date, month or "
                                         "year; write one such as 2012"):  # was pandas'
        split_by_time(windows, "2020-13-01")  # DateParseError, naming no argument
    with pytest.raises(ValueError, match="^val_end: '' is not a date"):  # an AttributeError
        split_by_time(windows, "2020-01-08", "")
    zoned = make_windows(frame.tz_localize("Asia/Tokyo"), "y", lookback=3)  # was: TypeError
    with pytest.raises(ValueError, match=r"carry a time zone \(Asia/Tokyo\).*tz_localize"):
        split_by_time(zoned, "2020-01-08")  # "can't compare offset-naive and offset-aware"
    gap = np.array([[1.0, np.nan, 2.0], [2.0, np.nan, 3.0]])  # was 'a feature has no
    with pytest.raises(ValueError, match="^wind: no finite value in the 2 training rows"):
        StandardScaler(["y", "wind", "x"]).fit(gap)  # finite value ...', naming none


# ---- the leak test ------------------------------------------------------------------------------

def _pipeline(raw: pd.DataFrame, train_end: pd.Timestamp) -> dict[str, Any]:
    """Everything this package computes before a model: gaps, features, scaler, windows,
    baselines, labels."""
    frame = regularize(raw, "h", max_fill=2, keep=["price"])
    features = pd.concat([
        frame, simple_returns(frame["price"]).rename("return"),
        log_returns(frame["price"]).rename("log_return"),
        calendar_features(frame.index, ("hour", "day_of_week")),
        lags(simple_returns(frame[["price"]]).add_suffix("_return"), [1, 2]),
        derive(frame[["price", "volume"]], log1p=["volume"], changes=["price"],
               change_lags=[1, 6]).drop(columns="price"),
    ], axis=1)
    windows = make_windows(features, "price", list(features.columns), lookback=30, horizon=3)
    train = split_by_time(windows, train_end).train
    scaler = StandardScaler().fit(train.period_rows())
    scaled = windows.scaled(scaler)
    ridge = fit_ridge(train.scaled(scaler), alpha=1.0)
    return {
        "features": features, "windows": windows, "scaler": scaler, "inputs": scaled.inputs,
        "persistence": persistence(windows), "seasonal": seasonal_naive(windows, 24),
        "average": moving_average(windows, 6), "ridge": ridge_predict(ridge, scaled),
        "momentum": persistence_return(windows), "signal": persistence_signal(windows, .001, -.001),
        "labels": window_labels(windows, 0.001, -0.001), "targets": windows.targets,
    }


def test_no_future_data_reaches_a_prediction_made_at_or_before_t() -> None:
    rng = np.random.default_rng(7)
    index = pd.date_range("2021-03-01", periods=400, freq="h").delete([50, 51, 52, 300])
    raw = pd.DataFrame({"price": 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(index)))),
                        "volume": rng.gamma(2.0, 1.0, len(index))}, index=index)
    raw.iloc[[80, 81, 200], 1] = np.nan
    train_end, cut = index[150], index[250]
    before = _pipeline(raw, train_end)
    changed = raw.copy()
    later = changed.index > cut
    changed.loc[later, "price"] *= rng.uniform(0.5, 2.0, later.sum())
    changed.loc[later, "volume"] = rng.gamma(5.0, 3.0, later.sum())
    after = _pipeline(changed, train_end)

    pd.testing.assert_frame_equal(before["features"].loc[:cut], after["features"].loc[:cut])
    assert before["scaler"].to_json() == after["scaler"].to_json()  # fitted before the cut
    tail = raw.copy()  # every row after train_end changed: still the same scaler
    tail.loc[tail.index > train_end] *= 3.0
    assert _pipeline(tail, train_end)["scaler"].to_json() == before["scaler"].to_json()
    windows: Windows = before["windows"]
    made = windows.input_end <= np.datetime64(cut)  # predictions made at or before the cut
    assert made.sum() > 150 and np.array_equal(windows.origins, after["windows"].origins)
    for name in ("inputs", "persistence", "seasonal", "average", "ridge", "momentum", "signal"):
        np.testing.assert_array_equal(before[name][made], after[name][made], err_msg=name)
    # labels and targets of a window are known once its last target time has passed
    known = windows.target_times[:, -1] <= np.datetime64(cut)
    for name in ("labels", "targets"):
        np.testing.assert_array_equal(before[name][known], after[name][known], err_msg=name)
    # the test has teeth: targets after the cut did change, and a centred (leaky) feature fails
    assert not np.array_equal(before["targets"][made & ~known], after["targets"][made & ~known])
    leaky_before = raw["price"].rolling(5, center=True).mean().loc[:cut]
    leaky_after = changed["price"].rolling(5, center=True).mean().loc[:cut]
    assert not leaky_before.equals(leaky_after)
