"""Readers and writers for CoNLL-U and IOB files: tiny fixtures, errors, and the real datasets."""

from __future__ import annotations

import gzip
import io
import re
from collections import Counter
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from helpers import SHARED_DATA

from rnnkit.data.conllu import read_conllu, write_conllu
from rnnkit.data.iob import read_iob, write_iob
from rnnkit.data.registry import get_spec
from rnnkit.data.tagged import DataFormatError, TaggedSentence, sentences_from_tokens
from rnnkit.data.tags import entity_types, is_valid_bio

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
UNER = ("# sent_id = a-1\n# text = Bob ran\n1\tBob\tB-PER\t-\tstephen\n2\tran\tO\t-\t-\n\n"
        "# sent_id = a-2\n1\tGo\tO\t-\t-\n2\t!\tO\n\n")
CONLL03 = ("-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n"
           "-DOCSTART- -X- -X- O\n\nPeter  NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n")
FLAVOURS: dict[str, tuple[str, dict[str, Any]]] = {
    "wnut": (WNUT, {}),
    "uner": (UNER, {"token_column": 2, "tag_column": 3}),
    "conll03": (CONLL03, {}),
}


def test_read_wnut_style_keeps_hashtags_and_tab_only_separators(tmp_path: Path) -> None:
    first, second = read_iob(write(tmp_path, WNUT))
    assert first.tokens == ["@user", "#NFL", "New York"] and first.tags[2] == "B-location"
    assert second.tokens == ["#fail", "now"] and second.first_line == 5
    assert read_iob(write(tmp_path, WNUT), comment_prefix=None)[0].tokens == first.tokens


def test_trailing_blanks_after_the_tag_are_not_part_of_it(tmp_path: Path) -> None:
    (sentence,) = read_iob(write(tmp_path, "Bob\tB-PER \nran\tO\t\n\n"))
    assert sentence.tokens == ["Bob", "ran"] and sentence.tags == ["B-PER", "O"]


@pytest.mark.parametrize("text, predicted", [
    ("Bob\tB-PER\t\nran\tO\n\n", "Bob\tO\t\nran\tB-LOC\n\n"),
    ("Bob\tB-PER \t\r\nran\tO  \r\n\r\n", "Bob\tO \t\r\nran\tB-LOC  \r\n\r\n"),
    ("EU NNP B-NP B-ORG\t\nrejects VBZ B-VP O \n\n",  # space-separated, a tab at the end
     "EU NNP B-NP O\t\nrejects VBZ B-VP B-LOC \n\n"),
])
def test_trailing_blanks_are_kept_and_the_tag_written_in_place(
    tmp_path: Path, text: str, predicted: str
) -> None:
    (sentence,) = read_iob(write(tmp_path, text))
    assert sentence.tags == ["B-PER" if "Bob" in text else "B-ORG", "O"]
    assert written(write_iob, [sentence]) == text  # the gold tags: byte for byte
    assert written(write_iob, [sentence], [["O", "B-LOC"]]) == predicted


def test_plain_tags_need_any_tag_and_the_error_says_how(tmp_path: Path) -> None:
    path = write(tmp_path, "The DET\ncat NOUN\n\n# a note\nHi INTJ\n\n")
    with pytest.raises(DataFormatError, match="data.scheme=none"):
        read_iob(path)
    bilou = write(tmp_path, "Ann B-PER\nLee L-PER\nran O\nhome U-LOC\n\n", "bilou.txt")
    with pytest.raises(DataFormatError, match=r"L-PER' is not .*U-X and L-X are BILOU tags, "
                       r"which BIOES writes S-X and E-X: rename them"):
        read_iob(bilou)  # set data.scheme=none scored its spans as plain tags, without F1
    first, second = read_iob(path, any_tag=True)
    assert first.tokens == ["The", "cat"] and first.tags == ["DET", "NOUN"]
    assert second.tokens == ["Hi"] and second.comments == ["# a note"]


@pytest.mark.parametrize("any_tag", [True, False])
@pytest.mark.parametrize("columns", [{}, {"token_column": 2, "tag_column": -1}])
def test_a_file_without_a_tag_column_is_refused(tmp_path: Path, any_tag: bool,
                                                columns: dict[str, int]) -> None:
    # with the default columns (first and last) a one-field line read its token as its tag,
    # and predict --format iob wrote the predicted tag over the token
    text = "The\ndog\n\nO\n\n" if not columns else "1\tThe\n2\tdog\n\n"
    with pytest.raises(DataFormatError, match=r":1: the token and tag columns are both field"):
        read_iob(write(tmp_path, text), any_tag=any_tag, **columns)


