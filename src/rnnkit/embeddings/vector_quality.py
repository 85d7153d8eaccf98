"""How good are word vectors? Word similarity, analogies, neighbours, on the sets inside gensim.

* **Similarity** (WordSim-353, SimLex-999): Spearman correlation between human similarity
  ratings and the cosine similarity of the two words' vectors, over the pairs whose words are
  both known; ``oov_ratio`` is the share of pairs skipped because a word is unknown.
* **Analogies** (Mikolov's ``questions-words.txt``, 19 544 questions): "a is to b as c is to ?"
  answered by the nearest word to ``b - a + c`` (3CosAdd) among the ``restrict_vocab`` most
  frequent words; accuracy over the questions whose four words are all among them, overall,
  semantic (capitals, currencies, family ...) and syntactic (``gram*`` sections: plurals,
  tenses ...). ``analogy_coverage`` is the share of questions answered.

The similarity and analogy sets are looked up ignoring case (gensim's ``case_insensitive``),
so lowercased vectors are fine; :func:`neighbors` and :func:`analogy` take the words as
given (``King`` and ``king`` are two words of a cased vocabulary).

Example:
    >>> import numpy as np
    >>> from gensim.models import KeyedVectors
    >>> vectors = KeyedVectors(2)
    >>> vectors.add_vectors(["king", "queen", "man", "woman"],
    ...                     np.array([[1.0, 1.0], [1.0, -1.0], [0.9, 1.1], [0.9, -0.9]]))
    >>> analogy(vectors, "man", "woman", "king", k=1)[0][0]
    'queen'
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from gensim.models import KeyedVectors
from gensim.test.utils import datapath

from rnnkit.embeddings.vector_files import are_numbers

SIMILARITY_SETS = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}
ANALOGY_SET = "questions-words.txt"


class UnknownWordError(ValueError):
    """A word that the vectors do not hold."""


def similarity_files() -> dict[str, Path]:
    """The word-similarity sets bundled with gensim, by name (only those present)."""
    files = {name: Path(datapath(file)) for name, file in SIMILARITY_SETS.items()}
    return {name: path for name, path in files.items() if path.is_file()}


def analogy_file() -> Path:
    """gensim's copy of Mikolov et al.'s analogy questions."""
    return Path(datapath(ANALOGY_SET))


def _number(value: float) -> float | None:
    """``value`` as a plain float, None for NaN (too few pairs to correlate)."""
    value = float(value)
    return None if math.isnan(value) else value


def evaluate_similarity(vectors: KeyedVectors, path: str | Path) -> dict[str, Any]:
    """Spearman and Pearson correlation with a tab-separated ``word1 word2 score`` file.

    Returns:
        ``{"spearman", "pearson", "oov_ratio", "pairs", "pairs_total"}``: correlations are
        None when fewer than two pairs are known; ``oov_ratio`` is a fraction in [0, 1].
    """
    path = Path(path)
    words = {word.upper() for word in vectors.index_to_key}  # as gensim, case-insensitive
    total = known_pairs = 0
    with path.open(encoding="utf-8") as file:
        for line in file:
            parts = line.split("\t")
            # the pairs gensim reads: no comment, three fields, a number last (not a header)
            if not line.startswith("#") and len(parts) == 3 and are_numbers(parts[2:]):
                total += 1
                known_pairs += parts[0].upper() in words and parts[1].upper() in words
    if known_pairs < 2:  # no correlation of fewer than two pairs (gensim or scipy refuse)
        return {"spearman": None, "pearson": None, "oov_ratio": 1 - known_pairs / max(total, 1),
                "pairs": known_pairs, "pairs_total": total}
    pearson, spearman, oov_percent = vectors.evaluate_word_pairs(
        str(path), restrict_vocab=len(vectors), case_insensitive=True
    )
    return {
        "spearman": _number(spearman.statistic),
        "pearson": _number(pearson.statistic),
        "oov_ratio": oov_percent / 100,
        "pairs": known_pairs,
        "pairs_total": total,
    }


def evaluate_analogies(
    vectors: KeyedVectors, path: str | Path | None = None, restrict_vocab: int = 30_000
) -> dict[str, Any]:
    """Analogy accuracy (3CosAdd) among the ``restrict_vocab`` most frequent words.

    Returns:
        ``{"accuracy", "semantic", "syntactic", "answered", "questions", "coverage",
        "restrict_vocab"}``; accuracies are None when no question could be answered.
    """
    path = Path(path) if path is not None else analogy_file()
    with path.open(encoding="utf-8") as file:  # the questions gensim reads: four words
        questions = sum(1 for line in file
                        if not line.startswith(": ") and len(line.split()) == 4)
    _, sections = vectors.evaluate_word_analogies(
        str(path), restrict_vocab=restrict_vocab, case_insensitive=True
    )
    tally = {"semantic": [0, 0], "syntactic": [0, 0]}  # kind -> [correct, answered]
    for section in sections:
        if section["section"] == "Total accuracy":
            continue
        kind = "syntactic" if section["section"].startswith("gram") else "semantic"
        tally[kind][0] += len(section["correct"])
        tally[kind][1] += len(section["correct"]) + len(section["incorrect"])
    correct = tally["semantic"][0] + tally["syntactic"][0]
    answered = tally["semantic"][1] + tally["syntactic"][1]
    return {
        "accuracy": correct / answered if answered else None,
        "semantic": tally["semantic"][0] / tally["semantic"][1] if tally["semantic"][1] else None,
        "syntactic": (
            tally["syntactic"][0] / tally["syntactic"][1] if tally["syntactic"][1] else None
        ),
        "answered": answered,
        "questions": questions,
        "coverage": answered / questions if questions else 0.0,
        "restrict_vocab": restrict_vocab,
    }


def evaluate(vectors: KeyedVectors, restrict_vocab: int = 30_000) -> dict[str, Any]:
    """Every bundled similarity set and the analogies, in one JSON-ready dictionary.

    Returns:
        ``{"words": ..., "dim": ..., "similarity": {set name: evaluate_similarity(...)},
        "analogy": evaluate_analogies(...)}``.
    """
    return {
        "words": len(vectors),
        "dim": vectors.vector_size,
        "similarity": {
            name: evaluate_similarity(vectors, path) for name, path in similarity_files().items()
        },
        "analogy": evaluate_analogies(vectors, restrict_vocab=restrict_vocab),
    }


def _require(vectors: KeyedVectors, words: list[str]) -> None:
    """Raise :class:`UnknownWordError` naming every word the vectors lack, with a hint."""
    missing = [word for word in words if word not in vectors.key_to_index]
    if not missing:
        return
    lowered = [repr(word.lower()) for word in missing
               if word.lower() != word and word.lower() in vectors.key_to_index]
    hint = f" (but {', '.join(lowered)} known: lowercase the query)" if lowered else ""
    listed = ", ".join(repr(word) for word in missing)
    raise UnknownWordError(
        f"not in the vectors ({len(vectors)} words): {listed}{hint}; words seen fewer than "
        "min_count times in the training corpus have no vector"
    )


def _zero_rows(vectors: KeyedVectors, query: list[str]) -> int:
    """How many words have an all-zero vector (padding rows of some pretrained files); a
    query word among them is refused, since a zero vector has no direction to compare."""
    vectors.fill_norms()
    zero = [word for word in query if vectors.norms[vectors.key_to_index[word]] == 0]
    if zero:
        raise UnknownWordError(
            f"the vector of {', '.join(repr(word) for word in zero)} is all zeros: it has no "
            "direction, so no word is nearer than another; ask about another word")
    return int((vectors.norms == 0).sum())


def _nearest(vectors: KeyedVectors, query: list[str], k: int,
             **options: Any) -> list[tuple[str, float]]:
    """``most_similar`` without the words of zero vectors (their cosine is undefined)."""
    extra = _zero_rows(vectors, query)
    with np.errstate(invalid="ignore", divide="ignore"):
        found = vectors.most_similar(topn=k + extra, **options)
    return [(str(word), float(score)) for word, score in found if not math.isnan(score)][:k]


def neighbors(vectors: KeyedVectors, word: str, k: int = 10) -> list[tuple[str, float]]:
    """The ``k`` words nearest to ``word`` by cosine similarity, nearest first (words whose
    vector is all zeros have no cosine and are left out)."""
    _require(vectors, [word])
    return _nearest(vectors, [word], k, positive=[word])


def analogy(
    vectors: KeyedVectors, a: str, b: str, c: str, k: int = 10
) -> list[tuple[str, float]]:
    """Answers to "``a`` is to ``b`` as ``c`` is to ?": the words nearest to ``b - a + c``.

    The three question words themselves are left out of the answers.
    """
    _require(vectors, [a, b, c])
    return _nearest(vectors, [a, b, c], k, positive=[b, c], negative=[a])
