"""Time series: loaders and their checks, features, windows, scaler, baselines, labels, metrics,
the no-future-data (leak) test, and the real datasets."""

from __future__ import annotations

import importlib
import importlib.util
import re
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import SHARED_DATA

from rnnkit.data.registry import REGISTRY, get_spec
from rnnkit.timeseries import datasets
from rnnkit.timeseries.baselines import (
    RidgeRegression,
    fit_ridge,
    majority_class,
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
    price_features,
    simple_returns,
)
from rnnkit.timeseries.frames import load_table, tidy, to_long
from rnnkit.timeseries.grid import describe_gaps, infer_frequency, regularize
from rnnkit.timeseries.labels import (
    BUY,
    HOLD,
    MISSING,
    SELL,
    buy_sell_hold,
    compound_returns,
    past_returns,
    window_labels,
    window_returns,
)
from rnnkit.timeseries.metrics import (
    accuracy,
    confusion_matrix,
    directional_accuracy,
    macro_f1,
    mae,
    mase,
    ratio_to_persistence,
    rmse,
    smape,
)
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.splits import Fold, split_by_time, walk_forward, walk_forward_predict
from rnnkit.timeseries.windows import Windows, make_windows

DATA = SHARED_DATA
needs_beijing = pytest.mark.skipif(not (DATA / "beijing_pm25" / "pollution.csv").is_file(),
                                   reason=f"Beijing PM2.5 not found under {DATA}")
needs_bokeh = pytest.mark.skipif(importlib.util.find_spec("bokeh_sampledata") is None,
                                 reason="bokeh-sampledata is not installed")
needs_vega = pytest.mark.skipif(importlib.util.find_spec("vega_datasets") is None,
                                reason="vega_datasets is not installed")
needs_parquet = pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None,
                                   reason="pyarrow is not installed (Parquet)")


def daily(values: list[float], start: str = "2020-01-01") -> pd.DataFrame:
    return pd.DataFrame({"y": values}, index=pd.date_range(start, periods=len(values), freq="D"))


# ---- loading and bad input ----------------------------------------------------------------------

@needs_parquet
def test_csv_and_parquet_load_to_the_same_frame(tmp_path: Path) -> None:
    table = pd.DataFrame({"when": ["2020-01-01", "2020-01-02"], "x": [1.0, 2.0],
                          "label": ["a", "b"]})
    table.to_csv(tmp_path / "t.csv", index=False)
    table.to_parquet(tmp_path / "t.parquet")
    csv = load_table(tmp_path / "t.csv", "when", target="x", categorical=["label"])
    parquet = load_table(tmp_path / "t.parquet", "when", target="x", categorical=["label"])
    pd.testing.assert_frame_equal(csv, parquet, check_dtype=False)
    assert isinstance(csv.index, pd.DatetimeIndex) and csv.index.name == "date"
    with pytest.raises(ValueError, match=r"unknown file type; expected \.csv"):
        load_table(tmp_path / "t.xlsx", "when")


