"""Word embeddings: corpora, word2vec training, vector files, embedding matrices, evaluation, CLI.

Every model here is tiny (a few hundred short sentences, 8-16 dimensions, one thread, a fixed
seed), so the whole file runs in seconds.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from gensim.models import KeyedVectors

import rnnkit.cli
from rnnkit.data.vocab import Vocab
from rnnkit.embeddings import (
    ConlluCorpus,
    JsonlCorpus,
    TextCorpus,
    TokenizedCorpus,
    UnknownWordError,
    Word2VecOptions,
    analogy,
    detect_format,
    embedding_matrix,
    evaluate,
    load_vectors,
    neighbors,
    open_corpus,
    save_vectors,
    tokenize,
    train_word2vec,
)
from rnnkit.embeddings.vector_quality import analogy_file, similarity_files

ANIMALS = ["cat", "dog", "horse", "cow", "sheep", "goat"]
COLOURS = ["red", "blue", "green", "yellow", "purple", "orange"]


def clustered_corpus(sentences: int = 300, seed: int = 0) -> list[list[str]]:
    """Sentences that mix words of one group only: animals with animals, colours with colours."""
    rng = random.Random(seed)
    return [rng.choices(ANIMALS if i % 2 else COLOURS, k=6) for i in range(sentences)]


def tiny(**overrides: object) -> Word2VecOptions:
    options: dict[str, object] = {"dim": 16, "window": 3, "min_count": 1, "epochs": 5,
                                  "workers": 1, "seed": 1,
                                  "sample": 0.0}  # no downsampling: every word is frequent here
    options.update(overrides)
    return Word2VecOptions(**options)  # type: ignore[arg-type]


def hand_made() -> KeyedVectors:
    vectors = KeyedVectors(3)
    vectors.add_vectors(
        ["the", "cat", "dog", "Paris"],
        np.array([[1, 2, 3], [0.5, -1, 0], [-2, 0.25, 1], [0, 0, 4]], dtype=np.float32),
    )
    return vectors


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


# training ----------------------------------------------------------------------------------


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_word2vec_learns_which_words_share_contexts(architecture: str) -> None:
    corpus = clustered_corpus()
    vectors = train_word2vec(corpus, tiny(architecture=architecture))
    assert vectors.vector_size == 16 and set(vectors.index_to_key) == {*ANIMALS, *COLOURS}
    same = np.mean([vectors.similarity(a, b) for a in ANIMALS for b in ANIMALS if a != b])
    across = np.mean([vectors.similarity(a, c) for a in ANIMALS for c in COLOURS])
    assert same > across + 0.5
    again = train_word2vec(corpus, tiny(architecture=architecture))
    np.testing.assert_array_equal(vectors.vectors, again.vectors)  # one worker + seed


def test_word2vec_lowercase_and_min_count() -> None:
    corpus = [["The", "cat"], ["the", "dog"], ["THE", "cat"]] * 5
    vectors = train_word2vec(corpus, tiny(lowercase=True, min_count=10))
    assert set(vectors.index_to_key) == {"the", "cat"}  # dog: 5 < 10


def test_word2vec_rejects_bad_corpora_and_options() -> None:
    with pytest.raises(ValueError, match="one-shot iterator"):
        train_word2vec((s for s in clustered_corpus()), tiny())
    with pytest.raises(ValueError, match="no word occurs at least min_count=100 times"):
        train_word2vec([["a", "b"]], tiny(min_count=100))
    for empty in ([], [[], []]):  # was 'no word occurs at least min_count=1 times...; lower
        with pytest.raises(ValueError, match="the corpus holds no words"):  # min_count'
            train_word2vec(empty, tiny(min_count=1))
    with pytest.raises(ValueError, match="architecture 'glove' is unknown"):
        tiny(architecture="glove")


# vector files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "format"),
    [("v.bin", "word2vec-binary"), ("v.txt", "word2vec-text"), ("v.glove.txt", "glove"),
     ("v.txt.gz", "word2vec-text")],
)
def test_vectors_round_trip(tmp_path: Path, name: str, format: str) -> None:
    vectors = hand_made()
    path = save_vectors(vectors, tmp_path / name, None if name.endswith("gz") else format)
    assert detect_format(path) == format
    for loaded in (load_vectors(path), load_vectors(path, format)):
        assert loaded.index_to_key == vectors.index_to_key
        np.testing.assert_allclose(loaded.vectors, vectors.vectors, rtol=1e-6)
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically, nothing left behind


@pytest.mark.parametrize("dim", [768, 1024])
def test_wide_text_vectors_are_detected_as_text(tmp_path: Path, dim: int) -> None:
    vectors = KeyedVectors(dim)
    rows = np.random.default_rng(0).standard_normal((2, dim)).astype(np.float32) * 0.1
    vectors.add_vectors(["cat", "dog"], rows)
    path = save_vectors(vectors, tmp_path / "v.txt", "word2vec-text")
    assert detect_format(path) == "word2vec-text"
    np.testing.assert_allclose(load_vectors(path).vectors, rows, rtol=1e-5)


def test_malformed_vector_files_raise_value_error_naming_file_and_problem(tmp_path: Path) -> None:
    cases = {
        "empty.txt": (b"", "is empty"),
        "prose.txt": (b"this is not a vectors file\n", "neither a word2vec header"),
        "short.txt": (b"2 3\na 1 2 3\n", "header promises 2 words but 1 follow it"),
        "ragged.txt": (b"a 1 2 3\nb 1 2\n", "not a valid glove file: line 2 holds 2 numbers"),
        "cut.bin": (b"2 3\na " + np.ones(3, np.float32).tobytes() + b"\nb \x00", "word2vec-binary"),
        "nan.txt": (b"1 2\na nan 1\n", "NaN or infinite"),
    }
    for name, (content, problem) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=problem) as error:
            load_vectors(tmp_path / name)
        assert name in str(error.value)
    with pytest.raises(ValueError, match="missing.bin does not exist"):
        load_vectors(tmp_path / "missing.bin", "word2vec-binary")
    with pytest.raises(ValueError, match="unknown vectors format 'fasttext'"):
        load_vectors(tmp_path / "empty.txt", "fasttext")


@pytest.mark.parametrize(("content", "problem"), [
    (b"a 1 2 3\nb 5\n", "glove file: line 2 holds 1 numbers, expected 3"),
    (b"2 3\na 1 2 3\nb 5\n", "word2vec-text file: line 3 holds 1 numbers, expected 3"),
    (b"2 3\na 1 2 3\nb 4 5 6\nc 7 8 9\n\n",
     "word2vec-text file: the header promises 2 words but 3 follow it .*; fix line 1"),
], ids=["glove-one-number", "w2v-one-number", "rows-past-count"])
def test_vector_files_that_gensim_misreads_in_silence_are_refused(
        tmp_path: Path, content: bytes, problem: str) -> None:
    """A row of one number was broadcast to the whole vector ('b 5' read as [5, 5, 5]), and
    the rows after the header's COUNT were dropped, both without a word."""
    path = tmp_path / "v.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"v.txt is not a valid {problem}"):
        load_vectors(path)
    path.write_bytes(b"2 3\na 1 2 3\nb 4 5 6\n\n")  # blank lines after the words are fine
    assert type(load_vectors(path)) is KeyedVectors and len(load_vectors(path)) == 2


