"""The rows of a vectors file that a vocabulary looks up, picked while the file is read one word
at a time (:class:`~rnnkit.embeddings.vector_stream.VectorRows`), and the standard deviation of
all its values, which draws the rows of the words it lacks. A file read whole holds every row:
2.6 GB for GloVe 840B's 2.2 million vectors of 300, where a tagger's vocabulary takes a few
ten thousand.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "v.txt"
    >>> _ = path.write_text("the 1 2\\nIraqi 3 4\\ncow 5 6\\n")
    >>> picked = pick_vectors(path, ["<pad>", "<unk>", "iraqi"], first=1)
    >>> picked.vectors.index_to_key, picked.words, round(picked.std, 4)
    (['the', 'Iraqi'], 3, 1.7078)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors

from rnnkit.embeddings.pretrained import checked_format, load_vectors, warn_repeats
from rnnkit.embeddings.vector_stream import Unreadable, VectorRows

logger = logging.getLogger(__name__)
_BLOCK = 1024  # vectors whose moments are taken at once


@dataclass(frozen=True)
class PickedVectors:
    """The vectors kept (in the file's order), how many distinct words the file holds, and the
    standard deviation of all its values (of its distinct words' vectors)."""

    vectors: KeyedVectors
    words: int
    std: float


def pick_vectors(path: str | Path, words: Iterable[str], first: int = 0,
                 format: str = "auto") -> PickedVectors:
    """The vectors of a file that :func:`~rnnkit.embeddings.lookup.vector_indices` finds for
    ``words`` (each word's own, its lowercased form's, the first that lowercases to it) and
    its first ``first`` vectors (whose words
    :func:`~rnnkit.embeddings.lookup.vocabulary_extension` adds, and their lowercased forms'),
    the file read one word at a time. Looked up in them, ``words`` (and the words added) find
    the rows they find in :func:`load_vectors`' reading of the whole file.

    Args:
        path: the vectors file.
        words: the words to be looked up: a vocabulary's symbols, and any other word whose
            coverage is counted.
        first: how many of the file's first vectors to keep.
        format: ``"auto"`` or one of :data:`~rnnkit.embeddings.vector_files.FORMATS`.

    Raises:
        ValueError: what :func:`load_vectors` raises for the file: it reads a file that the
            reading one word at a time refuses, and names what is wrong.
    """
    path, words = Path(path), list(words)
    format = checked_format(path, format)
    rows = VectorRows(path, format)
    try:
        picked = _pick(rows, words, first)
    except Unreadable:  # load_vectors raises, naming the problem (or reads what gensim reads)
        vectors = load_vectors(path, format)
        return _pick(zip(vectors.index_to_key, vectors.vectors, strict=True), words, first)
    warn_repeats(path, rows.repeats, logger)
    return picked


def _pick(rows: Iterable[tuple[str, np.ndarray]], words: Iterable[str], first: int
          ) -> PickedVectors:
    wanted = _Wanted(words)
    moments = _Moments()
    kept: dict[str, np.ndarray] = {}
    dim = count = 0
    for index, (word, vector) in enumerate(rows):
        dim, count = len(vector), index + 1
        moments.add(vector)
        if index < first:  # kept, and the vectors of its forms too
            wanted.add(word)
            wanted.add(word.lower())  # in case lowering it again changes it
        if wanted.finds(word):
            kept[word] = vector
    vectors = KeyedVectors(dim, len(kept), dtype=np.float32)  # [kept, dim], filled in place
    for word, vector in kept.items():
        vectors.add_vector(word, vector)
    return PickedVectors(vectors, count, moments.std())


class _Wanted:
    """The vector words that looking ``words`` up can find, met in a file's order: each word
    and its lowercased form, and the first vector word that lowercases to one of them."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words: set[str] = set()
        self.lowered: set[str] = set()
        self.met: set[str] = set()  # the lowered forms a vector word was met for
        for word in words:
            self.add(word)

    def add(self, word: str) -> None:
        self.words.update((word, word.lower()))
        self.lowered.add(word.lower())

    def finds(self, word: str) -> bool:
        """Whether ``word``, the next vector word of the file, is found."""
        lowered = word.lower()
        first_of_form = lowered in self.lowered and lowered not in self.met
        if first_of_form:
            self.met.add(lowered)
        return word in self.words or first_of_form


class _Moments:
    """How many values were added, their mean and the sum of their squared deviations from it,
    in float64, a block of vectors at a time (each block's deviations from its own mean,
    combined as Chan, Golub and LeVeque do): no sum of squares that cancels."""

    def __init__(self) -> None:
        self.count, self.mean, self.squares = 0, 0.0, 0.0
        self.block: list[np.ndarray] = []

    def add(self, vector: np.ndarray) -> None:
        self.block.append(vector)
        if len(self.block) == _BLOCK:
            self._combine()

    def _combine(self) -> None:
        if not self.block:
            return
        values = np.concatenate(self.block).astype(np.float64)  # [block * dim]
        self.block.clear()
        count = self.count + values.size
        if not count:
            return
        mean = float(values.mean())
        squares = float(np.square(values - mean).sum())
        delta = mean - self.mean
        self.squares += squares + delta * delta * self.count * values.size / count
        self.mean += delta * values.size / count
        self.count = count

    def std(self) -> float:
        """The standard deviation of every value added (0.0 for none)."""
        self._combine()
        return math.sqrt(self.squares / self.count) if self.count else 0.0
