"""Word embeddings: the corpora word2vec reads (rnnkit.embeddings corpus readers)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from test_vector_files import write_compressed

import rnnkit.cli
from rnnkit.embeddings import (
    ConlluCorpus,
    JsonlCorpus,
    TextCorpus,
    TokenizedCorpus,
    load_vectors,
    open_corpus,
    tokenize,
    train_word2vec,
)

# corpora -----------------------------------------------------------------------------------


def test_tokenize_splits_words_punctuation_and_clitics() -> None:
    assert tokenize("Well-known film; I can't say it's bad (8/10).") == [
        "Well-known", "film", ";", "I", "ca", "n't", "say", "it", "'s", "bad", "(", "8", "/",
        "10", ")", ".",
    ]


def test_corpus_readers_stream_the_same_sentences_on_every_pass(tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text("One line.\n\n  \nTwo, lines!\n", encoding="utf-8")
    reviews = tmp_path / "r.jsonl.gz"
    with gzip.open(reviews, "wt", encoding="utf-8") as file:
        file.write(json.dumps({"text": "Fine.<br /><br />Really<BR>fine", "label": 1}) + "\n")
        file.write("\n" + json.dumps({"text": "Bad"}) + "\n")
    treebank = tmp_path / "t.conllu"
    rows = [["1-2", "Don't"], ["1", "Do"], ["2", "n't"], ["2.1", "x"], ["3", "go"]]
    lines = ["# text = Don't go"] + ["\t".join([i, form, "_", "X"] + ["_"] * 6) for i, form in rows]
    treebank.write_text("\n".join(lines) + "\n\n" + "\t".join(["1", "Hi", "_", "X"] + ["_"] * 6))

    corpora = {
        "text": (TextCorpus(text), [["One", "line", "."], ["Two", ",", "lines", "!"]]),
        "jsonl": (JsonlCorpus([reviews]), [["Fine", ".", "Really", "fine"], ["Bad"]]),
        "conllu": (ConlluCorpus(treebank), [["Do", "n't", "go"], ["Hi"]]),
        "tokens": (TokenizedCorpus([["a"], ("b", "c")]), [["a"], ["b", "c"]]),
    }
    for name, (corpus, expected) in corpora.items():
        assert list(corpus) == expected, name
        assert list(corpus) == expected, f"{name}, second pass"


def test_a_byte_order_mark_is_not_a_word_of_a_text_or_jsonl_corpus(tmp_path: Path) -> None:
    """A corpus saved with a BOM (Notepad's UTF-8) gave word2vec a word '\ufeff' of its own,
    a JSON-lines one failed to parse its first line; the mark is now dropped."""
    text, lines = tmp_path / "a.txt", tmp_path / "a.jsonl"
    text.write_bytes(b"\xef\xbb\xbfThe cat .\nA dog\n")
    lines.write_bytes(b'\xef\xbb\xbf{"text": "Great film"}\n')
    assert list(TextCorpus(text)) == [["The", "cat", "."], ["A", "dog"]]
    assert list(JsonlCorpus(lines)) == [["Great", "film"]]


def test_a_gzipped_conllu_corpus_reads_as_the_plain_file(tmp_path: Path) -> None:
    """--corpus t.conllu.gz ('.gz is fine') was refused as 'not UTF-8 text': the CoNLL-U
    reader read the compressed bytes."""
    row = "\t".join(["1", "Hi", "_", "X"] + ["_"] * 6) + "\n\n"
    packed = tmp_path / "t.conllu.gz"
    packed.write_bytes(gzip.compress(row.encode()))
    assert list(open_corpus(packed)) == [["Hi"]]
    fake = tmp_path / "plain.conllu.gz"
    fake.write_text(row)
    with pytest.raises(ValueError, match="plain.conllu.gz: not gzip data"):
        open_corpus(fake)


def test_a_wnut_style_conll_file_is_a_corpus_of_its_token_column(tmp_path: Path) -> None:
    """.conll was always read as CoNLL-U: WNUT-17's token<TAB>tag files failed with 'give
    --format iob', a format word2vec did not take, and --format text trained the tags as words
    and every line as a sentence."""
    wnut = tmp_path / "wnut17train.conll"
    wnut.write_text("#NFL\tB-group\nrocks\tO\n\t\nHi\tO\n")
    treebank = tmp_path / "t.conll"  # CoNLL-X: ten columns, as CoNLL-U
    treebank.write_text("\t".join(["1", "Hi", "hi", "INTJ"] + ["_"] * 6) + "\n\n")
    assert list(open_corpus(wnut)) == [["#NFL", "rocks"], ["Hi"]]
    assert list(open_corpus(treebank)) == [["Hi"]]
    out = tmp_path / "v.txt"
    assert rnnkit.cli.main(["word2vec", "train", "--corpus", str(wnut), "--format", "iob",
                            "--out", str(out), "--min-count", "1", "--dim", "4", "--epochs",
                            "1", "--workers", "1", "--no-progress"]) == 0
    assert sorted(load_vectors(out).index_to_key) == ["#NFL", "Hi", "rocks"]


def test_a_uner_style_iob2_file_is_a_corpus_of_its_token_column(tmp_path: Path) -> None:
    """UNER's en_ewt-ud-dev.iob2 read as text (its numbers, tags and dashes trained as words),
    and with --format iob gave the word numbers 1, 2, 3 ... as the sentences' words."""
    uner = tmp_path / "en_ewt-ud-dev.iob2"
    uner.write_text("# text = Bob ran\n1\tBob\tB-PER\t-\t-\n2\tran\tO\t-\t-\n\n"
                    "# text = Hi\n1\tHi\tO\t-\tstephen\n")
    for format in (None, "iob"):
        assert list(open_corpus(uner, format)) == [["Bob", "ran"], ["Hi"]]
    numbers = tmp_path / "scores.conll"  # a first column of words that are numbers stays
    numbers.write_text("1\tO\n7\tO\n\n1\tO\n")
    assert list(open_corpus(numbers)) == [["1", "7"], ["1"]]


def test_an_sst_tree_file_is_a_corpus_of_its_words(tmp_path: Path) -> None:
    """SST's train.txt was read as text: every bracket and sentiment label (1 123 644 tokens,
    '(' and '2' the most frequent) was trained as a word beside the 163 563 words."""
    trees = tmp_path / "train.txt"
    trees.write_text("(3 (2 (2 The) (2 Rock)) (4 (2 -LRB-) (4 rocks)))\n\n(1 (2 It) (1 bad))\n")
    expected = [["The", "Rock", "(", "rocks"], ["It", "bad"]]
    for format in (None, "sst"):
        assert list(open_corpus(trees, format)) == expected
    assert list(open_corpus(trees, "text"))[0][:3] == ["(", "3", "("]  # as asked
    prose = tmp_path / "prose.txt"
    prose.write_text("(1 (see below) is fine\nno tree\n")
    assert list(open_corpus(prose))[0] == ["(", "1", "(", "see", "below", ")", "is", "fine"]
    broken = tmp_path / "broken.txt"
    broken.write_text("(3 (2 It) (4 good))\nplain words\n")
    with pytest.raises(ValueError, match=r"broken.txt, line 2: text outside .*format text"):
        open_corpus(broken)


def test_a_token_and_tag_file_of_another_name_is_read_as_iob(tmp_path: Path) -> None:
    """WNUT-17's test file, emerging.test.annotated, was read as text: its tags (O, B-person)
    were trained as words, one a sentence with each token."""
    wnut = tmp_path / "emerging.test.annotated"
    wnut.write_text("&\tO\nThe\tO\nBob\tB-person\n\t\nHi\tO\n")
    assert list(open_corpus(wnut)) == [["&", "The", "Bob"], ["Hi"]]
    prose = tmp_path / "notes.txt"  # a tab in a text line is not a tag column
    prose.write_text("Total:\t42 items\nO\n")
    assert list(open_corpus(prose)) == [["Total", ":", "42", "items"], ["O"]]


def test_corpus_files_whose_names_read_as_two_formats_are_refused(tmp_path: Path) -> None:
    """Every file was read in the format of the first name: a treebank after a .txt gave its
    ID, lemma and tag columns to word2vec as words."""
    text, treebank = tmp_path / "a.txt", tmp_path / "t.conllu"
    text.write_text("Hi there\n")
    treebank.write_text("\t".join(["1", "Hi", "hi", "INTJ"] + ["_"] * 6) + "\n\n")
    with pytest.raises(ValueError, match=r"a.txt reads as text, .*t.conllu as conllu"):
        open_corpus([text, treebank])
    assert list(open_corpus([text, treebank], "text"))[0] == ["Hi", "there"]  # as asked


@pytest.mark.parametrize("name", ["reviews.csv", "reviews.tsv.gz"])
def test_a_table_as_a_corpus_is_refused_unless_read_as_text(tmp_path: Path, name: str) -> None:
    """A CSV of texts and labels was read as text in silence: its header and its label column
    became words (``text``, ``label``, ``1``) in every sentence's context."""
    table = tmp_path / name
    content = "text,label\ngood film,1\nbad film,0\n"
    if name.endswith(".gz"):
        table.write_bytes(gzip.compress(content.replace(",", "\t").encode()))
    else:
        table.write_text(content)
    with pytest.raises(ValueError, match=rf"{name} is a table \(\.[ct]sv\), and a corpus is read "
                       "as text, JSON lines, CoNLL-U, iob or SST trees: a table read as text "
                       "gives its header and every column as words"):
        open_corpus(table)
    assert len(list(open_corpus(table, "text"))) == 3  # as asked


def test_corpus_errors_name_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"body": "no text"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl, line 2: expected a JSON object"):
        list(JsonlCorpus(bad))
    with pytest.raises(ValueError, match="does not exist"):
        list(TextCorpus(tmp_path / "missing.txt"))
    with pytest.raises(ValueError, match=r"is a folder; give the files in it"):
        list(TextCorpus(tmp_path))
    mac = tmp_path / "mac.txt"
    mac.write_bytes(b"One line.\rTwo, lines!\r\nThree\n")  # old Mac, Windows, Unix endings
    assert list(TextCorpus(mac)) == [["One", "line", "."], ["Two", ",", "lines", "!"],
                                     ["Three"]]
    latin = tmp_path / "latin.jsonl.gz"
    with gzip.open(latin, "wb") as file:
        file.write('{"text": "ok"}\n{"text": "Café au lait"}\n'.encode("latin-1"))
    for corpus in (TextCorpus(latin), JsonlCorpus(latin)):
        with pytest.raises(ValueError, match=r"latin.jsonl.gz, line 2: not UTF-8 text"):
            list(corpus)
    with pytest.raises(ValueError, match="list of tokens, got the string"):
        list(TokenizedCorpus(["not tokenized"]))
    with pytest.raises(ValueError, match="list of tokens, got the string 'the cat sat'"):
        train_word2vec(["the cat sat", "a dog ran"])  # gensim would learn characters


@pytest.mark.parametrize(("name", "problem"), [
    ("enwiki.txt.bz2", "is compressed with bzip2; decompress it"),
    ("text8.zip", "is a zip archive; unzip it and give the file in it$"),
    ("reviews.jsonl.xz", "is compressed with xz; decompress it"),
    ("corpus.txt", "is gzipped but not named .gz; rename it corpus.txt.gz"),
])
def test_a_compressed_corpus_rnnkit_does_not_open_says_so(
        tmp_path: Path, name: str, problem: str) -> None:
    """A Wikipedia dump (.bz2) or text8.zip given as word2vec's corpus said 'line 1: not UTF-8
    text; save the file as UTF-8'."""
    from rnnkit.embeddings import open_corpus

    text = b"The cat sat .\n" if "jsonl" not in name else b'{"text": "The cat sat ."}\n'
    path = write_compressed(tmp_path / name, text, "text8")
    with pytest.raises(ValueError, match=f"^corpus file {path} {problem}"):
        list(open_corpus(path))


def test_text_corpus_removes_html_line_breaks_as_jsonl_does(tmp_path: Path) -> None:
    """A text file of IMDB reviews kept their <br /> as four tokens each ('<', 'br', '/',
    '>'; 'br' the 12th most frequent word of IMDB train), which JSON lines, the classifier's
    texts and predict all remove: the vectors learned them, and contexts across them."""
    review = "Great film.<br /><br />Loved it<BR>and more"
    text = tmp_path / "reviews.txt"
    text.write_text(f"{review}\n<br />\n", encoding="utf-8")
    jsonl = tmp_path / "reviews.jsonl"
    jsonl.write_text(json.dumps({"text": review}) + "\n", encoding="utf-8")
    expected = [["Great", "film", ".", "Loved", "it", "and", "more"]]
    assert list(TextCorpus(text)) == list(JsonlCorpus(jsonl)) == expected