@pytest.mark.parametrize(("content", "format", "problem"), [
    (b"the\t1 2 3\ncat\t4 5 6\n", "auto", "line 1"),  # read as 'the\t1' with 2 numbers
    (b"the\t1 2 3\ncat\t4 5 6\n", "glove", "line 1"),
    (b"2 3\nthe\t1 2 3\ncat\t4 5 6\n", "auto", "line 2"),  # said 'fix the header'
    (b"the\t1\t2\t3\n", "auto", "line 1"),  # said 'neither a word2vec header nor ...'
    (b"the 1 2 3\ncat\t4 5 6\n", "auto", "not a valid glove file: line 2"),
], ids=["glove", "glove-given", "w2v-text", "all-tabs", "later-line"])
def test_vector_files_separated_by_tabs_are_refused(tmp_path: Path, content: bytes,
                                                    format: str, problem: str) -> None:
    """A word and its numbers separated by a tab were read as one word holding the first
    number, in silence, or refused with a wrong cause."""
    path = tmp_path / "v.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"{problem} separates its fields with tabs: .*replace "
                                         "the tabs with spaces"):
        load_vectors(path, format)
    path.write_bytes(b"a\tb 1 2\n")  # a tab inside a word is fine
    assert load_vectors(path).index_to_key == ["a\tb"]


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("plain.txt.gz", b"a 1 2 3\n", "cannot be read: Not a gzipped file.*rename it without .gz"),
    ("bom.txt", b"\xef\xbb\xbfa 1 2 3\nb 4 5 6\n", "byte order mark"),
    ("bom-header.txt", b"\xef\xbb\xbf1 3\na 1 2 3\n", "byte order mark"),
    ("latin.txt", "caf\xe9 1 2 3\n".encode("latin-1"), "glove file: line 1 is not UTF-8"),
    ("latin-w2v.txt", "1 3\ncaf\xe9 1 2 3\n".encode("latin-1"),
     "word2vec-text file: line 2 is not UTF-8"),
    ("wide-header.txt", b"2 4\na 1 2 3\nb 4 5 6\n", "header says 4 numbers a word but line 2"),
    ("blank.txt", b"a 1 2 3\n\nb 4 5 6\n", "glove file: line 2 is not 'WORD X1 X2"),
    # said 'is not 'WORD X1 X2 ...'' of a line that is one, but for a space in its word
    # said only 'starts with neither a word2vec header 'COUNT DIM' nor a GloVe line'
    ("cc.en.300.bin", (793712314).to_bytes(4, "little") + (12).to_bytes(4, "little") + b"\n\0",
     r"is a fastText model \(its .bin\), not word vectors; give the .vec file"),
    ("w2v.model", b"\x80\x04\x95#\x1f\x00\x00\x00\x00\x00\x00\x8c\x16gensim.models",
     r"is a Python pickle \(a gensim model .*save_word2vec_format\(path, binary=True\)"),
    ("spaced.txt", b"the 1 2 3\n. . . 4 5 6\n", r"glove file: line 2 holds the word '. . .', "
     r"with a space, before its 3 numbers: .*remove the line, or join the word \('._._.'\)"),
    ("spaced-w2v.txt", b"2 3\nthe 1 2 3\nNew York 4 5 6\n", "line 3 holds the word 'New York'"),
    ("long-row.txt", b"the 1 2 3\nb 4 5 6 7\n", "line 2 holds 4 numbers, expected 3"),
    # the sniffing read 32 bytes a number of line 2: a MemoryError, or an OverflowError
    ("huge-dim.txt", b"1 99999999999999\na 1 2 3\n",
     "header says 99999999999999 numbers a word but line 2 holds 3"),
    ("huger-dim.txt", b"1 9999999999999999999999\na 1 2 3\n", "line 2 holds 3"),
], ids=["not-gzip", "bom", "bom-header", "latin-1", "latin-1-w2v", "wide-header", "blank",
        "fasttext-model", "gensim-model", "spaced", "spaced-w2v", "long-row", "huge-dim",
        "huger-dim"])
def test_unreadable_vector_files_say_what_is_wrong(tmp_path: Path, name: str, content: bytes,
                                                  problem: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ValueError, match=f"(?i){problem}"):
        load_vectors(tmp_path / name)
    if name == "plain.txt.gz":  # also when the format is given
        with pytest.raises(ValueError, match="Not a gzipped file"):
            load_vectors(tmp_path / name, "glove")


@pytest.mark.parametrize(("content", "problem"), [
    (b"2 3\na 1,5 2 3\nb 4 5 6\n", "line 2 is neither a text line 'WORD X1 ... X3' nor raw "
     r"binary numbers: b'a 1,5 2 3'; write the numbers with a decimal point \(0.5\)"),
    (b"2 2\nthe 0,1 0,2\ncat 0,5 0,6\n", "decimal point"),
    (b"2 3\na 1 2 x\nb 4 5 6\n", "line 2 is neither a text line .*: b'a 1 2 x'$"),
    (b"2 3\na\nb 4 5 6\n", "line 2 is neither a text line .*: b'a'$"),
    (b"the 0,1 0,2\n", "nor a GloVe line .*decimal point"),
], ids=["comma", "all-commas", "typo", "word-alone", "glove-comma"])
def test_a_text_file_with_a_broken_line_2_is_not_read_as_binary(
        tmp_path: Path, content: bytes, problem: str) -> None:
    """After a header, any line 2 that was no 'WORD X1 X2 ...' line made the file binary: one
    written with decimal commas loaded as floats like 1.49e-19 without an error, others failed
    with gensim's 'unexpected end of input' for a word2vec-binary file."""
    path = tmp_path / "v.txt"
    path.write_bytes(content)
    for format in ("auto", "word2vec-binary"):
        with pytest.raises(ValueError, match=problem):
            load_vectors(path, format)


