"""A TSV is read with a CSV writer's quoting only where the whole file is consistent with it."""
from __future__ import annotations

import csv
from pathlib import Path

from rnnkit.data.text_labels import read_labelled_texts
from rnnkit.data.tsv_quoting import writer_quoted


def _read(path: Path, text: str) -> list[tuple[str, tuple[str, ...]]]:
    path.write_text(text)
    return [(" ".join(e.tokens), e.labels) for e in read_labelled_texts(path, lowercase=False)]


def test_glue_rows_with_stray_quotes_are_not_merged(tmp_path: Path) -> None:
    """A quote opening one GLUE row's text and one closing a later row's read as one quoted
    field across two line breaks: three examples became one, without a word."""
    text = 'text\tlabel\n"I loved it\t1\nbad film\t0\nso much"\t1\n'
    assert _read(tmp_path / "glue.tsv", text) == [
        ('" I loved it', ("1",)), ("bad film", ("0",)), ('so much "', ("1",))]
    assert not writer_quoted(text)


def test_a_quote_outside_a_quoted_field_is_glue_text(tmp_path: Path) -> None:
    """A writer quotes every field holding a quote: a file with 'he said "hi" there' was not
    written by one, so its doubled quotes are the text's own too."""
    text = 'text\tlabel\n"a ""quoted"" word"\t1\nhe said "hi" there\t0\n'
    assert _read(tmp_path / "glue.tsv", text) == [
        ('" a " " quoted " " word "', ("1",)), ('he said " hi " there', ("0",))]


def test_a_writer_quoted_tsv_is_still_read_as_the_writer_meant(tmp_path: Path) -> None:
    path = tmp_path / "pandas.tsv"
    rows = [('He said "wow", then left.', "pos"), ("first line\nsecond line", "neg"),
            ("a tab\tinside", "pos"), ("plain", "neg")]
    with path.open("w", newline="") as file:  # as pandas' to_csv(sep="\t") writes it
        csv.writer(file, delimiter="\t", lineterminator="\n").writerows([("text", "label"), *rows])
    assert writer_quoted(path.read_text())
    examples = read_labelled_texts(path, lowercase=False)
    assert [e.labels for e in examples] == [(label,) for _, label in rows]
    assert examples[0].tokens[:3] == ("He", "said", '"') and examples[2].tokens == (
        "a", "tab", "inside")