@pytest.mark.parametrize("separator", [";", ",", "|"])
def test_columns_separated_by_a_spreadsheet_s_separator_say_so(tmp_path: Path,
                                                              separator: str) -> None:
    # said "the token and tag columns are both field 1 of this line of 1 field(s):
    # ['Bob;B-PER']; a tag column is needed (any valid tag, e.g. O, for text to be tagged...)"
    text = f"Bob{separator}B-PER\nran{separator}O\n\n"
    with pytest.raises(DataFormatError, match=(
            f":1: this line is one field, 'Bob\\{separator}B-PER': its columns look separated "
            f"by '\\{separator}', but an iob file's are separated by tabs or spaces; save it so$")):
        read_iob(write(tmp_path, text))
    with pytest.raises(DataFormatError, match=":1: the token and tag columns are both field"):
        read_iob(write(tmp_path, f"a{separator}b\nran\n\n"))  # no tag after it: tokens only


def test_read_uner_and_conll03_styles(tmp_path: Path) -> None:
    first, second = read_iob(write(tmp_path, UNER), token_column=2, tag_column=3)
    assert first.tokens == ["Bob", "ran"] and first.tags == ["B-PER", "O"]
    assert first.comments == ["# sent_id = a-1", "# text = Bob ran"]
    assert second.tokens == ["Go", "!"]  # a 3-field line among 5-field ones, as upstream has
    eu, peter = read_iob(write(tmp_path, CONLL03))
    assert eu.tokens == ["EU", "rejects"] and eu.tags == ["B-ORG", "O"]
    assert peter.tokens == ["Peter", "Blackburn"] and peter.tags == ["B-PER", "I-PER"]
    assert peter.comments == []


def test_space_separated_token_lines_that_start_with_a_hash_are_tokens(tmp_path: Path) -> None:
    # PTB's "#" (pounds) and space-separated tweets' hashtags were read as comments: the
    # token and its tag were dropped without a word, and I-NP after it became B-NP
    text = ("# a comment\nHe PRP B-NP O\npaid VBD B-VP O\n# # B-NP O\n200 CD I-NP O\n\n"
            "#NFL NNP B-NP B-ORG\nwins VBZ B-VP O\n# a b c\n\n")
    first, second = read_iob(write(tmp_path, text))
    assert first.tokens == ["He", "paid", "#", "200"] and first.comments == ["# a comment"]
    assert second.tokens == ["#NFL", "wins"] and second.tags == ["B-ORG", "O"]
    assert second.comments == ["# a b c"]  # as many fields, but no tag last: a comment
    assert read_iob(write(tmp_path, text), tag_column=3)[0].tags == [
        "B-NP", "B-VP", "B-NP", "I-NP"]
    predicted = [["O", "O", "B-MONEY", "I-MONEY"], ["B-ORG", "O"]]
    assert written(write_iob, [first, second], predicted).splitlines()[3:5] == [
        "# # B-NP B-MONEY", "200 CD I-NP I-MONEY"]
    # on the file's first line, before any token line has given the field count, too
    again = read_iob(write(tmp_path, "#NFL B-ORG\nwins O\n\n#NFL B-ORG\nwins O\n"))
    assert [s.tokens for s in again] == [["#NFL", "wins"]] * 2
    assert [s.comments for s in again] == [[], []]
    first_line = read_iob(write(tmp_path, "# # B-NP O\n200 CD I-NP O\n"))[0]
    assert first_line.tokens == ["#", "200"] and first_line.comments == []
    assert read_iob(write(tmp_path, "# sent 1\nBob B-PER\n"))[0].comments == ["# sent 1"]


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_iob_gold_round_trip_is_byte_identical(tmp_path: Path, flavour: str, newline: str) -> None:
    text, options = FLAVOURS[flavour]
    text = text.replace("\n", newline)
    path = write(tmp_path, text)
    sentences = read_iob(path, **options)
    assert written(write_iob, sentences) == text
    write_iob(tmp_path / "out.txt", sentences)
    assert (tmp_path / "out.txt").read_bytes() == path.read_bytes()


