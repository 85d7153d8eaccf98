"""Pretrained vectors lined up with a vocabulary: which vector row each word takes, the
embedding matrix for ``nn.Embedding.from_pretrained(matrix, freeze=...)``, the words the vectors
add to a vocabulary, and how much of a vocabulary (and its text) the vectors cover.

A word takes the row of its own vector, else of its lowercased form, else of the first vector
word that lowercases to it (a lowercased vocabulary's ``iraqi`` finds vectors that only hold
``Iraqi``).

Example:
    >>> vectors = KeyedVectors(2)
    >>> vectors.add_vectors(["cat", "dog"], np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> matrix, coverage = embedding_matrix(["<pad>", "<unk>", "Cat", "cow"], vectors)
    >>> matrix[[0, 2]].tolist(), coverage.vocab_found, coverage.vocab_size
    ([[0.0, 0.0], [1.0, 0.0]], 1, 2)
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from gensim.models import KeyedVectors

from rnnkit.data.vocab import PAD, UNK


@dataclass(frozen=True)
class Coverage:
    """How much of a vocabulary (and of the text behind it) pretrained vectors cover.

    ``<pad>`` and ``<unk>`` are not counted. Token numbers weigh each word by its count in
    the training data and are None when no counts were given.
    """

    vocab_found: int
    vocab_size: int
    vocab_share: float
    lowercased: int  # found only through the lowercased form
    token_found: int | None = None
    token_total: int | None = None
    token_share: float | None = None

    def summary(self) -> str:
        """One line for a human, e.g. ``'vocabulary 3/4 words (75.0%, 1 lowercased)'``."""
        line = (
            f"vocabulary {self.vocab_found}/{self.vocab_size} words "
            f"({100 * self.vocab_share:.1f}%, {self.lowercased} lowercased)"
        )
        if self.token_share is not None:
            line += (
                f"; running text {self.token_found}/{self.token_total} tokens "
                f"({100 * self.token_share:.1f}%)"
            )
        return line

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def vector_indices(
    symbols: Sequence[str], vectors: KeyedVectors, lowercase_fallback: bool = True
) -> list[int | None]:
    """The row of ``vectors`` each symbol takes, as :func:`embedding_matrix` looks it up (the
    word, else its lowercased form, else the first vector word that lowercases to it); None
    where there is none, and for ``<pad>`` and ``<unk>``.

    Example:
        >>> vectors = KeyedVectors(1)
        >>> vectors.add_vectors(["the", "Paris"], np.array([[1.0], [2.0]]))
        >>> vector_indices(["<pad>", "The", "paris", "cow"], vectors)
        [None, 0, 1, None]
    """
    folded: dict[str, int] = {}  # lowercased vector word -> its first index, once needed
    indices: list[int | None] = []
    for symbol in symbols:
        index = None
        if symbol not in (PAD, UNK):
            index = vectors.key_to_index.get(symbol)
            if index is None and lowercase_fallback:
                index = vectors.key_to_index.get(symbol.lower())
                if index is None:
                    if not folded:
                        for position, key in enumerate(vectors.index_to_key):
                            folded.setdefault(key.lower(), position)
                    index = folded.get(symbol.lower())
        indices.append(index)
    return indices


def vocabulary_extension(vectors: KeyedVectors, limit: int, lowercase: bool,
                         known: Container[str] = ()) -> list[str]:
    """The words the first ``limit`` vector words add to a vocabulary, each once, in the
    file's order, less those in ``known``. A ``lowercase`` vocabulary gets each word's
    lowercased form (``Tampa`` gives ``tampa``: GoogleNews holds names only capitalised), which
    :func:`embedding_matrix` gives the form's own vector if the file has one, else that of the
    first word met in the file that lowercases to it.

    Example:
        >>> vectors = KeyedVectors(1)
        >>> vectors.add_vectors(["the", "Tampa", "TAMPA", "Rome"], np.array([[1.0], [2.0],
        ...                                                                [3.0], [4.0]]))
        >>> vocabulary_extension(vectors, 3, True, known={"the"})
        ['tampa']
        >>> vocabulary_extension(vectors, 4, False)
        ['the', 'Tampa', 'TAMPA', 'Rome']
    """
    forms = dict.fromkeys(word.lower() if lowercase else word
                          for word in vectors.index_to_key[:limit])
    return [word for word in forms if word not in known]


def vector_coverage(symbols: Sequence[str], vectors: KeyedVectors,
                    counts: Mapping[str, int] | None = None, lowercase_fallback: bool = True
                    ) -> Coverage:
    """How much of ``symbols`` (and, with ``counts``, of the text behind them) ``vectors``
    cover, each symbol looked up as :func:`embedding_matrix` looks it up. Give every training
    word (``Vocab.counts``) to count the training text, not just the words kept."""
    return coverage_of(symbols, vector_indices(symbols, vectors, lowercase_fallback), vectors,
                     counts)


def coverage_of(symbols: Sequence[str], found: Sequence[int | None], vectors: KeyedVectors,
                counts: Mapping[str, int] | None) -> Coverage:
    """:func:`vector_coverage` of ``symbols`` already looked up (``found``: their
    :func:`vector_indices`)."""
    words = [(symbol, index) for symbol, index in zip(symbols, found, strict=True)
             if symbol not in (PAD, UNK)]
    hits = [symbol for symbol, index in words if index is not None]
    token_total = sum(counts.get(symbol, 0) for symbol, _ in words) if counts is not None else 0
    token_found = sum(counts.get(symbol, 0) for symbol in hits) if counts is not None else 0
    return Coverage(
        vocab_found=len(hits),
        vocab_size=len(words),
        vocab_share=len(hits) / len(words) if words else 0.0,
        lowercased=sum(symbol not in vectors.key_to_index for symbol in hits),
        token_found=token_found if counts is not None else None,
        token_total=token_total if counts is not None else None,
        token_share=(token_found / token_total if token_total else 0.0)
        if counts is not None
        else None,
    )


def embedding_matrix(
    vocab_symbols: Sequence[str],
    vectors: KeyedVectors,
    counts: Mapping[str, int] | None = None,
    lowercase_fallback: bool = True,
    seed: int = 0,
) -> tuple[torch.Tensor, Coverage]:
    """An embedding matrix for a vocabulary: pretrained rows where known, random elsewhere.

    Row ``i`` is the vector of ``vocab_symbols[i]``, else (with ``lowercase_fallback``) of its
    lowercased form, else of the first (most frequent) vector word that lowercases to it (a
    lowercased vocabulary's ``iraqi`` finds vectors that only hold ``Iraqi``), else drawn from
    ``N(0, std^2)`` with ``std`` the standard deviation of all the vectors' values (seeded by
    ``seed``). The ``<pad>`` row is zero; ``<unk>`` is random.

    Args:
        vocab_symbols: the vocabulary's symbols in id order (``Vocab.symbols``).
        vectors: pretrained vectors (:func:`load_vectors`, or trained by ``train_word2vec``).
        counts: token counts from the training data (``Vocab.counts``) for token coverage;
            counts of words outside ``vocab_symbols`` are ignored.
        lowercase_fallback: look up ``word.lower()`` when ``word`` itself is missing.
        seed: seed of the random rows.

    Returns:
        ``(matrix, coverage)``: a float32 tensor and a :class:`Coverage`.

    Shape:
        matrix: ``[len(vocab_symbols), vectors.vector_size]``.
    """
    found = vector_indices(vocab_symbols, vectors, lowercase_fallback)
    return rows_matrix(vocab_symbols, found, vectors, seed), coverage_of(vocab_symbols, found,
                                                                         vectors, counts)


def rows_matrix(vocab_symbols: Sequence[str], found: Sequence[int | None],
                vectors: KeyedVectors, seed: int = 0, std: float | None = None) -> torch.Tensor:
    """:func:`embedding_matrix`'s matrix for ``vocab_symbols`` already looked up (``found``:
    their :func:`vector_indices`). ``std``: the standard deviation of the random rows where
    ``vectors`` are some of a file's (:func:`~rnnkit.embeddings.picked_vectors.pick_vectors`
    gives that of the whole file), else that of all of ``vectors``' values."""
    std = (float(np.std(vectors.vectors)) if std is None else std) or 1.0
    generator = torch.Generator().manual_seed(seed)
    matrix = torch.randn(len(vocab_symbols), vectors.vector_size, generator=generator) * std
    rows = [row for row, index in enumerate(found) if index is not None]
    if rows:
        sources = [found[row] for row in rows]
        matrix[rows] = torch.from_numpy(np.asarray(vectors.vectors[sources], dtype=np.float32))
    for row, symbol in enumerate(vocab_symbols):
        if symbol == PAD:
            matrix[row] = 0.0
    return matrix
