"""Vectors files read one word at a time (rnnkit.embeddings.vector_stream, picked_vectors): the
rows a vocabulary looks up give the matrix the whole file gives, and a file load_vectors
refuses is refused in the same words."""

from __future__ import annotations

import gzip
import itertools
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from gensim.models import KeyedVectors

from rnnkit.data.vocab import Vocab
from rnnkit.embeddings.picked_vectors import pick_vectors
from rnnkit.embeddings.pretrained import load_vectors, save_vectors
from rnnkit.embeddings.vocabulary import fit_vocabulary, vectors_for

CASED = ["the", "Tampa", "TAMPA", "Paris", "Iraqi", "cat", "Dog", "Rome", "paris"]


def many_vectors(rows: int = 300, dim: int = 5) -> KeyedVectors:
    """Words that a lookup finds as they are, lowercased, or through the first vector word
    that lowercases to them (some late in the file: 'tampa' after 'Tampa'), among fillers."""
    words = CASED + [f"w{i}" for i in range(rows)] + ["tampa", "IRAQI", "Oslo"]
    vectors = KeyedVectors(dim)
    values = np.random.default_rng(0).standard_normal((len(words), dim)) * 0.3 + 0.05
    vectors.add_vectors(words, values.astype(np.float32))
    return vectors


def vocabulary(lowercase: bool) -> Vocab:
    seen = ["the", "iraqi", "Dog", "dog", "oslo", "cow", "w3", "W7", "w250", "Rome", "tampa"]
    symbols = [word.lower() if lowercase else word for word in seen]
    words = Vocab(list(dict.fromkeys(symbols[:7])))  # the rest: below data.min_count
    words.counts = {word: 3 for word in symbols}
    return words


def fitted(picked: bool, path: Path, format: str, extend: int, lowercase: bool) -> Any:
    words = vocabulary(lowercase)
    if picked:
        vectors = vectors_for(str(path), words, extend, format)
        return fit_vocabulary(vectors.vectors, words, extend, lowercase, keep_rare=True,
                              log=lambda line: None, seed=3, std=vectors.std)
    return fit_vocabulary(load_vectors(path, format), words, extend, lowercase, keep_rare=True,
                          log=lambda line: None, seed=3)


def write(tmp_path: Path, name: str, format: str) -> Path:
    """many_vectors() as ``format`` (gzipped for a .gz name; 'gensim-binary': no line break
    after each vector, as gensim writes it; 'glove-blanks': blank lines at the end)."""
    vectors = many_vectors()
    path = tmp_path / name
    if format == "gensim-binary":
        vectors.save_word2vec_format(str(path), binary=True)
    elif format == "glove-blanks":
        save_vectors(vectors, path, "glove")
        path.write_bytes(path.read_bytes() + b"\n \n\n")
    else:
        save_vectors(vectors, path, format)
    return path


