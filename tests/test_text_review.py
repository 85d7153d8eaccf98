"""Review checks of the classifier and translation data paths (see each test's docstring)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnkit.cli import main
from rnnkit.config import ModelConfig, TrainConfig
from rnnkit.data.subword import SubwordTokenizer
from rnnkit.models.classifier import ClassifierConfig
from rnnkit.models.seq2seq import Seq2Seq, Seq2SeqConfig
from rnnkit.pipelines.seq2seq import (
    Seq2SeqRunConfig,
    TranslationDataConfig,
    encode_pairs,
    train_seq2seq,
)


@pytest.mark.parametrize("flags", [
    ["--set", "data.train=files"],
    ["--dev", "files"],
    ["--set", "data.test=files"],
])
def test_seq2seq_files_with_the_registry_dataset_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str]) -> None:
    """data.train/dev/test beside data.dataset (the default multi30k) were never read: the
    dataset's splits trained and scored, silently."""
    out = tmp_path / "run"
    assert main(["train", "seq2seq", *flags, "--out", str(out), "--print-config"]) == 2
    err = capsys.readouterr().err
    assert "data.dataset=multi30k reads that dataset's own splits" in err
    assert "would not be read" in err
    assert not out.exists()


def test_seq2seq_training_pairs_are_judged_and_kept_whole(tmp_path: Path) -> None:
    """Training sources were cut to seq2seq.max_source_tokens before data.max_train_tokens
    judged them: a pair longer than the limit was kept (cut), and a kept source lost its end
    while its target did not."""
    short = ["ein hund", "eine katze", "ein vogel"] * 4
    long = ["ein roter hund rennt schnell über die grüne wiese zum see"] * 4
    (tmp_path / "tiny.de").write_text("\n".join(short + long) + "\n", encoding="utf-8")
    (tmp_path / "tiny.en").write_text("\n".join(["a dog"] * 16) + "\n", encoding="utf-8")
    prefix = str(tmp_path / "tiny")
    config = Seq2SeqRunConfig(
        data=TranslationDataConfig(dataset="", train=prefix, dev=prefix, test=prefix,
                                   vocab_size=30, max_train_tokens=20),
        seq2seq=Seq2SeqConfig(embedding_dim=8, max_source_tokens=2, beam_size=1),
        model=ModelConfig(cell="gru", hidden_size=8),
        train=TrainConfig(epochs=1, progress=False, threads=1, monitor="val_bleu", mode="max"))
    results = train_seq2seq(config, tmp_path / "run", log=lambda *_: None)
    stored = json.loads((tmp_path / "run" / "tokenizers.json").read_text(encoding="utf-8"))
    tokenizers = [SubwordTokenizer.from_json(stored[side]) for side in ("source", "target")]
    assert len(tokenizers[0].encode(long[0])) > 20 >= max(
        len(tokenizers[0].encode(line)) for line in short)
    assert results["train_pairs"] == len(short)  # the long sources left out, not cut to 2
    model = Seq2Seq(*tokenizers, config.seq2seq, config.model)
    whole = encode_pairs(model, short[:1] + long[:1], ["a dog"] * 2, truncate=False)
    assert [len(pair[0]) for pair in whole] == [
        len(tokenizers[0].encode(line)) + 1 for line in (short[0], long[0])]
    cut = encode_pairs(model, long[:1], ["a dog"])  # scoring reads it as translation does
    assert len(cut[0][0]) == 3


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


@pytest.mark.parametrize(("flags", "message"), [
    (["--dataset", "imdb", "--set", "data.sst_labels=sst2"],
     "data.sst_labels is read only from SST trees (--dataset sst, or data.format=sst), and "
     "this data is jsonl: leave it out"),
    (["--train", "train.csv", "--set", "data.phrases=true", "--set", "data.sst_labels=sst2"],
     "data.sst_labels and data.phrases are read only from SST trees"),
    (["--dataset", "sst", "--set", "embeddings.freeze=true"],
     "embeddings.freeze acts on pretrained word vectors, and embeddings.vectors gives none"),
    (["--dataset", "sst", "--set", "embeddings.extend_vocab=5"],
     "embeddings.extend_vocab acts on pretrained word vectors"),
])
def test_classifier_settings_that_would_change_nothing_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str],
        message: str) -> None:
    """SST's label scheme and phrases on other data, and the vectors' freeze and extend_vocab
    without vectors, were accepted and did nothing."""
    assert main(["train", "classifier", *flags, "--out", str(tmp_path / "run"),
                 "--print-config"]) == 2
    assert message in capsys.readouterr().err


def test_sst_settings_still_read_for_sst_trees(capsys: pytest.CaptureFixture[str]) -> None:
    for flags in (["--dataset", "sst"], ["--train", "trees.txt", "--format", "sst"]):
        assert main(["train", "classifier", *flags, "--set", "data.phrases=true", "--set",
                     "data.sst_labels=sst2", "--print-config"]) == 0
    capsys.readouterr()
