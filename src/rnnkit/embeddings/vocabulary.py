"""A model's word vocabulary fitted to pretrained vectors: the training words, the vectors'
most frequent words added, the embedding matrix, and the vectors' coverage of the training
text. The tagger and the classifier build theirs here."""

from __future__ import annotations

from pathlib import Path
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
from rnnkit.embeddings.picked_vectors import PickedVectors, pick_vectors


def vectors_for(path: str | Path, words: Vocab, extend: int, format: str = "auto") -> PickedVectors:
    """The vectors of a file that :func:`fit_vocabulary` looks up for ``words`` (its symbols
    and every training word counted) and ``extend``, and the standard deviation of all the
    file's values, the file read one word at a time (:func:`pick_vectors`)."""
    return pick_vectors(path, [*words.symbols, *words.counts], extend, format)


def fit_vocabulary(vectors: KeyedVectors, words: Vocab, extend: int, lowercase: bool,
                   keep_rare: bool, log: Any = print, seed: int = 0, std: float | None = None
                   ) -> tuple[Vocab, torch.Tensor, Coverage]:
    """``words`` (built with counts of every training word, ``Vocab.counts``), plus with
    ``keep_rare`` the training words below ``data.min_count`` that have a vector, plus the
    words the first ``extend`` vectors add (:func:`vocabulary_extension`; a ``lowercase``
    vocabulary gets ``Tampa`` as ``tampa``); its embedding matrix; and the vectors' coverage
    of every training word and of the training text (logged), which the added words do not
    change. Every word is looked up once (a miss builds the lowercased map of all the
    vectors' words, 3 million for GoogleNews). ``seed`` (the run's ``train.seed``) draws the
    random rows of the words without a vector and of ``<unk>``, of standard deviation ``std``
    (by default that of ``vectors``' values: give the whole file's where ``vectors`` are the
    rows :func:`~rnnkit.embeddings.picked_vectors.pick_vectors` kept for ``words``)."""
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
                         seed, std)
    return fitted, matrix, coverage
