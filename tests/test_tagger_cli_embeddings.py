"""``rnnkit train tagger``'s word vectors: word2vec, a vectors file, extend_vocab, coverage and
the embeddings settings refused up front."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from test_tagger_cli import _train
from test_tagger_cli import files as files  # noqa: F401  (fixture)

from rnnkit.cli import main


def test_word2vec_trained_on_the_training_text_initialises_the_tagger(
    files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "w2v"
    assert _train(files, "conllu", out, "--set", "embeddings.word2vec=true",
                  "--set", "embeddings.word2vec_min_count=1",
                  "--set", "embeddings.word2vec_epochs=1") == 0
    coverage = json.loads((out / "results.json").read_text())["embedding_coverage"]
    assert coverage["vocab_found"] == coverage["vocab_size"] == 5  # every training word
    from rnnkit.data.tagged import TaggedSentence
    from rnnkit.data.vocab import Vocab
    from rnnkit.pipelines.tagger_embeddings import EmbeddingConfig, prepare_embeddings

    sentences = [TaggedSentence(["a", "dog", "runs", "a", "cat", "sits"] * 20, ["X"] * 120)]
    words = Vocab.build([s.tokens for s in sentences])
    config = EmbeddingConfig(word2vec=True, word2vec_min_count=1, word2vec_epochs=3)
    matrices = [prepare_embeddings(config, words, sentences, 16, True, lambda line: None,
                                   seed=3)[1] for _ in range(2)]
    assert matrices[0] is not None and torch.equal(matrices[0], matrices[1])  # repeatable


def test_rare_training_words_with_a_vector_keep_it_and_coverage_counts_all_the_text(
        tmp_path: Path) -> None:
    """data.min_count sent every rare word to <unk>, vector or not, and coverage left the rare
    words out of the running text: 2/2 tokens (100%) of a 5-token text."""
    from rnnkit.data.tagged import TaggedSentence
    from rnnkit.data.vocab import Vocab
    from rnnkit.pipelines.tagger_embeddings import EmbeddingConfig, prepare_embeddings

    vectors = tmp_path / "v.txt"
    vectors.write_text("the 1 2\nParis 3 4\nzzz 5 6\n")
    sentences = [TaggedSentence(["The", "the", "paris", "rome", "zzz"], ["O"] * 5)]
    words = Vocab.build([[t.lower() for t in s.tokens] for s in sentences], min_count=2)
    lines: list[str] = []
    config = EmbeddingConfig(vectors=str(vectors), extend_vocab=0)
    vocab, matrix, coverage = prepare_embeddings(config, words, sentences, 2, True, lines.append)
    assert vocab.symbols == ["<pad>", "<unk>", "the", "paris", "zzz"]  # rome: no vector, <unk>
    assert matrix is not None and matrix[3].tolist() == [3.0, 4.0]  # Paris, lowercased
    assert coverage is not None and (coverage["token_found"], coverage["token_total"]) == (4, 5)
    assert (coverage["vocab_found"], coverage["vocab_size"]) == (3, 4)
    assert "vocabulary 3/4 words (75.0%, 1 lowercased); running text 4/5 tokens (80.0%)" in (
        lines[-1])


@pytest.mark.parametrize("lowercase", [True, False])
def test_extend_vocab_adds_a_capitalised_vector_word_s_lowercase_form(
        tmp_path: Path, lowercase: bool) -> None:
    """With tagger.lowercase (the default) embeddings.extend_vocab left out every capitalised
    vector word (GoogleNews holds Tampa, not tampa): only 'paris' was added here."""
    from rnnkit.data.tagged import TaggedSentence
    from rnnkit.data.vocab import Vocab
    from rnnkit.pipelines.tagger_embeddings import EmbeddingConfig, prepare_embeddings

    vectors = tmp_path / "v.txt"
    vectors.write_text("the 1 2\nTampa 3 4\nTAMPA 9 9\nParis 5 6\nparis 7 8\nRome 1 1\n"
                       "Cat 2 2\nOslo 6 6\n")
    sentences = [TaggedSentence(["The", "the", "cat", "dog"], ["O"] * 4)]
    words = Vocab.build([[t.lower() if lowercase else t for t in s.tokens] for s in sentences])
    lines: list[str] = []
    config = EmbeddingConfig(vectors=str(vectors), extend_vocab=7)  # not Oslo, the 8th
    vocab, matrix, coverage = prepare_embeddings(config, words, sentences, 2, lowercase,
                                                 lines.append)
    assert matrix is not None and coverage is not None
    rows = {word: matrix[vocab.index[word]].tolist() for word in vocab.symbols[2:]}
    if lowercase:  # each form once; Tampa's vector, the first met, and paris's own
        assert vocab.symbols[2:] == ["the", "cat", "dog", "tampa", "paris", "rome"]
        assert (rows["tampa"], rows["paris"], rows["rome"]) == ([3, 4], [7, 8], [1, 1])
        assert rows["cat"] == [2, 2]  # a training word, as before
        assert (coverage["vocab_found"], coverage["vocab_size"], coverage["lowercased"],
                coverage["token_found"], coverage["token_total"]) == (2, 3, 1, 3, 4)
    else:  # every vector word as it is, as before
        assert vocab.symbols[2:] == ["The", "the", "cat", "dog", "Tampa", "TAMPA", "Paris",
                                     "paris", "Rome", "Cat"]
        assert (rows["Tampa"], rows["TAMPA"], rows["Paris"]) == ([3, 4], [9, 9], [5, 6])
        assert (coverage["vocab_found"], coverage["vocab_size"], coverage["lowercased"],
                coverage["token_found"], coverage["token_total"]) == (3, 4, 2, 3, 4)
    assert f"vocabulary {coverage['vocab_found']}/{coverage['vocab_size']} words" in lines[-1]


@pytest.mark.parametrize(("settings", "message"), [
    (['embeddings.vectors="{tmp}/missing.bin"'],
     "embeddings.vectors: vectors file {tmp}/missing.bin does not exist"),
    (['embeddings.vectors="{tmp}"'], "embeddings.vectors: vectors file {tmp} is a folder"),
    (['embeddings.vectors="{tmp}/pos.conllu"'],
     "embeddings.vectors: vectors file {tmp}/pos.conllu starts with neither"),
    (["embeddings.word2vec=true", "embeddings.word2vec_epochs=0"],
     "embeddings.word2vec_epochs must be at least 1; got 0"),
    (["embeddings.word2vec=true", "embeddings.word2vec_min_count=0"],
     "embeddings.word2vec_min_count must be at least 1; got 0"),
    (["embeddings.word2vec=true", 'embeddings.corpus="{tmp}/missing.txt"'],
     "embeddings.corpus {tmp}/missing.txt: no such file"),
    (['embeddings.corpus="{tmp}/pos.conllu"'],
     "embeddings.corpus is read only to train word2vec: set embeddings.word2vec=true"),
    (["embeddings.word2vec=true", 'embeddings.vectors="{tmp}/pos.conllu"'],
     "embeddings.vectors and embeddings.word2vec=true both give the word vectors"),
    (["embeddings.extend_vocab=-1"], "embeddings.extend_vocab must be at least 0; got -1"),
    (["embeddings.freeze=true"], "embeddings.freeze acts on word vectors, and neither "
     "embeddings.vectors nor embeddings.word2vec=true gives any"),
    (["embeddings.word2vec_epochs=3"], "embeddings.word2vec_epochs acts on word2vec training, "
     "and embeddings.word2vec is false"),
    (["embeddings.vectors_format=glove"], "embeddings.vectors_format acts on a vectors file, "
     "and embeddings.vectors names none"),
], ids=["vectors-missing", "vectors-folder", "vectors-not-vectors", "epochs", "min-count",
        "corpus-missing", "corpus-without-word2vec", "vectors-and-word2vec", "extend-vocab",
        "freeze-without-vectors", "epochs-without-word2vec", "format-without-vectors"])
def test_embeddings_settings_are_refused_before_the_data_is_read(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        settings: list[str], message: str) -> None:
    """They were used only once the data was read, and word2vec's errors named no key."""
    overrides = [part for setting in settings
                 for part in ("--set", setting.format(tmp=tmp_path))]
    assert main(["train", "tagger", "--print-config", *overrides]) == 2
    assert message.format(tmp=tmp_path) in capsys.readouterr().err
    assert _train(files, "conllu", tmp_path / "run", *overrides) == 2
    captured = capsys.readouterr()
    assert message.format(tmp=tmp_path) in captured.err
    assert "read 2 / 2 / 2 sentences" not in captured.out and not (tmp_path / "run").exists()


