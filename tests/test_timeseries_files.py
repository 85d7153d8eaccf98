"""Time series read from users' files: the date policies whatever way the dates are written."""

from __future__ import annotations

import gzip
import importlib.util
import time
from pathlib import Path

import pandas as pd
import pytest

from rnnkit.timeseries.frames import load_table

needs_parquet = pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None,
                                   reason="pyarrow is not installed (Parquet)")

DAYS = pd.date_range("2021-03-20", periods=20, freq="D", tz="Europe/Berlin")  # summer time
# begins on 2021-03-28: the offset goes from +01:00 to +02:00


@pytest.mark.parametrize(("written", "date_format"), [
    ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%z"),  # the format given, as a user may
    ("%d/%m/%Y %H:%M%z", None),  # day-first (the only way 20/03/2021 reads)
    ("%d/%m/%Y %H:%M%z", "%d/%m/%Y %H:%M%z"),
])
def test_local_midnights_are_their_local_days_in_any_date_format(
        tmp_path: Path, written: str, date_format: str | None) -> None:
    # only ISO dates without data.date_format were read as the local days they name; with a
    # format, or day-first, every day became 23:00 (22:00 in summer) of the day before, and
    # frequency=D refused the file: '12 timestamps are not on the 'D' grid'
    table = pd.DataFrame({"date": DAYS.strftime(written), "y": range(len(DAYS))})
    table.to_csv(tmp_path / "days.csv", index=False)
    frame = load_table(tmp_path / "days.csv", "date", date_format=date_format, frequency="D")
    assert frame.index.equals(DAYS.tz_localize(None).rename("date"))
    assert frame["y"].tolist() == list(range(len(DAYS)))


def test_hours_with_offsets_in_a_date_format_are_still_utc(tmp_path: Path) -> None:
    hours = pd.date_range("2021-03-28", periods=30, freq="h", tz="Europe/Berlin")
    pd.DataFrame({"date": hours.strftime("%d/%m/%Y %H:%M%z"), "y": 1.0}).to_csv(
        tmp_path / "hours.csv", index=False)
    for date_format in (None, "%d/%m/%Y %H:%M%z"):
        frame = load_table(tmp_path / "hours.csv", "date", date_format=date_format)
        assert frame.index.equals(hours.tz_convert(None).rename("date"))


@needs_parquet
def test_a_zone_aware_parquet_column_of_days_keeps_its_days_with_a_date_format(
        tmp_path: Path) -> None:
    pd.DataFrame({"date": DAYS, "y": 1.0}).to_parquet(tmp_path / "days.parquet")
    frame = load_table(tmp_path / "days.parquet", "date", date_format="%Y-%m-%d")
    assert frame.index.equals(DAYS.tz_localize(None).rename("date"))


def test_local_midnights_in_the_long_format_are_their_local_days(tmp_path: Path) -> None:
    # each date is written once per series, and that repeat was taken for two instants at
    # one local time: the days were read in UTC (23:00 of the day before, then 22:00), and
    # frequency=D refused the file: '11 timestamps are not on the 'D' grid'
    written = DAYS.strftime("%Y-%m-%dT%H:%M:%S%z")
    long = pd.concat([pd.DataFrame({"date": written, "series": name, "value": range(20)})
                      for name in ("A", "B")])
    long.to_csv(tmp_path / "long.csv", index=False)
    frame = load_table(tmp_path / "long.csv", "date", "A", series_column="series",
                       value_column="value", frequency="D")
    assert frame.index.equals(DAYS.tz_localize(None).rename("date"))
    assert frame["B"].tolist() == list(range(20))