@pytest.mark.parametrize(("saved", "given"), [
    ("word2vec-text", "word2vec-binary"), ("glove", "word2vec-binary"),
    ("word2vec-binary", "word2vec-text"), ("word2vec-binary", "glove"),
])
def test_a_binary_file_read_as_text_and_the_reverse_are_refused(
        tmp_path: Path, saved: str, given: str) -> None:
    vectors = KeyedVectors(300)  # gensim read word2vec text as binary without an error
    vectors.add_vectors(["cat", "dog"], np.random.default_rng(0).random((2, 300)))
    path = save_vectors(vectors, tmp_path / "v.vectors", saved)
    with pytest.raises(ValueError, match=f"v.vectors is a {saved} file .*, not {given}; give "
                                         f"the format {saved}, or auto to detect it"):
        load_vectors(path, given)


@pytest.mark.parametrize("dim", [1, 3])
def test_a_word2vec_text_file_given_as_glove_is_refused(tmp_path: Path, dim: int) -> None:
    """Its header was read as a word: '1 1' as the word '1' with the vector [1.0], in silence
    (or, with more numbers a word, 'line 2 holds 3 numbers, expected 1')."""
    vectors = KeyedVectors(dim)
    vectors.add_vectors(["cat"], np.ones((1, dim)))
    path = save_vectors(vectors, tmp_path / "v.txt", "word2vec-text")
    with pytest.raises(ValueError, match="v.txt is a word2vec-text file .*, not glove; give the "
                                         "format word2vec-text, or auto to detect it"):
        load_vectors(path, "glove")
    glove = save_vectors(vectors, tmp_path / "g.txt", "glove")
    assert load_vectors(glove, "glove").index_to_key == ["cat"]


@pytest.mark.parametrize("format", ["auto", "word2vec-binary", "glove"])
def test_a_folder_given_as_vectors_file_is_refused(tmp_path: Path, format: str) -> None:
    with pytest.raises(ValueError, match="is a folder; give the vectors file in it"):
        load_vectors(tmp_path, format)


@pytest.mark.parametrize("header", [b"3 3\n", b""], ids=["word2vec-text", "glove"])
def test_repeated_words_keep_their_first_vector_and_leave_no_empty_row(
        tmp_path: Path, header: bytes) -> None:
    path = tmp_path / "v.txt"  # gensim keeps the first 'the' but counts the second too
    path.write_bytes(header + b"the 1 2 3\nCat 4 5 6\nthe 7 8 9\n")
    vectors = load_vectors(path)
    assert vectors.index_to_key == ["the", "Cat"] and vectors.vectors.shape == (2, 3)
    np.testing.assert_array_equal(vectors["the"], [1, 2, 3])
    matrix, coverage = embedding_matrix(["<pad>", "<unk>", "cat"], vectors)  # folds every key
    assert coverage.vocab_found == 1 and matrix[2].tolist() == [4, 5, 6]
    assert "None" not in save_vectors(vectors, tmp_path / "again.txt").read_text()


# embedding matrix --------------------------------------------------------------------------


def test_embedding_matrix_copies_rows_falls_back_to_lowercase_and_zeroes_pad() -> None:
    vectors = hand_made()
    sentences = [["The"] * 10, ["cat"] * 5, ["dog", "Dog", "Dog"], ["cow", "cow"], ["Paris"]]
    vocab = Vocab.build(sentences, min_count=2)
    assert vocab.symbols == ["<pad>", "<unk>", "The", "cat", "Dog", "cow"]
    matrix, coverage = embedding_matrix(vocab.symbols, vectors, vocab.counts)
    assert matrix.dtype == torch.float32 and tuple(matrix.shape) == (6, 3)
    assert torch.equal(matrix[0], torch.zeros(3))
    for row, word in [(2, "the"), (3, "cat"), (4, "dog")]:
        assert torch.equal(matrix[row], torch.tensor(vectors[word]))
    assert matrix[1].abs().sum() > 0 and matrix[5].abs().sum() > 0  # <unk> and cow: random
    assert coverage.vocab_found == 3 and coverage.vocab_size == 4 and coverage.lowercased == 2
    assert coverage.vocab_share == 0.75
    assert (coverage.token_found, coverage.token_total) == (17, 19)  # cow: 2 of 10+5+2+2
    assert coverage.token_share == pytest.approx(17 / 19)
    assert coverage.summary() == (
        "vocabulary 3/4 words (75.0%, 2 lowercased); running text 17/19 tokens (89.5%)"
    )

    strict, exact = embedding_matrix(vocab.symbols, vectors, lowercase_fallback=False)
    assert (exact.vocab_found, exact.lowercased, exact.token_share) == (1, 0, None)
    assert torch.equal(strict[5], matrix[5])  # same seed, same random rows
    lowered, found = embedding_matrix(["<pad>", "<unk>", "paris"], vectors)  # cased vectors
    assert (found.vocab_found, found.lowercased) == (1, 1)
    assert torch.equal(lowered[2], torch.tensor(vectors["Paris"]))


def test_embedding_matrix_random_rows_match_the_vectors_scale() -> None:
    vectors = hand_made()
    unknown = [f"w{i}" for i in range(2000)]
    matrix, coverage = embedding_matrix(["<pad>", *unknown], vectors, seed=3)
    assert coverage.vocab_found == 0 and coverage.vocab_size == 2000
    assert float(matrix[1:].std()) == pytest.approx(float(np.std(vectors.vectors)), rel=0.05)
    other, _ = embedding_matrix(["<pad>", *unknown], vectors, seed=4)
    assert not torch.equal(matrix, other)
    embedding = torch.nn.Embedding.from_pretrained(matrix, freeze=True, padding_idx=0)
    assert embedding.weight.shape == (2001, 3)


# evaluation --------------------------------------------------------------------------------


def evaluation_corpus() -> list[list[str]]:
    """Sentences built from the evaluation sets, so that their words get vectors."""
    sentences = []
    for path in similarity_files().values():
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                sentences.append(line.lower().split("\t")[:2])
    questions = analogy_file().read_text(encoding="utf-8").splitlines()
    sentences += [line.lower().split() for line in questions[1:300]]
    return sentences * 2


