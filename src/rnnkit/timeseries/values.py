"""A column's values as floats: missing words read as NaN, anything else non-numeric or
infinite refused with the column, row and date named (the policy of
:mod:`rnnkit.timeseries.frames`)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def numeric_column(column: pd.Series, dates: pd.Series, source: str) -> pd.Series:
    numbers = _numbers(column, dates, source)
    infinite = np.isinf(numbers.to_numpy())
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise ValueError(f"{source}: column {column.name!r} holds {numbers.iloc[row]} at row "
                         f"{row} (date {dates.iloc[row]}); expected finite numbers, with NA or "
                         "an empty cell for a missing value")
    return numbers


# the words pandas' read_csv reads as a missing value
MISSING_WORDS = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                           "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None",
                           "n/a", "nan", "null"})


def _numbers(column: pd.Series, dates: pd.Series, source: str) -> pd.Series:
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
        raise ValueError(f"{source}: column {column.name!r} holds the non-numeric value "
                         f"{column.iloc[row]!r} at row {row} (date {dates.iloc[row]}); "
                         "expected numbers, with NA or an empty cell for a missing value. "
                         "Fix the value, or leave the column out: list the inputs in "
                         "data.features (training), or the column in categorical=[...]")
    return numbers.astype(float)
