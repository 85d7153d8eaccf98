"""Pretrained word vectors: read and write word2vec/GloVe files.

Three file formats are understood, all through gensim's ``KeyedVectors``:

* ``word2vec-binary``: a ``COUNT DIM`` header line, then ``word`` + space + DIM float32 bytes;
* ``word2vec-text``: the same header, then one ``word x1 ... xDIM`` line per word;
* ``glove``: text lines as above with no header line.

``load_vectors(path)`` (``format="auto"``) tells them apart by the first lines, so a ``.txt`` may
hold either text format. :mod:`rnnkit.embeddings.lookup` lines the vectors up with a vocabulary;
:func:`~rnnkit.embeddings.picked_vectors.pick_vectors` reads a file one word at a time and keeps
only the vectors a vocabulary looks up.

Example:
    >>> import numpy as np, pathlib, tempfile
    >>> from gensim.models import KeyedVectors
    >>> vectors = KeyedVectors(2)
    >>> vectors.add_vectors(["cat", "dog"], np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> path = save_vectors(vectors, pathlib.Path(tempfile.mkdtemp()) / "v.bin")
    >>> loaded = load_vectors(path)
    >>> loaded.index_to_key, loaded["dog"].tolist()
    (['cat', 'dog'], [0.0, 1.0])
"""

from __future__ import annotations

import gzip
import itertools
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np
from gensim.models import KeyedVectors

from rnnkit.config import ConfigError
from rnnkit.embeddings.vector_binary import dim_problem, words_missing, words_past_count
from rnnkit.embeddings.vector_files import FORMATS, check_vectors_file, promises_too_much
from rnnkit.embeddings.vector_stream import Unreadable, VectorRows
from rnnkit.embeddings.vector_text import rows_before_blank_end, rows_past_count, text_problem
from rnnkit.training.checkpoint import atomic_write_bytes

logger = logging.getLogger(__name__)
_BLOCK_ROWS = 4096  # vectors read into one block of a limited reading


def load_vectors(path: str | Path, format: str = "auto", limit: int | None = None
                 ) -> KeyedVectors:
    """Word vectors from a word2vec (binary or text) or GloVe file; ``.gz`` is fine too.

    Args:
        path: the vectors file.
        format: ``"auto"`` (see :func:`detect_format`) or one of :data:`FORMATS`.
        limit: read only the file's first ``limit`` distinct words (the most frequent, in a
            word2vec file), one at a time, as gensim's ``load_word2vec_format(limit=...)``
            reads; the rest of the file is not read, nor checked. None: every word.

    Raises:
        ValueError: unknown format, missing file, or a malformed file; the message names the
            file and what is wrong.
    """
    path = Path(path)
    format = checked_format(path, format)
    if limit is not None:
        return _first_vectors(path, format, limit)
    try:
        if promises_too_much(path, format):  # gensim would make room for COUNT words first
            raise EOFError("the header promises more words than the file holds")
        vectors = _read(path, format)
    except Exception as error:  # gensim raises ValueError, EOFError, IndexError, ...
        # gensim counts a GloVe file's every line as a word, the blank ones at its end too
        rows = rows_before_blank_end(path) if format == "glove" else None
        vectors = _read(path, format, rows) if rows else None
        if vectors is None:
            where = (words_missing(path) if format == "word2vec-binary" else
                     text_problem(path, format))
            if where is None and isinstance(error, UnicodeDecodeError):
                where = (f"a word is not UTF-8 ({error.reason} at byte {error.start} of its "
                         f"bytes {error.object[:40]!r}); rnnkit reads words as UTF-8: write "
                         "the file with UTF-8 words (e.g. gensim's save_word2vec_format)")
            raise ValueError(
                f"vectors file {path} is not a valid {format} file: "
                + (where or f"{type(error).__name__}: {error}")
            ) from error
    # gensim reads the header's COUNT words and no further: more would be dropped unsaid
    beyond = (rows_past_count(path) if format == "word2vec-text" else
              words_past_count(path, vectors.vector_size, vectors.index_to_key)
              if format == "word2vec-binary" else None)
    if beyond:
        raise ValueError(f"vectors file {path} is not a valid {format} file: {beyond}")
    vectors.__class__ = KeyedVectors  # the checks are for reading only
    if vectors.vector_size == 0:  # given its format, a word list read as vectors of size 0
        raise ValueError(f"vectors file {path} holds words with no numbers (vectors of size 0):"
                         " is it a word list? A vectors file's lines are 'WORD X1 X2 ...'")
    vectors = _without_duplicates(vectors, path)
    if len(vectors) == 0:
        raise ValueError(f"vectors file {path} holds no vectors")
    if not np.isfinite(vectors.vectors).all():
        raise ValueError(f"vectors file {path} holds NaN or infinite values")
    return vectors