def test_evaluate_on_gensim_sets_and_neighbours() -> None:
    assert "wordsim353" in similarity_files()
    vectors = train_word2vec(evaluation_corpus(), tiny(dim=8, epochs=1, window=2))
    scores = evaluate(vectors)
    assert set(scores) == {"words", "dim", "similarity", "analogy"}
    for row in scores["similarity"].values():
        assert set(row) == {"spearman", "pearson", "oov_ratio", "pairs", "pairs_total"}
        assert -1.0 <= row["spearman"] <= 1.0 and 0.0 <= row["oov_ratio"] < 0.5
    result = scores["analogy"]
    assert result["questions"] == 19544 and result["answered"] > 100
    assert 0.0 <= result["accuracy"] <= 1.0 and result["semantic"] is not None
    json.dumps(scores, allow_nan=False)

    found = neighbors(vectors, "king", k=3)
    assert len(found) == 3 and "king" not in [word for word, _ in found]
    answers = analogy(vectors, "athens", "greece", "baghdad", k=2)
    assert len(answers) == 2 and not {"athens", "greece", "baghdad"} & {w for w, _ in answers}
    with pytest.raises(UnknownWordError, match=r"'King' .*but 'king' known"):
        neighbors(vectors, "King")
    with pytest.raises(UnknownWordError, match="'zzz', 'qqq'"):
        analogy(vectors, "zzz", "king", "qqq")


# command line ------------------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> None:
    if "word2vec" not in rnnkit.cli.COMMAND_MODULES:
        monkeypatch.setattr(rnnkit.cli, "COMMAND_MODULES", (*rnnkit.cli.COMMAND_MODULES,
                                                            "word2vec"))


def test_cli_train_neighbors_analogy_evaluate(
    cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s) for s in clustered_corpus(200)) + "\n")
    out, text_out = tmp_path / "v.bin", tmp_path / "v.txt"
    common = ["--dim", "8", "--min-count", "1", "--epochs", "2", "--workers", "1", "--no-progress"]
    main = rnnkit.cli.main
    assert main(["word2vec", "train", "--corpus", str(corpus), "--out", str(out),
                 "--text-out", str(text_out), "--cbow", *common]) == 0
    assert "12 words x 8 (cbow" in capsys.readouterr().out
    assert detect_format(out) == "word2vec-binary" and detect_format(text_out) == "word2vec-text"

    assert main(["word2vec", "neighbors", "--vectors", str(out), "cat", "-k", "3"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert main(["word2vec", "analogy", "--vectors", str(text_out), "cat", "dog", "red"]) == 0
    assert capsys.readouterr().out.startswith("cat : dog :: red : ?")
    scores = tmp_path / "scores.json"
    assert main(["word2vec", "evaluate", "--vectors", str(out), "--json-out", str(scores)]) == 0
    assert "wordsim353" in capsys.readouterr().out
    assert json.loads(scores.read_text())["words"] == 12

    assert main(["word2vec", "neighbors", "--vectors", str(out), "unicorn"]) == 2
    assert "rnnkit: error: not in the vectors (12 words): 'unicorn'" in capsys.readouterr().err
    assert main(["word2vec", "neighbors", "--vectors", str(corpus), "cat"]) == 2
    assert "neither a word2vec header" in capsys.readouterr().err


@pytest.mark.parametrize("action", ["train", "neighbors", "analogy", "evaluate"])
def test_every_word2vec_action_has_help(
    cli: None, action: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        rnnkit.cli.main(["word2vec", action, "--help"])
    assert exit_info.value.code == 0
    assert "usage: rnnkit word2vec" in capsys.readouterr().out


@pytest.mark.parametrize("tag", ["NOUN", "_"], ids=["tagged", "untagged"])
def test_cli_trains_on_conllu_forms(cli: None, tmp_path: Path, tag: str) -> None:
    treebank = tmp_path / "tiny.conllu"  # the tags are not read: an untagged file is fine
    blocks = ["\n".join("\t".join([str(i + 1), word, "_", tag] + ["_"] * 6)
                        for i, word in enumerate(s))
              for s in clustered_corpus(100)]
    treebank.write_text("\n\n".join(blocks) + "\n\n")
    out = tmp_path / "v.txt"
    assert rnnkit.cli.main(["word2vec", "train", "--corpus", str(treebank), "--out", str(out),
                            "--dim", "4", "--min-count", "1", "--epochs", "1", "--workers", "1",
                            "--no-progress", "--sg", "--lowercase"]) == 0
    assert len(load_vectors(out)) == 12


@pytest.mark.parametrize(("flags", "message"), [
    (["--seed", "-1"], "word2vec seed must be between 0 and 4294967295, got -1"),
    (["--min-count", "0"], "--min-count must be at least 1; got 0"),  # said 'min_count'
    (["--dim", "0"], "--dim must be at least 1; got 0"),
    (["--negative", "-5"], "--negative must be at least 1; got -5"),
    (["--seed", str(2**32)], "word2vec seed must be between 0 and 4294967295"),
    (["--out", "{tmp}/a-file/v.bin"], "a-file is a file, not a folder"),
    (["--text-out", "{tmp}"],
     "--text-out {tmp} is a folder; give the file to write, e.g. {tmp}/vectors.txt"),
    (["--text-out", "{tmp}/a-file/v.txt"], "a-file is a file, not a folder"),
    (["--out", "{tmp}/../{name}/corpus.txt"],
     "--out {tmp}/../{name}/corpus.txt is the corpus file {tmp}/corpus.txt: the vectors would "
     "be written over the corpus"),
    (["--text-out", "{tmp}/corpus.txt"], "--text-out {tmp}/corpus.txt is the corpus file"),
    (["--text-out", "{tmp}/v.bin"], "--text-out {tmp}/v.bin is the --out file"),
], ids=["negative-seed", "min-count", "dim", "negative", "huge-seed", "out-in-file",
        "text-out-folder", "text-out-in-file", "out-is-corpus", "text-out-is-corpus",
        "text-out-is-out"])
def test_word2vec_train_refuses_bad_flags_before_training(
        cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str],
        message: str) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat\n" * 5)
    (tmp_path / "a-file").write_text("")
    flags = [flag.format(tmp=tmp_path, name=tmp_path.name) for flag in flags]
    args = ["word2vec", "train", "--corpus", str(corpus), "--out", str(tmp_path / "v.bin"),
            "--dim", "4", "--min-count", "1", "--epochs", "1", "--workers", "1",
            "--no-progress"]
    assert rnnkit.cli.main(args + flags) == 2
    assert message.format(tmp=tmp_path, name=tmp_path.name) in capsys.readouterr().err
    assert not (tmp_path / "v.bin").exists()  # refused before any training
    assert corpus.read_text() == "the cat sat\n" * 5


@pytest.mark.parametrize(("flag", "name", "content", "holds"), [
    ("--out", "prices.csv", "date,close\n2024-01-02,185.6\n", "no word2vec vectors"),
    ("--out", "vectors.bin", "the cat sat\n", "no word2vec vectors"),  # a text named .bin
    ("--out", "glove.6B.4d.txt", "the 0.1 0.2 0.3 0.4\n",
     "GloVe vectors (no 'COUNT DIM' header)"),
    ("--text-out", "notes.txt", "my notes\n", "no word2vec vectors"),
], ids=["csv", "text-named-bin", "glove", "text-out-notes"])
def test_word2vec_train_refuses_to_replace_a_file_that_holds_no_word2vec_vectors(
        cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, name: str,
        content: str, holds: str) -> None:
    """--out (or --text-out) replaced any existing file, once the training was done: a CSV, a
    text, a GloVe download. Only an earlier run's word2vec vectors are replaced."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat\n" * 5)
    kept = tmp_path / name
    kept.write_text(content)
    outs = {"--out": str(tmp_path / "v.bin"), flag: str(kept)}
    outputs = [part for pair in outs.items() for part in pair]
    assert rnnkit.cli.main(["word2vec", "train", "--corpus", str(corpus), *outputs, "--dim",
                            "4", "--min-count", "1", "--epochs", "1", "--workers", "1",
                            "--no-progress"]) == 2
    example = {"--out": "vectors.bin", "--text-out": "vectors.txt"}[flag]
    example = example if name != example else "new-" + example
    assert capsys.readouterr().err == (
        f"rnnkit: error: {flag} {kept} exists and holds {holds}, which the vectors would "
        f"replace; {flag} replaces only an earlier run's word2vec file: give {flag} a new file, "
        f"e.g. {tmp_path / example}, or move {kept} away first\n")
    assert kept.read_text() == content
    assert not (tmp_path / "v.bin").exists()  # refused before the training


@pytest.mark.parametrize("earlier", ["v.bin", "v.txt", "v.txt.gz", "empty"])
def test_word2vec_train_replaces_an_earlier_runs_vectors(
        cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], earlier: str) -> None:
    """Training again with the same --out replaces the vectors, as gensim and fastText do (an
    empty file, made by touch, holds nothing to lose)."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s) for s in clustered_corpus(50)) + "\n")
    out = tmp_path / ("v.bin" if earlier == "empty" else earlier)
    if earlier == "empty":
        out.write_bytes(b"")
    else:
        save_vectors(hand_made(), out)
    assert rnnkit.cli.main(["word2vec", "train", "--corpus", str(corpus), "--out", str(out),
                            "--dim", "4", "--min-count", "1", "--epochs", "1", "--workers", "1",
                            "--no-progress"]) == 0
    assert len(load_vectors(out)) == 12 and load_vectors(out).vector_size == 4
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("json_out", "message"), [
    ("{tmp}", "--json-out {tmp} is a folder; give the file to write, e.g. {tmp}/scores.json"),
    ("{tmp}/a-file/s.json", "a-file is a file, not a folder"),
    ("{tmp}/locked/s.json", "the folder {tmp}/locked cannot be written in"),
    # written atomically (a temporary file renamed over it): its folder must be writable
    ("{tmp}/locked/old.json", "the folder {tmp}/locked cannot be written in"),
    ("{tmp}/v.txt", "--json-out {tmp}/v.txt is the --vectors file"),
], ids=["folder", "in-file", "not-writable", "existing-not-writable", "is-vectors"])
def test_word2vec_evaluate_checks_json_out_before_evaluating(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        json_out: str, message: str) -> None:
    vectors = save_vectors(hand_made(), tmp_path / "v.txt", "word2vec-text")
    saved = vectors.read_bytes()
    (tmp_path / "a-file").write_text("")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "old.json").write_text("{}")
    access = os.access  # chmod does not stop root: the permission is faked
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked
                        and access(path, mode))
    assert rnnkit.cli.main(["word2vec", "evaluate", "--vectors", str(vectors), "--json-out",
                            json_out.format(tmp=tmp_path)]) == 2
    captured = capsys.readouterr()
    assert message.format(tmp=tmp_path) in captured.err
    assert captured.out == ""  # refused before the evaluation printed its table
    assert vectors.read_bytes() == saved


