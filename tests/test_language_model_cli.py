"""Language model: rnnkit train lm, its settings refused up front, and --resume."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_language_model import TEXT

from rnnkit.cli import main
from rnnkit.config import ModelConfig
from rnnkit.data.text_stream import build_stream_vocab
from rnnkit.models.language_model import LanguageModel, LMConfig


@pytest.mark.parametrize(("settings", "message"), [
    (["model.bidirectional=true"], "a language model reads left to right"),
    (["lm.weight_dropout=0.2", "model.layer_norm=true"], "lm.weight_dropout runs on the fused"),
    (["lm.weight_dropout=0.2", "model.recurrent_dropout=0.1"], "runs on the fused kernel"),
    (["lm.weight_dropout=0.2", "model.kernel=loop"], "lm.weight_dropout needs the fused kernel"),
])
def test_print_config_refuses_what_the_model_refuses(
        settings: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--print-config (and --nproc N's check) passed these, and a run refused them only once
    the text was read and its vocabulary built, when the model was."""
    args = [part for setting in settings for part in ("--set", setting)]
    assert main(["train", "lm", *args, "--print-config"]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and not captured.out


def test_cli_trains_and_generates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "play.txt"
    corpus.write_text(TEXT * 3, encoding="utf-8")
    out = tmp_path / "run"
    code = main(["train", "lm", "--file", str(corpus), "--out", str(out),
                 "--set", "train.epochs=2", "--set", "model.hidden_size=16",
                 "--set", "train.batch_size=4", "--set", "data.steps=20",
                 "--set", "data.eval_batch_size=2", "--set", "sample.length=20",
                 "--set", "train.progress=false", "--set", "train.device=cpu"])
    assert code == 0
    assert (out / "model.rnnkit").exists() and (out / "sample.txt").exists()
    capsys.readouterr()
    args = ["generate", "--model", str(out / "model.rnnkit"), "--prime", "ROMEO:",
            "--length", "30", "--temperature", "0.8", "--seed", "3"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert first.startswith("ROMEO:") and len(first) == len("ROMEO:") + 30 + 1
    assert main(args) == 0 and capsys.readouterr().out == first
    assert main(["generate", "--model", str(out / "model.rnnkit"), "--prime", "§"]) == 2
    assert "never saw in training" in capsys.readouterr().err


@pytest.mark.parametrize(("setting", "message"), [
    ("sample.top_p=2", "sample.top_p must be above 0 and at most 1"),
    ("sample.length=-1", "sample.length must be at least 0"),
    ("sample.prime=§", "sample.prime: the prime holds characters the model never saw"),
    ("data.steps=0", "data.steps must be at least 1"),
    ("data.eval_batch_size=0", "data.eval_batch_size must be at least 1"),
    ("train.batch_size=0", "train.batch_size must be at least 1"),
    ("data.validation_fraction=1", "data.validation_fraction must be between 0 and 1"),
    # a character model keeps every character: it was accepted and did nothing
    ("data.min_count=3", "data.min_count is read only at word level (lm.level=word)"),
])
def test_bad_settings_are_refused_before_training(
    setting: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "play.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "run"
    code = main(["train", "lm", "--file", str(corpus), "--out", str(out),
                 "--set", "train.epochs=1", "--set", "model.hidden_size=8",
                 "--set", "train.batch_size=4", "--set", "data.steps=10",
                 "--set", "data.eval_batch_size=2", "--set", "sample.length=5",
                 "--set", "train.progress=false", "--set", "train.threads=1",
                 "--set", setting])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (out / "model.rnnkit").exists()


def test_a_hidden_size_that_tied_weights_leave_unread_is_refused(
        capsys: pytest.CaptureFixture[str]) -> None:
    """With tied weights the last layer is lm.embedding_dim wide, so one layer never read
    model.hidden_size: a 32-wide model was trained where 512 was asked for, without a word."""
    tied = ["train", "lm", "--set", "lm.tie_weights=true", "--set", "model.num_layers=1",
            "--set", "lm.embedding_dim=32", "--print-config"]
    assert main([*tied, "--set", "model.hidden_size=512"]) == 2
    assert "model.hidden_size=512 is not read: with lm.tie_weights=true and one layer, that " \
        "layer's size is lm.embedding_dim (32)" in capsys.readouterr().err
    for read in (["--set", "model.hidden_size=32"], [], ["--set", "model.num_layers=2",
                                                        "--set", "model.hidden_size=512"]):
        assert main([*tied, *read]) == 0
    capsys.readouterr()


def test_print_config_refuses_a_misspelt_level(capsys: pytest.CaptureFixture[str]) -> None:
    """--print-config (and train --nproc N's check before the processes start) passed it."""
    assert main(["train", "lm", "--set", "lm.level=words", "--print-config"]) == 2
    assert "lm.level must be one of char, word; got 'words'" in capsys.readouterr().err


def test_model_dropout_is_refused_for_a_language_model(capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    assert main(["train", "lm", "--set", "model.dropout=0.3", "--print-config"]) == 2
    assert "its dropout between layers is lm.hidden_dropout" in capsys.readouterr().err
    vocab = build_stream_vocab(list("ab"), "char")
    with pytest.raises(ValueError, match="model.dropout=0.3 is not read by a language model"):
        LanguageModel(vocab, LMConfig(), ModelConfig(num_layers=2, dropout=0.3))


def tiny_resumable_run(corpus: Path, out: Path) -> list[str]:
    """train lm on ``corpus`` for 2 steps; its last 4 items (sample and progress settings)
    may be cut off for the --resume that follows."""
    return ["train", "lm", "--file", str(corpus), "--out", str(out),
            "--set", "train.epochs=2", "--set", "train.max_steps=2",
            "--set", "model.hidden_size=8", "--set", "train.batch_size=4",
            "--set", "data.steps=20", "--set", "data.eval_batch_size=2",
            "--set", "sample.length=5", "--set", "train.progress=false"]


def test_resume_refuses_a_text_edited_into_another_vocabulary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "play.txt"
    corpus.write_text(TEXT * 3, encoding="utf-8")
    out = tmp_path / "run"
    args = tiny_resumable_run(corpus, out)
    assert main(args) == 0 and (out / "last.pt").exists()
    # as many characters as before, but one other: the checkpoint's ids would mean other ones
    letter = next(c for c in "abcdefghijklmnopqrstuvwxyz" if c in TEXT)
    stand_in = next(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in TEXT)
    corpus.write_text((TEXT * 3).replace(letter, stand_in), encoding="utf-8")
    capsys.readouterr()
    assert main([*args[:-4], "--set", "train.max_steps=4", "--resume"]) == 2
    error = capsys.readouterr().err
    assert "built from other data" in error and "vocab" in error and "Traceback" not in error
    corpus.write_text(TEXT * 3, encoding="utf-8")  # the text as it was: the run goes on
    assert main([*args[:-4], "--set", "train.max_steps=4", "--resume"]) == 0


def test_resume_of_a_run_that_learned_carriage_returns_says_why_it_cannot(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A run trained on a CRLF file before read_text read its line endings as \\n learned
    '\\r' as a character; its resume on the same, unchanged file was refused as 'was the data
    file changed since? Resume with the data the run started with', which it was."""
    import rnnkit.pipelines.language_model as pipeline

    corpus = tmp_path / "play.txt"
    corpus.write_bytes((TEXT * 3).replace("\n", "\r\n").encode("utf-8"))
    out = tmp_path / "run"
    args = tiny_resumable_run(corpus, out)
    with monkeypatch.context() as earlier:  # as the text was read before: '\r' a character
        earlier.setattr(pipeline, "read_text",
                        lambda data: Path(data.file).read_bytes().decode("utf-8"))
        assert main(args) == 0 and (out / "last.pt").exists()
    capsys.readouterr()
    assert main([*args[:-4], "--set", "train.max_steps=4", "--resume"]) == 2
    error = capsys.readouterr().err
    assert "vocab" in error and "Windows (CRLF) or old Mac (CR) line endings" in error
    assert "train the model again (drop --resume, or use a new --out)" in error
    corpus.write_text(TEXT * 3, encoding="utf-8")  # an edited text has no such word
    assert main([*args[:-4], "--set", "train.max_steps=4", "--resume"]) == 2
    assert "line endings" not in capsys.readouterr().err


@pytest.mark.parametrize(("dataset", "task"), [("sst", "classification"),
                                               ("multi30k", "translation")])
def test_a_registry_dataset_of_another_task_is_refused_up_front(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], dataset: str, task: str) -> None:
    """train lm --dataset sst was refused only once the text was read ('dataset 'sst' is sst,
    not text'), so --print-config (and --nproc N's check) passed it; it is now refused there,
    worded as the tagger and classifier refuse a dataset of another task."""
    assert main(["train", "lm", "--dataset", dataset, "--out", str(tmp_path / "run"),
                 "--print-config"]) == 2
    assert (f"dataset {dataset!r} is a {task} dataset, and a language model reads language "
            "model datasets (tinyshakespeare)") in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
