"""``rnnkit train seq2seq``'s settings refused before any data is read or any training: model
options, datasets, input feeding and the beam size."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_seq2seq_cli import TINY
from test_seq2seq_cli import prefix as prefix  # noqa: F401  (fixture)

from rnnkit.cli import main


@pytest.mark.parametrize(("setting", "message"), [
    ("seq2seq.attention=luong", "seq2seq.attention must be one of none, dot, general"),
    ("seq2seq.attention=dot", "seq2seq.attention=dot needs equal decoder (8) and encoder (16)"
     " state sizes, and a bidirectional encoder's are twice model.hidden_size: set "
     "model.bidirectional=false"),  # named no key
    ("seq2seq.max_length_ratio=-1.0", "seq2seq.max_length_ratio must be at least 0"),
    ("data.vocab_size=4", "data.vocab_size must be at least 5"),
    ("data.vocab_size=2147483648", "data.vocab_size must be at most 10000000"),
    ('data.tokenizer="wordpiece"', "data.tokenizer must be one of unigram, bpe"),
    ("data.max_train_tokens=-1", "data.max_train_tokens must be at least 0"),
    # trained (beam validation too) though translate refuses such a beam
    ("seq2seq.beam_size=31", "seq2seq.beam_size must be at most 30 (the beam keeps one"),
    # trained, and the bundle translated with it though translate refuses --length-penalty -1
    ("seq2seq.length_penalty=-1", "seq2seq.length_penalty must be at least 0; got -1.0"),
    # these three trained as if given 1, 0 and a constant ratio
    ("seq2seq.teacher_forcing=1.5", "teacher_forcing_final are probabilities"),
    ("seq2seq.teacher_forcing=-0.1", "teacher_forcing_final are probabilities"),
    ("seq2seq.teacher_forcing_steps=-1", "seq2seq.teacher_forcing_steps must be at least 0"),
    ("seq2seq.teacher_forcing_final=0.5",  # was ignored without the steps
     "seq2seq.teacher_forcing_final is read only with seq2seq.teacher_forcing_steps"),
])
def test_a_wrong_model_option_is_refused_before_data_or_tokenizers(
        prefix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str,
        message: str) -> None:
    out = tmp_path / "run"
    assert main(["train", "seq2seq", "--src", "de", "--tgt", "en", "--train", "missing",
                 "--out", str(out), *TINY, "--set", setting]) == 2  # no data read: none needed
    assert message in capsys.readouterr().err
    assert not out.exists()


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


@pytest.mark.parametrize(("dataset", "task"), [("sst", "classification"),
                                               ("tinyshakespeare", "language model")])
def test_a_registry_dataset_of_another_task_is_refused_up_front(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], dataset: str, task: str) -> None:
    """train seq2seq --dataset sst was refused only when the splits were read ('dataset 'sst'
    is a classification dataset, not parallel text'), so --print-config passed it; it is now
    refused there, worded as the tagger and classifier refuse a dataset of another task."""
    assert main(["train", "seq2seq", "--dataset", dataset, "--out", str(tmp_path / "run"),
                 "--print-config"]) == 2
    assert (f"dataset {dataset!r} is a {task} dataset, and a translation model reads "
            "translation datasets (multi30k)") in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_input_feeding_without_attention_is_refused_not_dropped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The model set it to false without a word, and the run's config.toml kept true."""
    assert main(["train", "seq2seq", "--set", "seq2seq.attention=none", "--set",
                 "seq2seq.input_feeding=true", "--print-config"]) == 2
    assert ("seq2seq.input_feeding feeds the attentional vector into the next step, and "
            "seq2seq.attention=none gives none") in capsys.readouterr().err
    assert main(["train", "seq2seq", "--set", "seq2seq.attention=none", "--print-config"]) == 0


def test_a_beam_wider_than_the_vocabulary_sentencepiece_made_is_refused_before_training(
        prefix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """data.vocab_size asks for at most so many pieces; a small text gives fewer"""
    out = tmp_path / "run"
    assert main(["train", "seq2seq", "--src", "de", "--tgt", "en", "--train", str(prefix),
                 "--dev", str(prefix), "--test", str(prefix), "--out", str(out), *TINY,
                 "--set", "data.vocab_size=500", "--set", "seq2seq.beam_size=400"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"seq2seq.beam_size 400 is larger than the target vocabulary \((\d+) "
                     r"subwords\); use at most \1", err), err
    assert not (out / "model.rnnkit").exists()
