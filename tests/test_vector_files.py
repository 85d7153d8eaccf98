"""Word vector files: word2vec text and binary, GloVe, compressed: read, written and refused."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors
from test_embeddings import hand_made

from rnnkit.embeddings import (
    detect_format,
    embedding_matrix,
    load_vectors,
    open_corpus,
    save_vectors,
)

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
