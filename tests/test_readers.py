"""Readers and writers for CoNLL-U files, and the errors of files of either format (encodings,
line endings, missing blank lines), with the tiny fixtures test_readers_iob.py and
test_readers_real.py import."""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import SHARED_DATA

from rnnkit.data.conllu import read_conllu, write_conllu
from rnnkit.data.iob import read_iob
from rnnkit.data.tagged import DataFormatError, TaggedSentence, sentences_from_tokens

DATA = SHARED_DATA
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"real datasets not found at {DATA}")


def word(id_: str, form: str, upos: str, xpos: str = "X") -> str:
    return f"{id_}\t{form}\t{form.lower()}\t{upos}\t{xpos}\t_\t0\tdep\t_\t_\n"


CONLLU = (
    "# newdoc id = d1\n# sent_id = s1\n# text = Don't go\n"
    + word("1-2", "Don't", "_", "_") + word("1", "Do", "AUX", "VBP")
    + word("2", "n't", "PART", "RB") + word("3", "go", "VERB", "VB") + "\n"
    + "# sent_id = s2\n" + word("1", "Hi", "INTJ", "UH") + word("1.1", "ghost", "_", "_")
    + word("2", "!", "PUNCT", ".") + "\n"
)


def write(tmp_path: Path, text: str, name: str = "data.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def written(
    write_function: Callable[..., None], sentences: list[TaggedSentence], *args: Any,
    **options: Any,
) -> str:
    stream = io.StringIO()
    write_function(stream, sentences, *args, **options)
    return stream.getvalue()


# ---- CoNLL-U --------------------------------------------------------------------------------

def test_read_conllu_skips_multiword_tokens_and_empty_nodes(tmp_path: Path) -> None:
    path = write(tmp_path, CONLLU, "tiny.conllu")
    first, second = read_conllu(path)
    assert first.tokens == ["Do", "n't", "go"] and first.tags == ["AUX", "PART", "VERB"]
    assert first.comments == ["# newdoc id = d1", "# sent_id = s1", "# text = Don't go"]
    assert [first.line_number(i) for i in range(3)] == [5, 6, 7]
    assert second.tokens == ["Hi", "!"] and second.first_line == 9 and second.line_number(1) == 12
    assert second.source == str(path)
    assert read_conllu(path, column="xpos")[0].tags == ["VBP", "RB", "VB"]


@pytest.mark.parametrize("variant", ["plain", "crlf", "no final newline", "byte-order mark",
                                     "extra blank lines"])
def test_conllu_gold_round_trip_is_byte_identical(tmp_path: Path, variant: str) -> None:
    text = {"plain": CONLLU, "crlf": CONLLU.replace("\n", "\r\n"),
            "no final newline": CONLLU.rstrip("\n"), "byte-order mark": "\ufeff" + CONLLU,
            "extra blank lines": "\n" + CONLLU.replace("\n\n", "\n\n\n") + "\n"}[variant]
    path = write(tmp_path, text, "tiny.conllu")
    for column in ("upos", "xpos"):
        sentences = read_conllu(path, column)
        assert written(write_conllu, sentences, None, column=column) == text
        write_conllu(tmp_path / "out.conllu", sentences, column=column)
        assert (tmp_path / "out.conllu").read_bytes() == path.read_bytes()


def test_write_conllu_replaces_only_the_chosen_column(tmp_path: Path) -> None:
    sentences = read_conllu(write(tmp_path, CONLLU, "tiny.conllu"))
    predictions = [["X"] * len(s) for s in sentences]
    out = written(write_conllu, sentences, predictions, column="xpos").splitlines()
    changed = [(a, b) for a, b in zip(CONLLU.splitlines(), out, strict=True) if a != b]
    assert len(changed) == 5  # the five words; comments, 1-2 and 1.1 untouched
    for before, after in changed:
        old, new = before.split("\t"), after.split("\t")
        assert new[4] == "X" and old[:4] + old[5:] == new[:4] + new[5:]


