"""Word vector files: word2vec binary files whose header or words do not match their data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors
from test_embeddings import hand_made

from rnnkit.embeddings import (
    load_vectors,
    save_vectors,
)


def test_a_binary_file_with_a_word_that_is_no_utf8_says_so(tmp_path: Path) -> None:
    """It said only "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xe9 ..."."""
    path = tmp_path / "latin1.bin"
    vector = np.array([1, 2, 3], dtype=np.float32).tobytes()
    path.write_bytes(b"2 3\n" + b"caf\xe9 " + vector + b"\n" + b"tea " + vector + b"\n")
    with pytest.raises(ValueError, match=r"latin1.bin is not a valid word2vec-binary file: a "
                                         r"word is not UTF-8 .*b'caf\\xe9'.*UTF-8 words"):
        load_vectors(path)


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
