"""Word embeddings: word2vec training, embedding matrices, vocabularies and evaluation.

Every model here is tiny (a few hundred short sentences, 8-16 dimensions, one thread, a fixed
seed), so the whole file runs in seconds. The corpora, vector files and the word2vec commands
are tested in tests/test_embeddings_corpora.py, tests/test_vector_files*.py and
tests/test_embeddings_cli.py, which import the helpers here.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from gensim.models import KeyedVectors

from rnnkit.data.vocab import Vocab
from rnnkit.embeddings import (
    TokenizedCorpus,
    UnknownWordError,
    Word2VecOptions,
    analogy,
    embedding_matrix,
    evaluate,
    neighbors,
    train_word2vec,
)
from rnnkit.embeddings.vector_quality import analogy_file, similarity_files

ANIMALS = ["cat", "dog", "horse", "cow", "sheep", "goat"]
COLOURS = ["red", "blue", "green", "yellow", "purple", "orange"]


def clustered_corpus(sentences: int = 300, seed: int = 0) -> list[list[str]]:
    """Sentences that mix words of one group only: animals with animals, colours with colours."""
    rng = random.Random(seed)
    return [rng.choices(ANIMALS if i % 2 else COLOURS, k=6) for i in range(sentences)]


def tiny(**overrides: object) -> Word2VecOptions:
    options: dict[str, object] = {"dim": 16, "window": 3, "min_count": 1, "epochs": 5,
                                  "workers": 1, "seed": 1,
                                  "sample": 0.0}  # no downsampling: every word is frequent here
    options.update(overrides)
    return Word2VecOptions(**options)  # type: ignore[arg-type]


def hand_made() -> KeyedVectors:
    vectors = KeyedVectors(3)
    vectors.add_vectors(
        ["the", "cat", "dog", "Paris"],
        np.array([[1, 2, 3], [0.5, -1, 0], [-2, 0.25, 1], [0, 0, 4]], dtype=np.float32),
    )
    return vectors


# training ----------------------------------------------------------------------------------


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_word2vec_learns_which_words_share_contexts(architecture: str) -> None:
    corpus = clustered_corpus()
    vectors = train_word2vec(corpus, tiny(architecture=architecture))
    assert vectors.vector_size == 16 and set(vectors.index_to_key) == {*ANIMALS, *COLOURS}
    same = np.mean([vectors.similarity(a, b) for a in ANIMALS for b in ANIMALS if a != b])
    across = np.mean([vectors.similarity(a, c) for a in ANIMALS for c in COLOURS])
    assert same > across + 0.5
    again = train_word2vec(corpus, tiny(architecture=architecture))
    np.testing.assert_array_equal(vectors.vectors, again.vectors)  # one worker + seed


def test_word2vec_lowercase_and_min_count() -> None:
    corpus = [["The", "cat"], ["the", "dog"], ["THE", "cat"]] * 5
    vectors = train_word2vec(corpus, tiny(lowercase=True, min_count=10))
    assert set(vectors.index_to_key) == {"the", "cat"}  # dog: 5 < 10


def test_word2vec_rejects_bad_corpora_and_options() -> None:
    with pytest.raises(ValueError, match="one-shot iterator"):
        train_word2vec((s for s in clustered_corpus()), tiny())
    with pytest.raises(ValueError, match="no word occurs at least min_count=100 times"):
        train_word2vec([["a", "b"]], tiny(min_count=100))
    for empty in ([], [[], []]):  # was 'no word occurs at least min_count=1 times...; lower
        with pytest.raises(ValueError, match="the corpus holds no words"):  # min_count'
            train_word2vec(empty, tiny(min_count=1))
    with pytest.raises(ValueError, match="architecture 'glove' is unknown"):
        tiny(architecture="glove")


# embedding matrix --------------------------------------------------------------------------


def test_embedding_matrix_copies_rows_falls_back_to_lowercase_and_zeroes_pad() -> None:
    vectors = hand_made()
    sentences = [["The"] * 10, ["cat"] * 5, ["dog", "Dog", "Dog"], ["cow", "cow"], ["Paris"]]
    vocab = Vocab.build(sentences, min_count=2)
    assert vocab.symbols == ["<pad>", "<unk>", "The", "cat", "Dog", "cow"]
    matrix, coverage = embedding_matrix(vocab.symbols, vectors, vocab.counts)
    assert matrix.dtype == torch.float32 and tuple(matrix.shape) == (6, 3)
    assert torch.equal(matrix[0], torch.zeros(3))
    for row, word in [(2, "the"), (3, "cat"), (4, "dog")]:
        assert torch.equal(matrix[row], torch.tensor(vectors[word]))
    assert matrix[1].abs().sum() > 0 and matrix[5].abs().sum() > 0  # <unk> and cow: random
    assert coverage.vocab_found == 3 and coverage.vocab_size == 4 and coverage.lowercased == 2
    assert coverage.vocab_share == 0.75
    assert (coverage.token_found, coverage.token_total) == (17, 19)  # cow: 2 of 10+5+2+2
    assert coverage.token_share == pytest.approx(17 / 19)
    assert coverage.summary() == (
        "vocabulary 3/4 words (75.0%, 2 lowercased); running text 17/19 tokens (89.5%)"
    )

    strict, exact = embedding_matrix(vocab.symbols, vectors, lowercase_fallback=False)
    assert (exact.vocab_found, exact.lowercased, exact.token_share) == (1, 0, None)
    assert torch.equal(strict[5], matrix[5])  # same seed, same random rows
    lowered, found = embedding_matrix(["<pad>", "<unk>", "paris"], vectors)  # cased vectors
    assert (found.vocab_found, found.lowercased) == (1, 1)
    assert torch.equal(lowered[2], torch.tensor(vectors["Paris"]))


def test_embedding_matrix_random_rows_match_the_vectors_scale() -> None:
    vectors = hand_made()
    unknown = [f"w{i}" for i in range(2000)]
    matrix, coverage = embedding_matrix(["<pad>", *unknown], vectors, seed=3)
    assert coverage.vocab_found == 0 and coverage.vocab_size == 2000
    assert float(matrix[1:].std()) == pytest.approx(float(np.std(vectors.vectors)), rel=0.05)
    other, _ = embedding_matrix(["<pad>", *unknown], vectors, seed=4)
    assert not torch.equal(matrix, other)
    embedding = torch.nn.Embedding.from_pretrained(matrix, freeze=True, padding_idx=0)
    assert embedding.weight.shape == (2001, 3)


# evaluation --------------------------------------------------------------------------------


def evaluation_corpus() -> list[list[str]]:
    """Sentences built from the evaluation sets, so that their words get vectors."""
    sentences = []
    for path in similarity_files().values():
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                sentences.append(line.lower().split("\t")[:2])
    questions = analogy_file().read_text(encoding="utf-8").splitlines()
    sentences += [line.lower().split() for line in questions[1:300]]
    return sentences * 2


def test_evaluate_on_gensim_sets_and_neighbours() -> None:
    assert "wordsim353" in similarity_files()
    vectors = train_word2vec(evaluation_corpus(), tiny(dim=8, epochs=1, window=2))
    scores = evaluate(vectors)
    assert set(scores) == {"words", "dim", "similarity", "analogy"}
    for row in scores["similarity"].values():
        assert set(row) == {"spearman", "pearson", "oov_ratio", "pairs", "pairs_total"}
        assert -1.0 <= row["spearman"] <= 1.0 and 0.0 <= row["oov_ratio"] < 0.5
    result = scores["analogy"]
    assert result["questions"] == 19544 and result["answered"] > 100
    assert 0.0 <= result["accuracy"] <= 1.0 and result["semantic"] is not None
    json.dumps(scores, allow_nan=False)

    found = neighbors(vectors, "king", k=3)
    assert len(found) == 3 and "king" not in [word for word, _ in found]
    answers = analogy(vectors, "athens", "greece", "baghdad", k=2)
    assert len(answers) == 2 and not {"athens", "greece", "baghdad"} & {w for w, _ in answers}
    with pytest.raises(UnknownWordError, match=r"'King' .*but 'king' known"):
        neighbors(vectors, "King")
    with pytest.raises(UnknownWordError, match="'zzz', 'qqq'"):
        analogy(vectors, "zzz", "king", "qqq")


def test_words_with_a_zero_vector_are_no_neighbours_and_no_question(
        recwarn: pytest.WarningsRecorder) -> None:
    vectors = KeyedVectors(3)  # 'pad' as some pretrained files hold it: all zeros
    vectors.add_vectors(["a", "b", "c", "pad", "d"], np.array(
        [[1, 0, 0], [1, 0.1, 0], [0, 1, 0], [0, 0, 0], [0.5, 0.5, 0]], dtype=np.float32))
    assert [word for word, _ in neighbors(vectors, "a", k=4)] == ["b", "d", "c"]
    assert [word for word, _ in analogy(vectors, "a", "b", "c", k=3)] == ["d"]
    for ask in (lambda: neighbors(vectors, "pad"), lambda: analogy(vectors, "pad", "b", "c")):
        with pytest.raises(ValueError, match="the vector of 'pad' is all zeros"):
            ask()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]  # no nan division


def test_similarity_with_one_known_pair_counts_it() -> None:
    from rnnkit.embeddings import evaluate_similarity
    from rnnkit.embeddings.vector_quality import similarity_files

    vectors = KeyedVectors(3)  # WordSim-353 holds the pair love/sex, and tiger/cat
    vectors.add_vectors(["love", "Sex"], np.random.default_rng(0).random((2, 3)))
    one = evaluate_similarity(vectors, similarity_files()["wordsim353"])
    assert (one["pairs"], one["pairs_total"], one["spearman"]) == (1, 353, None)
    assert one["oov_ratio"] == pytest.approx(352 / 353)  # not 1.0: one pair is known
    vectors.add_vectors(["tiger", "cat"], np.random.default_rng(1).random((2, 3)))
    assert evaluate_similarity(vectors, similarity_files()["wordsim353"])["pairs"] >= 2


def test_vocab_max_size_counts_words_not_the_specials() -> None:
    """A literal <unk> in the data (as PTB-style text holds) took one of max_size's places and
    was then dropped as the special it is: max_size=2 gave one word; max_size=0 meant no limit
    and -1 dropped the last word; a repeated symbol was not named."""
    data = [["<unk>"] * 3 + ["a", "a", "b", "c"]]
    assert Vocab.build(data, max_size=2).symbols == ["<pad>", "<unk>", "a", "b"]
    assert Vocab.build(data).counts["<unk>"] == 3
    for size in (0, -1):
        with pytest.raises(ValueError, match=f"max_size must be at least 1 .*got {size}"):
            Vocab.build(data, max_size=size)
    with pytest.raises(ValueError, match="'b' is given twice"):
        Vocab(["a", "b", "c", "b"])


def test_word2vec_trains_every_token_of_a_sentence_longer_than_gensim_reads() -> None:
    """gensim trains on a sentence's first 10 000 tokens only: a text file with no line
    breaks (one sentence) left every word met after them at its random first vector, in
    silence. Longer sentences are cut into pieces; shorter ones train as before."""
    sentence = ["a", "b"] * 5000 + ["c", "d"] * 5000
    options = tiny(dim=4, epochs=1)
    vectors = train_word2vec([sentence], options)
    untrained = train_word2vec([sentence], tiny(dim=4, epochs=1, learning_rate=1e-12))
    for word in "abcd":  # each moved from where it started
        assert np.abs(vectors[word] - untrained[word]).max() > 0.01, word
    short = clustered_corpus(50)
    np.testing.assert_array_equal(train_word2vec(short, options).vectors,
                                  train_word2vec(TokenizedCorpus(short), options).vectors)


def test_similarity_and_analogy_counts_leave_out_the_lines_gensim_skips(tmp_path: Path) -> None:
    """A header line 'word1<TAB>word2<TAB>score' was counted as a pair (3 known of 4 read
    '4/5 pairs'), and a question of three words as one not answered."""
    from rnnkit.embeddings import evaluate_analogies, evaluate_similarity

    vectors = hand_made()
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("word1\tword2\tscore\nthe\tcat\t5.0\ncat\tdog\t3.0\nthe\tdog\t1.0\n"
                     "\nzzz\tcat\t2.0\n")
    scores = evaluate_similarity(vectors, pairs)
    assert (scores["pairs"], scores["pairs_total"], scores["oov_ratio"]) == (3, 4, 0.25)
    gensim_scores = vectors.evaluate_word_pairs(str(pairs), case_insensitive=True)
    assert scores["spearman"] == pytest.approx(gensim_scores[1].statistic)
    questions = tmp_path / "questions.txt"
    questions.write_text(": family\nthe cat dog Paris\nthe cat dog\nthe Paris cat dog\n")
    result = evaluate_analogies(vectors, questions)
    assert (result["answered"], result["questions"], result["coverage"]) == (2, 2, 1.0)


def test_fit_vocabulary_reads_the_vectors_words_for_their_lowercased_forms_once() -> None:
    from rnnkit.embeddings.vocabulary import fit_vocabulary

    class CountedKeys(list):  # type: ignore[type-arg]
        walks = 0

        def __iter__(self):  # type: ignore[no-untyped-def]
            CountedKeys.walks += 1
            return super().__iter__()

    vectors = KeyedVectors(2)
    vectors.add_vectors(["the", "Tampa", "Iraqi", "Rome"], np.eye(4, 2))
    vectors.index_to_key = CountedKeys(vectors.index_to_key)
    words = Vocab(["the", "iraqi"])
    words.counts = {"the": 3, "iraqi": 2, "rome": 1}
    fitted, matrix, coverage = fit_vocabulary(vectors, words, extend=2, lowercase=True,
                                              keep_rare=True, log=lambda line: None)
    assert fitted.symbols == ["<pad>", "<unk>", "the", "iraqi", "rome", "tampa"]
    assert matrix[3].tolist() == vectors["Iraqi"].tolist()
    assert matrix[5].tolist() == vectors["Tampa"].tolist()
    assert (coverage.vocab_found, coverage.token_found) == (3, 6)
    assert CountedKeys.walks == 1  # coverage, rare words and the matrix share one lookup


def test_a_run_without_word_vectors_does_not_import_gensim() -> None:
    # rnnkit.embeddings imported every module, gensim (2.5 s) with them, for the tagger's
    # settings checks alone: train tagger --print-config took 2.9 s, 1.95 s without
    code = ("import sys\n"
            "from rnnkit.pipelines.tagger_embeddings import EmbeddingConfig, check_embeddings\n"
            "check_embeddings(EmbeddingConfig())\n"
            "assert 'gensim' not in sys.modules, 'gensim imported'\n"
            "import rnnkit.embeddings.vector_quality\n"
            "from rnnkit.embeddings import evaluate\n"
            "assert callable(evaluate), evaluate  # the function, not a module of that name\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
