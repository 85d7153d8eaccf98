"""Labelled numeric sequences from a long CSV: one row per (sequence, time step).

::

    id,step,temp,wind,label
    a,0,12.1,3.2,rain
    a,1,11.0,4.0,rain
    b,0,20.3,1.1,sun

Rows of one sequence are ordered by the time column (file order without one); sequences may
differ in length. Every sequence has one label: it must be the same on all its rows. Every
feature must be a number (a missing value, ``nan`` or an empty cell, is refused too: fill
missing values first).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnkit.data.files import read_text, shortened
from rnnkit.plural import plural

COLUMNS_HINT = "set data.id_column / time_column / label_field / feature_columns"  # rewritten
# by evaluate and predict, which take no --set

FEATURE_FIX = "fix the value or leave the column out of data.feature_columns"  # rewritten by
# evaluate and predict: the model reads the columns it was trained on

MISSING = frozenset({"", "na", "n/a", "#n/a", "<na>", "null", "none", "nan"})  # lowercased:
# how a missing value is written (pandas' to_csv leaves the cell empty)

TIME_FIX = ("data.time_column orders the steps by number: give each row its step number "
            "(0, 1, 2...), or set data.time_column=\"\" to keep the file order")


@dataclass(frozen=True)
class NumericSequence:
    """One sequence: its id, features ``[T, F]`` and label."""

    id: str
    features: np.ndarray
    label: str


def _number(text: str, where: str, column: str, fix: str = FEATURE_FIX) -> float:
    missing = ValueError(f"{where}: column {column!r} holds {text!r}, a missing value; fill "
                         "missing values first")
    if fix == FEATURE_FIX and text.strip().lower() in MISSING:  # a step is told by TIME_FIX
        raise missing
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: column {column!r} holds {text!r}, not a number; {fix}"
                         ) from None
    if math.isnan(value):
        raise missing
    if not math.isfinite(value):  # 'inf', or a number too large for a float (1e400)
        raise ValueError(f"{where}: column {column!r} holds {text!r}, not a finite number; "
                         "replace it")
    return value


def _missing_fix(header: list[str]) -> str:
    """The end of the error for missing columns: the columns there are and which settings
    name others, or, for a header that is one column holding another separator (a file saved
    with tabs or ';'), that the file must be comma-separated."""
    if len(header) == 1:
        for separator, name in ((";", "';'"), ("\t", "tabs"), ("|", "'|'")):
            if separator in header[0]:
                return (f": the header looks separated by {name}, but a long CSV is read "
                        "separated by commas: save it with commas")
    return f" (columns: {shortened(', '.join(header))}); {COLUMNS_HINT}"  # a 50 MB header


def read_header(path: str | Path) -> list[str]:
    """The column names of a long CSV's header, as :func:`read_numeric_sequences` reads them
    (a byte-order mark left out, spaces around the names too); ``[]`` for an empty file."""
    with io.StringIO(read_text(path), newline="") as file:
        return [name.strip() for name in next(csv.reader(file), [])]


def read_numeric_sequences(
    path: str | Path,
    id_column: str = "id",
    time_column: str = "",
    label_column: str = "label",
    feature_columns: list[str] | None = None,
    labelled: bool = True,
) -> tuple[list[NumericSequence], list[str]]:
    """The sequences of a long CSV (in order of first appearance) and the feature names.

    ``feature_columns`` None takes every column but the id, time and label columns. With
    ``labelled`` False (new data to predict) the label column may be missing.
    """
    path = Path(path)
    with io.StringIO(read_text(path), newline="") as file:
        reader = csv.DictReader(file)
        header = [name.strip() for name in reader.fieldnames or []]  # 'noise ' is 'noise'
        reader.fieldnames = header
        needed = [id_column, label_column] + ([time_column] if time_column else [])
        if not labelled and label_column not in header:
            needed.remove(label_column)
        missing = [c for c in needed + (feature_columns or []) if c not in header]
        if missing:
            raise ValueError(f"{path}: no column {missing}{_missing_fix(header)}")
        features = feature_columns or [c for c in header if c not in needed]
        if not features:
            raise ValueError(f"{path}: no feature columns besides {', '.join(needed)}")
        named_twice = sorted({name for name in needed + features if header.count(name) > 1})
        if named_twice:  # DictReader keeps the last one's values for both (unread: no harm)
            raise ValueError(f"{path}: the header names column {named_twice[0]!r} twice; give "
                             "every column its own name")
        rows: dict[str, list[tuple[float, int, str, list[float]]]] = {}  # order, line,
        # the time column's text (named as written when two rows share a step), values
        labels: dict[str, str] = {}
        for number, row in enumerate(reader, 2):
            where = f"{path}, line {reader.line_num}"  # blank lines and quoted breaks counted
            if None in row or None in row.values():  # more fields than the header, or fewer
                fields = len(header) + len(row.get(None) or []) - list(row.values()).count(None)
                raise ValueError(f"{where}: {plural(fields, 'field')} where the header has "
                                 f"{len(header)}; give every row one value per column (quote "
                                 "a value that holds a comma)")
            key = row[id_column].strip()  # 'a ' is 'a', as labels and headers are stripped
            if not key:  # else every row without an id made one sequence together
                raise ValueError(f"{where}: column {id_column!r} is empty; give every row the "
                                 "id of its sequence")
            label = (row.get(label_column) or "").strip()
            if labels.setdefault(key, label) != label and labelled:  # else not read
                raise ValueError(f"{where}: sequence {key!r} has label {label!r} here but"
                                 f" {labels[key]!r} before; one label per sequence")
            order = (_number(row[time_column], where, time_column, TIME_FIX) if time_column
                     else number)
            values = [_number(row[c] or "", where, c) for c in features]
            rows.setdefault(key, []).append((order, reader.line_num,
                                             row[time_column].strip() if time_column else "",
                                             values))
    if not rows:
        raise ValueError(f"{path} holds no rows")
    sequences = []
    for key, steps in rows.items():
        steps.sort(key=lambda step: (step[0], step[1]))
        repeated = [(a, b) for a, b in zip(steps, steps[1:], strict=False) if a[0] == b[0]]
        if repeated:  # two rows for one step: which comes first is a guess
            first, second = repeated[0]  # the step as written: 1420070401 was 1.42007e+09
            raise ValueError(f"{path}, lines {first[1]} and {second[1]}: sequence {key!r} has "
                             f"two rows at {time_column} {first[2]}; one row per time step")
        if labelled and not labels[key]:
            raise ValueError(f"{path}: sequence {key!r} has an empty label")
        matrix = np.asarray([step[3] for step in steps], dtype=np.float64)  # [T, F]
        sequences.append(NumericSequence(key, matrix, labels[key]))
    return sequences, features
