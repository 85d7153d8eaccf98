"""Reading a table file as it is: CSV/TSV (gzipped or not) or Parquet (a file or a folder of
them), header names stripped; a file pandas cannot read is an error naming the file and what to
do. :func:`~rnnkit.timeseries.frames.load_table` checks the table that comes back."""

from __future__ import annotations

import csv
import gzip
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.data.files import GZIP_ERRORS, not_gzip, not_utf8_advice
from rnnkit.timeseries.row_names import RowName, counted_from_one, file_lines
from rnnkit.timeseries.values import DECIMAL_COMMA


def read_file(path: Path, date_column: str) -> tuple[pd.DataFrame, RowName]:
    """A CSV/TSV or Parquet file (or folder) as read, with header names stripped, and how
    messages name its rows (a CSV row by its line in the file); a file pandas cannot read is
    an error naming the file and what to do."""
    row_name: RowName = counted_from_one
    name = path.name.lower()
    if path.is_dir() and not _data_files(path):
        raise ValueError(f"{path} is a folder that holds no data files; give a CSV/Parquet "
                         "file, or a folder of Parquet files")
    try:
        if path.is_dir() or name.endswith((".parquet", ".pq")):
            table = _read_parquet(path)
            index = table.index
            if index.name == date_column or isinstance(index, pd.DatetimeIndex):
                table = table.reset_index()  # pandas saves a date index as one
                table = table.rename(columns={table.columns[0]: index.name or date_column})
        elif name.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz")):
            separator = "\t" if ".tsv" in name else ","
            lines = _check_rows(path, separator)
            table = pd.read_csv(path, sep=separator, index_col=False, encoding="utf-8-sig")
            if len(lines) == len(table):  # else a row pandas skips that the csv module kept
                row_name = file_lines(lines)
            table = _without_empty_end(table)
        else:
            raise ValueError(f"{path}: unknown file type; expected .csv, .csv.gz, .tsv, "
                             ".parquet or a Parquet folder. Convert the file or read it with "
                             "pandas and call tidy()")
    except UnicodeDecodeError:
        with path.open("rb") as file:
            advice = not_utf8_advice(file.read(16), path)  # gzipped, UTF-16: say which
        raise ValueError(f"{path} is not UTF-8 text; " + (advice or "save it as UTF-8 (CSV "
                                                                    "UTF-8 in a spreadsheet)")
                         ) from None
    except GZIP_ERRORS as error:  # a .csv.gz cut short or damaged: EOFError, zlib.error
        if not name.endswith(".gz"):
            raise
        raise not_gzip(error, path) from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty: it holds no data, not even a header row; give a "
                         "file with a header row and a row per date") from None
    except pd.errors.ParserError as error:
        raise ValueError(f"{path} cannot be read as a table: {str(error).strip()}. Check "
                         "that every row has the header's number of fields") from None
    table.columns = [str(column).strip() for column in table.columns]
    _warn_saved_index(table, path)
    _refuse_repeated(path, list(table.columns))  # a Parquet file's " y" beside "y"
    if len(table.columns) == 1:
        first = str(table.iloc[0, 0]) if len(table) else ""
        _refuse_other_separator(path, table.columns[0], tabs=".tsv" in name, row=first)
    return table, row_name


def _without_empty_end(table: pd.DataFrame) -> pd.DataFrame:
    """The table without what a spreadsheet writes around its data and holds nothing: the
    rows at its end whose every field is empty (``,,`` lines; their empty date was refused as
    'holds an empty value at row N, not a date') and the columns with no header name and no
    value (a header ending in ``,``: an input 'Unnamed: 2' of missing values, which left no
    window). An empty row between rows of data stays, and is refused naming its row."""
    empty = [name for name in table.columns
             if str(name).startswith("Unnamed: ") and table[name].isna().all()]
    table = table.drop(columns=empty)
    filled = np.flatnonzero(table.notna().any(axis=1).to_numpy())
    return table.iloc[: filled[-1] + 1 if len(filled) else 0]