def test_pretrained_vectors_of_the_wrong_size_are_a_clear_error(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("2 3\njohn 0.1 0.2 0.3\nmary 0.3 0.2 0.1\n")
    assert _train(files, "conllu", tmp_path / "v", "--set",
                  f'embeddings.vectors="{vectors}"') == 2
    assert "set --set tagger.word_dim=3" in capsys.readouterr().err


def test_the_random_rows_of_a_tagger_s_pretrained_embeddings_follow_train_seed(
        tmp_path: Path) -> None:
    """prepare_embeddings was given train.seed for word2vec alone: the rows of the words
    without a vector and <unk> were drawn with seed 0 whatever the seed."""
    from rnnkit.data.tagged import TaggedSentence
    from rnnkit.data.vocab import Vocab
    from rnnkit.pipelines.tagger_embeddings import EmbeddingConfig, prepare_embeddings

    vectors = tmp_path / "v.txt"
    vectors.write_text("the 1 2\ncat 3 4\n")
    sentences = [TaggedSentence(["the", "cat", "dog"], ["O"] * 3)]
    words = Vocab.build([s.tokens for s in sentences])
    config = EmbeddingConfig(vectors=str(vectors), extend_vocab=0)
    first, second = (prepare_embeddings(config, words, sentences, 2, True, lambda line: None,
                                        seed=seed)[1] for seed in (0, 1))
    assert first is not None and second is not None
    assert torch.equal(first[[0, 2, 3]], second[[0, 2, 3]])  # <pad>, the, cat
    assert not torch.equal(first[1], second[1]) and not torch.equal(first[4], second[4])
