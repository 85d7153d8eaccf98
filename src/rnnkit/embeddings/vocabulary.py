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
    coverage_of,
    rows_matrix,
    vector_indices,
    vocabulary_extension,
)


def fit_vocabulary(vectors: KeyedVectors, words: Vocab, extend: int, lowercase: bool,
                   keep_rare: bool, log: Any = print, seed: int = 0
                   ) -> tuple[Vocab, torch.Tensor, Coverage]:
    """``words`` (built with counts of every training word, ``Vocab.counts``), plus with
    ``keep_rare`` the training words below ``data.min_count`` that have a vector, plus the
    words the first ``extend`` vectors add (:func:`vocabulary_extension`; a ``lowercase``
    vocabulary gets ``Tampa`` as ``tampa``); its embedding matrix; and the vectors' coverage
    of every training word and of the training text (logged), which the added words do not
    change. Every word is looked up once (a miss builds the lowercased map of all the
    vectors' words, 3 million for GoogleNews). ``seed`` (the run's ``train.seed``) draws the
    random rows of the words without a vector and of ``<unk>``."""
    counts = words.counts
    known = {*words.symbols, *(counts if keep_rare else ())}
    added = vocabulary_extension(vectors, extend, lowercase, known=known)
    looked_up = list(dict.fromkeys([*words.symbols, *counts, *added]))
    index_of = dict(zip(looked_up, vector_indices(looked_up, vectors), strict=True))
    coverage = coverage_of(list(counts), [index_of[word] for word in counts], vectors, counts)
    log(f"embedding coverage of the training words: {coverage.summary()}")
    symbols = words.symbols[2:]
    if keep_rare:
        symbols += [word for word in counts
                    if word not in words and index_of[word] is not None]
    fitted = Vocab(symbols + added)
    fitted.counts = counts
    matrix = rows_matrix(fitted.symbols, [index_of.get(word) for word in fitted.symbols], vectors,
                         seed)
    return fitted, matrix, coverage