def test_the_long_format_names_what_it_leaves_out() -> None:
    # value_column alone was ignored (the file read as wide); the long format's other columns
    # (a NeuralForecast-style exogenous input) were dropped without a word
    long = pd.DataFrame({"day": ["2020-01-01", "2020-01-01", "2020-01-02"],
                         "symbol": ["A", "B", "A"], "price": [1.0, 5.0, 2.0],
                         "temp": [3.0, 3.0, 4.0]})
    with pytest.raises(ValueError, match="value_column='price' is for the long format; name "
                                         "the column holding each row's series too"):
        tidy(long, "day", value_column="price")
    with pytest.warns(UserWarning, match="left out the other columns: 'temp'. To use them"):
        wide = tidy(long, "day", series_column="symbol", value_column="price")
    assert wide.columns.tolist() == ["A", "B"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tidy(long.drop(columns=["temp"]), "day", series_column="symbol", value_column="price")


def test_long_and_wide_round_trip() -> None:
    long = pd.DataFrame({"day": ["2020-01-01", "2020-01-01", "2020-01-02"],
                         "symbol": ["A", "B", "A"], "price": [1.0, 5.0, 2.0]})
    wide = tidy(long, "day", series_column="symbol", value_column="price")
    assert wide.columns.tolist() == ["A", "B"] and np.isnan(wide.loc["2020-01-02", "B"])
    back = to_long(wide, "symbol", "price")
    assert sorted(map(tuple, back[["symbol", "price"]].to_numpy().tolist())) == \
        [("A", 1.0), ("A", 2.0), ("B", 5.0)]
    with pytest.raises(ValueError, match="needs value_column"):
        tidy(long, "day", series_column="symbol")
    unnamed = long.assign(symbol=["A", None, "A"])  # was a column named 'nan'
    with pytest.raises(ValueError, match=r"column 'symbol' holds no series name at row 1 "
                                         r"\(date 2020-01-01 00:00:00\)"):
        tidy(unnamed, "day", series_column="symbol", value_column="price")


def test_unsorted_dates_are_sorted_with_a_warning() -> None:
    table = pd.DataFrame({"date": ["2020-01-03", "2020-01-01", "2020-01-02"], "y": [3, 1, 2]})
    with pytest.warns(UserWarning, match=r"not in ascending order \(row 1, 2020-01-01 00:00:00, "
                                         r"comes after row 0, 2020-01-03.*sorted them"):
        frame = tidy(table, "date")
    assert frame["y"].tolist() == [1.0, 2.0, 3.0]


def test_duplicate_dates_are_an_error_naming_the_date() -> None:
    table = pd.DataFrame({"date": ["2020-01-01", "2020-01-02", "2020-01-02"], "y": [1, 2, 3]})
    with pytest.raises(ValueError, match=r"date 2020-01-02 00:00:00 appears more than once "
                                         r"\(again at row 2\)"):
        tidy(table, "date")
    long = pd.DataFrame({"date": ["2020-01-01"] * 3, "s": ["a", "b", "a"], "v": [1, 2, 3]})
    with pytest.raises(ValueError, match="for series 'a' appears more than once"):
        tidy(long, "date", series_column="s", value_column="v")
    # local clock times repeat the hour the clock goes back: 'drop or aggregate' alone would
    # lose an hour of real data; the offsets tell the two apart
    hours = pd.date_range("2020-10-25 00:00", periods=5, freq="h", tz="Europe/Berlin")
    wall = pd.DataFrame({"date": hours.tz_localize(None).astype(str), "y": range(5)})
    with pytest.raises(ValueError, match=r"2020-10-25 02:00:00 appears more than once .*Drop "
                                         r"or aggregate the duplicates first \(an hour repeated "
                                         r"where the clock went back for daylight saving"):
        tidy(wall, "date")
    zoned = tidy(wall.assign(date=hours.astype(str)), "date")
    assert zoned.index.equals(hours.tz_convert(None).rename("date"))


def test_missing_columns_and_non_numbers_are_errors_that_say_where() -> None:
    table = pd.DataFrame({"date": ["2020-01-01", "2020-01-02"], "y": ["1.5", "oops"]})
    with pytest.raises(ValueError, match=r"column 'y' holds the non-numeric value 'oops' at row "
                                         r"1 \(date 2020-01-02 00:00:00\).*categorical"):
        tidy(table, "date")
    good = pd.DataFrame({"date": ["2020-01-01", "2020-01-02"], "y": ["1.5", None]})
    assert tidy(good, "date")["y"].tolist()[0] == 1.5  # a missing value stays NaN
    with pytest.raises(ValueError, match=r"has no target column 'temp'; its columns: 'y'"):
        tidy(good, "date", target="temp")
    with pytest.raises(ValueError, match=r"has no date column 'when'; its columns: 'date', "
                                         r"'y'.*--date-column"):
        tidy(good, "when")
    bad_date = pd.DataFrame({"date": ["2020-01-01", "someday"], "y": [1, 2]})
    with pytest.raises(ValueError, match="holds 'someday' at row 1, not a date"):
        tidy(bad_date, "date")


def test_missing_words_with_spaces_around_them_are_missing_values(tmp_path: Path) -> None:
    """A file written '2020-01-02, NA, 3' read ' 1 ' as 1 but refused ' NA' as 'the
    non-numeric value ' NA' ... expected numbers, with NA or an empty cell for a missing
    value', naming as the fix what the file held."""
    path = tmp_path / "spaced.csv"
    path.write_text("date, x , y\n2020-01-01, 1 ,2\n2020-01-02, NA, 3\n2020-01-03,  ,4\n"
                    "2020-01-04, n/a ,5\n")
    frame = load_table(path, "date")
    assert frame["x"].tolist()[0] == 1.0 and frame["x"].isna().tolist() == [False, True, True,
                                                                             True]
    assert frame["y"].tolist() == [2.0, 3.0, 4.0, 5.0]
    table = pd.DataFrame({"date": ["2020-01-01", "2020-01-02"], "y": ["NA", 2.5]})
    assert tidy(table, "date")["y"].isna().tolist() == [True, False]  # 'NA' text in a frame
    with pytest.raises(ValueError, match="non-numeric value ' 1%' at row 0"):
        tidy(table.assign(y=[" 1%", "2"]), "date")


def test_window_input_checks() -> None:
    frame = daily([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match=r"4 rows are too few for lookback 3 \+ horizon 2; "
                                         r"need at least 5"):
        make_windows(frame, "y", lookback=3, horizon=2)
    with pytest.raises(ValueError, match=r"no column 'price' in the frame; its columns: 'y'"):
        make_windows(frame, "price", lookback=1)
    labelled = frame.assign(kind=["a", "b", "a", "b"])
    with pytest.raises(ValueError, match="column 'kind' is not numeric"):
        make_windows(labelled, "y", ["y", "kind"], lookback=1)
    with pytest.raises(ValueError, match="the dates of the frame must be ascending, each once"):
        make_windows(frame.iloc[::-1], "y", lookback=1)


def test_scale_check_flags_a_series_in_other_units() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal(10.0, 1.0, size=(200, 2))
    scaler = StandardScaler(["price", "volume"]).fit(train)
    fine = rng.normal(10.0, 1.0, size=(50, 2))
    fine[3, 0] = 40.0  # one outlier is not a change of scale
    assert scaler.check(fine) == []
    cents = fine * np.array([100.0, 1.0])
    with pytest.raises(ValueError, match=r"1 feature\(s\) lie more than 10x outside the training "
                                         r"scale: price: mean .*Check the units"):
        scaler.check(cents)
    with pytest.warns(UserWarning, match="price"):
        assert len(scaler.check(cents, action="warn")) == 1


# ---- gaps, features -----------------------------------------------------------------------------

def test_gaps_are_reported_and_filled_only_in_features() -> None:
    index = pd.DatetimeIndex(["2020-01-01 00:00", "2020-01-01 01:00", "2020-01-01 04:00",
                              "2020-01-01 05:00", "2020-01-01 06:00"])
    frame = pd.DataFrame({"x": [1.0, 2.0, 5.0, 6.0, 7.0], "y": [1.0, 2.0, 5.0, 6.0, 7.0]},
                         index=index)
    report = describe_gaps(frame.index)
    assert (report.frequency, report.missing, report.largest_gap) == ("h", 2,
                                                                       pd.Timedelta(hours=3))
    filled = regularize(frame, "infer", max_fill=1, keep=["y"])
    assert np.isnan(filled["x"].iloc[3]) and filled["x"].iloc[2] == 2.0  # only 1 step filled
    assert filled["y"].isna().sum() == 2  # the target is never filled
    windows = make_windows(filled, "y", ["x"], lookback=1, horizon=1)
    assert not np.isnan(windows.targets).any() and windows.dropped == 3
    between = index.append(pd.DatetimeIndex(["2020-01-01 04:30"])).sort_values()
    assert describe_gaps(between, "h").missing == 2  # was 1: a row off the grid fills no hour
    trading_days = pd.bdate_range("2020-01-01", periods=30).delete([5, 17])  # two holidays
    assert infer_frequency(trading_days) == "B"
    # unsorted dates were 'not on the 'h' grid ... resample the data' (regularize), or
    # '5 rows ... 2 missing of 3' (describe_gaps): wrong, not missing, timestamps
    shuffled = frame.iloc[[2, 0, 1, 3, 4]]
    for call in (lambda: regularize(shuffled, "h"), lambda: describe_gaps(shuffled.index),
                 lambda: infer_frequency(shuffled.index),
                 lambda: regularize(pd.concat([frame, frame.iloc[:1]]).sort_index(), "h")):
        # tidy refuses a repeated date: it was said to drop them ('which does both')
        with pytest.raises(ValueError, match=r"the dates of the table must be ascending, each "
                                             r"once; sort them \(frame.sort_index\(\)\) and "
                                             r"keep one row a date, .*\.tidy, which sorts them "
                                             r"and names the first repeat$"):
            call()
    with pytest.raises(ValueError, match="max_fill must be >= 0"):  # was: no filling
        regularize(frame, "h", max_fill=-1)


@pytest.mark.parametrize("freq", ["MS", "ME", "QS", "QE", "YS", "YE"])
def test_infer_puts_calendar_months_on_their_own_grid(freq: str) -> None:
    index = pd.date_range("2001-01-01", periods=30, freq=freq)
    frame = pd.DataFrame({"x": np.arange(30.0)}, index=index).drop(index=index[[4, 5]])
    filled = regularize(frame, "infer")  # was refused: 'resample the data to '31D' first'
    assert filled.index.equals(index) and filled["x"].isna().sum() == 2
    assert describe_gaps(frame.index).missing == 2


@pytest.mark.parametrize(("dates", "grid"), [
    (["2001-01-02", "2001-02-01", "2001-03-01", "2001-04-02", "2001-05-01"], None),  # Jan 1 off
    (["2001-01-01", "2001-02-01", "2001-03-01", "2001-04-02", "2001-05-01"], "BMS"),
    (["2001-01-01", "2001-04-02", "2001-07-02", "2001-10-01", "2002-01-01"], "3BMS"),
    (["2001-01-31", "2001-02-28", "2001-03-30", "2001-04-30", "2001-05-31"], "BME"),
])
def test_calendar_dates_off_month_starts_and_ends_get_advice_that_works(
        dates: list[str], grid: str | None) -> None:
    """Infer refuses them; the frequency the refusal names (it named BMS for any, though first
    trading days are off that grid whenever a holiday starts the month, and months for
    quarters) puts every row on its grid and adds none."""
    frame = pd.DataFrame({"x": np.arange(5.0)}, index=pd.DatetimeIndex(dates))
    with pytest.raises(ValueError, match="not all on the first .* no grid to infer") as error:
        regularize(frame, "infer")
    named = re.findall(r"\b\d*B(?:MS|ME)\b", str(error.value))  # the grids it suggests
    assert named == ([grid] if grid else [])
    assert "leave" in str(error.value) and "out to use the rows as given" in str(error.value)
    if grid:
        assert regularize(frame, grid).index.equals(frame.index)


def test_features_are_causal_and_correct() -> None:
    prices = pd.Series([100.0, 110.0, 99.0, 99.0])
    assert simple_returns(prices).round(6).tolist()[1:] == [0.1, -0.1, 0.0]
    np.testing.assert_allclose(log_returns(prices).to_numpy()[1:], np.log([1.1, 0.9, 1.0]))
    with pytest.raises(ValueError, match=r"positive prices; found 0.0 at row 1"):
        log_returns(pd.Series([1.0, 0.0]))
    with pytest.raises(ValueError, match="a lag must be a whole number of rows >= 1, not 0"):
        lags(prices.rename("p"), [0])
    calendar = calendar_features(pd.DatetimeIndex(["2021-01-04 18:00"]))  # a Monday, January
    np.testing.assert_allclose(calendar.to_numpy()[0], [-1, 0, 0, 1, 0, 1], atol=1e-12)


def test_derived_columns_are_tendencies_and_logs() -> None:
    frame = pd.DataFrame({"p": [1010.0, 1012.0, 1009.0, 1001.0], "w": [0.0, 3.0, 8.0, 20.0]})
    out = derive(frame, log1p=["w"], changes=["p", "w"], change_lags=[1, 2])
    assert list(out.columns) == ["p", "w_log1p", "p_change_1", "p_change_2", "w_change_1",
                                 "w_change_2"]
    assert out["p_change_2"].tolist()[2:] == [-1.0, -11.0]  # 1009-1010, 1001-1012
    assert out["w_change_1"].tolist()[1:] == [3.0, 5.0, 12.0]  # raw units, before the log
    np.testing.assert_allclose(out["w_log1p"], np.log1p(frame["w"]))
    assert derive(frame).equals(frame)
    with pytest.raises(ValueError, match="no column 'x' to derive from"):
        derive(frame, changes=["x"])
    with pytest.raises(ValueError, match=r"log1p needs values > -1; column 'p' has -5.0 at 0 "
                                         r"\(the least: -5.0\); leave 'p' out of data.log1p"):
        derive(frame.assign(p=-5.0), log1p=["p"])  # was: no row, no fix
    with pytest.raises(ValueError, match="a change lag must be a whole number of rows >= 1"):
        derive(frame, changes=["p"], change_lags=[0])
    # a column listed twice under log1p failed with "KeyError: 'w'" (popped the first time)
    assert derive(frame, log1p=["w", "w"]).columns.tolist() == ["p", "w_log1p"]
    # the user's own column by a derived name was overwritten by the change, in silence
    own = frame.assign(p_change_1=[5.0, 5.0, 5.0, 5.0])
    with pytest.raises(ValueError, match=r"the data has a column 'p_change_1', the name of the "
                                         r"change of 'p' over 1 row\(s\) \(data.changes\); "
                                         "rename that column, or leave 'p' out of data.changes"):
        derive(own, changes=["p"])
    with pytest.raises(ValueError, match="a column 'w_log1p', the name of log"):  # was pandas'
        derive(frame.assign(w_log1p=1.0), log1p=["w"])  # 'cannot insert w_log1p, already exists'
    again = derive(out.assign(w=frame["w"]), log1p=["w"], changes=["p", "w"],
                   change_lags=[1, 2])  # a frame derived before: the same columns
    assert again.columns.tolist() == out.columns.tolist()


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


# ---- baselines, labels --------------------------------------------------------------------------

def test_naive_baselines_by_hand() -> None:
    windows = make_windows(daily([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), "y", lookback=3, horizon=3)
    assert persistence(windows).tolist() == [[3.0, 3.0, 3.0]]
    assert seasonal_naive(windows, 2).tolist() == [[2.0, 3.0, 2.0]]  # t-1, t, t-1
    assert moving_average(windows, 2).tolist() == [[2.5, 2.5, 2.5]]
    with pytest.raises(ValueError, match="seasonal period 4 must be between 1 and the lookback 3"):
        seasonal_naive(windows, 4)


def test_ridge_recovers_a_line_and_leaves_the_intercept_unpenalised() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 7.0
    exact = RidgeRegression(alpha=0.0).fit(x, y)
    np.testing.assert_allclose(exact.predict(x)[:, 0], y, atol=1e-9)
    flat = RidgeRegression(alpha=1e12).fit(x, y)  # weights -> 0, intercept -> mean(y)
    np.testing.assert_allclose(flat.predict(x)[:, 0], y.mean(), atol=1e-6)
    frame = daily(list(np.sin(np.arange(80) / 3.0)))
    windows = make_windows(frame, "y", lookback=6, horizon=1)
    model = fit_ridge(windows, alpha=1e-8, steps=2, batch_size=7)  # batches sum like one pass
    last_two = windows.inputs[:, -2:, 0]  # [N, 2, 1] -> [N, 2]
    reference = RidgeRegression(1e-8).fit(last_two, windows.targets)
    np.testing.assert_allclose(model.predict(last_two), reference.predict(last_two), atol=1e-6)
    assert mae(windows.targets, ridge_predict(model, windows, steps=2)) < 1e-6  # AR(2) sine
    refitted = RidgeRegression(alpha=0.0).fit(x, y).refit(1e12)  # the kept sums, a new alpha
    np.testing.assert_allclose(refitted.predict(x), flat.predict(x), atol=1e-9)
    twin = np.column_stack([x, x[:, 0]])  # collinear: singular without a penalty
    least_norm = RidgeRegression(alpha=1.0).fit(twin, y).refit(0.0)
    np.testing.assert_allclose(least_norm.predict(twin)[:, 0], y, atol=1e-6)


def test_labels_and_classification_baselines() -> None:
    prices = pd.Series([100.0, 102.0, 101.5, 99.0, 99.0])
    assert buy_sell_hold(prices, 1, up=0.01, down=-0.01).tolist() == [BUY, HOLD, SELL, HOLD,
                                                                       MISSING]
    assert buy_sell_hold(prices, 2).tolist()[:3] == [BUY, SELL, SELL]
    windows = make_windows(daily(prices.tolist()), "y", lookback=2, horizon=1)
    assert window_labels(windows).tolist() == [HOLD, SELL, HOLD]  # same as buy_sell_hold[1:4]
    np.testing.assert_allclose(persistence_return(windows), [0.02, -0.5 / 102, -2.5 / 101.5])
    assert persistence_signal(windows, 0.01, -0.01).tolist() == [BUY, HOLD, SELL]
    assert majority_class(np.array([1, 0, 0, 2, -1]), 2).tolist() == [0, 0]
    with pytest.raises(ValueError, match="must not be above the up threshold"):
        buy_sell_hold(prices, 1, up=-0.02, down=0.01)
    with pytest.raises(ValueError, match=r"thresholds must be finite numbers; got up=nan"):
        buy_sell_hold(prices, 1, up=float("nan"))  # was: no window ever labelled buy


def test_a_price_back_where_it_was_has_no_return_not_a_rounding_sign() -> None:
    # 100 -> 102.74 -> 95.4 -> 100 twice: compounding the three steps' returns gave about
    # -2e-16 (log returns -1.7e-16), so the persistence forecast of a price that had not moved
    # had a direction (a position at threshold 0, a move in directional accuracy) and a label
    # with thresholds at 0 was sell rather than hold
    prices = np.array([100.0, 102.74, 95.4, 100.0, 102.74, 95.4, 100.0])
    for kind, values in (("log_return", np.log(prices[1:] / prices[:-1])),
                         ("return", prices[1:] / prices[:-1] - 1.0)):
        windows = make_windows(daily(values.tolist()), "y", lookback=3, horizon=3)
        assert past_returns(windows, kind).tolist() == [0.0]
        assert window_returns(windows, kind).tolist() == [0.0]
        assert persistence_signal(windows, 0.0, 0.0, kind).tolist() == [HOLD]
        assert window_labels(windows, 0.0, 0.0, kind).tolist() == [HOLD]
    steps = np.array([[1e-9, 1e-9, -1e-9], [0.01, 0.02, -0.03]])  # true moves stay moves
    np.testing.assert_allclose(compound_returns(steps, "log_return"), np.expm1(steps.sum(axis=1)))
    one = np.array([[1e-17], [0.0]])  # one step: nothing compounded, the value as it is
    assert compound_returns(one, "log_return").tolist() == [1e-17, 0.0]


# ---- metrics ------------------------------------------------------------------------------------

def test_forecast_metrics_by_hand() -> None:
    actual, predicted = np.array([2.0, 4.0, 6.0]), np.array([3.0, 4.0, 3.0])
    assert mae(actual, predicted) == pytest.approx(4 / 3)
    assert rmse(actual, predicted) == pytest.approx(np.sqrt(10 / 3))
    assert smape(actual, predicted) == pytest.approx(100 / 3 * (2 / 5 + 0 + 6 / 9))
    training = np.array([1.0, 2.0, 4.0, 3.0, 5.0])  # naive errors 1, 2, 1, 2 -> 1.5; m=2: 3, 1, 1
    assert mase(actual, predicted, training) == pytest.approx((4 / 3) / 1.5)
    assert mase(actual, predicted, training, period=2) == pytest.approx((4 / 3) / (5 / 3))
    origin = np.array([1.0, 5.0, 6.0])  # moves +1, -1, 0 ; predicted +2, -1, -3
    assert directional_accuracy(actual, predicted, origin) == 1.0  # the zero move is left out
    assert directional_accuracy(actual, np.array([1.0, 5.0, 6.0]), origin) == 0.0
    assert ratio_to_persistence(actual, predicted, np.array([2.0, 4.0, 4.0])) == 2.0
    assert ratio_to_persistence(actual, predicted, actual) == np.inf  # persistence exact
    assert np.isnan(ratio_to_persistence(actual, actual, actual))  # both exact: 0 / 0
    with pytest.raises(ValueError, match=r"actual has shape \(3,\) but predicted \(2,\)"):
        mae(actual, predicted[:2])
    with pytest.raises(ValueError, match="no change over 1 step "):
        mase(actual, predicted, np.ones(5))


def test_infinite_values_and_a_misshapen_origin_are_refused_in_one_line() -> None:
    actual, predicted = np.array([2.0, 4.0, 6.0]), np.array([3.0, np.inf, 3.0])
    # sMAPE gave NaN with a RuntimeWarning, MAE inf, for a model that diverged
    for metric in (mae, smape):
        with pytest.raises(ValueError, match="predicted holds 1 infinite value "):
            metric(actual, predicted)
    # an infinite training value read as "the training series has no change"
    with pytest.raises(ValueError, match="training series holds 1 infinite value;"):
        mase(actual, actual, np.array([1.0, np.inf, 2.0, 3.0]))
    # a numpy broadcasting error before
    with pytest.raises(ValueError, match=r"origin has shape \(2,\) for actual \(3,\)"):
        directional_accuracy(actual, actual, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"origin has shape \(3, 1\) for actual \(3,\)"):
        directional_accuracy(actual, actual, actual[:, None])  # broadcast to [3, 3] before
    assert directional_accuracy(actual[:, None], actual[:, None] + 1, actual - 1) == 1.0


def test_a_ridge_alpha_that_is_no_number_is_refused() -> None:
    x = np.array([[0.0], [1.0], [2.0]])
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0, not nan"):
        RidgeRegression(float("nan"))  # NaN weights and predictions before
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0, not nan"):
        RidgeRegression(1.0).fit(x, 2 * x).refit(float("nan"))


def test_classification_metrics_by_hand() -> None:
    actual, predicted = np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2])
    assert accuracy(actual, predicted) == pytest.approx(4 / 6)
    assert confusion_matrix(actual, predicted, [0, 1, 2]).tolist() == [[1, 1, 0], [0, 1, 0],
                                                                       [1, 0, 2]]
    # F1: class 0 2*1/(2+2)=0.5, class 1 2*1/(2+1)=2/3, class 2 2*2/(2+3)=0.8
    assert macro_f1(actual, predicted) == pytest.approx((0.5 + 2 / 3 + 0.8) / 3)
    with pytest.raises(ValueError, match="missing labels"):
        accuracy(np.array([-1, 0]), np.array([0, 0]))


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


# ---- registry and real data ---------------------------------------------------------------------

def test_beijing_is_registered_once_with_the_shared_checksum() -> None:
    spec = get_spec("beijing_pm25")
    assert spec.files[0].sha256 == \
        "892e9559205d16d32623135c127a3951c12e46ea1e0b3093e107ce89a9fd60e2"
    importlib.reload(datasets)  # registering the same spec again is allowed
    assert REGISTRY["beijing_pm25"] == spec
    sums = DATA / "SHA256SUMS"
    if sums.is_file():
        assert f"{spec.files[0].sha256}  ./beijing_pm25/pollution.csv" in sums.read_text()


@needs_beijing
def test_beijing_weather_from_the_shared_mirror() -> None:
    frame = datasets.beijing_weather(mirror=DATA)
    assert frame.shape == (43824, 11) and frame["pm25"].isna().sum() == 2067
    assert frame.drop(columns="pm25").notna().all().all()
    assert describe_gaps(frame.index).missing == 0 and infer_frequency(frame.index) == "h"
    assert str(frame.index[0]) == "2010-01-01 00:00:00" and str(frame.index[-1])[:13] == \
        "2014-12-31 23"
    assert (frame[["wind_NE", "wind_NW", "wind_SE", "wind_calm"]].sum(axis=1) == 1).all()
    assert frame["temperature"].iloc[:3].tolist() == [-11.0, -12.0, -11.0]
    coded = datasets.beijing_weather(mirror=DATA, wind="code")
    assert sorted(coded["wind_direction"].unique().tolist()) == [0.0, 1.0, 2.0, 3.0]


@needs_bokeh
def test_stock_prices_are_the_adjusted_close() -> None:
    from bokeh_sampledata.stocks import AAPL

    prices = datasets.stock_prices()
    assert [c for c in prices.columns if "_" not in c] == ["AAPL", "IBM", "MSFT", "GOOG"]
    assert len(prices) == 3270 and prices["GOOG"].isna().sum() == 1122
    assert prices["AAPL"].tolist() == AAPL["adj_close"]
    expected = AAPL["adj_close"][1] / AAPL["adj_close"][0] - 1
    assert prices["AAPL_return"].iloc[1] == pytest.approx(expected)
    assert prices["AAPL_log_return"].iloc[1] == pytest.approx(np.log1p(expected))
    with pytest.raises(ValueError, match="no stock 'XYZ' in bokeh-sampledata"):
        datasets.stock_prices(["XYZ"])
    # a bare symbol was read letter by letter ("no stock 'A'"), a repeated one as a repeated
    # date of the data ("date 2000-03-01 ... appears more than once"), none as pandas' "No
    # objects to concatenate"
    assert datasets.stock_prices("IBM", returns=False).columns.tolist() == ["IBM"]
    with pytest.raises(ValueError, match="stock symbol.s. AAPL listed more than once"):
        datasets.stock_prices(["AAPL", "IBM", "AAPL"])
    with pytest.raises(ValueError, match="no stock symbols given; known: AAPL"):
        datasets.stock_prices([])


@needs_vega
def test_seattle_weather_offline() -> None:
    frame = datasets.seattle_weather()
    assert len(frame) == 1461 and describe_gaps(frame.index).missing == 0
    assert frame.columns.tolist() == ["precipitation", "temp_max", "temp_min", "wind", "weather"]
    assert set(frame["weather"]) == {"sun", "fog", "rain", "drizzle", "snow"}


def _load(tmp_path: Path, text: str, name: str = "t.csv", encoding: str = "utf-8",
          **options: Any) -> pd.DataFrame:
    (tmp_path / name).write_text(text, encoding=encoding)
    return load_table(tmp_path / name, "date", **options)


def test_a_date_format_pandas_cannot_read_names_the_file_and_setting(tmp_path: Path) -> None:
    # data.date_format=%Q said only pandas' "'Q' is a bad directive in format '%Q'"
    with pytest.raises(ValueError, match=r"t.csv: the date format '%Q' cannot be read \('Q' "
                                         "is a bad directive.*; write it with strftime codes "
                                         r"such as %Y-%m-%d .*\(data.date_format when training"):
        _load(tmp_path, "date,y\n2010-01-01,1\n", date_format="%Q")


def test_dates_are_never_guessed_wrong(tmp_path: Path) -> None:
    months = "date,y\n" + "".join(f"01/{m:02d}/2010,{m}\n" for m in range(1, 13))
    with pytest.raises(ValueError, match="reads both day-first and month-first .*; write dates "
                                         r"such as 2020-01-31, or give their format \(e.g. "
                                         "%d/%m/%Y\\) as data.date_format when training, "
                                         "date_format= in tidy and load_table; forecast, "):
        _load(tmp_path, months)  # was '...or pass date_format', the API's words alone
    with pytest.raises(ValueError, match="holds '2010-01-01' at line 2, not a date of the format "
                                         "'%d/%m/%Y'; fix or drop that row, or write the dates "
                                         r"in that format \(data.date_format when training"):
        _load(tmp_path, "date,y\n2010-01-01,1\n", date_format="%d/%m/%Y")
    assert _load(tmp_path, months, date_format="%d/%m/%Y").index[1] == pd.Timestamp("2010-02-01")
    for separator in ".-":  # dotted and dashed dates are checked as slashed ones are
        with pytest.raises(ValueError, match="reads both day-first and month-first"):
            _load(tmp_path, months.replace("/", separator))
        year = pd.date_range("2021-01-01", periods=366, freq="D")
        dated = "date,y\n" + "".join(f"{day:%d.%m.%Y},1\n".replace(".", separator)
                                     for day in year)
        assert _load(tmp_path, dated).index.equals(year.rename("date"))
    days = "date,y\n12/01/2020,1\n13/01/2020,2\n"  # only day-first reads the second row
    assert list(_load(tmp_path, days).index.day) == [12, 13]
    years = "date,y\n" + "".join(f"{year},{year % 7}\n" for year in range(1960, 1970))
    assert _load(tmp_path, years).index[0] == pd.Timestamp("1960-01-01")
    with pytest.raises(ValueError, match=r"holds numbers \(1583020800\), not dates"):  # was
        # '(np.int64(1583020800))', numpy's repr
        _load(tmp_path, "date,y\n1583020800,1\n1583107200,2\n")
    zoned = "date,y\n2020-03-29T01:00:00+01:00,1\n2020-03-29T03:00:00+02:00,2\n"
    assert list(_load(tmp_path, zoned).index.hour) == [0, 1]  # UTC, the zone dropped
    # dates without an offset beside dates with one were read as UTC, silently shifted by
    # the offset; here 01:00+01:00 became 00:00, refused as 'appears more than once'
    half = "date,y\n2020-01-01 00:00,1\n2020-01-01 01:00+01:00,2\n2020-01-01 02:00,3\n"
    with pytest.raises(ValueError, match=r"holds dates with a UTC offset \('2020-01-01 "
                                         r"01:00\+01:00' at line 3\) and dates without one "
                                         r"\('2020-01-01 00:00' at line 2\)"):
        _load(tmp_path, half)
    utc = "date,y\n2020-01-01T00:00:00Z,1\n2020-01-01T01:00:00Z,2\n"
    assert list(_load(tmp_path, utc).index.hour) == [0, 1]
    # days written as local midnights (pandas' to_csv of a zone-aware daily index) were read
    # in UTC: 23:00 of the day before in Berlin, and 22:00 once summer time began, so a file
    # of 400 consecutive days was 'missing 238 of 400 days' and refused by frequency=infer as
    # 'not on the 'D' grid'; Tokyo's trading days fell on Sunday to Thursday in UTC
    for zone, freq in (("Europe/Berlin", "D"), ("US/Eastern", "D"), ("Asia/Tokyo", "B")):
        days = pd.date_range("2020-01-01", periods=400, freq=freq, tz=zone, name="date")
        (tmp_path / "local.csv").write_text(pd.DataFrame({"y": 1.0}, index=days).to_csv())
        frame = load_table(tmp_path / "local.csv", "date", frequency="infer")
        assert frame.index.equals(days.tz_localize(None)) and infer_frequency(frame.index) == \
            freq
    if importlib.util.find_spec("pyarrow") is not None:  # a zone-aware Parquet column
        days = pd.date_range("2020-03-20", periods=20, freq="D", tz="Europe/Berlin")
        pd.DataFrame({"date": days, "y": 1.0}).to_parquet(tmp_path / "local.parquet")
        assert load_table(tmp_path / "local.parquet", "date").index.equals(
            days.tz_localize(None).rename("date"))
    hours = pd.date_range("2020-03-28", periods=30, freq="h", tz="Europe/Berlin", name="date")
    (tmp_path / "hours.csv").write_text(pd.DataFrame({"y": 1.0}, index=hours).to_csv())
    hourly = load_table(tmp_path / "hours.csv", "date", frequency="infer")  # still UTC: the
    assert hourly.index.equals(hours.tz_convert(None))  # clock skips 02:00 on 03-29
    mixed = "date,y\n2020-01-01 00:00:00,1\n2020-01-02,2\n"
    assert list(_load(tmp_path, mixed).index.day) == [1, 2]
    year_first = "date,y\n" + "".join(f"2015/{m:02d}/01,{m}\n" for m in range(1, 13))
    assert list(_load(tmp_path, year_first).index.month) == list(range(1, 13))
    with pytest.raises(ValueError, match="more than one way: '30/01/2020' at line 2, '01/02/2020 "
                                         "06:00' at line 4, a date on its own"):
        _load(tmp_path, "date,y\n30/01/2020,1\n31/01/2020,2\n01/02/2020 06:00,3\n")
    with pytest.raises(ValueError, match="holds an empty value at line 3, not a date"):
        _load(tmp_path, "date,y\n1960,1\n,2\n1962,3\n")


def test_files_pandas_reads_differently_are_read_or_named(tmp_path: Path) -> None:
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0]},
                         index=pd.date_range("2020-01-01", periods=3, name="date"))
    frame.to_parquet(tmp_path / "indexed.parquet")  # pandas keeps the dates as the index
    assert load_table(tmp_path / "indexed.parquet", "date")["y"].tolist() == [1.0, 2.0, 3.0]
    frame.reset_index().rename_axis("row_id").to_parquet(tmp_path / "rows.parquet")
    assert load_table(tmp_path / "rows.parquet", "date").columns.tolist() == ["y"]  # no row_id
    (tmp_path / "folder").mkdir()
    frame.reset_index().to_parquet(tmp_path / "folder" / "part-0.parquet")
    assert len(load_table(tmp_path / "folder", "date")) == 3
    assert _load(tmp_path, "date, y\n2020-01-01, 1\n2020-01-02, 2\n").columns.tolist() == ["y"]
    with pytest.raises(ValueError, match="the columns 'y' appear more than once"):
        _load(tmp_path, "date,y , y\n2020-01-01,1,2\n")
    with pytest.raises(ValueError, match="looks separated by ';'"):
        _load(tmp_path, "date;y\n2020-01-01;1\n")
    with pytest.raises(ValueError, match="is not UTF-8 text; save it as UTF-8"):
        _load(tmp_path, "date,°C\n2020-01-01,1\n", encoding="cp1252")
    with pytest.raises(ValueError, match="cannot be read as a table: .*number of fields"):
        _load(tmp_path, "date,y\n2020-01-01,1\n2020-01-02,2,3,4\n")