@pytest.mark.parametrize("bad_line, message", [
    ("1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\n", "expected 10 tab-separated fields, found 9"),
    ("John\tB-PER\n", "found 2 (an IOB file of token and tag columns? give --format iob)"),
    ("1 Hi hi INTJ UH _ 0 root _ _\n", "fields must be separated by tabs"),
    # CoNLL-2003 and UNER lines: 'fields must be separated by tabs', and no hint for UNER's
    ("EU NNP B-NP B-ORG\n", "found 1 (an IOB file of token and tag columns? give --format iob)"),
    ("-DOCSTART- -X- -X- O\n", "found 1 (an IOB file of token and tag columns? give --format "),
    ("1\tBob\tB-PER\t-\t-\n", "found 5 (an IOB file of token and tag columns? give --format "),
    ("one\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n", "ID 'one' is not a number"),
    ("\u00b2\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n", "ID '\u00b2' is not a number"),
    ("1\tHi\thi\t\tUH\t_\t0\troot\t_\t_\n", "no UPOS tag ('') for word 'Hi'"),
    ("1\tHi\thi\t_\tUH\t_\t0\troot\t_\t_\n", "no UPOS tag ('_') for word 'Hi'"),
    ("2\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n", "ID 2 out of order: expected 1"),
    ("1\t\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n", "empty FORM field"),
])
def test_malformed_conllu_names_file_and_line(tmp_path: Path, bad_line: str, message: str) -> None:
    path = write(tmp_path, "# sent_id = x\n" + bad_line + "\n", "bad.conllu")
    with pytest.raises(DataFormatError) as error:
        read_conllu(path)
    assert str(error.value).startswith(f"{path}:2: ") and message in str(error.value)
    assert error.value.line == 2 and isinstance(error.value, ValueError)


def test_conllu_missing_blank_line_and_empty_files(tmp_path: Path) -> None:
    joined = write(tmp_path, CONLLU.replace("\n\n# sent_id = s2", "\n# sent_id = s2"), "a.conllu")
    with pytest.raises(DataFormatError, match=r"a.conllu:9: .*a missing blank line"):
        read_conllu(joined)
    for text in ("", "\n\n", "# only a comment\n"):
        with pytest.raises(DataFormatError, match="no sentences"):
            read_conllu(write(tmp_path, text, "empty.conllu"))
    with pytest.raises(ValueError, match="data.column must be one of upos, xpos .*; got 'lemma'"):
        read_conllu(joined, column="lemma")


def test_write_checks_the_predictions(tmp_path: Path) -> None:
    sentences = read_conllu(write(tmp_path, CONLLU, "tiny.conllu"))
    with pytest.raises(ValueError, match="2 sentences but 1 tag sequences"):
        written(write_conllu, sentences, [["X"] * 3])
    with pytest.raises(ValueError, match=r"tiny.conllu:9 has 2 tokens but 1 tags"):
        written(write_conllu, sentences, [["X"] * 3, ["X"]])
    with pytest.raises(ValueError, match="holds whitespace"):
        written(write_conllu, sentences, [["X"] * 3, ["X", "A B"]])
    with pytest.raises(ValueError, match="write it with write_iob"):
        written(write_conllu, sentences_from_tokens([["a"]]), [["X"]])


def test_a_write_that_fails_half_way_keeps_the_old_file(tmp_path: Path) -> None:
    """Predictions were written in place: an error at the second sentence left the first."""
    sentences = [*read_conllu(write(tmp_path, CONLLU, "tiny.conllu")),
                 *sentences_from_tokens([["a"]])]  # read from no CoNLL-U file: refused
    out = tmp_path / "out.conllu"
    out.write_text("the old predictions\n")
    with pytest.raises(ValueError, match="write it with write_iob"):
        write_conllu(out, sentences, [["X"] * 3, ["X", "X"], ["X"]])
    assert out.read_text() == "the old predictions\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.conllu", "tiny.conllu"]


# ---- IOB ------------------------------------------------------------------------------------

WNUT = "@user\tO\n#NFL\tO\nNew York\tB-location\n\t\n#fail\tO\nnow\tO\n\n"
CONLL03 = ("-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n"
           "-DOCSTART- -X- -X- O\n\nPeter  NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n")


@pytest.mark.parametrize("reader, text", [
    (read_conllu, CONLLU), (read_iob, WNUT), (read_iob, CONLL03.replace("\n", "\r\n"))])
def test_a_file_that_is_not_utf8_names_the_file_and_line(
    tmp_path: Path, reader: Callable[..., list[TaggedSentence]], text: str
) -> None:
    lines = text.encode("utf-8").split(b"\n")
    lines[2] = b"\xd6" + lines[2]  # Latin-1 for Ö, say
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(DataFormatError) as error:
        reader(path)
    assert str(error.value).startswith(f"{path}:3: not UTF-8 text (")
    assert "save the file as UTF-8" in str(error.value) and error.value.line == 3


