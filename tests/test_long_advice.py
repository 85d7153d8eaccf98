"""A table whose dates repeat gets the long-file advice only where a column of text reads as
its series names; a date written twice keeps the duplicate-date message."""
from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.timeseries.frames import load_table

DAYS = [f"2020-01-{day:02d}" for day in range(1, 11)]


def test_a_date_written_twice_is_named_not_taken_for_a_long_file(tmp_path: Path) -> None:
    """A note column, not among the inputs read, with one date written again: the long-file
    advice ('a long file, of one row per date and series? Name its series and value columns,
    data.series_column=note') replaced the duplicate-date message."""
    path = tmp_path / "dup.csv"
    path.write_text("date,price,note\n" + "".join(f"{day},{n},x\n" for n, day in enumerate(DAYS))
                    + "2020-01-05,5,y\n")
    with pytest.raises(ValueError, match=r"dup.csv: date 2020-01-05 00:00:00 appears more than "
                                         r"once \(again at line 12\); each date must appear "
                                         r"once per series"):
        load_table(path, "date", needed=["price"])
    with pytest.raises(ValueError, match=r"column 'note' holds the non-numeric value 'x' at "
                                         r"line 2"):
        load_table(path, "date")  # the note read as an input: its text is the error, as before


def test_a_column_of_series_names_whose_dates_repeat_gets_the_long_file_advice(
        tmp_path: Path) -> None:
    path = tmp_path / "stocks.csv"
    path.write_text("symbol,date,price\n" + "".join(
        f"{symbol},{day},{n}\n" for symbol in ("AAPL", "MSFT") for n, day in enumerate(DAYS)))
    for needed in (None, ["price"]):
        with pytest.raises(ValueError, match=r"column 'symbol' holds text \('AAPL'\) and the "
                                             r"dates repeat .*a long file.*data.series_column="
                                             r"symbol and data.value_column=price"):
            load_table(path, "date", needed=needed)