def test_word2vec_options_refuse_a_bad_learning_rate_and_sample() -> None:
    for rate in (0.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="learning_rate must be a positive number"):
            tiny(learning_rate=rate)
    with pytest.raises(ValueError, match="sample must be >= 0, got nan"):
        tiny(sample=float("nan"))


@pytest.mark.parametrize(("command", "message"), [
    (["neighbors", "cat", "-k", "0"], "-k must be at least 1; got 0"),  # printed nothing
    (["analogy", "cat", "dog", "the", "-k", "-2"], "-k must be at least 1; got -2"),
    (["evaluate", "--restrict-vocab", "0"], "--restrict-vocab must be at least 1; got 0"),
])
def test_word2vec_refuses_counts_below_one(command: list[str], message: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    vectors = save_vectors(hand_made(), tmp_path / "v.txt", "word2vec-text")
    assert rnnkit.cli.main(["word2vec", command[0], "--vectors", str(vectors),
                            *command[1:]]) == 2
    assert message in capsys.readouterr().err


def test_words_with_a_zero_vector_are_no_neighbours_and_no_question(
        recwarn: pytest.WarningsRecorder) -> None:
    vectors = KeyedVectors(3)  # 'pad' as some pretrained files hold it: all zeros
    vectors.add_vectors(["a", "b", "c", "pad", "d"], np.array(
        [[1, 0, 0], [1, 0.1, 0], [0, 1, 0], [0, 0, 0], [0.5, 0.5, 0]], dtype=np.float32))
    assert [word for word, _ in neighbors(vectors, "a", k=4)] == ["b", "d", "c"]
    assert [word for word, _ in analogy(vectors, "a", "b", "c", k=3)] == ["d"]
    for ask in (lambda: neighbors(vectors, "pad"), lambda: analogy(vectors, "pad", "b", "c")):
        with pytest.raises(ValueError, match="the vector of 'pad' is all zeros"):
            ask()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]  # no nan division


