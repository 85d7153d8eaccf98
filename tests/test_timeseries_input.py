"""Time series input refused or read by what it is: date formats, files pandas reads
differently, empty files, infinite values, counts, names, frequencies, damaged .csv.gz."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_timeseries import daily

from rnnkit.timeseries.features import (
    calendar_features,
    derive,
    lags,
    log_returns,
    price_features,
    simple_returns,
)
from rnnkit.timeseries.frames import load_table, tidy
from rnnkit.timeseries.grid import infer_frequency
from rnnkit.timeseries.labels import (
    BUY,
    MISSING,
    SELL,
    buy_sell_hold,
)
from rnnkit.timeseries.windows import make_windows


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