@pytest.fixture
def no_whole_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading a whole vectors file (gensim's reader, which load_vectors calls) fails."""
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the whole vectors file was read")

    monkeypatch.setattr(KeyedVectors, "load_word2vec_format", refuse)


@pytest.mark.parametrize(("name", "format"), [
    ("v.txt", "word2vec-text"), ("v.glove.txt", "glove"), ("v.bin", "word2vec-binary"),
    ("g.bin", "gensim-binary"), ("v.txt.gz", "word2vec-text"), ("v.bin.gz", "word2vec-binary"),
    ("b.glove.txt", "glove-blanks"),
])
@pytest.mark.parametrize(("extend", "lowercase"), [(0, True), (6, True), (6, False)])
def test_the_rows_picked_give_the_matrix_of_the_whole_file(
        tmp_path: Path, name: str, format: str, extend: int, lowercase: bool) -> None:
    path = write(tmp_path, name, format)
    given = {"gensim-binary": "word2vec-binary", "glove-blanks": "glove"}.get(format, format)
    whole_vocab, whole, whole_coverage = fitted(False, path, given, extend, lowercase)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(KeyedVectors, "load_word2vec_format", None)  # never read whole
        vocab, matrix, coverage = fitted(True, path, "auto", extend, lowercase)
    assert vocab.symbols == whole_vocab.symbols and coverage == whole_coverage
    assert coverage.vocab_found >= 5 and coverage.lowercased >= 2
    found = [row for row, word in enumerate(vocab.symbols)
             if any(form in many_vectors().key_to_index for form in (word, word.lower()))]
    assert torch.equal(matrix[found], whole[found])  # the vectors' own rows: bit for bit
    torch.testing.assert_close(matrix, whole, rtol=1e-6, atol=0)  # the random rows: std's ulp
    picked = pick_vectors(path, vocabulary(lowercase).symbols, extend)
    assert picked.words == len(many_vectors()) and len(picked.vectors) < 25


def test_the_standard_deviation_is_that_of_every_value_in_float64(tmp_path: Path) -> None:
    """Summed in blocks of 1024 vectors, deviations from each block's mean: no cancellation
    for values far from zero, where a float32 sum (numpy's std of float32) drifts."""
    values = (1000 + np.random.default_rng(1).standard_normal((2500, 7))).astype(np.float32)
    vectors = KeyedVectors(7)
    vectors.add_vectors([f"w{i}" for i in range(2500)], values)
    path = save_vectors(vectors, tmp_path / "v.bin")
    picked = pick_vectors(path, ["w3"])
    assert picked.words == 2500 and picked.vectors.index_to_key == ["w3"]
    assert picked.std == pytest.approx(float(np.std(values.astype(np.float64))), rel=1e-12)


def test_a_repeated_word_keeps_its_first_vector_and_is_counted_once(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, no_whole_file: None) -> None:
    path = tmp_path / "v.txt"  # gensim skips a repeat before it counts its numbers
    path.write_bytes(b"the 1 2 3\nCat 4 5 6\nthe 7 8 9\nCat 1\n")
    with caplog.at_level(logging.WARNING):
        picked = pick_vectors(path, ["the", "cat"])
    assert picked.vectors.index_to_key == ["the", "Cat"] and picked.words == 2
    assert picked.vectors["the"].tolist() == [1, 2, 3]
    assert picked.std == pytest.approx(np.std(np.arange(1, 7)))
    assert "holds 2 repeated words; each word's first vector is kept" in caplog.text


def test_the_tagger_and_the_classifier_read_no_vectors_file_whole(
        tmp_path: Path, no_whole_file: None) -> None:
    """Both read the whole file into memory (1.3 GB at its peak for a 400 000 x 300 GloVe
    file), then picked the rows of their vocabulary."""
    from rnnkit.data.tagged import TaggedSentence
    from rnnkit.pipelines.classifier import VectorsConfig, _vectors
    from rnnkit.pipelines.tagger_embeddings import EmbeddingConfig, prepare_embeddings

    vectors = tmp_path / "v.txt"
    vectors.write_text("the 1 2\nParis 3 4\nzzz 5 6\n")
    sentences = [TaggedSentence(["The", "the", "paris", "rome"], ["O"] * 4)]
    words = Vocab.build([[t.lower() for t in s.tokens] for s in sentences])
    lines: list[str] = []
    config = EmbeddingConfig(vectors=str(vectors), extend_vocab=3)
    vocab, matrix, _ = prepare_embeddings(config, words, sentences, 2, True, lines.append)
    assert vocab.symbols == ["<pad>", "<unk>", "the", "paris", "rome", "zzz"]
    assert matrix is not None and matrix[3].tolist() == [3.0, 4.0]
    assert lines[0] == f"loaded 3 vectors of size 2 from {vectors}"
    vocab, matrix, _ = _vectors(VectorsConfig(vectors=str(vectors)), words, 2, lines.append)
    assert matrix is not None and matrix[3].tolist() == [3.0, 4.0]


def _binary(header: bytes, newline: bool = True, dim: int = 10) -> bytes:
    rows = np.random.default_rng(0).standard_normal((3, dim)).astype(np.float32)
    end = b"\n" if newline else b""
    return header + b"".join(word + b" " + row.tobytes() + end
                             for word, row in zip([b"cat", b"dog", b"cow"], rows, strict=True))


def _gzip_cut(text: bytes) -> bytes:
    packed = gzip.compress(text)
    return packed[: len(packed) // 2]


VECTOR = np.array([1, 2, 3], dtype=np.float32).tobytes()
FILES = {  # name: (content, format); refused by load_vectors, but the last few
    "empty.txt": (b"", "auto"),
    "prose.txt": (b"this is not a vectors file\n", "auto"),
    "short.txt": (b"2 3\na 1 2 3\n", "auto"),
    "ragged.txt": (b"a 1 2 3\nb 1 2\n", "auto"),
    "nan.txt": (b"1 2\na nan 1\n", "auto"),
    "inf.glove": (b"a 1 2\nb 1e39 1\n", "glove"),
    "one-number.txt": (b"a 1 2 3\nb 5\n", "auto"),
    "w2v-one-number.txt": (b"2 3\na 1 2 3\nb 5\n", "auto"),
    "past-count.txt": (b"2 3\na 1 2 3\nb 4 5 6\nc 7 8 9\n\n", "auto"),
    "tabs.txt": (b"the 1 2 3\ncat\t4 5 6\n", "auto"),
    "latin.txt": ("caf\xe9 1 2 3\n".encode("latin-1"), "auto"),
    "latin-w2v.txt": ("1 3\ncaf\xe9 1 2 3\n".encode("latin-1"), "auto"),
    "wide-header.txt": (b"2 4\na 1 2 3\nb 4 5 6\n", "auto"),
    "blank.txt": (b"a 1 2 3\n\nb 4 5 6\n", "auto"),
    "first-blank.glove": (b"\na 1 2 3\n", "glove"),
    "spaced.txt": (b"the 1 2 3\n. . . 4 5 6\n", "auto"),
    "long-row.txt": (b"the 1 2 3\nb 4 5 6 7\n", "auto"),
    "typo.txt": (b"the 1 2 3\nb 4 5 x\n", "auto"),
    "double-space.txt": (b"the 1 2 3\nb 4  5 6\n", "auto"),
    "word-list.glove": (b"the\nCat\n", "glove"),
    "blanks.glove": (b"\n\n", "glove"),
    "dim-0.txt": (b"2 0\nthe\nCat\n", "word2vec-text"),
    "count-0.txt": (b"0 3\n", "word2vec-text"),
    "millions.txt": (b"10000000 3\nthe 1 2 3\n", "auto"),
    "cut.bin": (b"2 3\na " + VECTOR + b"\nb \x00", "auto"),
    "more.bin": (_binary(b"2 10\n"), "auto"),
    "more-gensim.bin": (_binary(b"2 10\n", newline=False), "auto"),
    "fewer.bin": (_binary(b"5 10\n"), "auto"),
    "cut-vector.bin": (_binary(b"3 10\n")[:-30], "auto"),
    "other-dim.bin": (_binary(b"3 9\n"), "auto"),
    "latin.bin": (b"2 3\ncaf\xe9 " + VECTOR + b"\ntea " + VECTOR + b"\n", "auto"),
    "nan.bin": (b"1 3\na " + np.array([1, np.nan, 3], np.float32).tobytes() + b"\n", "auto"),
    "cut.txt.gz": (_gzip_cut("".join(f"w{i} 1 2 3\n" for i in range(3000)).encode()), "auto"),
    "cut-after.txt.gz": (_gzip_cut(("2 3\na 1 2 3\nb 4 5 6\n" + "".join(
        f"\n{i}" for i in range(100_000))).encode()), "auto"),
    "plain.bz2": (b"a 1 2 3\n", "glove"),  # gensim opens it as bzip2 by its name
    # read by both
    "repeats.glove": (b"a 1 2 3\nb 4 5 6\na 7\n", "auto"),
    "blank-repeat.glove": (b" 1 2 3\nb 4 5 6\n\nc 7 8 9\n", "glove"),  # '' and '' again
    "blank-end.txt": (b"2 3\na 1 2 3\nb 4 5 6\n\n  \n", "auto"),
    "no-line-break.txt": (b"2 3\na 1 2 3\nb 4 5 6", "auto"),
    "underscore.glove": (b"a 1_0 2\n", "auto"),
    "repeats.bin": (b"3 3\na " + VECTOR + b"\na " + VECTOR + b"\nb " + VECTOR + b"\n", "auto"),
}


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")  # gensim's
@pytest.mark.parametrize("name", list(FILES))
def test_a_file_is_refused_or_read_as_load_vectors_refuses_or_reads_it(
        tmp_path: Path, name: str) -> None:
    content, format = FILES[name]
    path = tmp_path / name
    path.write_bytes(content)
    try:
        whole = load_vectors(path, format)
    except ValueError as error:
        with pytest.raises(ValueError) as refused:
            pick_vectors(path, ["a", "the"], format=format)
        assert str(refused.value) == str(error)
        return
    with pytest.MonkeyPatch.context() as patch:  # read one word at a time, not again whole
        patch.setattr("rnnkit.embeddings.picked_vectors.load_vectors", None)
        picked = pick_vectors(path, whole.index_to_key, format=format)
    assert picked.vectors.index_to_key == whole.index_to_key
    np.testing.assert_array_equal(picked.vectors.vectors, whole.vectors)
    assert picked.words == len(whole)
    assert picked.std == pytest.approx(float(np.std(whole.vectors)), rel=1e-6)


@pytest.mark.parametrize("block", [1, 5, 13, 64, None])
def test_records_and_word_lines_are_counted_alike_whatever_the_read_size(
        tmp_path: Path, block: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """load_vectors' count of the binary records after a header (vector_binary.count_records)
    and the stream's look for one past COUNT read the file in blocks: a record split across
    two reads counts once, and a file ends in part of one, or in a word with no vector."""
    import io

    from rnnkit.embeddings import vector_stream
    from rnnkit.embeddings.vector_binary import count_records
    from rnnkit.embeddings.vector_text import WordLines

    sizes = {} if block is None else {"block": block}
    body = _binary(b"")[:-1]  # 3 records of 10 numbers, the last without its line break
    for tail, found in [(b"", 3), (b"\n", 3), (b"\nyak", 3), (b"\nyak " + VECTOR, 3),
                        (b"\nyak " + bytes(40), 4)]:
        assert count_records(io.BytesIO(body + tail), 40, **sizes) == found
        assert count_records(io.BytesIO(body[7:] + tail), 40, body[:7], **sizes) == found
        assert count_records(io.BytesIO(body + tail), 40, most=1, **sizes) == 1
    if block is not None:
        monkeypatch.setattr(vector_stream, "_CHUNK", block)
    for name in ["more.bin", "more-gensim.bin", "fewer.bin", "cut-vector.bin", "repeats.bin"]:
        path = tmp_path / name
        path.write_bytes(FILES[name][0])
        try:
            whole = load_vectors(path)
        except ValueError as error:
            with pytest.raises(ValueError, match="not a valid") as refused:
                pick_vectors(path, ["cat"])
            assert str(refused.value) == str(error)
            continue
        with pytest.MonkeyPatch.context() as patch:  # read one word at a time, not again whole
            patch.setattr("rnnkit.embeddings.picked_vectors.load_vectors", None)
            picked = pick_vectors(path, whole.index_to_key)
        assert picked.vectors.index_to_key == whole.index_to_key
    lines = WordLines([b"a 1\n", b"\n", b"b 2\n", b"  \n", b"c 3\n"])
    assert list(itertools.islice(lines, 2)) == [b"a 1\n", b"\n"] and lines.words == 1
    assert lines.counted() == 3
