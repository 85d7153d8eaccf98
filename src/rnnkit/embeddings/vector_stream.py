"""A vectors file read one word at a time: its distinct words and their vectors, in the file's
order, as :func:`load_vectors <rnnkit.embeddings.pretrained.load_vectors>` reads them whole
(through gensim). Of the file, only the current line (or chunk of records) is held in memory,
and the set of the words met, which tells a repeated one.

The reading follows gensim's rules and :func:`load_vectors`' checks after it: where either
would refuse the file, :class:`VectorRows` stops with :class:`Unreadable`, and
:func:`load_vectors` (which names what is wrong) is the one to call.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "v.txt"
    >>> _ = path.write_text("the 1 2\\nCat 3 4\\nthe 5 6\\n")
    >>> rows = VectorRows(path, "glove")
    >>> [(word, vector.tolist()) for word, vector in rows], rows.repeats
    ([('the', [1.0, 2.0]), ('Cat', [3.0, 4.0])], 1)
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import IO

import numpy as np
from gensim import utils

from rnnkit.embeddings.vector_binary import count_records
from rnnkit.embeddings.vector_text import WordLines

_CHUNK = 100 * 1024  # gensim's binary_chunk_size: it takes a shorter read for the end
_FLOAT_BYTES = 4
_READ_ERRORS = (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError, OverflowError)


class Unreadable(Exception):
    """The file is one that :func:`load_vectors` refuses (it says why), or reads otherwise
    than these rules do (then its reading is the one to use)."""


class VectorRows:
    """The distinct words of a vectors file and their float32 vectors, one at a time.

    A repeated word keeps its first vector (gensim's rule); ``repeats`` counts the others once
    the rows were read. Iterating raises :class:`Unreadable` where :func:`load_vectors` would
    raise: a broken line or record, fewer words than the header's COUNT or more, vectors of
    size 0, NaN or infinite values, no words at all. ``format`` is one of
    :data:`~rnnkit.embeddings.vector_files.FORMATS`, as checked by
    :func:`~rnnkit.embeddings.pretrained.checked_format`.

    Shape:
        each vector: ``[dim]``, float32.
    """

    def __init__(self, path: Path, format: str) -> None:
        self.path, self.format = path, format
        self.dim = 0  # the vectors' size, once the header (or GloVe's first line) is read
        self.repeats = 0

    def __iter__(self) -> Generator[tuple[str, np.ndarray], None, None]:
        self.repeats = 0
        seen: set[str] = set()
        try:
            with utils.open(str(self.path), "rb") as file:  # as gensim opens it (.gz, ...)
                rows = (self._binary(file) if self.format == "word2vec-binary" else
                        self._text(file, self.format == "word2vec-text"))
                for word, vector in rows:
                    if word in seen:
                        self.repeats += 1
                        continue
                    if len(vector) != self.dim:
                        raise Unreadable(f"{word!r} holds {len(vector)} numbers")
                    if not np.isfinite(vector).all():
                        raise Unreadable(f"{word!r} holds NaN or infinite values")
                    seen.add(word)
                    yield word, vector
        except _READ_ERRORS as error:
            raise Unreadable(f"{type(error).__name__}: {error}") from error
        if not seen:
            raise Unreadable("no vectors")

    def _header(self, file: IO[bytes]) -> int:
        """The header's COUNT (and ``dim``, its DIM); a header that is none, or of no words or
        no numbers a word, is Unreadable."""
        count, self.dim = (int(x) for x in file.readline().decode("utf-8").split())
        if count < 1 or self.dim < 1:
            raise Unreadable(f"a header of {count} words of {self.dim} numbers")
        return count

    def _text(self, file: IO[bytes], header: bool) -> Iterator[tuple[str, np.ndarray]]:
        """Each line's word and numbers. With a header: its COUNT lines, and no more lines that
        hold a word after them; without (GloVe): every line, blank ones at the end left out,
        with the size of the first line's vector."""
        count = self._header(file) if header else None
        blanks: list[bytes] = []  # GloVe: blank lines, read only if a word follows them
        lines, read = WordLines(file), 0
        for line in itertools.islice(lines, count):  # gensim reads COUNT lines
            read += 1
            if count is None and read == 1:
                self.dim = len(line.rstrip().split(b" ")) - 1
                if not line.strip() or self.dim < 1:
                    raise Unreadable("no numbers on line 1")  # gensim takes another size
            if count is None and not line.strip():
                blanks.append(line)
                continue
            for blank in blanks:
                yield _word_and_vector(blank)
            blanks.clear()
            yield _word_and_vector(line)
        words = lines.counted() if count is not None else 0  # the lines after COUNT too
        if count is not None and (read < count or words > count):
            raise Unreadable(f"the header promises {count} words; {words} lines hold one")

    def _binary(self, file: IO[bytes]) -> Iterator[tuple[str, np.ndarray]]:
        """Each record's word and numbers: the word up to a space (line breaks before it
        dropped), then DIM float32s; COUNT of them, and no more records after them."""
        count = self._header(file)
        size = _FLOAT_BYTES * self.dim
        chunk, start, read, end = b"", 0, 0, False
        while read < count:
            space = chunk.find(b" ", start)
            if space == -1 or len(chunk) - space - 1 < size:
                if end:
                    raise Unreadable(f"the header promises {count} words; {read} follow it")
                more = file.read(_CHUNK)
                chunk, start, end = chunk[start:] + more, 0, len(more) < _CHUNK
                continue
            word = chunk[start:space].decode("utf-8").lstrip("\n")
            yield word, np.frombuffer(chunk, np.float32, self.dim, space + 1).copy()
            start, read = space + 1 + size, read + 1
        if _records_after(file, chunk[start:], size):
            raise Unreadable(f"more words follow the header's {count}")


def _word_and_vector(line: bytes) -> tuple[str, np.ndarray]:
    """A text line's word and numbers, split as gensim splits it: at each single space, after
    the line's trailing whitespace is dropped. A field that is no number is a ValueError
    (``np.array`` parses each as ``np.float32(field)`` does, the way gensim reads it)."""
    fields = line.rstrip().decode("utf-8").split(" ")
    with np.errstate(over="ignore"):  # 1e39 is inf in float32: refused as such
        return fields[0], np.array(fields[1:], dtype=np.float32)


def _records_after(file: IO[bytes], chunk: bytes, size: int) -> bool:
    """Whether a word and ``size`` bytes follow in ``chunk`` and the rest of ``file``; a file
    damaged there is read as load_vectors reads it: as holding none."""
    try:
        return count_records(file, size, chunk, most=1, block=_CHUNK) > 0
    except (OSError, EOFError, zlib.error):
        return False
