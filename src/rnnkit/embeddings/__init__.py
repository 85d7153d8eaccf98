"""Word embeddings: train word2vec, load pretrained vectors, build embedding matrices, evaluate.

Example:
    >>> from rnnkit.embeddings import Word2VecOptions, embedding_matrix, train_word2vec
    >>> corpus = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 20
    >>> vectors = train_word2vec(corpus, Word2VecOptions(dim=4, min_count=1, epochs=1, workers=1))
    >>> matrix, coverage = embedding_matrix(["<pad>", "<unk>", "The", "cow"], vectors)
    >>> tuple(matrix.shape), coverage.summary()
    ((4, 4), 'vocabulary 1/2 words (50.0%, 1 lowercased)')
"""

from rnnkit.embeddings.corpus import (
    ConlluCorpus,
    JsonlCorpus,
    TextCorpus,
    TokenizedCorpus,
    tokenize,
)
from rnnkit.embeddings.corpus_formats import open_corpus
from rnnkit.embeddings.evaluate import (
    UnknownWordError,
    analogy,
    evaluate,
    evaluate_analogies,
    evaluate_similarity,
    neighbors,
)
from rnnkit.embeddings.lookup import Coverage, embedding_matrix
from rnnkit.embeddings.pretrained import load_vectors, save_vectors
from rnnkit.embeddings.vector_files import detect_format
from rnnkit.embeddings.word2vec import Word2VecOptions, train_word2vec

__all__ = [
    "ConlluCorpus",
    "Coverage",
    "JsonlCorpus",
    "TextCorpus",
    "TokenizedCorpus",
    "UnknownWordError",
    "Word2VecOptions",
    "analogy",
    "detect_format",
    "embedding_matrix",
    "evaluate",
    "evaluate_analogies",
    "evaluate_similarity",
    "load_vectors",
    "neighbors",
    "open_corpus",
    "save_vectors",
    "tokenize",
    "train_word2vec",
]