def test_an_empty_folder_or_file_says_it_holds_no_data(tmp_path: Path) -> None:
    """An empty folder said "has no date column 'date'; its columns: (none)", an empty file
    "cannot be read as a table ... Check that every row has the header's number of fields"."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "_SUCCESS").touch()  # pyarrow skips it
    with pytest.raises(ValueError, match=rf"^{re.escape(str(tmp_path / 'empty'))} is a folder "
                                         "that holds no data files; give a CSV/Parquet file"):
        load_table(tmp_path / "empty", "date")
    (tmp_path / "empty.csv").write_text("\n")
    with pytest.raises(ValueError, match=r"empty.csv is empty: it holds no data, not even a "
                                         r"header row; give a file with a header row"):
        load_table(tmp_path / "empty.csv", "date")
    (tmp_path / "csvs").mkdir()
    (tmp_path / "csvs" / "a.csv").write_text("date,y\n2020-01-01,1\n")
    with pytest.raises(ValueError, match=r"csvs is a folder, read as one Parquet dataset, and it "
                                         r"cannot be read as one \(.*a.csv.*\); give a CSV"):
        load_table(tmp_path / "csvs", "date")
    header = tmp_path / "header.csv"  # a header and no rows: with a frequency, an IndexError
    header.write_text("date,x\n")
    empty = load_table(header, "date", frequency="D")
    assert empty.empty and empty.columns.tolist() == ["x"]
    with pytest.raises(ValueError, match="header.csv: cannot infer a frequency from 0 "):
        load_table(header, "date", frequency="infer")
    with pytest.raises(ValueError, match=r"0 rows are too few for lookback 2 \+ horizon 1"):
        make_windows(empty, "x", lookback=2)


def test_an_infinite_value_is_refused_where_it_is() -> None:
    table = pd.DataFrame({"date": ["2020-01-01", "2020-01-02"], "y": ["1.5", "inf"]})
    with pytest.raises(ValueError, match=r"column 'y' holds inf at row 1 .*expected finite"):
        tidy(table, "date")


def test_row_counts_written_as_whole_floats_are_read_and_others_refused() -> None:
    # 2.0 passed the whole-number checks and then failed deep in numpy or pandas (IndexError
    # 'arrays used as indices must be of integer type', 'slice indices must be integers');
    # NaN failed with 'cannot convert float NaN to integer', naming no argument
    frame = daily([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    windows = make_windows(frame, "y", lookback=2.0, horizon=np.float64(2), stride=1.0)
    assert (windows.lookback, windows.horizon) == (2, 2)
    assert windows.targets.tolist() == [[3.0, 4.0], [4.0, 5.0], [5.0, 6.0]]
    assert windows.inputs[:, :, 0].tolist() == [[1.0, 2.0], [2.0, 3.0], [3.0, 4.0]]
    for bad in (float("nan"), 2.5, "2", True):
        with pytest.raises(ValueError, match=f"lookback must be a whole number >= 1, not "
                                             f"{re.escape(repr(bad))}"):
            make_windows(frame, "y", lookback=bad)
    series = frame["y"].rename("p")
    assert lags(series, [2.0])["p_lag2"].tolist()[2:] == [1.0, 2.0, 3.0, 4.0]
    assert simple_returns(series, 2.0).tolist()[2] == 2.0
    np.testing.assert_allclose(log_returns(series, np.int64(2)).to_numpy()[2:],
                               np.log([3.0, 2.0, 5 / 3, 1.5]))
    derived = derive(frame, changes=["y"], change_lags=[2.0])
    assert derived["y_change_2"].tolist()[2:] == [2.0, 2.0, 2.0, 2.0]
    assert buy_sell_hold(pd.Series([100.0, 102.0, 99.0]), 1.0).tolist() == [BUY, SELL, MISSING]
    with pytest.raises(ValueError, match="a lag must be a whole number of rows >= 1, not nan"):
        lags(series, [float("nan")])
    with pytest.raises(ValueError, match="horizon must be a whole number of rows >= 1, not 1.5"):
        buy_sell_hold(pd.Series([100.0, 102.0, 99.0]), 1.5)


def test_input_steps_outside_the_series_are_refused() -> None:
    # steps=0 gave windows of no steps, a negative count numpy's "window_shape cannot contain
    # negative values", and steps reaching before row 0 "window shape cannot be larger than
    # input array shape" (a negative start slices from the series' end)
    windows = make_windows(daily(list(np.arange(10.0))), "y", lookback=3)
    assert windows.inputs_at(slice(2, 3), 5)[0, :, 0].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    for steps in (0, -1):
        with pytest.raises(ValueError, match=f"steps must be at least 1, not {steps}"):
            windows.inputs_at(slice(None), steps)
    with pytest.raises(ValueError, match="5 steps reach before the series' first row: the "
                                         "window ending at row 2 has 3 rows up to it"):
        windows.inputs_at(slice(0, 2), 5)


def test_one_name_or_count_is_a_list_of_one_not_its_letters() -> None:
    # 'rain' was read letter by letter ("no column 'r' to derive from", "unknown calendar part
    # 'h'"), and one lag or span (24) failed with "TypeError: 'int' object is not iterable"
    frame = pd.DataFrame({"temp": np.arange(10.0), "rain": 1.0},
                         index=pd.date_range("2020-01-01", periods=10, freq="D"))
    assert make_windows(frame, "temp", "rain", lookback=2).feature_names == ("rain",)
    assert calendar_features(frame.index, "hour").columns.tolist() == ["hour_sin", "hour_cos"]
    assert derive(frame, log1p="rain").columns.tolist() == ["temp", "rain_log1p"]
    assert derive(frame, changes="temp", change_lags=2).columns.tolist() == [
        "temp", "rain", "temp_change_2"]
    assert lags(frame, 2, columns="temp").columns.tolist() == ["temp_lag2"]
    assert price_features(frame["temp"] + 1, 5).columns.tolist() == [
        "temp_log_return", "temp_momentum_5", "temp_volatility_5"]


def test_one_column_name_for_keep_categorical_and_needed_is_that_column(tmp_path: Path
                                                                         ) -> None:
    # keep='load' kept the letters l, o, a, d: the target column 'load' was forward-filled
    # (invented values); regularize read it as a substring ('oa' was kept too); and
    # categorical='note' said "the table has no column 'n'"
    path = tmp_path / "meter.csv"
    path.write_text("date,load,oa,note\n2020-01-01,1,1,a\n2020-01-02,,,b\n2020-01-04,3,3,c\n")
    frame = load_table(path, "date", categorical="note", frequency="D", max_fill=2, keep="load")
    assert frame["load"].isna().tolist() == [False, True, True, False]  # never filled
    assert frame["oa"].tolist() == [1.0, 1.0, 1.0, 3.0]  # filled: not in keep
    assert frame["note"].tolist() == ["a", "b", "b", "c"]
    assert tidy(pd.read_csv(path), "date", needed="load").columns.tolist() == ["load", "oa"]


def test_a_frequency_alias_pandas_removed_is_named_with_its_new_name(tmp_path: Path) -> None:
    # 'H' (hours, 'h' since pandas 2.2) and 'M' were refused as 'unknown frequency', the very
    # aliases most pandas code still shows
    path = tmp_path / "hours.csv"
    path.write_text("date,y\n2020-01-01 00:00,1\n2020-01-01 01:00,2\n2020-01-01 02:00,3\n")
    with pytest.raises(ValueError, match=r"unknown frequency '2H' \(an alias pandas removed: "
                                         r"write 2h\); use infer"):
        load_table(path, "date", frequency="2H")
    with pytest.raises(ValueError, match=r"'M' \(an alias pandas removed: write ME or MS\)"):
        load_table(path, "date", frequency="M")
    assert len(load_table(path, "date", frequency="h")) == 3


@pytest.mark.parametrize("frequency", ["0D", "-1D", "-2h"])
def test_a_frequency_of_no_step_forward_is_refused_by_name(tmp_path: Path,
                                                           frequency: str) -> None:
    # data.frequency=0D failed with a ZeroDivisionError traceback deep in pandas; -1D said
    # every timestamp was off its grid, advising to resample the data to '-1D'
    path = tmp_path / "days.csv"
    path.write_text("date,y\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n")
    with pytest.raises(ValueError, match=rf"frequency '{frequency}' is a step of -?\d+: give "
                                         "a step forward, such as D"):
        load_table(path, "date", frequency=frequency)


def test_a_csv_gz_cut_short_or_damaged_is_named_in_one_line(tmp_path: Path) -> None:
    """load_table on a .csv.gz cut short said only pandas' "EOFError: Compressed file ended
    before the end-of-stream marker was reached", a damaged one "zlib.error: Error -3 ...",
    naming no file (the other .gz readers say which, as data.files.read_bytes); a file named
    .gz that is no gzip data is refused in the same words."""
    import gzip

    text = "date,y\n" + "".join(f"2020-01-{day:02d},{day}\n" for day in range(1, 29))
    packed = gzip.compress(text.encode() * 50)
    damaged = bytearray(packed)
    damaged[30] ^= 0xFF
    for name, raw in (("cut.csv.gz", packed[:len(packed) // 2]), ("bad.csv.gz", damaged),
                      ("plain.csv.gz", text.encode())):
        (tmp_path / name).write_bytes(bytes(raw))
        with pytest.raises(ValueError, match=f"{name}: not gzip data .*Rename it without .gz"):
            load_table(tmp_path / name, "date")
    (tmp_path / "whole.csv.gz").write_bytes(gzip.compress(text.encode()))
    assert len(load_table(tmp_path / "whole.csv.gz", "date")) == 28