@pytest.mark.parametrize(("name", "text", "said"), [
    ("t.tsv", "date,y\n2020-01-01,1\n", "commas (.*), but a .tsv file is read separated by "
                                        "tabs; save it separated by tabs, or name it .csv"),
    ("t.csv", "date\ty\n2020-01-01\t1\n", "tabs (.*), but a .csv file is read separated by "
                                          "commas; save it separated by commas, or name it .tsv"),
    ("t.tsv", "date;y\n2020-01-01;1\n", "';' (.*), but a .tsv file is read separated by tabs; "
                                        "save it separated by tabs$"),
])
def test_a_table_read_with_the_wrong_separator_says_which_it_has(
        tmp_path: Path, name: str, text: str, said: str) -> None:
    # a .tsv of commas or a .csv of tabs said "has no date column 'date'; its columns:
    # 'date,y'. Name the one holding the dates with data.date_column", and a .tsv of ';'
    # "save it separated by commas"
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=f"{name} looks separated by {said}"):
        load_table(tmp_path / name, "date")


@pytest.mark.parametrize(("name", "said"), [
    ("t.csv", "commas"), ("t.tsv", "tabs"), ("t.csv.gz", "commas")])
def test_a_spreadsheet_s_semicolons_and_decimal_commas_are_named(tmp_path: Path, name: str,
                                                                 said: str) -> None:
    # a .csv said "line 2 has 2 fields where the header has 1. Check that every row has the
    # header's number of fields", the decimal comma splitting '39,4' in two
    opener = gzip.open if name.endswith(".gz") else open
    with opener(tmp_path / name, "wt") as file:
        file.write("date;temp\n2010-01-01 00:00;39,4\n2010-01-01 01:00;-1,25\n")
    with pytest.raises(ValueError, match=f"{name} looks separated by ';' .* save it separated "
                                         f"by {said}, with a decimal point in its numbers "
                                         r"\(it writes '39,4' for '39.4'\)$"):
        load_table(tmp_path / name, "date")


def test_a_header_naming_a_column_twice_is_refused(tmp_path: Path) -> None:
    # pandas renamed the second 'y' to 'y.1', so the refusal of repeated names never saw it:
    # the run trained on 'y' with 'y.1' as an input
    (tmp_path / "t.csv").write_text("date,y,y\n2020-01-01,1,2\n2020-01-02,3,4\n")
    with pytest.raises(ValueError, match=r"t.csv: the columns 'y' appear more than once in its "
                                         r"header \(line 1;"):
        load_table(tmp_path / "t.csv", "date")


def test_a_first_line_of_spaces_is_skipped_as_pandas_skips_it(tmp_path: Path) -> None:
    # the row check took '   ' for a header of one column: 'line 3 has 2 fields where the
    # header has 1', for a file pandas (and rnnkit before that check) read as date, a
    (tmp_path / "t.csv").write_text("   \ndate,a\n2000-01-01,1\n2000-01-02,2\n")
    table = load_table(tmp_path / "t.csv", "date")
    assert list(table.columns) == ["a"] and table["a"].tolist() == [1, 2]


@pytest.mark.parametrize("name", ["t.csv", "t.tsv", "t.csv.gz"])
def test_a_row_with_more_fields_than_the_header_names_its_line(tmp_path: Path,
                                                               name: str) -> None:
    # with the extra field in the first row, pandas (index_col=False) dropped it with a
    # warning ("This leads to a loss of data") and read the row as if it were whole
    separator = "\t" if ".tsv" in name else ","
    text = "date,a,b\n2020-01-01,1,2,3\n2020-01-02,4,5\n".replace(",", separator)
    opener = gzip.open if name.endswith(".gz") else open
    with opener(tmp_path / name, "wt") as file:
        file.write(text)
    with pytest.raises(ValueError, match=f"{name} cannot be read as a table: line 2 has 4 "
                                         "fields where the header has 3"):
        load_table(tmp_path / name, "date")