def _first_vectors(path: Path, format: str, limit: int) -> KeyedVectors:
    """The first ``limit`` distinct words of a file and their vectors, read one word at a time
    (:class:`~rnnkit.embeddings.vector_stream.VectorRows`, which stops where the whole reading
    would refuse the file: then :func:`load_vectors` of the whole file names the problem). The
    rows go into blocks of float32, joined once at the end: two copies of the vectors at the
    peak, for a limit past the file's words too."""
    if limit < 1:
        raise ValueError(f"limit must be a whole number of at least 1; got {limit}")
    rows = VectorRows(path, format)
    reading = rows.__iter__()
    words: list[str] = []
    blocks: list[np.ndarray] = []  # each [rows, dim]; the last one filled up to len(words)
    try:
        for word, vector in itertools.islice(reading, limit):
            if len(words) % _BLOCK_ROWS == 0:  # every block but the last holds _BLOCK_ROWS
                rows_left = min(_BLOCK_ROWS, limit - len(words))
                blocks.append(np.empty((rows_left, len(vector)), dtype=np.float32))
            blocks[-1][len(words) % _BLOCK_ROWS] = vector
            words.append(word)
    except Unreadable:  # the whole reading names the problem (or reads what gensim reads)
        whole = load_vectors(path, format)
        return _keyed(whole.index_to_key[:limit], whole.vectors[:limit].copy())
    finally:
        reading.close()  # the file, left before its end
    warn_repeats(path, rows.repeats)
    blocks[-1] = blocks[-1][:len(words) - _BLOCK_ROWS * (len(blocks) - 1)]
    return _keyed(words, np.concatenate(blocks))  # [words, dim]


def _keyed(words: list[str], matrix: np.ndarray) -> KeyedVectors:
    """KeyedVectors of ``words`` holding ``matrix`` itself (add_vectors would copy it twice)."""
    vectors = KeyedVectors(matrix.shape[1], dtype=matrix.dtype)
    vectors.index_to_key = list(words)
    vectors.key_to_index = {word: index for index, word in enumerate(words)}
    vectors.next_index = len(words)
    vectors.vectors = matrix
    return vectors


def checked_format(path: Path, format: str) -> str:
    """The format of a vectors file (``format``, or the one detected for ``"auto"``), checked
    from its first bytes as :func:`load_vectors` checks it before reading: in no format, in
    another than ``format``, or a binary file whose header gives another size than its first
    vectors' is a ValueError naming the problem."""
    format = check_vectors_file(path, format)
    wrong_dim = dim_problem(path) if format == "word2vec-binary" else None
    if wrong_dim:
        raise ValueError(f"vectors file {path} is not a valid {format} file: {wrong_dim}")
    return format


def _read(path: Path, format: str, rows: int | None = None) -> Any:
    """gensim's reading of a vectors file (its first ``rows`` words), or None where it fails
    on a file already read in full once (``rows`` given)."""
    try:
        return _CheckedVectors.load_word2vec_format(
            str(path), binary=format == "word2vec-binary", no_header=format == "glove",
            limit=rows or sys.maxsize,
        )
    except Exception:
        if rows is None:
            raise
        return None


