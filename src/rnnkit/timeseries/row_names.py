"""How a message names a row of a table: the line of the file a CSV row was read from (the
header is line 1, so the first data row is line 2, blank lines and multiline values counted),
the row counted from 1 in a Parquet file (it has no lines), or the position from 0 in a
DataFrame given to :func:`~rnnkit.timeseries.frames.tidy`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

RowName = Callable[[int], str]  # a row's position in the table as read -> 'line 7'


def position(row: int) -> str:
    """A DataFrame's row: its position, counted from 0 (``table.iloc[row]``)."""
    return f"row {row}"


def counted_from_one(row: int) -> str:
    """A Parquet file's row, counted from 1."""
    return f"row {row + 1} (counting from 1)"


def file_lines(lines: Sequence[int]) -> RowName:
    """Rows named by the line of the file each was read from: ``lines[row]``."""
    return lambda row: f"line {lines[row]}"