def test_a_separator_at_the_end_of_every_row_loses_nothing(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("date,a\n2020-01-01,1,\n2020-01-02,2,\n")
    assert load_table(tmp_path / "t.csv", "date")["a"].tolist() == [1, 2]
    # a spreadsheet's empty columns, headed too: each unnamed column is its own, not repeated,
    # and, holding no value, left out (kept, they were inputs of missing values: no window)
    (tmp_path / "t.csv").write_text("date,a,,\n2020-01-01,1,,\n2020-01-02,2,,\n")
    assert load_table(tmp_path / "t.csv", "date").columns.tolist() == ["a"]
    (tmp_path / "t.csv").write_text("date,a,,\n2020-01-01,1,,\n2020-01-02,2,,5\n")
    assert load_table(tmp_path / "t.csv", "date").columns.tolist() == ["a", "Unnamed: 3"]


def test_a_long_line_is_refused_at_once(tmp_path: Path) -> None:
    # a 50 MB line (a header of repeated names, or a row of many fields) held pandas for
    # minutes; the csv module reads it in about a second
    line = "lorem, ipsum, dolor, sit, amet, " * 20_000  # 640 kB
    (tmp_path / "header.csv").write_text(line)
    (tmp_path / "row.csv").write_text("date,y\n" + line.replace(" ", ""))
    started = time.perf_counter()
    with pytest.raises(ValueError, match=r"the columns 'amet', 'dolor', 'ipsum', 'lorem', 'sit' "
                                         "appear more than once"):
        load_table(tmp_path / "header.csv", "date")
    with pytest.raises(ValueError, match="line 2 has 100001 fields where the header has 2"):
        load_table(tmp_path / "row.csv", "date")
    assert time.perf_counter() - started < 10


def test_a_missing_date_column_names_at_most_20_columns(tmp_path: Path) -> None:
    # a header of 1.8 million names (a 50 MB line) was listed whole in the message
    (tmp_path / "t.csv").write_text(",".join(f"c{i}" for i in range(30)) + "\n" +
                                    ",".join("1" * 30) + "\n")
    with pytest.raises(ValueError, match=r"t.csv has no date column 'date'; its columns: 'c0', "
                                         r"'c1', .*'c19', \.\.\. \(30 columns\)\. Name the one"):
        load_table(tmp_path / "t.csv", "date")


@pytest.mark.parametrize(("data", "said"), [
    (gzip.compress(b"date,y\n2020-01-01,1\n"), "it is gzipped but not named .gz; rename it "
                                               "t.csv.gz"),
    ("date,y\n2020-01-01,1\n".encode("utf-16"), r"it is UTF-16 text \(it starts with a UTF-16 "
                                                r"byte-order mark\); save it as UTF-8"),
])
def test_a_table_not_utf8_says_what_it_is(tmp_path: Path, data: bytes, said: str) -> None:
    (tmp_path / "t.csv").write_bytes(data)
    with pytest.raises(ValueError, match=f"t.csv is not UTF-8 text; {said}$"):
        load_table(tmp_path / "t.csv", "date")


def test_dates_written_two_ways_say_so_naming_one_of_each(tmp_path: Path) -> None:
    # said "holds '2020-01-02' at row 1, not a date": a date, read in the way of row 0's
    (tmp_path / "t.csv").write_text("date,y\n31/12/2019,1\n2020-01-02,2\n2020-01-03,3\n")
    with pytest.raises(ValueError, match="t.csv: column 'date' holds dates written in more than "
                                         "one way: '31/12/2019' at line 2, '2020-01-02' at line 3, "
                                         "a date on its own but not read the way of the others; "
                                         "write every date the same way, such as 2020-01-31 "
                                         r"\(one format cannot read both\)$"):
        load_table(tmp_path / "t.csv", "date")
    (tmp_path / "t.csv").write_text("date,y\n2020-01-01,1\nbanana,2\n")
    with pytest.raises(ValueError, match="holds 'banana' at line 3, not a date; fix or drop"):
        load_table(tmp_path / "t.csv", "date")


def test_a_long_file_read_as_wide_says_to_name_its_series_and_value_columns(
        tmp_path: Path) -> None:
    # was "column 'symbol' holds the non-numeric value 'MSFT' at row 0 ... list the inputs in
    # data.features (training), or the column in categorical=[...]": no word of the long format
    (tmp_path / "stocks.csv").write_text("symbol,date,price\nMSFT,Jan 1 2000,39.81\n"
                                         "MSFT,Feb 1 2000,36.35\nAAPL,Jan 1 2000,25.94\n"
                                         "AAPL,Feb 1 2000,28.66\n")
    with pytest.raises(ValueError, match=r"stocks.csv: column 'symbol' holds text \('MSFT'\) "
                                         r"and the dates repeat \(2000-01-01 00:00:00 at line 2 "
                                         r"and line 4\): a long file.* data.series_column=symbol "
                                         r"and data.value_column=price \("):
        load_table(tmp_path / "stocks.csv", "date")
    wide = load_table(tmp_path / "stocks.csv", "date", series_column="symbol",
                      value_column="price")  # as the message says
    assert list(wide.columns) == ["AAPL", "MSFT"] and wide["MSFT"].tolist() == [39.81, 36.35]


@pytest.mark.parametrize("written", ['"135,450"', '"1.234,5"', '"39,4"', '"1 234"'])
def test_numbers_with_thousands_separators_or_a_decimal_comma_say_how_to_write_them(
        tmp_path: Path, written: str) -> None:
    # was "holds the non-numeric value '135,450' ... expected numbers", as if it were text
    (tmp_path / "t.csv").write_text(f"date,y\n2020-01-01,{written}\n2020-01-02,2\n")
    with pytest.raises(ValueError, match=r"non-numeric value .* \(numbers are read with a '.' "
                                         r"decimal point and no thousands separators: write "
                                         r"1234.5, not 1,234.5"):
        load_table(tmp_path / "t.csv", "date")
    (tmp_path / "t.csv").write_text("date,y\n2020-01-01,calm\n2020-01-02,2\n")
    with pytest.raises(ValueError, match=r"missing value\. Fix the value, or leave the column "
                                         r"out: .* or the column in categorical= in tidy and "
                                         r"load_table$"):
        load_table(tmp_path / "t.csv", "date")  # text: no word of separators


def test_a_saved_date_index_without_a_name_is_named_as_the_date_column_to_give(
        tmp_path: Path) -> None:
    # frame.to_csv() of a date index writes the header ',temp': the message said only "its
    # columns: 'Unnamed: 0', 'temp'. Name the one holding the dates with data.date_column"
    frame = pd.DataFrame({"temp": [39.4, 39.2, 38.9]},
                         index=pd.date_range("2010-01-01", periods=3, freq="h"))
    frame.to_csv(tmp_path / "t.csv")
    with pytest.raises(ValueError, match=r"t.csv has no date column 'date'; its columns: "
                                         r"'Unnamed: 0', 'temp'. Its first column has no name "
                                         r"and holds dates \('2010-01-01 00:00:00', \.\.\.: a "
                                         r"pandas date index saved by to_csv\): write a name in "
                                         r"the header .* data.date_column='Unnamed: 0' "):
        load_table(tmp_path / "t.csv", "date")
    assert load_table(tmp_path / "t.csv", "Unnamed: 0")["temp"].tolist() == [39.4, 39.2, 38.9]
    frame.reset_index(drop=True).to_csv(tmp_path / "rows.csv")  # row numbers: no dates
    with pytest.warns(UserWarning, match="counts rows"), \
            pytest.raises(ValueError, match=r"'temp'. Name the one holding the dates with "):
        load_table(tmp_path / "rows.csv", "date")


@pytest.mark.parametrize("name", ["t.csv", "t.tsv"])
def test_rows_of_empty_fields_below_the_data_are_left_out(tmp_path: Path, name: str) -> None:
    # a spreadsheet's export ends with ',,' lines: refused as "column 'date' holds an empty
    # value at row 2, not a date; fix or drop that row"
    separator = "\t" if name.endswith(".tsv") else ","
    text = "date,a,b\r\n2020-01-01,1,2\r\n2020-01-02,3,4\r\n,,\r\n,,\r\n\r\n"
    (tmp_path / name).write_text(text.replace(",", separator), newline="")
    frame = load_table(tmp_path / name, "date")
    assert frame["a"].tolist() == [1, 3] and frame["b"].tolist() == [2, 4]
    # and a header ending in the separator: an empty column 'Unnamed: 3' left no window
    ended = "date,a,b,\n2020-01-01,1,2,\n2020-01-02,3,4,\n,,,\n"
    (tmp_path / name).write_text(ended.replace(",", separator))
    assert list(load_table(tmp_path / name, "date").columns) == ["a", "b"]
    inside = "date,a,b\n2020-01-01,1,2\n,,\n2020-01-02,3,4\n"  # between rows of data: refused
    (tmp_path / name).write_text(inside.replace(",", separator))
    with pytest.raises(ValueError, match="column 'date' holds an empty value at line 3"):
        load_table(tmp_path / name, "date")


def test_a_csv_row_is_named_by_its_line_in_the_file(tmp_path: Path) -> None:
    # messages said "row N", counted from 0 after the header: 'row 2' of this file is line 6
    # in an editor (blank lines and a value over two lines come before it)
    head = 'date,y,note\n\n2020-01-03,1,"two\nlines"\n\n'
    path = tmp_path / "t.csv"
    path.write_text(head + "2020-01-01,x,a\n")
    with pytest.raises(ValueError, match="holds the non-numeric value 'x' at line 6 "):
        load_table(path, "date", needed=["y"])
    path.write_text(head + "2020-01-01,inf,a\n")
    with pytest.raises(ValueError, match="holds inf at line 6 "):
        load_table(path, "date", needed=["y"])
    path.write_text(head + "2020-01-01,2,a\n2020-01-03,3,b\n")
    with pytest.raises(ValueError, match="appears more than once \\(again at line 7\\)"):
        load_table(path, "date", needed=["y"])  # one date twice: no long file
    with pytest.raises(ValueError, match="appears more than once \\(again at line 7\\)"):
        load_table(path, "date", categorical=["note"])
    path.write_text(head + "2020-01-01,2,a\n")  # sorted after: the warning names the lines
    with pytest.warns(UserWarning, match=r"not in ascending order \(line 6, 2020-01-01 "
                                         r"00:00:00, comes after line 3, 2020-01-03"):
        assert load_table(path, "date", needed=["y"])["y"].tolist() == [2, 1]
    path.write_text(head + "someday,2,a\n")
    with pytest.raises(ValueError, match="holds 'someday' at line 6, not a date"):
        load_table(path, "date", needed=["y"])
    path.write_text("date,y\n2020-01-01 10:00+01:00,1\n2020-01-02 10:00,2\n")
    with pytest.raises(ValueError, match=r"\('2020-01-01 10:00\+01:00' at line 2\) and dates "
                                         r"without one \('2020-01-02 10:00' at line 3\)"):
        load_table(path, "date")
    path.write_text("date,symbol,price\n2020-01-01,A,1\n\n2020-01-01,,2\n")
    with pytest.raises(ValueError, match="holds no series name at line 4 "):
        load_table(path, "date", series_column="symbol", value_column="price")


@needs_parquet
def test_a_parquet_row_is_named_counting_from_one(tmp_path: Path) -> None:
    table = pd.DataFrame({"date": ["2020-01-01", "2020-01-02"], "y": [1.0, float("inf")]})
    table.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(ValueError, match=r"holds inf at row 2 \(counting from 1\) "):
        load_table(tmp_path / "t.parquet", "date")
