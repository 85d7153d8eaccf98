"""A column's values as floats: missing words read as NaN, anything else non-numeric or
infinite refused with the column, row and date named (the policy of
:mod:`rnnkit.timeseries.frames`)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from rnnkit.timeseries.row_names import RowName, position


def numeric_column(column: pd.Series, dates: pd.Series, source: str,
                   row_name: RowName = position) -> pd.Series:
    numbers = _numbers(column, dates, source, row_name)
    infinite = np.isinf(numbers.to_numpy())
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise ValueError(f"{source}: column {column.name!r} holds {numbers.iloc[row]} at "
                         f"{row_name(row)} (date {dates.iloc[row]}); expected finite numbers, "
                         "with NA or an empty cell for a missing value")
    return numbers


# the words pandas' read_csv reads as a missing value
MISSING_WORDS = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                           "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None",
                           "n/a", "nan", "null"})


def _numbers(column: pd.Series, dates: pd.Series, source: str,
             row_name: RowName) -> pd.Series:
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return column.astype(float)
    numbers = pd.to_numeric(column, errors="coerce")
    bad = numbers.isna() & column.notna()
    if bad.any():  # ' NA' and '  ' (a file written '2020-01-01, 1.5, NA') are missing values,
        # as 'NA' and '' are: numbers with spaces around them were read, these refused
        text = column.map(lambda value: value.strip() if isinstance(value, str) else value)
        text = text.mask(text.isin(MISSING_WORDS))
        numbers = pd.to_numeric(text, errors="coerce")
        bad = numbers.isna() & text.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        value = column.iloc[row]
        raise ValueError(f"{source}: column {column.name!r} holds the non-numeric value "
                         f"{value!r} at {row_name(row)} (date {dates.iloc[row]}); "
                         "expected numbers, with NA or an empty cell for a missing value"
                         f"{_written_number(value)}. Fix the value, or leave the column out: "
                         "list the inputs in data.features (training), or the column in "
                         "categorical= in tidy and load_table")
    return numbers.astype(float)


DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+")  # '39,4': a spreadsheet's number, no number to pandas


def _written_number(value: object) -> str:
    """What to say of a number written with thousands separators or a decimal comma
    (``'135,450'``, ``'1.234,5'``, ``'39,4'``), which is no number to pandas: how it must be
    written; else nothing."""
    text = str(value).strip().replace("\u00a0", " ")
    grouped = re.fullmatch(r"[-+]?\d{1,3}([,. ']\d{3})+([.,]\d+)?", text)
    if not (grouped or DECIMAL_COMMA.fullmatch(text)):
        return ""
    return (" (numbers are read with a '.' decimal point and no thousands separators: write "
            "1234.5, not 1,234.5 or 1.234,5 or 1234,5)")