def test_similarity_with_one_known_pair_counts_it() -> None:
    from rnnkit.embeddings import evaluate_similarity
    from rnnkit.embeddings.vector_quality import similarity_files

    vectors = KeyedVectors(3)  # WordSim-353 holds the pair love/sex, and tiger/cat
    vectors.add_vectors(["love", "Sex"], np.random.default_rng(0).random((2, 3)))
    one = evaluate_similarity(vectors, similarity_files()["wordsim353"])
    assert (one["pairs"], one["pairs_total"], one["spearman"]) == (1, 353, None)
    assert one["oov_ratio"] == pytest.approx(352 / 353)  # not 1.0: one pair is known
    vectors.add_vectors(["tiger", "cat"], np.random.default_rng(1).random((2, 3)))
    assert evaluate_similarity(vectors, similarity_files()["wordsim353"])["pairs"] >= 2


def test_vocab_max_size_counts_words_not_the_specials() -> None:
    """A literal <unk> in the data (as PTB-style text holds) took one of max_size's places and
    was then dropped as the special it is: max_size=2 gave one word; max_size=0 meant no limit
    and -1 dropped the last word; a repeated symbol was not named."""
    data = [["<unk>"] * 3 + ["a", "a", "b", "c"]]
    assert Vocab.build(data, max_size=2).symbols == ["<pad>", "<unk>", "a", "b"]
    assert Vocab.build(data).counts["<unk>"] == 3
    for size in (0, -1):
        with pytest.raises(ValueError, match=f"max_size must be at least 1 .*got {size}"):
            Vocab.build(data, max_size=size)
    with pytest.raises(ValueError, match="'b' is given twice"):
        Vocab(["a", "b", "c", "b"])


@pytest.mark.parametrize("name", ["v.txt", "v.bin", "v.glove.txt"])
def test_words_with_a_tab_or_no_break_space_are_saved_and_read_back(
        tmp_path: Path, name: str) -> None:
    """save_vectors refused every word holding whitespace, though only a space (or a line
    break) splits a line: vectors loaded from a file with 'a\\xa0b' could not be saved again."""
    vectors = KeyedVectors(2)
    vectors.add_vectors(["a\tb", "c\xa0d", "e"], np.array([[1, 2], [3, 4], [5, 6]], np.float32))
    path = save_vectors(vectors, tmp_path / name, "glove" if "glove" in name else None)
    loaded = load_vectors(path)
    assert loaded.index_to_key == ["a\tb", "c\xa0d", "e"]
    np.testing.assert_array_equal(loaded.vectors, vectors.vectors)
    vectors.add_vectors(["New York"], np.array([[7, 8]], np.float32))
    with pytest.raises(ValueError, match="cannot save the word 'New York': .* holds no space"):
        save_vectors(vectors, tmp_path / name)