class _CheckedVectors(KeyedVectors):
    """KeyedVectors that refuse a row of another length while a file is read: gensim's text
    reader assigns each row into a matrix made beforehand, so a row of one number was
    broadcast to the whole vector (``b 5`` read as ``[5, 5, 5]``) without an error."""

    def add_vector(self, key: Any, vector: Any) -> int:
        if len(vector) != self.vector_size:
            raise ValueError(f"the vector of {key!r} holds {len(vector)} numbers, expected "
                             f"{self.vector_size}")
        return int(super().add_vector(key, vector))


def check_vectors_setting(path: str, format: str = "auto", key: str = "embeddings.vectors"
                          ) -> None:
    """:func:`check_vectors_file` for a setting ``key``: its error is a ConfigError naming the
    key, raised with the other settings' before any data is read."""
    try:
        check_vectors_file(path, format)
    except ValueError as error:
        raise ConfigError(f"{key}: {error}") from None


def _without_duplicates(vectors: KeyedVectors, path: Path) -> KeyedVectors:
    """``vectors`` without the empty rows gensim leaves for repeated words (it keeps each
    word's first vector but still counts the repeats: their key is None, their vector zero)."""
    kept = len(vectors.key_to_index)
    if kept == len(vectors.index_to_key):
        return vectors
    warn_repeats(path, len(vectors.index_to_key) - kept)
    unique = KeyedVectors(vectors.vector_size, dtype=vectors.vectors.dtype)
    unique.add_vectors(vectors.index_to_key[:kept], vectors.vectors[:kept])
    return unique


def warn_repeats(path: Path, repeats: int, log: logging.Logger = logger) -> None:
    """Warn through ``log`` (this module's logger unless given) that the vectors file at
    ``path`` holds ``repeats`` repeated words (nothing for none), of which the first vector is
    kept, as gensim keeps it."""
    if repeats:
        log.warning("vectors file %s holds %d repeated words; each word's first vector is kept",
                    path, repeats)


def save_vectors(vectors: KeyedVectors, path: str | Path, format: str | None = None) -> Path:
    """Write ``vectors`` atomically; ``format`` defaults to text for ``.txt``/``.vec``, else binary.

    Words are written most frequent first, as gensim keeps them; a ``.gz`` name is gzipped
    (``v.txt.gz`` is word2vec text). Returns ``path``.
    """
    path = Path(path)
    compressed = path.suffix == ".gz"
    if format is None:
        suffix = path.with_suffix("").suffix if compressed else path.suffix
        format = "word2vec-text" if suffix in (".txt", ".vec") else "word2vec-binary"
    if format not in FORMATS:
        raise ValueError(f"unknown vectors format {format!r}; expected one of {', '.join(FORMATS)}")
    words = [str(key) for key in vectors.index_to_key]
    bad = unsavable_word(words)
    if bad is not None:
        raise ValueError(f"cannot save the word {bad!r}: a word in a vectors file holds no space "
                         "or line break (each line is split at its spaces) and is not empty")
    matrix = np.asarray(vectors.vectors, dtype=np.float32)  # [words, dim]

    def write(raw: IO[bytes]) -> None:
        file = gzip.GzipFile(fileobj=raw, mode="wb") if compressed else raw
        if format != "glove":
            file.write(f"{len(words)} {vectors.vector_size}\n".encode())
        for word, row in zip(words, matrix, strict=True):
            if format == "word2vec-binary":
                file.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")
            else:
                file.write(f"{word} {' '.join(str(x) for x in row)}\n".encode())
        if compressed:
            file.close()  # writes the gzip trailer; ``raw`` stays open

    return atomic_write_bytes(path, write)


def unsavable_word(words: Iterable[str]) -> str | None:
    """The first of ``words`` that no vectors file can hold: an empty one, or one with a space
    or a line break (a tab or a no-break space is fine: only the space splits a line)."""
    return next((word for word in words if not word or " " in word or "\n" in word), None)
