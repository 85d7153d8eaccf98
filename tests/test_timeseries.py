"""Time series: loaders and their checks, and the real datasets.

Features, windows and splits (with the no-future-data leak test), baselines, labels and metrics,
and bad input named by what it is are tested in tests/test_timeseries_*.py, which import daily
from here."""

from __future__ import annotations

import importlib
import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import SHARED_DATA

from rnnkit.data.registry import REGISTRY, get_spec
from rnnkit.timeseries import datasets
from rnnkit.timeseries.frames import load_table, tidy, to_long
from rnnkit.timeseries.grid import describe_gaps, infer_frequency
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.windows import make_windows

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
