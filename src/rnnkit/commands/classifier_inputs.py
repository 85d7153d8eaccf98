"""What ``rnnkit predict`` (and ``rnnkit.predict``) reads to classify: the texts of a text
classifier, the sequences of a numeric one, and the field names of the model that ``evaluate``
and ``predict`` read a file with."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def numeric_examples(path: str | Path, settings: dict[str, Any]) -> tuple[list[Any], list[str]]:
    """The sequences of the long CSV at ``path`` to classify, and their ids, read with the
    model's data settings (``settings``: its id, time, label and feature columns)."""
    from rnnkit.data.numeric_sequences import read_numeric_sequences

    with fields_of_the_model():
        examples, _ = read_numeric_sequences(
            path, settings["id_column"], settings["time_column"],
            settings["label_field"],
            [c.strip() for c in settings["feature_columns"].split(",") if c.strip()] or None,
            labelled=False)
    return examples, [e.id for e in examples]


def text_examples(numbered: list[tuple[int, str]], settings: dict[str, Any],
                  where: str = "") -> list[Any]:
    """The texts to classify, each ``(number, line)``, as the model's examples: prepared as
    its training texts were (``settings``: its data settings); a tree, a text of no words or
    one too long is refused, named ``{where}line {number}``."""
    from rnnkit.data.text_labels import LabelledText, check_text_length, prepare_tokens

    examples = []
    for number, line in numbered:
        _refuse_a_tree(line, number)
        tokens = prepare_tokens(line, settings["lowercase"], settings["max_tokens"],
                                settings["truncate"])
        if not tokens:
            raise ValueError(f"line {number} has no words to classify: {line.strip()!r}")
        check_text_length(tokens, f"{where}line {number}")
        examples.append(LabelledText(tuple(tokens), ()))
    return examples


def _refuse_a_tree(line: str, number: int) -> None:
    """A line that is a whole SST tree is no text to classify: read as one, its brackets and
    node labels became words, and the label was given without a word of warning."""
    from rnnkit.data.sst import is_tree_line

    if not is_tree_line(line):  # brackets within a text, '(4 out of 5)', are text
        return
    raise ValueError(f"line {number} is an SST tree, not a text: rnnkit predict reads one "
                     "plain text a line; give the sentences as text, or score a file of trees "
                     "with rnnkit evaluate --model M --data FILE")


def structured(path: str) -> bool:
    """A CSV, TSV or JSONL file (by its name), read by its text field, not line by line."""
    return str(path).lower().removesuffix(".gz").endswith((".csv", ".tsv", ".jsonl", ".json"))


@contextlib.contextmanager
def fields_of_the_model() -> Iterator[None]:
    """``evaluate`` and ``predict`` read the field names the model trained with and take no
    ``--set``: a missing field's error says to rename the file's fields instead, and a
    feature that is no number to fix the value (not to leave the column out of
    data.feature_columns: the model reads every column it was trained on), and a step that is
    no number to number it (not to set data.time_column)."""
    from rnnkit.data.numeric_sequences import COLUMNS_HINT, FEATURE_FIX, TIME_FIX
    from rnnkit.data.text_labels import FIELDS_HINT

    try:
        yield
    except ValueError as error:
        message = str(error)
        if not any(hint in message for hint in (FIELDS_HINT, COLUMNS_HINT, FEATURE_FIX,
                                                 TIME_FIX)):
            raise
        raise ValueError(message.replace(
            FIELDS_HINT, "the model reads the field names it was trained with: rename the "
            "file's columns (or JSON keys) to them").replace(
            COLUMNS_HINT, "the model reads the column names it was trained with: rename the "
            "file's columns to them").replace(
            FEATURE_FIX, "the model reads this column as one of its inputs, a number: fix "
            "the value").replace(
            TIME_FIX, "the model orders each sequence's steps by this column, a number: give "
            "each row its step number (0, 1, 2...)")) from None