def test_word2vec_train_refuses_a_token_with_a_space_before_training(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A tab-separated column file may hold 'New York' as one token: the vectors were trained,
    then could not be saved ('words in vector files have no spaces'), the training lost."""
    corpus = tmp_path / "ny.conll"
    corpus.write_text("New York\tB-LOC\nis\tO\nbig\tO\n")
    out = tmp_path / "v.bin"
    assert rnnkit.cli.main(["word2vec", "train", "--corpus", str(corpus), "--out", str(out),
                            "--min-count", "1", "--dim", "4", "--epochs", "1", "--workers", "1",
                            "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert "--corpus: the token 'New York' holds a space" in captured.err
    assert "e.g. 'New_York'" in captured.err and "words x" not in captured.out
    assert not out.exists()


def test_word2vec_trains_every_token_of_a_sentence_longer_than_gensim_reads() -> None:
    """gensim trains on a sentence's first 10 000 tokens only: a text file with no line
    breaks (one sentence) left every word met after them at its random first vector, in
    silence. Longer sentences are cut into pieces; shorter ones train as before."""
    sentence = ["a", "b"] * 5000 + ["c", "d"] * 5000
    options = tiny(dim=4, epochs=1)
    vectors = train_word2vec([sentence], options)
    untrained = train_word2vec([sentence], tiny(dim=4, epochs=1, learning_rate=1e-12))
    for word in "abcd":  # each moved from where it started
        assert np.abs(vectors[word] - untrained[word]).max() > 0.01, word
    short = clustered_corpus(50)
    np.testing.assert_array_equal(train_word2vec(short, options).vectors,
                                  train_word2vec(TokenizedCorpus(short), options).vectors)


@pytest.mark.parametrize("ending", [b"\n", b"\n\n \r\n", b"\n\n"], ids=["none", "blanks", "one"])
def test_a_glove_file_may_end_in_blank_lines(tmp_path: Path, ending: bytes) -> None:
    """gensim counted a GloVe file's every line as a word: one that ended in a blank line was
    refused ('line 3 is not 'WORD X1 X2 ...': b'\\n''), though a word2vec text file may end so."""
    path = tmp_path / "v.txt"
    path.write_bytes(b"a 1 2 3\nb 4 5 6" + ending)
    vectors = load_vectors(path)
    assert vectors.index_to_key == ["a", "b"] and vectors.vectors.shape == (2, 3)
    path.write_bytes(b"a 1 2 3\n\nb 4 5 6" + ending)  # a blank line between words is still one
    with pytest.raises(ValueError, match="glove file: line 2 is not 'WORD X1 X2"):
        load_vectors(path)


def damaged_gzip(text: str, cut: bool) -> bytes:
    packed = gzip.compress(text.encode())
    if cut:
        return packed[: len(packed) // 2]
    flipped = bytearray(packed)
    flipped[40] ^= 0xFF  # zlib: 'invalid distance too far back' or the like
    return bytes(flipped)


@pytest.mark.parametrize("cut", [True, False], ids=["cut-short", "damaged"])
def test_a_cut_or_damaged_gzip_file_is_named_not_a_traceback(tmp_path: Path, cut: bool) -> None:
    """A .gz corpus cut short gave a bare EOFError traceback, a damaged one (text, JSON lines,
    CoNLL-U) or a damaged .gz vectors file a zlib.error traceback."""
    words = " ".join(f"w{i}" for i in range(3000))
    row = "\t".join(["1", "Hi", "_", "X"] + ["_"] * 6) + "\n\n"
    files = {"c.txt.gz": words + "\n", "c.jsonl.gz": json.dumps({"text": words}) + "\n",
             "t.conllu.gz": row * 500}
    for name, text in files.items():
        (tmp_path / name).write_bytes(damaged_gzip(text, cut))
        with pytest.raises(ValueError, match=f"{name}.*(gzip data|not gzip)"):
            list(open_corpus(tmp_path / name))
    vectors = tmp_path / "v.txt.gz"
    vectors.write_bytes(damaged_gzip("".join(f"w{i} 1 2 3\n" for i in range(3000)), cut))
    with pytest.raises(ValueError, match="v.txt.gz .*(gzip|Compressed file ended)"):
        load_vectors(vectors)
    glove = "".join(f"w{i} {i} 2 3\n" for i in range(100_000)).encode()  # damaged past the
    packed = gzip.compress(glove)  # first bytes, which are read to tell the format
    vectors.write_bytes(packed[:200_000] + b"\xff" * 100 + packed[200_100:])  # no deflate
    with pytest.raises(ValueError, match="v.txt.gz is not a valid glove file: its gzip data"):
        load_vectors(vectors)
    # damaged only after the words the header counts (and the first bytes read to sniff it)
    tail = "2 3\na 1 2 3\nb 4 5 6\n" + "".join(f"\n{i}" for i in range(100_000))
    packed = gzip.compress(tail.encode())
    vectors.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ValueError, match="v.txt.gz is not a valid word2vec-text file: its gzip"):
        load_vectors(vectors)


def test_a_binary_file_with_a_word_that_is_no_utf8_says_so(tmp_path: Path) -> None:
    """It said only "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xe9 ..."."""
    path = tmp_path / "latin1.bin"
    vector = np.array([1, 2, 3], dtype=np.float32).tobytes()
    path.write_bytes(b"2 3\n" + b"caf\xe9 " + vector + b"\n" + b"tea " + vector + b"\n")
    with pytest.raises(ValueError, match=r"latin1.bin is not a valid word2vec-binary file: a "
                                         r"word is not UTF-8 .*b'caf\\xe9'.*UTF-8 words"):
        load_vectors(path)


def test_similarity_and_analogy_counts_leave_out_the_lines_gensim_skips(tmp_path: Path) -> None:
    """A header line 'word1<TAB>word2<TAB>score' was counted as a pair (3 known of 4 read
    '4/5 pairs'), and a question of three words as one not answered."""
    from rnnkit.embeddings import evaluate_analogies, evaluate_similarity

    vectors = hand_made()
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("word1\tword2\tscore\nthe\tcat\t5.0\ncat\tdog\t3.0\nthe\tdog\t1.0\n"
                     "\nzzz\tcat\t2.0\n")
    scores = evaluate_similarity(vectors, pairs)
    assert (scores["pairs"], scores["pairs_total"], scores["oov_ratio"]) == (3, 4, 0.25)
    gensim_scores = vectors.evaluate_word_pairs(str(pairs), case_insensitive=True)
    assert scores["spearman"] == pytest.approx(gensim_scores[1].statistic)
    questions = tmp_path / "questions.txt"
    questions.write_text(": family\nthe cat dog Paris\nthe cat dog\nthe Paris cat dog\n")
    result = evaluate_analogies(vectors, questions)
    assert (result["answered"], result["questions"], result["coverage"]) == (2, 2, 1.0)


def write_compressed(path: Path, text: bytes, member: str) -> Path:
    """``text`` at ``path``, compressed as its name says: a zip holding ``member``, bz2, xz,
    else gzip (named .gz or not)."""
    import bz2
    import lzma
    import zipfile

    if path.name.endswith(".zip"):
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(member, text)
    else:
        pack = {".bz2": bz2.compress, ".xz": lzma.compress}.get(path.suffix, gzip.compress)
        path.write_bytes(pack(text))
    return path


@pytest.mark.parametrize(("name", "problem"), [
    ("glove.6B.zip", r"is a zip archive; unzip it and give the file in it \(glove.6B.zip holds"),
    ("v.txt.bz2", "is compressed with bzip2; decompress it"),
    ("v.txt.xz", "is compressed with xz; decompress it"),
    ("v.txt", "is gzipped but not named .gz; rename it v.txt.gz"),
])
@pytest.mark.parametrize("format", ["auto", "glove"])
def test_a_compressed_vectors_file_rnnkit_does_not_open_says_so(
        tmp_path: Path, name: str, problem: str, format: str) -> None:
    """gensim opens .bz2, .xz (and a GloVe .zip is what one downloads); rnnkit said 'line 1 is
    not UTF-8 text; save the file as UTF-8', or showed the compressed bytes as no header."""
    path = write_compressed(tmp_path / name, b"cat 1 2\ndog 3 4\n", "glove.6B.2d.txt")
    with pytest.raises(ValueError, match=f"^vectors file {path} {problem}"):
        load_vectors(path, format)


def _binary_with_header(tmp_path: Path, header: bytes, newline: bool) -> Path:
    """Three 10-number vectors as word2vec binary (gensim writes no line break after each
    vector, word2vec's C tool and rnnkit do), under the ``header`` given."""
    vectors = KeyedVectors(10)
    vectors.add_vectors(["cat", "dog", "cow"],
                        np.random.default_rng(0).standard_normal((3, 10)).astype(np.float32))
    path = tmp_path / "v.bin"
    if newline:
        save_vectors(vectors, path)
    else:
        vectors.save_word2vec_format(str(path), binary=True)
    path.write_bytes(header + path.read_bytes().split(b"\n", 1)[1])
    return path


@pytest.mark.parametrize("newline", [True, False])
def test_a_binary_file_with_more_words_than_its_header_s_count_is_refused(
        tmp_path: Path, newline: bool) -> None:
    """gensim reads COUNT words and drops the rest: two of three were loaded, in silence (a
    text file's extra lines were refused already)."""
    path = _binary_with_header(tmp_path, b"2 10\n", newline)
    with pytest.raises(ValueError, match="not a valid word2vec-binary file: the header "
                                         r"promises 2 words but 3 follow it \(only the first 2 "
                                         r"would be read\); fix line 1"):
        load_vectors(path)
    assert len(load_vectors(_binary_with_header(tmp_path, b"3 10\n", newline))) == 3


@pytest.mark.parametrize("newline", [True, False])
def test_a_binary_file_cut_short_or_with_fewer_words_than_its_count_says_so(
        tmp_path: Path, newline: bool) -> None:
    """gensim said only 'EOFError: unexpected end of input; is count incorrect or file
    otherwise damaged?', and of a .gz cut short (an interrupted download of
    GoogleNews-vectors-negative300.bin.gz) 'EOFError: Compressed file ended before the
    end-of-stream marker was reached', where a text file's words are counted."""
    path = _binary_with_header(tmp_path, b"5 10\n", newline)
    with pytest.raises(ValueError, match="not a valid word2vec-binary file: the header promises "
                                         "5 words but 3 follow it: is the file cut short"):
        load_vectors(path)
    whole = _binary_with_header(tmp_path, b"3 10\n", newline).read_bytes()
    path.write_bytes(whole[:-30])  # the last vector cut
    with pytest.raises(ValueError, match="promises 3 words but 2 follow it: is the file cut"):
        load_vectors(path)
    many = KeyedVectors(10)  # past the first bytes, which are read to tell the format
    many.add_vectors([f"w{i}" for i in range(400)],
                     np.random.default_rng(0).standard_normal((400, 10)).astype(np.float32))
    packed = save_vectors(many, tmp_path / "v.bin.gz")
    packed.write_bytes(packed.read_bytes()[:-2000])
    with pytest.raises(ValueError, match=r"v.bin.gz is not a valid word2vec-binary file: its "
                                         r"gzip data cannot be read \(.*\): is the file cut "
                                         "short or damaged"):
        load_vectors(packed)


@pytest.mark.parametrize("newline", [True, False])
@pytest.mark.parametrize("dim", [9, 11])
def test_a_binary_file_whose_header_has_another_dim_says_so(
        tmp_path: Path, newline: bool, dim: int) -> None:
    """gensim read the vectors out of step: 'a word is not UTF-8 ... write the file with UTF-8
    words', or words of raw bytes in silence where the numbers' bytes happen to be text."""
    path = _binary_with_header(tmp_path, f"3 {dim}\n".encode(), newline)
    with pytest.raises(ValueError, match=f"not a valid word2vec-binary file: the header says "
                                         f"{dim} numbers a word, but the vector of the first "
                                         r"word 'cat' holds 10 \(40 bytes\); fix the header "
                                         r"'COUNT DIM' on line 1 \('3 10'\)"):
        load_vectors(path)


def test_a_binary_file_of_round_numbers_under_a_smaller_dim_is_not_read_in_silence(
        tmp_path: Path) -> None:
    path = tmp_path / "v.bin"
    rows = [b"a " + np.array([1, 2, 3], dtype=np.float32).tobytes(),
            b"b " + np.array([4, 5, 6], dtype=np.float32).tobytes()]
    path.write_bytes(b"2 2\n" + b"\n".join(rows) + b"\n")  # gensim: 'a', '\x00\x00@@\nb'
    with pytest.raises(ValueError, match="the header says 2 numbers a word, but the vector of "
                                         "the first word 'a' holds 3"):
        load_vectors(path)


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


def test_fit_vocabulary_reads_the_vectors_words_for_their_lowercased_forms_once() -> None:
    from rnnkit.embeddings.vocabulary import fit_vocabulary

    class CountedKeys(list):  # type: ignore[type-arg]
        walks = 0

        def __iter__(self):  # type: ignore[no-untyped-def]
            CountedKeys.walks += 1
            return super().__iter__()

    vectors = KeyedVectors(2)
    vectors.add_vectors(["the", "Tampa", "Iraqi", "Rome"], np.eye(4, 2))
    vectors.index_to_key = CountedKeys(vectors.index_to_key)
    words = Vocab(["the", "iraqi"])
    words.counts = {"the": 3, "iraqi": 2, "rome": 1}
    fitted, matrix, coverage = fit_vocabulary(vectors, words, extend=2, lowercase=True,
                                              keep_rare=True, log=lambda line: None)
    assert fitted.symbols == ["<pad>", "<unk>", "the", "iraqi", "rome", "tampa"]
    assert matrix[3].tolist() == vectors["Iraqi"].tolist()
    assert matrix[5].tolist() == vectors["Tampa"].tolist()
    assert (coverage.vocab_found, coverage.token_found) == (3, 6)
    assert CountedKeys.walks == 1  # coverage, rare words and the matrix share one lookup


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


def test_a_run_without_word_vectors_does_not_import_gensim() -> None:
    # rnnkit.embeddings imported every module, gensim (2.5 s) with them, for the tagger's
    # settings checks alone: train tagger --print-config took 2.9 s, 1.95 s without
    code = ("import sys\n"
            "from rnnkit.pipelines.tagger_embeddings import EmbeddingConfig, check_embeddings\n"
            "check_embeddings(EmbeddingConfig())\n"
            "assert 'gensim' not in sys.modules, 'gensim imported'\n"
            "import rnnkit.embeddings.vector_quality\n"
            "from rnnkit.embeddings import evaluate\n"
            "assert callable(evaluate), evaluate  # the function, not a module of that name\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("text", "format"), [
    (b"the\nCat\n", "glove"),  # a word list
    (b"\n\n", "glove"),  # blank lines: the empty word
    (b"2 0\nthe\nCat\n", "word2vec-text"),  # a header of 0 numbers a word
])
def test_vectors_of_no_numbers_are_refused(tmp_path: Path, text: bytes, format: str) -> None:
    """Given its format, a file of words without numbers loaded as vectors of size 0 (the
    tagger then advised tagger.word_dim=0); with auto it was refused already."""
    path = tmp_path / "v.txt"
    path.write_bytes(text)
    with pytest.raises(ValueError, match="v.txt holds words with no numbers .*is it a word "
                                         "list\\? A vectors file's lines are 'WORD X1 X2 ...'"):
        load_vectors(path, format)


