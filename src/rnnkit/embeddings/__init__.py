"""Word embeddings: train word2vec, load pretrained vectors, build embedding matrices, evaluate.

Example:
    >>> from rnnkit.embeddings import Word2VecOptions, embedding_matrix, train_word2vec
    >>> corpus = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 20
    >>> vectors = train_word2vec(corpus, Word2VecOptions(dim=4, min_count=1, epochs=1, workers=1))
    >>> matrix, coverage = embedding_matrix(["<pad>", "<unk>", "The", "cow"], vectors)
    >>> tuple(matrix.shape), coverage.summary()
    ((4, 4), 'vocabulary 1/2 words (50.0%, 1 lowercased)')
"""

from typing import TYPE_CHECKING

from rnnkit.lazy import attach

if TYPE_CHECKING:  # the names below, for type checkers; at run time they load on first use
    from rnnkit.embeddings.corpus import (
        ConlluCorpus,
        JsonlCorpus,
        TextCorpus,
        TokenizedCorpus,
        tokenize,
    )
    from rnnkit.embeddings.corpus_formats import open_corpus
    from rnnkit.embeddings.lookup import Coverage, embedding_matrix
    from rnnkit.embeddings.pretrained import load_vectors, save_vectors
    from rnnkit.embeddings.vector_files import detect_format
    from rnnkit.embeddings.vector_quality import (
        UnknownWordError,
        analogy,
        evaluate,
        evaluate_analogies,
        evaluate_similarity,
        neighbors,
    )
    from rnnkit.embeddings.word2vec import Word2VecOptions, train_word2vec

# each name's module: gensim (2.5 s to import) loads when one is used, not with the package,
# which a run without word vectors imports for the settings' checks alone
_MODULES = {
    "ConlluCorpus": "corpus", "JsonlCorpus": "corpus", "TextCorpus": "corpus",
    "TokenizedCorpus": "corpus", "tokenize": "corpus", "open_corpus": "corpus_formats",
    "UnknownWordError": "vector_quality", "analogy": "vector_quality",
    "evaluate": "vector_quality", "evaluate_analogies": "vector_quality",
    "evaluate_similarity": "vector_quality", "neighbors": "vector_quality",
    "Coverage": "lookup", "embedding_matrix": "lookup", "load_vectors": "pretrained",
    "save_vectors": "pretrained", "detect_format": "vector_files",
    "Word2VecOptions": "word2vec", "train_word2vec": "word2vec",
}


__getattr__, __dir__ = attach(__name__, _MODULES)


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