def test_a_latin1_or_windows_1252_file_is_told_as_such(tmp_path: Path) -> None:
    """A Latin-1 (or Windows-1252: a spreadsheet's "Text" export) file was refused as 'not
    UTF-8 text (invalid continuation byte at byte 16: b'\\xe9 d\\xe9'); save the file as UTF-8,
    or check that it is the text file you meant': which encoding it is, how to convert it, and
    what the bytes were, the user had to find out. Bytes no such text holds keep that advice."""
    from rnnkit.data.text_labels import read_labelled_texts

    path = tmp_path / "reviews.csv"
    path.write_bytes("text,label\nok,pos\nCafé déjà vu, “great”,pos\n".encode("cp1252"))
    with pytest.raises(DataFormatError) as error:
        read_labelled_texts(path)
    assert str(error.value) == (
        f"{path}:3: not UTF-8 text (invalid continuation byte at byte 21: b'\\xe9 d\\xe9'); it "
        "reads as Windows-1252 (Latin-1) text, 'Café déjà vu, “great”,pos' there: save the "
        f"file as UTF-8 (iconv -f cp1252 -t utf-8 {path} > {tmp_path / 'reviews.utf8.csv'})")
    path.write_bytes(b"Bob\tB-PER\n\x00\xe9\tO\n")  # a NUL: no text of any encoding
    with pytest.raises(DataFormatError, match=r"save the file as UTF-8, or check that it is "):
        read_iob(path)


@pytest.mark.parametrize("reader, text", [
    (read_conllu, CONLLU), (read_iob, WNUT), (read_iob, CONLL03),
    (read_iob, "Bob\tB-PER\nran\tO\nfast\tO\n\nAnn\tB-PER\n")])
def test_old_mac_line_endings_are_refused_with_a_hint(
    tmp_path: Path, reader: Callable[..., list[TaggedSentence]], text: str
) -> None:
    path = write(tmp_path, text.replace("\n", "\r"), "mac.txt")
    with pytest.raises(DataFormatError, match=r"mac.txt:1: a carriage return \(\\r\) within "
                                              r"the line.*convert it to \\n \(LF\) line endings"):
        reader(path)
    stray = text.replace("\n", "\r\n").split("\r\n")
    stray[2] = stray[2][:2] + "\r" + stray[2][2:]  # CRLF endings, and a stray \r on line 3
    with pytest.raises(DataFormatError, match=r"mac.txt:3: a carriage return"):
        reader(write(tmp_path, "\r\n".join(stray), "mac.txt"))


@pytest.mark.parametrize("fmt", ["iob", "conllu"])
def test_a_file_without_blank_lines_between_sentences_is_refused(tmp_path: Path,
                                                                 fmt: str) -> None:
    # read as one sentence of every token: 62,730 tokens of WNUT-17 took 2.6 GB to tag
    def sentence(length: int) -> str:
        return "# a comment\n" + ("".join(f"{i + 1}\tw\tw\tX\t_\t_\t0\troot\t_\t_\n"
                                          for i in range(length))
                                  if fmt == "conllu" else "w\tO\n" * length)

    path = tmp_path / f"flat.{fmt}"
    read = read_conllu if fmt == "conllu" else read_iob
    path.write_text(sentence(10_001))
    with pytest.raises(DataFormatError, match=f"flat.{fmt}:1: a sentence of 10,001 tokens, "
                                              r"more than one sentence may hold \(10,000\); a "
                                              "file needs a blank line after each sentence"):
        read(path)
    path.write_text(sentence(10_000))
    assert [len(sentence) for sentence in read(path)] == [10_000]


@pytest.mark.parametrize(("data", "said"), [
    (gzip.compress(b"w\tO\n", mtime=0),
     "not UTF-8 text: it is gzipped but not named .gz; rename it t.iob.gz"),
    ("w\tO\n".encode("utf-16"), "not UTF-8 text: it is UTF-16 text (it starts with a UTF-16 "
                                "byte-order mark); save it as UTF-8"),
    (b"PK\x03\x04\x14\x00\x08\x00\xff\xfe", "not UTF-8 text: it is a zip archive; unzip it"),
])
def test_a_file_not_utf8_says_what_it_is(tmp_path: Path, data: bytes, said: str) -> None:
    # 'save the file as UTF-8' was the advice for a gzipped file too
    (tmp_path / "t.iob").write_bytes(data)
    with pytest.raises(DataFormatError, match=re.escape(f"t.iob:1: {said}")):
        read_iob(tmp_path / "t.iob")
