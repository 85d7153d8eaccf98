"""``rnnkit train tagger`` / ``evaluate`` / ``predict`` end to end on tiny files: a first run,
the default monitor, and bundles and datasets of another task refused.

Word vectors, tag schemes and tag sets, and predict's and evaluate's input and output files are
tested in tests/test_tagger_cli_*.py, which import the tiny files, TINY, _train and the files
fixture from here (tests/test_tagger_scores.py imports TINY).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnkit.cli import main

CONLLU = """# sent_id = 1
1\tJohn\tJohn\tPROPN\tNNP\t_\t2\tnsubj\t_\t_
2\truns\trun\tVERB\tVBZ\t_\t0\troot\t_\t_
3\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\t_

# sent_id = 2
1\tMary\tMary\tPROPN\tNNP\t_\t2\tnsubj\t_\t_
2\tsleeps\tsleep\tVERB\tVBZ\t_\t0\troot\t_\t_

"""

IOB = "John\tB-PER\nlives\tO\nin\tO\nParis\tB-LOC\n\nMary\tB-PER\nleft\tO\n\n"

TINY = ["--set", "train.epochs=2", "--set", "train.progress=false", "--set",
        "model.hidden_size=8", "--set", "tagger.word_dim=8", "--set", "tagger.char_dim=4",
        "--set", "tagger.char_hidden=4", "--set", "train.threads=1"]


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    conllu = tmp_path / "pos.conllu"
    conllu.write_text(CONLLU)
    iob = tmp_path / "ner.iob"
    iob.write_text(IOB)
    return {"conllu": conllu, "iob": iob}


def _train(files: dict[str, Path], fmt: str, out: Path, *extra: str) -> int:
    path = str(files[fmt])
    return main(["train", "tagger", "--train", path, "--dev", path, "--test", path,
                 "--format", fmt, "--out", str(out), *TINY, *extra])


def test_train_evaluate_predict_conllu(files: dict[str, Path], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pos"
    assert _train(files, "conllu", out) == 0
    for name in ("model.rnnkit", "results.json", "config.toml", "test_confusion.png",
                 "test_confusion.md", "test.predictions.conllu"):
        assert (out / name).is_file(), name
    results = json.loads((out / "results.json").read_text())
    assert 0.0 <= results["test"]["scores"]["accuracy"] <= 1.0
    assert "f1" not in results["test"]["scores"]  # UPOS tags have no spans
    written = (out / "test.predictions.conllu").read_text().splitlines()
    assert written[0] == "# sent_id = 1" and written[1].split("\t")[1] == "John"
    capsys.readouterr()
    model = str(out / "model.rnnkit")
    assert main(["evaluate", "--model", model, "--data", str(files["conllu"])]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] == 5
    assert main(["predict", "--model", model, "--text", "Mary runs ."]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines if line] == ["Mary", "runs", "."]
    target = tmp_path / "pred.txt"  # written as named, in the input's format
    assert main(["predict", "--model", model, "--input", str(files["conllu"]),
                 "--output", str(target)]) == 0
    assert target.read_text().count("\n") == CONLLU.count("\n")
    assert not Path(f"{target}.conllu").exists()


def test_ner_tagger_outputs_valid_bio(files: dict[str, Path], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from rnnkit.data.tags import is_valid_bio

    out = tmp_path / "ner"
    assert _train(files, "iob", out, "--set", "data.scheme=bioes") == 0
    results = json.loads((out / "results.json").read_text())
    assert "f1" in results["test"]["scores"] and "per_type" in results["test"]
    capsys.readouterr()
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--text",
                 "John lives in Paris\nMary left"]) == 0
    sentences = capsys.readouterr().out.strip().split("\n\n")
    for sentence in sentences:
        assert is_valid_bio([line.split("\t")[1] for line in sentence.splitlines()])
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--text",
                 "John <pad> <PAD> left"]) == 0  # a literal padding symbol is only a word
    assert [line.split("\t")[0] for line in capsys.readouterr().out.split("\n") if line] == [
        "John", "<pad>", "<PAD>", "left"]


def test_bundle_of_another_task_is_refused(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "synthetic"
    assert main(["train", "synthetic", "--set", "data.length=5", "--set", "data.train_size=32",
                 "--set", "data.val_size=16", "--set", "data.test_size=16", "--set",
                 "train.epochs=1", "--set", "model.hidden_size=4", "--set",
                 "train.progress=false", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--text", "a b"]) == 2
    assert "rnnkit predict does not run 'synthetic' models: a synthetic-task model is scored " \
        "with rnnkit evaluate --model M" in capsys.readouterr().err


def test_a_malicious_file_given_as_model_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    import torch

    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple:
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "evil.rnnkit"
    torch.save({"weights": Exploit()}, evil)
    assert main(["evaluate", "--model", str(evil), "--data", "x"]) == 2
    assert "is not an rnnkit bundle" in capsys.readouterr().err
    assert not marker.exists()


@pytest.mark.parametrize(("fmt", "chosen"), [("iob", "val_f1"), ("conllu", "val_accuracy")])
def test_the_default_monitor_is_span_f1_for_entities_and_accuracy_for_pos(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        fmt: str, chosen: str) -> None:
    out = tmp_path / "run"
    assert _train(files, fmt, out) == 0
    assert f"train.monitor=auto: {chosen} judges the epochs" in capsys.readouterr().out
    assert f'monitor = "{chosen}"' in (out / "config.toml").read_text()
    assert _train(files, fmt, out, "--resume", "--set", "train.epochs=3") == 0  # auto again
    assert _train(files, fmt, tmp_path / "mine", "--set", "train.monitor=val_loss",
                  "--set", "train.mode=min") == 0
    assert 'monitor = "val_loss"' in (tmp_path / "mine" / "config.toml").read_text()


def test_a_run_resumes_with_the_config_file_it_started_with(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """train.monitor=auto, saved as the metric it resolved to, was refused as a change:
    "--resume: train.monitor ('val_f1' -> 'auto') differs from the run"."""
    path = str(files["iob"])
    assert main(["train", "tagger", "--train", path, "--dev", path, "--test", path,
                 "--format", "iob", *TINY, "--print-config"]) == 0
    config = tmp_path / "mine.toml"
    config.write_text(capsys.readouterr().out)
    assert 'monitor = "auto"' in config.read_text()
    out = str(tmp_path / "run")
    assert main(["train", "tagger", "--config", str(config), "--out", out]) == 0
    assert main(["train", "tagger", "--config", str(config), "--out", out, "--resume",
                 "--set", "train.epochs=3"]) == 0
    assert "resumed from" in capsys.readouterr().out
    # another metric than the one the run resolved auto to is still a change
    assert main(["train", "tagger", "--config", str(config), "--out", out, "--resume",
                 "--set", "train.monitor=val_accuracy"]) == 2
    assert "train.monitor ('val_f1' -> 'val_accuracy') differs" in capsys.readouterr().err


def test_monitor_auto_with_mode_min_is_refused_before_the_data_is_read(
        capsys: pytest.CaptureFixture[str]) -> None:
    """auto picks val_f1 or val_accuracy, both better when higher: --print-config printed
    train.mode=min with it and exited 0, and a run (each --nproc process) read the data before
    the trainer refused 'val_accuracy' with mode min."""
    assert main(["train", "tagger", "--set", "train.mode=min", "--print-config"]) == 2
    assert "train.monitor=auto picks val_f1 or val_accuracy" in capsys.readouterr().err
    assert main(["train", "tagger", "--set", "train.mode=min", "--set", "train.monitor=val_loss",
                 "--print-config"]) == 0


def test_monitor_auto_is_refused_by_tasks_that_do_not_resolve_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "synthetic", "--set", "train.monitor=auto", "--print-config"]) == 2
    assert "train.monitor=auto is read by train tagger alone" in capsys.readouterr().err
    assert main(["train", "tagger", "--dataset", "ud_english_ewt", "--print-config"]) == 0


@pytest.mark.parametrize(("dataset", "task"), [("sst", "classification"),
                                               ("multi30k", "translation"),
                                               ("tinyshakespeare", "language model")])
def test_a_registry_dataset_of_another_task_is_refused_by_its_task(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], dataset: str, task: str) -> None:
    """train tagger --dataset sst said 'data.format must be one of conllu, iob' (no format was
    given) and --dataset multi30k gave advice for the Python API (use dataset_files)."""
    assert main(["train", "tagger", "--dataset", dataset, "--out", str(tmp_path / "run"),
                 "--print-config"]) == 2
    assert (f"dataset {dataset!r} is a {task} dataset, and a tagger reads tagging datasets "
            "(ud_english_ewt, uner_english_ewt, wnut17)") in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_tokens_per_second_counts_the_batches_of_an_epoch_cut_short(
        files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "pos"
    assert _train(files, "conllu", out, "--set", "train.batch_size=1",
                  "--set", "train.max_steps=1") == 0
    results = json.loads((out / "results.json").read_text())
    assert results["stopped"] == "max_steps" and results["epochs"] == 0
    assert results["tokens_per_second"] > 0  # was 0.0: only whole epochs were counted
