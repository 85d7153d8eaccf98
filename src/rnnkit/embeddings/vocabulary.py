"""A model's word vocabulary fitted to pretrained vectors: the training words, the vectors'
most frequent words added, the embedding matrix, and the vectors' coverage of the training
text. The tagger and the classifier build theirs here."""

from __future__ import annotations

from typing import Any

import torch
from gensim.models import KeyedVectors

from rnnkit.data.vocab import Vocab
from rnnkit.embeddings.lookup import (
    Coverage,
    embedding_matrix,
    vector_coverage,
    vector_indices,
    vocabulary_extension,
)


def fit_vocabulary(vectors: KeyedVectors, words: Vocab, extend: int, lowercase: bool,
                   keep_rare: bool, log: Any = print) -> tuple[Vocab, torch.Tensor, Coverage]:
    """``words`` (built with counts of every training word, ``Vocab.counts``), plus with
    ``keep_rare`` the training words below ``data.min_count`` that have a vector, plus the
    words the first ``extend`` vectors add (:func:`vocabulary_extension`; a ``lowercase``
    vocabulary gets ``Tampa`` as ``tampa``); its embedding matrix; and the vectors' coverage
    of every training word and of the training text (logged), which the added words do not
    change."""
    counts = words.counts
    coverage = vector_coverage(list(counts), vectors, counts)
    log(f"embedding coverage of the training words: {coverage.summary()}")
    symbols = words.symbols[2:]
    if keep_rare:
        rare = [word for word in counts if word not in words]
        symbols += [word for word, index in zip(rare, vector_indices(rare, vectors), strict=True)
                    if index is not None]
    known = {*words.symbols, *(counts if keep_rare else ())}
    fitted = Vocab(symbols + vocabulary_extension(vectors, extend, lowercase, known=known))
    fitted.counts = counts
    matrix, _ = embedding_matrix(fitted.symbols, vectors, counts)
    return fitted, matrix, coverage
