"""Classifier data: SST trees, their hold-out splits and phrases.

Text files, long numeric CSVs, the CLI end to end, and settings and labels refused are tested in
tests/test_classifier_data_*.py, which import SHARED_SST and TREES from here."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from helpers import SHARED_DATA

from rnnkit.cli import main
from rnnkit.config import ModelConfig, TrainConfig
from rnnkit.data.numeric_sequences import read_numeric_sequences
from rnnkit.data.sst import parse_tree, read_trees, sst_examples
from rnnkit.models.classifier import ClassifierConfig
from rnnkit.pipelines.classifier_data import ClassifierDataConfig, read_examples

SHARED_SST = SHARED_DATA / "sst" / "dev.txt"


TREES = [
    "(3 (2 It) (4 (2 's) (3 (3 good) (2 fun))))",
    "(1 (2 A) (0 (0 dull) (2 -LRB-)))",
    "(2 (2 It) (2 exists))",
    "(4 (3 Great) (4 fun))",
]


def test_parse_tree_reads_words_and_every_phrase_label() -> None:
    tree = parse_tree(TREES[1])
    assert tree.tokens == ("A", "dull", "(") and tree.label == 1
    assert (1, 3, 0) in tree.phrases and tree.phrases[-1] == (0, 3, 1)
    for bad, message in (("(3 (2 a)", "never closed"), ("(7 a)", "label 0-4"),
                         ("(2 a))", "without"),
                         ("(3 (2 It) (4 good)) (1 bad)", r"outside the tree's brackets: '\(1 bad"),
                         ("(3 (2 It) (4 good)) extra", "outside the tree's brackets: 'extra'"),
                         ("so (3 (2 It) (4 good))", "outside the tree's brackets: 'so ")):
        with pytest.raises(ValueError, match=message):
            parse_tree(bad)


def test_a_line_with_text_after_its_tree_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "two.txt"
    path.write_text(f"{TREES[0]}\n\n{TREES[1]} {TREES[3]}\n")
    with pytest.raises(ValueError, match=r"two.txt, line 3: text outside the tree's brackets"):
        read_trees(path)


def test_errors_quote_at_most_200_characters_of_a_long_line(tmp_path: Path) -> None:
    # a 50 MB line given as SST trees, or as a long CSV's header, was quoted whole: a 50 MB
    # error message
    line = "lorem ipsum, dolor sit amet, " * 10_000
    (tmp_path / "trees.txt").write_text(line + "\n")
    with pytest.raises(ValueError) as error:
        read_trees(tmp_path / "trees.txt")
    assert "line 1: text outside the tree's brackets: 'lorem ipsum, dolor" in str(error.value)
    assert len(str(error.value)) < 400
    (tmp_path / "long.csv").write_text(line + "\n1,2\n")
    with pytest.raises(ValueError) as error:
        read_numeric_sequences(tmp_path / "long.csv", time_column="step")
    assert "(columns: lorem ipsum, dolor sit amet, " in str(error.value)
    assert len(str(error.value)) < 500


def test_a_node_without_words_is_refused_and_tabs_separate_like_spaces(tmp_path: Path
                                                                       ) -> None:
    """'(3 (2) (4 good))' gave the empty phrase ([], 'neutral') as a training example, and a
    tab between two nodes was read as a word of the sentence (or as part of a label)."""
    path = tmp_path / "trees.txt"
    path.write_text(f"{TREES[0]}\n(3 (2) (4 good))\n")
    with pytest.raises(ValueError, match=r"trees.txt, line 2: a tree node holds no words: "
                                         r"\(2\)"):
        read_trees(path)
    assert parse_tree("(3 (2 a)\t(4 good))") == parse_tree("(3 (2 a) (4 good))")
    assert parse_tree("(3\t(2 a) (4 good))").label == 3
    assert parse_tree("(2 (2 8\xa01\\/2))").tokens == ("8\xa01\\/2",)  # as in SST's train


def test_sst2_drops_neutral_sentences_and_phrases_add_examples() -> None:
    trees = [parse_tree(line) for line in TREES]
    assert [label for _, label in sst_examples(trees, "sst5", False)] == [
        "positive", "negative", "neutral", "very positive"]
    assert [label for _, label in sst_examples(trees, "sst2", False)] == [
        "positive", "negative", "positive"]
    phrases = sst_examples(trees, "sst2", True)
    assert (["good"], "positive") in phrases and (["dull"], "negative") in phrases
    assert len({tuple(t) for t, _ in phrases}) == len(phrases)  # each phrase once


@pytest.mark.skipif(not SHARED_SST.exists(), reason="needs ../shared/data")
def test_real_sst_dev_file_counts() -> None:
    trees = read_trees(SHARED_SST)
    assert len(trees) == 1101 and len(sst_examples(trees, "sst2", False)) == 872


def _sst_file(path: Path, count: int, labels: tuple[int, ...] = (0, 4)) -> Path:
    words = ["good", "fun", "dull", "film", "cast", "plot", "sharp", "slow"]
    lines = []
    for i in range(count):  # each sentence's words are its own: a phrase names its tree
        a, b, c = (f"{words[(i + k) % len(words)]}{i}" for k in range(3))
        label = labels[i % len(labels)]
        lines.append(f"({label} ({label} {a}) ({label} ({label} {b}) ({label} {c})))")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_sst_without_a_dev_file_holds_out_whole_sentences(tmp_path: Path) -> None:
    from rnnkit.pipelines.classifier_data import read_splits

    data = ClassifierDataConfig(train=str(_sst_file(tmp_path / "train.txt", 40)), format="sst",
                                sst_labels="sst2", phrases=True, dev_fraction=0.25)
    splits = read_splits(data, seed=0, log=lambda line: None)
    dev, train = splits["dev"], splits["train"]
    assert len(dev) == 10 and all(len(e.tokens) == 3 for e in dev)  # sentences, no phrases
    def sentences(examples: list) -> set[str]:  # the numbers in the words: their sentences
        return {token.lstrip("abcdefghijklmnopqrstuvwxyz") for e in examples for token in e.tokens}

    assert len(sentences(dev)) == 10 and not sentences(dev) & sentences(train)
    assert len(train) > 30 * 3  # phrases of the 30 training sentences


def test_sst2_holds_out_sentences_it_can_label(tmp_path: Path) -> None:
    from rnnkit.pipelines.classifier_data import read_splits

    mostly_neutral = _sst_file(tmp_path / "train.txt", 30, labels=(2, 2, 4))  # SST-2 drops 2
    for seed in range(6):
        data = ClassifierDataConfig(train=str(mostly_neutral), format="sst", sst_labels="sst2",
                                    dev_fraction=0.1)
        splits = read_splits(data, seed=seed, log=lambda line: None)
        assert len(splits["dev"]) == 1 and len(splits["train"]) == 9  # of the 10 positives


def test_sst_texts_are_cut_to_max_tokens_as_predict_cuts_them(tmp_path: Path) -> None:
    data = ClassifierDataConfig(train=str(_sst_file(tmp_path / "train.txt", 4)), format="sst",
                                sst_labels="sst2", max_tokens=2)
    assert {len(e.tokens) for e in read_examples(data, tmp_path / "train.txt", True)} == {2}


def test_an_sst_file_with_no_tree_or_only_neutral_ones_is_refused_by_name(tmp_path: Path) -> None:
    from rnnkit.pipelines.classifier_data import read_splits

    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    with pytest.raises(ValueError, match=r"empty.txt holds no trees \(is this the right file"):
        read_trees(empty)
    neutral = tmp_path / "neutral.txt"
    neutral.write_text("(2 (2 It) (2 exists))\n(2 (3 Great) (1 dull))\n")
    sst2 = ClassifierDataConfig(train=str(neutral), format="sst", sst_labels="sst2")
    for phrases in (False, True):  # the second tree's phrases are not neutral
        with pytest.raises(ValueError, match=r"neutral.txt holds no sentence that SST-2 can "
                                             r"label.*or set data.sst_labels=sst5"):
            read_examples(replace(sst2, phrases=phrases), neutral, training=False)
    with pytest.raises(ValueError, match=r"neutral.txt holds no sentence that SST-2 can label"):
        read_splits(replace(sst2, phrases=True), seed=0, log=lambda line: None)  # no dev file
    assert len(read_examples(replace(sst2, sst_labels="sst5"), neutral, training=False)) == 2


def test_cli_refuses_an_empty_sst_test_file_before_training(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = _sst_file(tmp_path / "train.txt", 8)
    (tmp_path / "empty.txt").write_text("")
    code = main(["train", "classifier", "--train", str(train), "--dev", str(train), "--test",
                 str(tmp_path / "empty.txt"), "--format", "sst", "--out", str(tmp_path / "run"),
                 "--set", "train.epochs=1"])
    assert code == 2 and "empty.txt holds no trees" in capsys.readouterr().err


def test_sst_phrases_count_words_in_the_text_for_min_count(tmp_path: Path) -> None:
    """With data.phrases, every word was counted once per phrase around it, so a word seen once
    in the training text passed data.min_count=2 (all 16,583 SST words kept, 8,365 of them seen
    once, where sentences alone keep 8,216)."""
    from rnnkit.pipelines.classifier import (
        ClassifierRunConfig,
        load_classifier_bundle,
        train_classifier,
    )
    from rnnkit.pipelines.classifier_data import ClassifierDataConfig

    lines = ["(4 (3 (3 good) (2 film)) (4 (2 very) (4 (2 rare) (3 (2 plot) (2 twist)))))",
             "(0 (1 (2 the) (1 film)) (0 (1 is) (0 (2 not) (1 good))))",
             "(3 (2 the) (3 (3 good) (2 film)))",
             "(1 (2 the) (1 (1 dull) (2 plot)))"]
    (tmp_path / "train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "dev.txt").write_text(lines[2] + "\n", encoding="utf-8")
    data = ClassifierDataConfig(train=str(tmp_path / "train.txt"),
                                dev=str(tmp_path / "dev.txt"), format="sst", phrases=True,
                                min_count=2)
    config = ClassifierRunConfig(data=data, classifier=ClassifierConfig(word_dim=4),
                                 model=ModelConfig(hidden_size=4),
                                 train=TrainConfig(epochs=1, progress=False, threads=1,
                                                   monitor="val_accuracy", mode="max"))
    train_classifier(config, tmp_path / "run", log=lambda *_: None)
    model = load_classifier_bundle(tmp_path / "run" / "model.rnnkit")
    assert model.words is not None
    # seen at least twice in the text: good, film, the, plot; once: very, rare, twist, ...
    assert sorted(model.words.symbols[2:]) == ["film", "good", "plot", "the"]
    # min_count=1 keeps every phrase word, in the phrases' order (most frequent first)
    from rnnkit.data.vocab import Vocab
    from rnnkit.pipelines.classifier_data import read_splits

    ones = replace(config, data=replace(data, min_count=1))
    train_classifier(ones, tmp_path / "run1", log=lambda *_: None)
    phrases = read_splits(ones.data, 0, log=lambda *_: None)["train"]
    every = load_classifier_bundle(tmp_path / "run1" / "model.rnnkit").words
    assert every is not None and every.symbols == Vocab.build(e.tokens for e in phrases).symbols