def test_write_iob_replaces_only_the_tag(tmp_path: Path) -> None:
    sentences = read_iob(write(tmp_path, CONLL03))
    out = written(write_iob, sentences, [["S-X", "O"], ["O", "S-Y"]])
    assert out == (CONLL03.replace("EU NNP B-NP B-ORG", "EU NNP B-NP S-X")
                   .replace("Peter  NNP B-NP B-PER", "Peter  NNP B-NP O")
                   .replace("Blackburn NNP I-NP I-PER", "Blackburn NNP I-NP S-Y"))
    uner = read_iob(write(tmp_path, UNER), token_column=2, tag_column=3)
    assert "1\tBob\tB-LOC\t-\tstephen\n" in written(write_iob, uner, [["B-LOC", "O"], ["O"] * 2])
    with pytest.raises(ValueError, match="tag_column counts from 1"):
        written(write_iob, uner, None, tag_column=0)


def test_input_to_tag_may_hold_the_placeholder_but_no_other_tag(tmp_path: Path) -> None:
    path = write(tmp_path, "Bob\t_\nran\tO\n\n")
    assert read_iob(path, require_tags=False)[0].tags == ["_", "O"]
    with pytest.raises(DataFormatError, match="tag '_' is not O"):
        read_iob(path)
    with pytest.raises(DataFormatError, match="tag 'comment' is not O"):  # not read as a token
        read_iob(write(tmp_path, "# comment\nBob _\n\n"), comment_prefix=None,
                 require_tags=False)


@pytest.mark.parametrize("text, options, line, message", [
    ("a\tO\nb\tPER\n\n", {}, 2, "tag 'PER' is not O, B-X, I-X, E-X or S-X"),
    ("1\twhere\tO\t-\t-\n\n", {}, 1, "column 3 holds a tag: set data.tag_column=3 and "
     "data.token_column=2 (column 1 numbers the words)"),  # UNER's .iob2 layout
    ("where\tO\t-\n\n", {}, 1, "column 2 holds a tag: set data.tag_column=2;"),
    ("a\tO\nb\n\n", {}, 2, "1 field where the first token line has 2"),
    ("a\tO\nb\tO\n\n", {"token_column": 2, "tag_column": 3}, 1, "the token and tag columns need 3"),
    ("New York B-LOC\nis O\n\n", {}, 2, "2 fields where the first token line has 3"),
    ("a\tX\tO\nb\tO\n\n", {}, 2, "2 fields where the first token line has 3"),
    ("a\tO\n\tO\n\n", {}, 2, "empty token"),
    ("# a\n" + "\t".join(["1", "Hi", "hi", "INTJ"] + ["_"] * 6) + "\n\n", {"any_tag": True}, 2,
     "ten tab-separated fields with the ID 1 first: a CoNLL-U file"),  # read any tag: IDs, MISC
])
def test_malformed_iob_names_file_and_line(
    tmp_path: Path, text: str, options: dict, line: int, message: str
) -> None:
    path = write(tmp_path, text, "bad.iob")
    with pytest.raises(DataFormatError) as error:
        read_iob(path, **options)
    assert str(error.value).startswith(f"{path}:{line}: ") and message in str(error.value)


def test_iob_options_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="token_column counts from 1"):
        read_iob(write(tmp_path, WNUT), token_column=0)
    for text in ("", "\t\n\n", "-DOCSTART- -X- -X- O\n\n", "# comment\n"):
        with pytest.raises(DataFormatError, match="no sentences"):
            read_iob(write(tmp_path, text, "empty.iob"))
    tokens = read_iob(write(tmp_path, "# x\tB-PER\nb\tI-PER\n\n"), comment_prefix="#")[0].tokens
    assert tokens == ["# x", "b"]  # a tab-separated line that reads as a token line is one


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


def test_sentences_from_tokens_write_as_two_columns() -> None:
    sentences = sentences_from_tokens([["Hi", "New York"], ["!"]])
    assert [s.tags for s in sentences] == [[], []] and sentences[1].first_line == 4
    out = written(write_iob, sentences, [["O", "B-LOC"], ["O"]])
    assert out == "Hi\tO\nNew York\tB-LOC\n\n!\tO\n\n"
    with pytest.raises(ValueError, match="holds a tab or line break"):
        sentences_from_tokens([["a\tb"]])
    with pytest.raises(ValueError, match="1 tokens but 2 tags"):
        TaggedSentence(["a"], ["O", "O"])


# ---- the real datasets ----------------------------------------------------------------------

@cache
def real(name: str, split: str) -> tuple[Path, list[TaggedSentence]]:
    spec = get_spec(name)
    path = DATA / spec.mirror_dir / spec.split_files(split)[0].filename
    reader = read_conllu if spec.format == "conllu" else read_iob
    return path, reader(path, **spec.reader_options)


