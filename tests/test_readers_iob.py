"""IOB files (WNUT-17, UNER, CoNLL-2003 styles): reading, writing the predicted tags in place,
and the errors that name the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_readers import CONLL03, WNUT, write, written

from rnnkit.data.iob import read_iob, write_iob
from rnnkit.data.tagged import DataFormatError, TaggedSentence, sentences_from_tokens

UNER = ("# sent_id = a-1\n# text = Bob ran\n1\tBob\tB-PER\t-\tstephen\n2\tran\tO\t-\t-\n\n"
        "# sent_id = a-2\n1\tGo\tO\t-\t-\n2\t!\tO\n\n")
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


def test_sentences_from_tokens_write_as_two_columns() -> None:
    sentences = sentences_from_tokens([["Hi", "New York"], ["!"]])
    assert [s.tags for s in sentences] == [[], []] and sentences[1].first_line == 4
    out = written(write_iob, sentences, [["O", "B-LOC"], ["O"]])
    assert out == "Hi\tO\nNew York\tB-LOC\n\n!\tO\n\n"
    with pytest.raises(ValueError, match="holds a tab or line break"):
        sentences_from_tokens([["a\tb"]])
    with pytest.raises(ValueError, match="1 tokens but 2 tags"):
        TaggedSentence(["a"], ["O", "O"])


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
