"""Word vectors for a tagger: pretrained ones loaded, or word2vec trained on the spot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from rnnkit.config import (
    ConfigError,
    changed_keys,
    check_at_least,
    check_choice,
    check_input_file,
)
from rnnkit.data.tagged import TaggedSentence
from rnnkit.data.tagger_batches import word_form
from rnnkit.data.vocab import Vocab


@dataclass(frozen=True)
class EmbeddingConfig:
    """Where the tagger's word vectors come from (nothing set: learned from scratch)."""

    vectors: str = ""  # pretrained vectors: word2vec text/binary or GloVe
    vectors_format: str = "auto"  # auto | word2vec-text | word2vec-binary | glove
    word2vec: bool = False  # train word2vec (skip-gram) on the training text + corpus
    corpus: str = ""  # extra text for word2vec (text, .jsonl(.gz), .conllu or an iob .conll)
    word2vec_epochs: int = 5
    word2vec_min_count: int = 2
    freeze: bool = False  # keep the vectors fixed during training
    extend_vocab: int = 30_000  # add the first this many of the vectors' words (lowercased with
    # tagger.lowercase: Tampa as tampa) to the vocabulary


def check_embeddings(config: EmbeddingConfig) -> None:
    """Refuse embeddings settings before any data is read (they were used only after it):
    the keys are named, which the vectors' and word2vec's own errors do not."""
    from rnnkit.embeddings.vector_files import FORMATS  # (no gensim: 2.5 s to import)

    check_choice(config.vectors_format, "embeddings.vectors_format", ("auto", *FORMATS))
    check_at_least(config.word2vec_epochs, "embeddings.word2vec_epochs", 1)
    check_at_least(config.word2vec_min_count, "embeddings.word2vec_min_count", 1)
    check_at_least(config.extend_vocab, "embeddings.extend_vocab", 0)
    if config.vectors and config.word2vec:
        raise ConfigError("embeddings.vectors and embeddings.word2vec=true both give the word "
                          "vectors (the file was used, word2vec not trained); set one of them")
    if config.corpus and not config.word2vec:
        raise ConfigError("embeddings.corpus is read only to train word2vec: set "
                          "embeddings.word2vec=true too, or leave embeddings.corpus out")
    for names, given, what, missing in (
            (("vectors_format",), bool(config.vectors), "a vectors file",
             "embeddings.vectors names none: set it"),
            (("word2vec_epochs", "word2vec_min_count"), config.word2vec, "word2vec training",
             "embeddings.word2vec is false: set it to true"),
            (("freeze", "extend_vocab"), bool(config.vectors or config.word2vec), "word vectors",
             "neither embeddings.vectors nor embeddings.word2vec=true gives any: set one")):
        unread = changed_keys("embeddings", config, EmbeddingConfig(), names)
        if unread and not given:  # it was ignored
            one = len(unread) == 1
            raise ConfigError(f"{' and '.join(unread)} act{'s' if one else ''} on {what}, and "
                              f"{missing}, or leave {'it' if one else 'them'} out")
    if config.corpus:
        check_input_file(config.corpus, "embeddings.corpus", "give the path of a text, "
                         ".jsonl(.gz), .conllu or .conll file")
    if config.vectors:
        from rnnkit.embeddings.pretrained import check_vectors_setting

        check_vectors_setting(config.vectors, config.vectors_format)


def prepare_embeddings(
    config: EmbeddingConfig,
    words: Vocab,
    train: list[TaggedSentence],
    dim: int,
    lowercase: bool,
    log: Any = print,
    seed: int = 0,
) -> tuple[Vocab, torch.Tensor | None, dict[str, Any] | None]:
    """The word vocabulary (extended with the vectors' words, and keeping the training words
    below ``data.min_count`` that have a vector), the matrix, and the vectors' coverage of the
    training words and text.
    Vectors trained here (``embeddings.word2vec``) use one worker and ``seed``, so a run is
    repeatable; ``seed`` also draws the rows of the words without a vector."""
    if not config.vectors and not config.word2vec:
        return words, None, None
    from rnnkit.embeddings.vocabulary import fit_vocabulary, vectors_for

    std = None  # trained vectors: that of their values
    if config.vectors:  # only the rows the vocabulary looks up are kept
        picked = vectors_for(config.vectors, words, config.extend_vocab, config.vectors_format)
        vectors, std = picked.vectors, picked.std
        log(f"loaded {picked.words} vectors of size {vectors.vector_size}"
            f" from {config.vectors}")
    else:
        vectors = _train_vectors(config, train, dim, lowercase, log, seed)
    if vectors.vector_size != dim:
        raise ValueError(
            f"the word vectors have size {vectors.vector_size} but tagger.word_dim is {dim};"
            f" set --set tagger.word_dim={vectors.vector_size}"
        )
    # the training words below data.min_count that have a vector stay in the vocabulary
    words, matrix, coverage = fit_vocabulary(vectors, words, config.extend_vocab, lowercase,
                                             keep_rare=True, log=log, seed=seed, std=std)
    return words, matrix, coverage.to_dict()


def _train_vectors(config: EmbeddingConfig, train: list[TaggedSentence], dim: int,
                   lowercase: bool, log: Any, seed: int = 0) -> Any:
    from rnnkit.embeddings.corpus_formats import open_corpus
    from rnnkit.embeddings.word2vec import Word2VecOptions, train_word2vec

    sentences = [[word_form(t, lowercase) for t in s.tokens] for s in train]
    corpus: Any = sentences
    if config.corpus:
        extra = open_corpus(config.corpus)

        class Combined:
            def __iter__(self) -> Any:
                yield from sentences
                for tokens in extra:
                    yield [word_form(t, lowercase) for t in tokens]

        corpus = Combined()
    options = Word2VecOptions(dim=dim, min_count=config.word2vec_min_count,
                              epochs=config.word2vec_epochs, lowercase=lowercase,
                              workers=1, seed=seed)  # several workers: not repeatable
    log("training word2vec (skip-gram) on the training text"
        + (f" and {config.corpus}" if config.corpus else ""))
    return train_word2vec(corpus, options)