SIZES = {  # sentences, words: the README's counts; UNER's word counts from its .stats files
    ("ud_english_ewt", "train"): (12_544, 204_577), ("ud_english_ewt", "dev"): (2_001, 25_147),
    ("ud_english_ewt", "test"): (2_077, 25_094),
    ("uner_english_ewt", "train"): (12_543, 204_579), ("uner_english_ewt", "dev"): (2_001, 25_149),
    ("uner_english_ewt", "test"): (2_077, 25_097),
    ("wnut17", "train"): (3_394, 62_730), ("wnut17", "dev"): (1_009, 15_733),
    ("wnut17", "test"): (1_287, 23_394),
}


@needs_data
@pytest.mark.parametrize("name, split", sorted(SIZES))
def test_real_sizes_and_byte_identical_round_trip(name: str, split: str) -> None:
    path, sentences = real(name, split)
    assert (len(sentences), sum(len(s) for s in sentences)) == SIZES[name, split]
    spec = get_spec(name)
    if spec.format == "conllu":
        out = written(write_conllu, sentences, None, **spec.reader_options)
    else:
        out = written(write_iob, sentences)
        assert all(is_valid_bio(s.tags) for s in sentences)
    assert out.encode("utf-8") == path.read_bytes()


@needs_data
def test_real_tag_sets() -> None:
    upos = Counter(tag for s in real("ud_english_ewt", "train")[1] for tag in s.tags)
    assert len(upos) == 17 and {"NOUN", "VERB", "PROPN", "X"} <= set(upos)
    for name, types in (("uner_english_ewt", ["LOC", "ORG", "PER"]),
                        ("wnut17", ["corporation", "creative-work", "group", "location",
                                    "person", "product"])):
        tags = {tag for s in real(name, "train")[1] for tag in s.tags}
        assert entity_types(sorted(tags)) == types
    begins = Counter(t for s in real("uner_english_ewt", "train")[1] for t in s.tags if t[0] == "B")
    assert begins == {"B-PER": 2_873, "B-LOC": 2_698, "B-ORG": 1_434}  # the README's counts
    hashtags = sum(t.startswith("#") for s in real("wnut17", "train")[1] for t in s.tokens)
    assert hashtags == 828  # tokens, not comments


@needs_data
def test_uner_train_lacks_one_ud_sentence() -> None:
    """UNER was annotated on an older EWT: one train sentence fewer, a few retokenized."""
    def ids(name: str, split: str) -> list[str]:
        return [c.split("=", 1)[1].strip() for s in real(name, split)[1]
                for c in s.comments if c.startswith("# sent_id")]

    assert set(ids("ud_english_ewt", "train")) - set(ids("uner_english_ewt", "train")) == {
        "reviews-275919-0013"}
    assert set(ids("ud_english_ewt", "dev")) == set(ids("uner_english_ewt", "dev"))


@pytest.mark.parametrize("text", [
    "word " * 20000 + "\n",  # a paragraph a line: a text file read as IOB
    "Bob\tB-PER\n" + "word " * 20000 + "\n",  # a line of other fields than the first's
    "Bob\t" + "X" * 100000 + "\n",  # a long tag
])
def test_an_iob_error_quotes_at_most_a_short_piece_of_a_long_line(tmp_path: Path,
                                                                  text: str) -> None:
    """The IOB reader's errors quoted the whole line's fields: a text file of paragraphs
    read as IOB (predict's default for a tagger trained on IOB) printed 100 kB or more."""
    with pytest.raises(DataFormatError) as error:
        read_iob(write(tmp_path, text))
    assert len(str(error.value)) < 700 and "..." in str(error.value)


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
    (gzip.compress(b"w\tO\n"), "not UTF-8 text: it is gzipped but not named .gz; rename it "
                               "t.iob.gz"),
    ("w\tO\n".encode("utf-16"), "not UTF-8 text: it is UTF-16 text (it starts with a UTF-16 "
                                "byte-order mark); save it as UTF-8"),
    (b"PK\x03\x04\x14\x00\x08\x00\xff\xfe", "not UTF-8 text: it is a zip archive; unzip it"),
])
def test_a_file_not_utf8_says_what_it_is(tmp_path: Path, data: bytes, said: str) -> None:
    # 'save the file as UTF-8' was the advice for a gzipped file too
    (tmp_path / "t.iob").write_bytes(data)
    with pytest.raises(DataFormatError, match=re.escape(f"t.iob:1: {said}")):
        read_iob(tmp_path / "t.iob")