def _check_rows(path: Path, separator: str) -> list[int]:
    """Refuse, before pandas reads the file, what pandas would read wrong: a header that names
    a column twice (pandas renamed the second ``y`` to ``y.1``, an input beside the target
    ``y``, so the refusal of repeated names never saw it), and a row holding more fields than
    the header (pandas, reading with ``index_col=False``, dropped the fields past the header's
    with a warning, shifting nothing back: a row ``date,1,2,3`` under ``date,a,b`` lost its
    ``3``). Fields past the header's that are empty (a separator at the end of each line) lose
    nothing and pass. The csv module reads a 50 MB line in about a second, which pandas took
    minutes over (a header of repeated names, or a row of many fields). Returns the line each
    row pandas reads starts on (its first, for a value that spans lines)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    limit = csv.field_size_limit(2**31 - 1)  # as long a field as pandas reads (not 131,072)
    with opener(path, "rt", encoding="utf-8-sig", newline="") as file:
        rows = csv.reader(file, delimiter=separator)
        try:
            # pandas skips blank lines, and lines of spaces only
            header = next((row for row in rows if any(field.strip() for field in row)), None)
            if header is None:
                return []  # no header row: pandas' EmptyDataError says so
            _refuse_repeated(path, [name.strip() for name in header], rows.line_num)
            lines: list[int] = []
            after = rows.line_num  # the line the last row read ends on
            for row in rows:
                if len(row) > 1 or (row and row[0].strip()):  # pandas skips blank lines
                    lines.append(after + 1)
                after = rows.line_num
                if len(row) > len(header) and any(field.strip() for field in row[len(header):]):
                    if len(header) == 1:  # '2020-01-01;39,4' under 'date;temp'
                        _refuse_other_separator(path, header[0], separator == "\t",
                                                separator.join(row))
                    raise ValueError(f"{path} cannot be read as a table: line {rows.line_num} "
                                     f"has {len(row)} fields where the header has "
                                     f"{len(header)}. Check that every row has the header's "
                                     "number of fields (quote a value that holds the separator)")
            return lines
        except csv.Error as error:
            raise ValueError(f"{path} cannot be read as a table: line {rows.line_num}: {error}; "
                             "is it a table of a header row and a row per date?") from None
        finally:
            csv.field_size_limit(limit)


def _refuse_repeated(path: Path, names: list[str], line: int | None = None) -> None:
    """Refuse header ``names`` (stripped) that name a column twice; empty names pass (pandas
    names each one: Unnamed: 4). ``line``: the header's, in a file read as text."""
    repeated = sorted(name for name, count in Counter(names).items() if count > 1 and name)
    if repeated:
        shown = ", ".join(map(repr, repeated[:5])) + (", ..." * (len(repeated) > 5))
        where = f" in its header (line {line}; " if line else " ("
        raise ValueError(f"{path}: the columns {shown} appear more than once{where}spaces "
                         "around header names do not count); rename them")


def _refuse_other_separator(path: Path, header: str, tabs: bool, row: str = "") -> None:
    """Refuse a table read as one column whose header holds another separator than its name
    says (';' from a spreadsheet, tabs in a .csv, commas in a .tsv): its date column was
    reported missing, with advice to name another column. ``row``: a data line as read (its
    fields joined again), whose numbers written with a decimal comma (``39,4``, a spreadsheet's
    ';' file) are named too: that file was refused for a row of 2 fields under a header of 1."""
    read_as, kind, other = ("tabs", ".tsv", ".csv") if tabs else ("commas", ".csv", ".tsv")
    for separator, said in ((";", "';'"), ("\t", "tabs"), (",", "commas"), ("|", "'|'")):
        if separator in header and said != read_as:
            rename = f", or name it {other}" if said in ("tabs", "commas") else ""
            comma = next((field.strip() for field in row.split(separator)
                          if DECIMAL_COMMA.fullmatch(field.strip())), None)
            decimal = (f", with a decimal point in its numbers (it writes {comma!r} for "
                       f"{comma.replace(',', '.')!r})" if comma and separator != "," else "")
            raise ValueError(f"{path} looks separated by {said} (its one column is "
                             f"{header!r}), but a {kind} file is read separated by {read_as}; "
                             f"save it separated by {read_as}{decimal}{rename}")


def _data_files(folder: Path) -> list[Path]:
    """The files of a Parquet folder that pyarrow reads: those whose name does not start with
    ``.`` or ``_`` (``_SUCCESS``, ``.DS_Store``), in it or in its subfolders."""
    return [file for file in folder.rglob("*") if file.is_file()
            and not any(part.startswith((".", "_")) for part in file.relative_to(folder).parts)]


def _read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file, or a folder of them read as one table; a folder pyarrow cannot read
    (one of CSVs) is an error saying a folder is read as a Parquet dataset."""
    try:
        return pd.read_parquet(path)
    except ValueError as error:  # pyarrow's ArrowInvalid
        if not path.is_dir():
            raise
        raise ValueError(f"{path} is a folder, read as one Parquet dataset, and it cannot be "
                         f"read as one ({str(error).strip()}); give a CSV/Parquet file, or a "
                         "folder of Parquet files of the same columns") from None


def _warn_saved_index(table: pd.DataFrame, path: Path) -> None:
    """Warn when the first column has no header name and counts up by one (the row numbers
    pandas' ``to_csv`` writes by default): it is read as a column like any other."""
    if not len(table.columns) or not str(table.columns[0]).startswith("Unnamed: "):
        return
    first = table.iloc[:, 0]
    if len(first) > 1 and pd.api.types.is_integer_dtype(first) and \
            (np.diff(first.to_numpy()) == 1).all():
        warnings.warn(f"{path}: its first column has no name and counts rows ({first.iloc[0]}, "
                      f"{first.iloc[1]}, ...: a saved pandas index); it is read as the column "
                      f"{table.columns[0]!r}, an input unless data.features lists the inputs. "
                      "Save the file with index=False to leave it out", UserWarning,
                      stacklevel=3)