@pytest.mark.parametrize("vectors_file", ["v.txt", "corpus.txt"], ids=["unknown", "no-vectors"])
def test_a_refused_analogy_prints_no_question(cli: None, tmp_path: Path, vectors_file: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The question 'cat : unicorn :: the : ?' was printed, then the error said that
    'unicorn' (or the whole file) gives no answer."""
    save_vectors(hand_made(), tmp_path / "v.txt", "word2vec-text")
    (tmp_path / "corpus.txt").write_text("the cat sat\n")
    assert rnnkit.cli.main(["word2vec", "analogy", "--vectors", str(tmp_path / vectors_file),
                            "cat", "unicorn", "the"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert ("'unicorn'" if vectors_file == "v.txt" else "neither a word2vec header") in captured.err


@pytest.mark.parametrize("format", ["word2vec-text", "word2vec-binary"])
def test_a_header_that_promises_millions_of_words_allocates_nothing(
        tmp_path: Path, format: str) -> None:
    """gensim makes room for the header's COUNT words before it reads one: a list of COUNT
    entries (24 GB for a header of 3 000 000 000 words on a file of two)."""
    import tracemalloc

    path = save_vectors(hand_made(), tmp_path / "v.vectors", format)
    data = path.read_bytes()
    path.write_bytes(data.replace(b"4 3\n", b"10000000 3\n", 1))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="the header promises 10000000 words but 4 follow"):
            load_vectors(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 10_000_000 / 4  # the list alone took 80 MB
