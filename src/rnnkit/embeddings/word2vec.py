"""Train word2vec (skip-gram or CBOW with negative sampling) on a corpus, with gensim.

A corpus is any re-iterable collection of token lists: a list, or one of the streaming readers
in :mod:`rnnkit.embeddings.corpus`. Training returns gensim ``KeyedVectors`` (words most frequent
first); :func:`rnnkit.embeddings.pretrained.save_vectors` writes them to disk.

Reproducibility: with ``workers=1`` and a fixed ``seed`` two runs give identical vectors, in
one process or in two; with several workers the thread scheduling makes each run slightly
different.

Example:
    >>> corpus = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 50
    >>> options = Word2VecOptions(dim=8, min_count=1, epochs=2, workers=1)
    >>> vectors = train_word2vec(corpus, options)
    >>> vectors.vector_size, sorted(vectors.index_to_key)
    (8, ['cat', 'dog', 'sat', 'the'])
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from gensim.models import KeyedVectors, Word2Vec
from gensim.models.callbacks import CallbackAny2Vec
from gensim.models.word2vec_inner import MAX_WORDS_IN_BATCH
from tqdm.auto import tqdm

from rnnkit.config import MAX_SEED
from rnnkit.embeddings.corpus import LowercaseCorpus, check_reiterable

ARCHITECTURES = ("skipgram", "cbow")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Word2VecOptions:
    """How to train word2vec.

    Attributes:
        dim: size of each word vector.
        window: largest distance between a word and a context word.
        min_count: words seen fewer times in the corpus are dropped.
        epochs: passes over the corpus.
        architecture: ``"skipgram"`` (predict the context from the word; better for rare
            words) or ``"cbow"`` (predict the word from its averaged context; faster).
        negative: negative samples per positive pair (negative sampling, no hierarchical
            softmax).
        sample: threshold for downsampling very frequent words (0 turns it off).
        learning_rate: the starting learning rate (gensim's ``alpha``); it decays linearly.
        workers: training threads.
        seed: seed of the initial vectors and of the sampling.
        lowercase: lowercase every token before counting and training.
    """

    dim: int = 100
    window: int = 5
    min_count: int = 5
    epochs: int = 5
    architecture: str = "skipgram"
    negative: int = 5
    sample: float = 1e-3
    learning_rate: float | None = None  # None: gensim's 0.025 (both architectures)
    workers: int = 2
    seed: int = 0
    lowercase: bool = False

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"architecture {self.architecture!r} is unknown; expected skipgram or cbow"
            )
        for name in ("dim", "window", "min_count", "epochs", "negative", "workers"):
            if getattr(self, name) < 1:
                raise ValueError(f"word2vec {name} must be at least 1, got {getattr(self, name)}")
        if not self.sample >= 0:  # NaN too
            raise ValueError(f"word2vec sample must be >= 0, got {self.sample}")
        rate = self.learning_rate
        if rate is not None and not (rate > 0 and math.isfinite(rate)):
            raise ValueError(f"word2vec learning_rate must be a positive number, got {rate}")
        if not 0 <= self.seed <= MAX_SEED:  # gensim's numpy RandomState takes no other
            raise ValueError(f"word2vec seed must be between 0 and {MAX_SEED}, got {self.seed}")


class _EpochProgress(CallbackAny2Vec):
    """A tqdm bar over epochs, and one log line per epoch."""

    def __init__(self, epochs: int, enabled: bool) -> None:
        self.bar = tqdm(total=epochs, desc="word2vec", unit="epoch", disable=not enabled)
        self.epoch = 0

    def on_epoch_end(self, model: Word2Vec) -> None:
        self.epoch += 1
        self.bar.update(1)
        logger.info("word2vec: epoch %d/%d done", self.epoch, model.epochs)

    def on_train_end(self, model: Word2Vec) -> None:
        self.bar.close()


class _Pieces:
    """Another corpus with every sentence longer than gensim reads (``MAX_WORDS_IN_BATCH``,
    10 000 tokens) cut into pieces no longer: gensim trains on a sentence's first 10 000
    tokens and skips the rest without a word, so a word met only after them kept its random
    first vector (a text file with no line breaks lost all but its first 10 000 tokens)."""

    def __init__(self, corpus: Iterable[Sequence[str]], size: int = MAX_WORDS_IN_BATCH) -> None:
        self.corpus, self.size = corpus, size

    def __iter__(self) -> Iterator[Sequence[str]]:
        for sentence in self.corpus:
            if len(sentence) <= self.size:
                yield sentence
            else:
                for start in range(0, len(sentence), self.size):
                    yield sentence[start : start + self.size]


def train_word2vec(
    corpus: Iterable[Sequence[str]],
    options: Word2VecOptions | None = None,
    progress: bool = False,
) -> KeyedVectors:
    """Train word vectors on ``corpus`` and return them.

    Args:
        corpus: a re-iterable collection of token lists (read once to count words, then once
            per epoch). A generator is rejected: it would be empty after the first pass.
        options: hyperparameters; defaults to :class:`Word2VecOptions` ``()``.
        progress: show a tqdm bar over epochs (gensim also logs its progress at INFO level
            to the ``gensim`` logger).

    Returns:
        The trained ``KeyedVectors``, words most frequent first.

    Raises:
        ValueError: a one-shot corpus, or no word occurring ``min_count`` times.
    """
    options = options or Word2VecOptions()
    check_reiterable(corpus)
    if options.lowercase:
        corpus = LowercaseCorpus(corpus)
    corpus = _Pieces(corpus)
    settings: dict[str, Any] = {}
    if options.learning_rate is not None:
        settings["alpha"] = options.learning_rate
    model = Word2Vec(
        vector_size=options.dim,
        window=options.window,
        min_count=options.min_count,
        sg=int(options.architecture == "skipgram"),
        hs=0,
        negative=options.negative,
        sample=options.sample,
        workers=options.workers,
        seed=options.seed,
        epochs=options.epochs,
        **settings,
    )
    model.build_vocab(corpus)
    if model.corpus_total_words == 0:  # 'lower min_count' (of 1) could not help an empty one
        raise ValueError(f"the corpus holds no words ({model.corpus_count} sentences, 0 "
                         "tokens); give files with text in them")
    if len(model.wv) == 0:
        raise ValueError(
            f"no word occurs at least min_count={options.min_count} times in the corpus "
            f"({model.corpus_count} sentences, {model.corpus_total_words} tokens); "
            "lower min_count or give a larger corpus"
        )
    logger.info(
        "word2vec: %d sentences, %d tokens, %d words kept (min_count=%d)",
        model.corpus_count, model.corpus_total_words, len(model.wv), options.min_count,
    )
    model.train(
        corpus,
        total_examples=model.corpus_count,
        epochs=options.epochs,
        callbacks=[_EpochProgress(options.epochs, progress)],
    )
    return model.wv
