"""The command line, called in-process: exit codes, files written, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rnnkit.cli import main

TINY = [
    "--set", "data.length=12", "--set", "data.train_size=256", "--set", "data.val_size=64",
    "--set", "data.test_size=64", "--set", "model.hidden_size=8", "--set", "train.epochs=2",
    "--set", "train.batch_size=32", "--set", "train.progress=false",
]


def test_info_lists_versions_and_kernels(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "torch" in out and "fused oneDNN (CPU)" in out and "fused cuDNN (GPU)" in out
    assert "cuDNN float32 math" in out


def test_info_says_whether_cudnn_uses_tf32(monkeypatch: pytest.MonkeyPatch) -> None:
    from rnnkit.layers.fused import cudnn_float32_math

    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    assert cudnn_float32_math().startswith("TF32")
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    assert cudnn_float32_math() == "IEEE float32"
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    rnn = getattr(torch.backends.cudnn, "rnn", None)
    if rnn is not None and hasattr(rnn, "fp32_precision"):  # PyTorch's newer API
        monkeypatch.setattr(rnn, "fp32_precision", "ieee")  # reading allow_tf32 would raise
        assert cudnn_float32_math() == "IEEE float32"
        monkeypatch.setattr(rnn, "fp32_precision", "tf32")
        assert cudnn_float32_math().startswith("TF32")


@pytest.mark.parametrize("command", [["info"], ["train", "synthetic"], ["evaluate"], ["diagnose"]])
def test_every_subcommand_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: rnnkit" in capsys.readouterr().out


def _commands(parser: object, name: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    """Every (sub)command's name and parser, the top one first."""
    import argparse

    found = [(name, parser)]
    for action in parser._actions:  # type: ignore[attr-defined]
        if isinstance(action, argparse._SubParsersAction):
            for sub, subparser in action.choices.items():
                found += _commands(subparser, (*name, sub))
    return found


def test_every_command_s_help_prints_and_documents_every_argument(
        capsys: pytest.CaptureFixture[str]) -> None:
    """``rnnkit word2vec neighbors --help`` listed its ``word`` with no word on what it is."""
    import argparse

    from rnnkit.cli import build_parser

    commands = _commands(build_parser())
    assert len(commands) > 25
    for name, parser in commands:
        with pytest.raises(SystemExit) as exit_info:
            main([*name, "--help"])
        assert exit_info.value.code == 0 and "usage: rnnkit" in capsys.readouterr().out
        bare = [action.dest for action in parser._actions  # type: ignore[attr-defined]
                if not action.help and not isinstance(action, argparse._SubParsersAction)]
        assert not bare, f"rnnkit {' '.join(name)}: {bare} have no help"


def test_train_writes_run_folder_and_evaluate_reads_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["train", "synthetic", *TINY, "--set", "model.cell=gru", "--out", str(out)]) == 0
    for name in ("config.toml", "metrics.jsonl", "last.pt", "best.pt", "model.rnnkit",
                 "results.json"):
        assert (out / name).is_file(), name
    saved = (out / "config.toml").read_text()
    assert 'cell = "gru"' in saved and "length = 12" in saved
    results = json.loads((out / "results.json").read_text())
    assert results["epochs"] == 2 and results["kernel"] == "fused"
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out / "model.rnnkit"), "--size", "64", "--out",
                 str(tmp_path / "eval")]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["length"] == 12 and scored["task"] == "adding"
    assert json.loads((tmp_path / "eval" / "results.json").read_text()) == scored


def test_config_file_and_resume(tmp_path: Path) -> None:
    config = tmp_path / "run.toml"
    config.write_text('[model]\ncell = "rnn"\n[train]\nepochs = 1\n')
    out = tmp_path / "run"
    assert main(["train", "synthetic", *TINY, "--config", str(config), "--out", str(out)]) == 0
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2  # TINY says 2 epochs
    args = ["train", "synthetic", *TINY, "--set", "train.epochs=3", "--out", str(out)]
    assert main([*args, "--config", str(config), "--resume"]) == 0
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 3


def test_resume_refuses_changed_settings_and_a_folder_without_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    args = ["train", "synthetic", *TINY, "--out", str(out)]
    assert main([*args, "--set", "train.max_steps=3"]) == 0
    saved = (out / "config.toml").read_text()
    (out / ".last.pt.abc123.tmp").write_bytes(b"half a checkpoint")  # a killed write
    capsys.readouterr()
    for change in ("train.lr=0.05", "train.batch_size=16", "data.seed=7"):
        assert main([*args, "--set", change, "--resume"]) == 2
        err = capsys.readouterr().err
        assert f"--resume: {change.partition('=')[0]} (" in err and "another --out" in err
        assert "sample.*" not in err  # a synthetic run has no sample section to change
        assert (out / "config.toml").read_text() == saved  # the run's settings stay on disk
    assert main(["train", "synthetic", "--out", str(out), "--set", "train.max_steps=6",
                 "--set", "train.threads=1", "--resume"]) == 0  # the run's own settings, and
    #                                                 how long and how it runs may change
    assert not list(out.glob(".*.tmp"))
    assert "max_steps = 6" in (out / "config.toml").read_text()
    assert main(["train", "synthetic", *TINY, "--out", str(tmp_path / "typo"), "--resume"]) == 2
    assert "holds no run to resume (no config.toml); drop --resume" in capsys.readouterr().err


def test_a_refused_setting_leaves_the_run_folder_and_a_fresh_run_keeps_nothing_of_the_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rnnkit.config import load_config
    from rnnkit.pipelines.run import start_run
    from rnnkit.pipelines.synthetic import SyntheticRunConfig

    out = tmp_path / "run"
    args = ["train", "synthetic", *TINY, "--out", str(out)]
    assert main(args) == 0
    names = ("config.toml", "metrics.jsonl", "last.pt", "best.pt", "model.rnnkit", "results.json")
    before = {name: (out / name).read_bytes() for name in names}
    capsys.readouterr()
    for bad, said in (("train.monitor=val_acc", "train.monitor"),
                      ("train.device=cuda:7", "train.device 'cuda:7'")):
        assert main([*args, "--set", bad]) == 2  # checked by the trainer, before the folder
        assert said in capsys.readouterr().err
        assert {name: (out / name).read_bytes() for name in names} == before
    start_run(load_config(SyntheticRunConfig, None, []), out, resume=False, log=print)
    assert sorted(path.name for path in out.iterdir()) == ["config.toml"]  # no old bundle


def test_train_device_cpu_0_trains_and_cpu_1_is_refused_naming_cpu(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--set train.device=cpu:0 (torch's own name for the CPU) was refused as unknown."""
    out = tmp_path / "run"
    assert main(["train", "synthetic", *TINY, "--out", str(out), "--set",
                 "train.device=cpu:0"]) == 0
    assert json.loads((out / "results.json").read_text())["test"]
    capsys.readouterr()
    assert main(["train", "synthetic", *TINY, "--out", str(tmp_path / "other"), "--set",
                 "train.device=cpu:1"]) == 2
    error = capsys.readouterr().err
    assert "train.device 'cpu:1'" in error and "use cpu" in error and "Traceback" not in error


@pytest.mark.parametrize("task, settings", [
    ("synthetic", TINY),
    ("forecaster", ["--set", "data.source=Seattle", "--set", "train.epochs=1", "--set",
                    "model.hidden_size=4", "--set", "train.progress=false"]),
    ("signal", ["--set", "data.source=AAPL", "--set", "train.epochs=1", "--set",
                "model.hidden_size=4", "--set", "train.progress=false"]),
])
def test_results_json_says_train_seconds_and_total_seconds_as_every_task_does(
    tmp_path: Path, task: str, settings: list[str]
) -> None:
    """The forecaster's, signal's and synthetic task's results.json said ``seconds`` where
    the tagger, classifier, lm and seq2seq say ``train_seconds`` and ``total_seconds``; the
    forecaster and synthetic task keep ``seconds`` (= train_seconds), which benchmarks read."""
    out = tmp_path / task
    assert main(["train", task, *settings, "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert 0 <= results["train_seconds"] <= results["total_seconds"]
    assert results.get("seconds", results["train_seconds"]) == results["train_seconds"]


@pytest.mark.parametrize("task, source, plotter", [
    ("forecaster", "Seattle", "plot"), ("signal", "AAPL", "plot_signal")])
def test_total_seconds_counts_the_plots_in_every_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, task: str, source: str, plotter: str
) -> None:
    """The signal task measured total_seconds before drawing its plots, the forecaster after:
    both now measure the whole command, plots included."""
    import importlib

    module = importlib.import_module(f"rnnkit.pipelines.{task}")
    calls: list[str] = []
    for name, label in ((plotter, "plot"), ("total_seconds", "total_seconds")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *args, real=real, label=label, **kwargs: (
            calls.append(label), real(*args, **kwargs))[1])
    assert main(["train", task, "--set", f"data.source={source}", "--set", "train.epochs=1",
                 "--set", "model.hidden_size=4", "--set", "train.progress=false",
                 "--out", str(tmp_path / task)]) == 0
    assert calls == ["plot", "total_seconds"]


def test_a_fresh_run_in_another_task_s_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It deleted the other run's model.rnnkit, checkpoints and results, then trained."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.toml").write_text('[data]\ndataset = "ud_english_ewt"\n')  # a tagger's
    (out / "model.rnnkit").write_bytes(b"the tagger")
    assert main(["train", "synthetic", *TINY, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"--out {out} holds a run of another task (its config.toml does not read as one " \
        "of this task: unknown config key 'data.dataset'" in err and "valid keys" not in err
    assert (out / "model.rnnkit").read_bytes() == b"the tagger"


@pytest.mark.parametrize("command", [
    ["train", "synthetic", *TINY],
    ["train", "dqn", "--set", "agent.episodes=1"],
    ["stocks", "--symbols", "AAPL"],
])
def test_a_fresh_run_in_a_stocks_symbol_folder_is_refused(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """train forecaster --out runs/demo/AAPL replaced the walk-forward run's results.json and
    forecast.png (train signal, dqn: its plots too): the symbol's folder holds no config.toml,
    so it read as no run at all."""
    symbol = tmp_path / "stocks" / "AAPL"
    (symbol / "fold-2013" / "forecaster").mkdir(parents=True)
    (tmp_path / "stocks" / "config.toml").write_text("[data]\n")
    (symbol / "results.json").write_text('{"symbol": "AAPL"}\n')
    assert main([*command, "--out", str(symbol)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rnnkit: error: --out {symbol} is a symbol's folder of an rnnkit "
                          "stocks run")
    assert sorted(path.name for path in symbol.iterdir()) == ["fold-2013", "results.json"]
    assert (symbol / "results.json").read_text() == '{"symbol": "AAPL"}\n'


def test_resume_of_another_task_s_folder_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.toml").write_text('[data]\ndataset = "ud_english_ewt"\n')  # a tagger's
    assert main(["train", "synthetic", "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "does not hold a run of this task" in err and "unknown config key 'data.dataset'" \
        in err and "valid keys" not in err


def test_an_early_stopped_run_resumed_with_more_patience_trains_on(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["train", "synthetic", *TINY, "--out", str(out), "--set", "train.epochs=4",
            "--set", "train.lr=1e-9"]  # no progress: patience 1 stops after epoch 2
    assert main([*args, "--set", "train.patience=1"]) == 0
    assert json.loads((out / "results.json").read_text())["stopped"] == "early_stopping"
    assert main([*args, "--set", "train.patience=5", "--resume"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["epochs"] == 4 and results["stopped"] == "completed"


def test_a_run_whose_settings_a_later_check_refuses_resumes_and_is_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run written before train.lr_factor without train.lr_patience was refused (202dac3)
    was read back as 'a run of another task', so it could be neither resumed, whatever --set
    said, nor replaced by a fresh run of its task."""
    out = tmp_path / "run"
    args = ["train", "synthetic", *TINY, "--out", str(out), "--set", "train.max_steps=3"]
    assert main(args) == 0
    saved = out / "config.toml"
    saved.write_text(saved.read_text().replace("lr_factor = 0.5", "lr_factor = 0.1"))
    capsys.readouterr()
    assert main([*args, "--resume"]) == 2  # the settings to train with are still checked
    err = capsys.readouterr().err
    assert "another task" not in err and "does not hold a run" not in err, err
    assert "train.lr_factor=0.1 is read only when" in err and "train.lr_factor=0.5" in err
    assert main([*args, "--set", "train.max_steps=5", "--set", "train.lr_factor=0.5",
                 "--resume"]) == 0, capsys.readouterr().err
    assert json.loads((out / "results.json").read_text())["steps"] == 5
    saved.write_text(saved.read_text().replace("lr_factor = 0.5", "lr_factor = 0.1"))
    assert main(args) == 0, capsys.readouterr().err  # a fresh run of the same task replaces it
    assert "lr_factor = 0.5" in saved.read_text()


@pytest.mark.parametrize("given", [True, False], ids=["as-config", "not-read"])
def test_a_fresh_run_refuses_to_replace_a_config_toml_that_no_run_wrote(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], given: bool) -> None:
    """--config exp/config.toml --out exp replaced the person's file (its comments, and the
    values a --set changed) with the run's resolved settings; so did --out exp alone, without
    even reading it. An earlier run's config.toml is replaced as before."""
    out = tmp_path / "exp"
    out.mkdir()
    mine = "# keep the rate low\n[train]\nlr = 0.001\n"
    (out / "config.toml").write_text(mine)
    config = ["--config", str(out / "config.toml")] if given else []
    assert main(["train", "synthetic", *TINY, *config, "--out", str(out), "--set",
                 "train.lr=0.01"]) == 2
    read = f"the --config {out / 'config.toml'}, " if given else ""
    unread = "" if given else "; and no --config reads it"
    assert capsys.readouterr().err == (
        f"rnnkit: error: --out {out} holds a config.toml that no run wrote ({read}with comments "
        f"or a layout of its own{unread}), which this run would replace with its resolved "
        f"settings; move it out of the folder (e.g. to {tmp_path / 'exp.toml'}) and give it as "
        "--config, or give another --out\n")
    assert (out / "config.toml").read_text() == mine and len(list(out.iterdir())) == 1
    (out / "config.toml").rename(tmp_path / "exp.toml")  # as the message says
    assert main(["train", "synthetic", *TINY, "--config", str(tmp_path / "exp.toml"), "--out",
                 str(out), "--set", "train.max_steps=2"]) == 0
    assert main(["train", "synthetic", *TINY, "--config", str(out / "config.toml"), "--out",
                 str(out), "--set", "train.max_steps=2", "--set", "train.lr=0.01"]) == 0
    assert "lr = 0.01" in (out / "config.toml").read_text()  # a run's own: replaced


def test_a_config_toml_that_no_run_wrote_in_out_dot_is_refused_as_such(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # --out . (as the --out messages suggest, from the folder itself) said only
    # "PosixPath('.') has an empty name", the suggestion's name built from the folder's
    out = tmp_path / "exp"
    out.mkdir()
    (out / "config.toml").write_text("# mine\n[train]\nlr = 0.001\n")
    monkeypatch.chdir(out)
    assert main(["train", "synthetic", *TINY, "--config", "config.toml", "--out", "."]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnkit: error: --out . holds a config.toml that no run wrote (the "
                          "--config config.toml, with comments")
    assert f"(e.g. to {tmp_path.resolve() / 'exp.toml'})" in err


def test_unknown_key_lists_valid_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "synthetic", "--set", "train.lrr=0.1"]) == 2
    err = capsys.readouterr().err
    assert "unknown config key 'train.lrr'" in err and "train.lr," in err


def test_bad_values_are_errors_not_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "synthetic", "--set", "model.cell=transformer", "--out",
                 str(tmp_path)]) == 2
    assert "model.cell must be one of rnn, lstm, gru" in capsys.readouterr().err
    assert main(["evaluate", "--model", str(tmp_path / "missing.rnnkit")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("size", ["train_size", "val_size", "test_size"])
def test_empty_synthetic_splits_are_refused_before_training(
    size: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["train", "synthetic", *TINY, "--set", f"data.{size}=0", "--out", str(out)]) == 2
    assert f"data.{size} must be at least 1; got 0" in capsys.readouterr().err
    assert not (out / "model.rnnkit").exists()


def test_print_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "synthetic", "--print-config", "--set", "train.lr=0.01"]) == 0
    out = capsys.readouterr().out
    assert "lr = 0.01" in out and "# valid keys:" in out


def test_python_dash_m_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rnnkit", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "diagnose" in result.stdout


@pytest.mark.parametrize(("flags", "message"), [
    (["--size", "0"], "--size must be at least 1; got 0"),  # scored the run's own test size
    (["--size", "-3"], "--size must be at least 1; got -3"),  # a torch traceback
    (["--length", "0"], "--length must be at least 1; got 0"),  # scored the training length
    (["--data", "imdb", "--split", "train"], "--data, --split do not apply; use --size"),
    (["--format", "csv"], "--format does not apply; use --size"),
    (["--size", str(2**70)], "--size must be a whole number below 2**63"),  # a traceback:
    (["--length", str(2**70)], "--length must be a whole number below 2**63"),  # 'Overflow
])  # when unpacking long long'
def test_evaluate_synthetic_refuses_bad_sizes(flags: list[str], message: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from rnnkit.config import ModelConfig
    from rnnkit.models.synthetic import SyntheticTaskModel
    from rnnkit.training.bundle import save_bundle

    bundle = tmp_path / "model.rnnkit"
    save_bundle(SyntheticTaskModel("adding", ModelConfig(hidden_size=4)), bundle)
    assert main(["evaluate", "--model", str(bundle), *flags]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("kind", "flags", "message"), [
    ("classifier", ["--size", "500"], "rnnkit evaluate reads --size only for a synthetic "
                                      "model, and {model} is a classifier model; leave --size"),
    ("classifier", ["--length", "5"], "reads --length only for a synthetic model"),
    ("classifier", ["--date-column", "day"], "reads --date-column only for a forecaster or "
                                             "signal model"),
    ("synthetic", ["--data-dir", "mirror"], "reads --data-dir only for a forecaster or signal "
                                            "or tagger or classifier or seq2seq model"),
    ("classifier", ["--split", "dev"], "--split picks from a registry dataset, and --data "
                                       "{data} is none (a file is read whole); leave it out"),
    ("classifier", ["--split", "dev", "--data-dir", "mirror"], "--split and --data-dir pick "
                                                               "from a registry dataset"),
    # a tagger ignored it, a classifier read SST's trees as the format given
    ("classifier", ["--data", "sst", "--format", "text"], "--format says how to read a --data "
                                                          "file, and --data sst is a registry"),
])
def test_evaluate_refuses_a_flag_the_model_would_ignore(
        kind: str, flags: list[str], message: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """--size 500 on a classifier, or --split dev with a file, scored as if never given."""
    from rnnkit.config import ModelConfig
    from rnnkit.data.vocab import Vocab
    from rnnkit.models.classifier import ClassifierConfig, SequenceClassifier
    from rnnkit.models.synthetic import SyntheticTaskModel
    from rnnkit.training.bundle import save_bundle

    bundle, data = tmp_path / "model.rnnkit", tmp_path / "test.jsonl"
    data.write_text('{"text": "fine", "label": "pos"}\n')
    encoder = ModelConfig(hidden_size=4)
    save_bundle(SyntheticTaskModel("adding", encoder) if kind == "synthetic" else
                SequenceClassifier(["neg", "pos"], ClassifierConfig(word_dim=4), encoder,
                                   Vocab.build([["fine"]])), bundle)
    given = ["--data", str(data)] if kind == "classifier" else []
    assert main(["evaluate", "--model", str(bundle), *given, *flags]) == 2
    assert message.format(model=bundle, data=data) in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "message"), [
    (["--length", "0"], "--length must be at least 2; got 0"),
    (["--task", "copy", "--length", "0"], "--length must be at least 1; got 0"),
    (["--steps", "0"], "--steps must be at least 1; got 0"),
    (["--hidden-size", "0"], "--hidden-size must be at least 1; got 0"),
    (["--cells", "lstm,transformer"], "--cells must be some of rnn, lstm, gru"),
    # the empty name was skipped: a typo, and 'rnn,,' alone ran the whole default demonstration
    (["--cells", "rnn,,lstm"], "--cells must be some of rnn, lstm, gru separated by commas, "
                              "e.g. lstm,gru; got 'rnn,,lstm'"),
    # the second gru trained the same model again: summary.json kept one, the tables had two
    (["--cells", "gru, lstm,gru", "--length", "2"], "--cells repeats gru: every cell trains"),
    # -1 trained as torch took it; 2**70 failed with 'Overflow when unpacking long long'
    (["--seed", "-1"], "--seed must be a whole number from 0 to 4294967295; got -1"),
    (["--seed", str(2**70)], "--seed must be a whole number from 0 to 4294967295"),
])
def test_diagnose_names_its_flags_before_training(flags: list[str], message: str,
                                                  tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "diagnose"
    assert main(["diagnose", "--steps", "1", "--hidden-size", "2", "--out", str(out),
                 *flags]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_diagnose_help_gives_the_length_its_check_enforces(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["diagnose", "--help"])
    shown = " ".join(capsys.readouterr().out.split())  # argparse wraps the help lines
    assert ">= 100" not in shown  # said so, yet --length 10 ran (100 is only the default)
    assert "sequence length (at least 2)" in shown and "(at least 1;" in shown
    # --length 5 is 4 blanks and the mark to repeat (data.synthetic.copy_task), not 5 blanks
    assert "copy task's delay: the steps between its 10 symbols and their recall, blanks " \
        "and then the mark to repeat them" in shown


def test_diagnose_help_says_what_steps_trains(capsys: pytest.CaptureFixture[str]) -> None:
    import inspect

    from rnnkit.pipelines.demonstration import EXPLODE, run_demonstration

    with pytest.raises(SystemExit):
        main(["diagnose", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    # said every budget was rounded up to a multiple of 50 (--steps 30 trains 30), gave no
    # default, and that the exploding part always took 600 steps (the unclipped run stops)
    assert "always takes" not in shown
    defaults = inspect.signature(run_demonstration).parameters
    every, steps = defaults["eval_every"].default, defaults["steps"].default
    assert f"each cell trains (default {steps}): up to {every} exactly that many" in shown
    assert f"above {every} rounded up to a multiple of {every}, one point every {every}" in shown
    assert f"each takes up to {EXPLODE.steps} SGD steps, the unclipped one stopping" in shown
    # --hidden-size gave no default and --cells did not name the cells it takes
    assert f"hidden units of every cell (default {defaults['hidden_size'].default})" in shown
    from rnnkit.config import CELLS

    assert f"comma-separated cells, some of {', '.join(CELLS)}" in shown


@pytest.mark.parametrize("command", ["predict", "translate", "forecast"])
def test_a_refused_command_leaves_no_output_folder(tmp_path: Path, command: str) -> None:
    # --output is checked before the model loads, but its folder is made only to write in
    output = tmp_path / "new" / "deeper" / "out.csv"
    assert main([command, "--model", str(tmp_path / "missing.rnnkit"), "--output",
                 str(output)]) == 2
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(("command", "setting", "message"), [
    (["train", "synthetic"], "model.num_layers=0", "model.num_layers must be at least 1; got 0"),
    (["train", "tagger"], "model.hidden_size=0", "model.hidden_size must be at least 1; got 0"),
    (["train", "tagger"], "model.dropout=1.5", "model.dropout must be at least 0 and below 1"),
    (["train", "classifier"], "model.num_layers=0", "model.num_layers must be at least 1"),
    (["train", "lm"], "model.hidden_size=0", "model.hidden_size must be at least 1; got 0"),
    (["train", "seq2seq"], "model.recurrent_dropout=1",
     "model.recurrent_dropout must be at least 0 and below 1"),
    (["train", "forecaster"], "model.hidden_size=0", "model.hidden_size must be at least 1"),
    (["train", "signal"], "model.num_layers=0", "model.num_layers must be at least 1; got 0"),
    (["stocks"], "model.hidden_size=0", "model.hidden_size must be at least 1; got 0"),
    (["train", "lm"], "lm.hidden_dropout=1.5", "lm.hidden_dropout must be at least 0 and below 1"),
    (["train", "seq2seq"], "seq2seq.label_smoothing=1.5",
     "seq2seq.label_smoothing must be at least 0 and below 1"),
    (["train", "tagger"], "tagger.word_dropout=1.5", "tagger.word_dropout must be at least 0"),
    (["train", "classifier"], "classifier.word_dim=0", "classifier.word_dim must be at least 1"),
    (["train", "synthetic"], "train.epochs=0", "train.epochs must be at least 1; got 0"),
    (["train", "synthetic"], "data.length=0", "data.length must be at least 2; got 0"),
    (["train", "synthetic"], "data.task=cpy", "data.task must be one of adding, copy; got 'cpy'"),
    (["train", "forecaster"], "train.optimizer=adamm",
     "train.optimizer must be one of adam, adamw, sgd; got 'adamm'"),
    (["train", "signal"], "train.batch_size=0", "train.batch_size must be at least 1; got 0"),
    (["train", "lm"], "train.lr=-1", "train.lr must be a finite number above 0; got -1.0"),
])
def test_training_names_a_bad_setting_before_any_work(
        command: list[str], setting: str, message: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The layers' own errors name no key ('LSTMCell: hidden_size must be a positive int'),
    and a dropout of 1.5 on one layer trained without a word."""
    out = tmp_path / "run"
    assert main([*command, "--out", str(out), "--set", "train.threads=1", "--set", setting]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()  # refused before the data was read or the run folder made


@pytest.mark.parametrize("count", ["0", "-2"])
def test_nproc_below_one_is_refused(count: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "synthetic", *TINY, "--nproc", count]) == 2
    assert f"--nproc must be at least 1 (the processes to train in), got {count}" in \
        capsys.readouterr().err


def test_a_missing_input_file_is_named(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.csv"
    assert main(["train", "classifier", "--train", str(missing), "--out",
                 str(tmp_path / "run")]) == 2
    assert (f"data.train (--train) {missing}: no such file; give the path of an existing file"
            in capsys.readouterr().err)  # and the setting (was 'no such file or folder: ...')


@pytest.mark.parametrize(("setting", "message"), [
    ("train.lr=inf", "train.lr must be a finite number"),
    ("train.momentum=nan", "train.momentum must be a finite number; got nan"),
    ("train.clip_norm=nan", "train.clip_norm must be a finite number; got nan"),
    ("train.threads=100000", "train.threads 100000 is far more than this machine's"),
])
def test_non_finite_or_absurd_settings_are_refused_before_training(
    setting: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "synthetic", *TINY, "--set", setting, "--out",
                 str(tmp_path / "run")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run" / "last.pt").exists()


def test_unreadable_inputs_are_named_in_one_line(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "reviews.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    args = ["train", "classifier", "--dev", str(png), "--out", str(tmp_path / "run")]
    assert main([*args, "--train", str(png)]) == 2
    assert f"{png}:1: not UTF-8 text" in capsys.readouterr().err  # the file and line
    fake = tmp_path / "reviews.jsonl.gz"
    fake.write_text('{"text": "good", "label": "pos"}\n')
    assert main(["train", "classifier", "--train", str(fake), "--dev", str(fake), "--out",
                 str(tmp_path / "run")]) == 2
    assert f"{fake}: not gzip data" in capsys.readouterr().err  # the file, named
    out = tmp_path / "synthetic"
    assert main(["train", "synthetic", *TINY, "--set", "train.epochs=1", "--out",
                 str(out)]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out)]) == 2
    assert f"is a folder, not a model bundle; its bundle is {out / 'model.rnnkit'}" in \
        capsys.readouterr().err


RESUME = "rnnkit: interrupted; continue with --resume\n"


@pytest.mark.parametrize(("module", "handler", "command", "advice"), [
    ("synthetic", "train", ["train", "synthetic"], RESUME),
    ("stocks", "run", ["stocks"], RESUME),
    ("dqn", "train", ["train", "dqn"],  # its finished seeds are saved, not the one under way
     "rnnkit: interrupted; continue with --resume (the same command): the seeds finished are "
     "read back, the one under way goes on after its last finished episode (its supervised "
     "models from their last.pt)\n"),
    ("language_model", "run_generate", ["generate", "--model", "m.rnnkit"], None),
])
def test_an_interrupt_advises_resume_only_where_the_command_resumes(
        module: str, handler: str, command: list[str], advice: str | None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(f"rnnkit.commands.{module}.{handler}", interrupted)
    assert main(command) == 130
    assert capsys.readouterr().err == (advice or "rnnkit: interrupted\n")
    if advice:  # into an --out that holds no run yet, --resume would be refused
        out = tmp_path / "new"
        assert main([*command, "--out", str(out)]) == 130
        assert capsys.readouterr().err == ("rnnkit: interrupted before the run began (nothing "
                                           "to resume): run the command again\n")
        out.mkdir()
        (out / "config.toml").write_text("")
        assert main([*command, "--out", str(out)]) == 130
        assert capsys.readouterr().err == advice


@pytest.mark.parametrize(("error", "message"), [
    (PermissionError(13, "Permission denied", "runs/x"), "rnnkit: error: cannot read or write "
     "runs/x: Permission denied (no permission, or a read-only place); give a path you may "
     "write to"),
    (OSError(30, "Read-only file system", "runs/x"), "cannot read or write runs/x: Read-only "
                                                     "file system (no permission"),
    (OSError(28, "No space left on device", "runs/x/last.pt"), "rnnkit: error: no space left "
     "to write runs/x/last.pt (No space left on device); free some space, or write the output "
     "to another disk"),
])
def test_an_os_refusal_says_what_to_do(error: OSError, message: str,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """It printed only '[Errno 13] Permission denied: 'runs/x''."""
    def refused(args: object) -> int:
        raise error

    monkeypatch.setattr("rnnkit.commands.synthetic.train", refused)
    assert main(["train", "synthetic"]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("command", "setting", "key"), [
    (["train", "forecaster"], 'data.features=["temp"]', "data.features"),
    (["train", "forecaster"], "forecast.quantiles=[0.1,0.5,0.9]", "forecast.quantiles"),
])
def test_an_array_for_a_text_setting_is_refused_by_print_config(
        command: list[str], setting: str, key: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--print-config", "--set", setting]) == 2
    assert f"{key} is text, not an array; write comma-separated values as one string" in \
        capsys.readouterr().err


@pytest.mark.parametrize("command", [
    ["train", "synthetic", *TINY], ["evaluate", "--model", "model.rnnkit"],
    ["backtest", "--model", "model.rnnkit"], ["diagnose"], ["stocks"],
])
def test_an_out_that_is_a_file_is_refused_naming_out(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """mkdir said '[Errno 17] File exists: ...' (and only once the work was done)."""
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    assert main([*command, "--out", str(afile)]) == 2
    assert capsys.readouterr().err == (f"rnnkit: error: --out {afile} is a file, but --out names "
                                       "a folder (made if missing); give a folder's path, or "
                                       "move the file away\n")
    assert main([*command, "--out", str(afile / "run")]) == 2
    assert f"--out {afile / 'run'}: {afile} is a file, not a folder" in capsys.readouterr().err
    assert afile.read_text() == "mine\n"


@pytest.mark.parametrize("command", [
    ["train", "synthetic", *TINY], ["evaluate", "--model", "model.rnnkit"],
    ["backtest", "--model", "model.rnnkit"], ["diagnose"], ["stocks"],
])
@pytest.mark.parametrize("out", [["--out", ""], ["--out="], ["--ou", ""], ["--ou="],
                                 ["--out", "x", "--ou", ""]])
def test_an_empty_out_is_refused_not_read_as_the_current_folder(
        command: list[str], out: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """--out "$RUN" with RUN unset trained (or wrote) in the current folder, as --out .; an
    abbreviation that argparse accepts (--ou "") slipped past the check."""
    monkeypatch.chdir(tmp_path)
    assert main([*command, *out]) == 2
    assert capsys.readouterr().err == (
        "rnnkit: error: --out is empty (an unset shell variable?), which would write in the "
        "current folder; give a folder (--out . for the current one), or leave --out out for "
        "the default\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["evaluate", "backtest"])
def test_a_run_folder_as_out_of_evaluate_or_backtest_is_refused(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """evaluate --out RUN wrote its results.json (and plots) over the training run's own."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text("[train]\n")
    (run / "results.json").write_text('{"epochs": 10}\n')
    assert main([command, "--model", str(run / "model.rnnkit"), "--out", str(run)]) == 2
    files = {"evaluate": "results.json, plots",  # backtest's are its own: no results.json
             "backtest": "backtest.json, equity.png, drawdown.png"}[command]
    assert capsys.readouterr().err == (
        f"rnnkit: error: --out {run} is a training run's folder (it holds config.toml): rnnkit "
        f"{command} would write its files ({files}) over the run's own; give "
        f"another folder, e.g. {run / command}\n")
    assert (run / "results.json").read_text() == '{"epochs": 10}\n'


@pytest.mark.parametrize("command", ["evaluate", "backtest"])
def test_a_stocks_symbol_folder_as_out_of_evaluate_or_backtest_is_refused(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """backtest --model runs/demo/AAPL/fold-2013/signal/model.rnnkit --out runs/demo/AAPL
    wrote equity.png and drawdown.png (evaluate: results.json) over the walk-forward run's own:
    a symbol's folder holds no config.toml, its run's parent does."""
    run = tmp_path / "stocks"
    symbol = run / "AAPL"
    (symbol / "fold-2013" / "signal").mkdir(parents=True)
    (run / "config.toml").write_text("[data]\n")
    (symbol / "results.json").write_text('{"symbol": "AAPL"}\n')
    model = symbol / "fold-2013" / "signal" / "model.rnnkit"
    assert main([command, "--model", str(model), "--out", str(symbol)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rnnkit: error: --out {symbol} is a symbol's folder of an rnnkit "
                          "stocks run")
    assert f"give another folder, e.g. {symbol / command}\n" in err
    assert (symbol / "results.json").read_text() == '{"symbol": "AAPL"}\n'
    # a folder of one's own beside the run's config.toml, holding no fold, is not refused
    other = run / "mine"
    other.mkdir()
    assert main([command, "--model", str(model), "--out", str(other)]) != 0
    assert "symbol's folder" not in capsys.readouterr().err


def test_an_output_under_a_file_is_refused_naming_output(tmp_path: Path) -> None:
    from rnnkit.commands.paths import make_parent
    from rnnkit.config import ConfigError

    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    with pytest.raises(ConfigError, match=f"--output {afile / 'x.json'}: {afile} is a file, not "
                                          "a folder, so nothing can be written in it; give "
                                          "--output a path in a folder"):
        make_parent(afile / "x.json")
    with pytest.raises(ConfigError, match=f"{afile} is a file, not a folder"):
        make_parent(afile / "deeper" / "x.json")
    make_parent(tmp_path / "new" / "x.json")
    assert (tmp_path / "new").is_dir()


@pytest.mark.parametrize("command", ["predict", "translate", "forecast"])
def test_an_output_that_is_a_folder_is_refused_before_the_model_loads(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    # the model does not exist: the --output error comes first, as no work is spent on it
    folder = tmp_path / "out.csv"
    folder.mkdir()
    missing = tmp_path / "missing.rnnkit"
    assert main([command, "--model", str(missing), "--output", str(folder)]) == 2
    assert capsys.readouterr().err == (f"rnnkit: error: --output {folder} is a folder; give "
                                       f"the file to write, e.g. {folder / 'predictions.csv'}\n")


@pytest.mark.parametrize(("command", "flag"), [
    ("predict", "--input"), ("translate", "--input"), ("forecast", "--data"),
    ("predict", "--model"), ("forecast", "--model"),
])
def test_an_output_that_is_the_input_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, flag: str) -> None:
    """The input was read whole, then overwritten (a tagged file's gold tags lost)."""
    given = tmp_path / "given.csv"
    given.write_text("date,value\n")
    model = given if flag == "--model" else tmp_path / "missing.rnnkit"
    extra = [] if flag == "--model" else [flag, str(given)]
    assert main([command, "--model", str(model), *extra, "--output",
                 str(tmp_path / "x" / ".." / "given.csv")]) == 2
    assert f"is the {flag} file: the output would be written over it" in capsys.readouterr().err
    assert given.read_text() == "date,value\n"


@pytest.mark.parametrize("flag", ["--input", "--output", "--model"])
def test_translate_refuses_an_attention_plot_that_is_its_input_or_output(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str) -> None:
    """--attention-plot was drawn over the --output translations (or the --input lines, the
    bundle) it named too, once the translating was done; now refused before the model loads
    (it does not exist here)."""
    given = tmp_path / "given.png"
    given.write_text("mine\n")
    model = given if flag == "--model" else tmp_path / "missing.rnnkit"
    extra = [] if flag == "--model" else [flag, str(given)]
    assert main(["translate", "--model", str(model), *extra, "--attention-plot",
                 str(tmp_path / "x" / ".." / "given.png")]) == 2
    assert capsys.readouterr().err == (
        f"rnnkit: error: --attention-plot {tmp_path / 'x' / '..' / 'given.png'} is the {flag} "
        "file: the output would be written over it; give --attention-plot another file, e.g. "
        f"{tmp_path / 'x' / '..' / 'attention.png'}\n")
    assert given.read_text() == "mine\n"


def tiny_bundle(kind: str, path: Path) -> Path:
    """A small untrained model of ``kind`` saved as a bundle."""
    from rnnkit.config import ModelConfig
    from rnnkit.data.text_stream import build_stream_vocab
    from rnnkit.data.vocab import Vocab
    from rnnkit.models.classifier import ClassifierConfig, SequenceClassifier
    from rnnkit.models.language_model import LanguageModel, LMConfig
    from rnnkit.models.tagger import Tagger, TaggerConfig
    from rnnkit.training.bundle import save_bundle

    encoder = ModelConfig(hidden_size=4)
    words = Vocab.build([["fine", "bad"]])
    model = {
        "classifier": lambda: SequenceClassifier(["neg", "pos"], ClassifierConfig(word_dim=4),
                                                 encoder, words),
        "tagger": lambda: Tagger(words, Vocab.build([list("finebad")]),
                                 Vocab.build([["ADJ"]], unknown=False),
                                 TaggerConfig(word_dim=4, char_dim=2, char_hidden=2), encoder,
                                 data={"format": "conllu", "column": "upos", "scheme": "none"}),
        "language_model": lambda: LanguageModel(build_stream_vocab(list("fine bad\n"), "char"),
                                                LMConfig(embedding_dim=4), encoder),
    }[kind]()
    return save_bundle(model, path)


@pytest.mark.parametrize(("kind", "name", "text", "flags"), [
    ("classifier", "test.json", '{"text": "fine", "label": "pos"}\n', ["--format", "jsonl"]),
    ("tagger", "test.predictions.conllu", "1\tfine\t_\tADJ\t_\t_\t_\t_\t_\t_\n\n", []),
    ("language_model", "evaluation.json", "fine bad fine\n" * 20, []),
])
def test_evaluate_refuses_an_out_where_it_would_write_over_the_data(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, name: str, text: str,
        flags: list[str]) -> None:
    """evaluate --data d/test.json --out d wrote a classifier's scores over its test data (a
    tagger's predictions over test.predictions.conllu, a language model's evaluation.json)."""
    model = tiny_bundle(kind, tmp_path / "model.rnnkit")
    folder = tmp_path / "data"
    folder.mkdir()
    data = folder / name
    data.write_text(text)
    assert main(["evaluate", "--model", str(model), "--data", str(data), *flags,
                 "--out", str(folder)]) == 2
    assert capsys.readouterr().err == (
        f"rnnkit: error: --out {folder}: rnnkit evaluate writes its {name} there, which is the "
        f"--data file {data}: the {kind} model's scores would be written over the data; give "
        f"--out another folder, e.g. {folder / 'evaluation'}\n")
    assert data.read_text() == text
    assert sorted(path.name for path in folder.iterdir()) == [name]
    kept = data.rename(folder / f"held_out{data.suffix}")  # another name: evaluated there
    assert main(["evaluate", "--model", str(model), "--data", str(kept), *flags,
                 "--out", str(folder)]) == 0
    assert kept.read_text() == text and (folder / name).is_file()


@pytest.mark.parametrize("given", ["in.txt", "-"])
def test_predict_refuses_text_and_input_together(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], given: str) -> None:
    """--text was used and the --input file silently not read; refused before the model loads
    (it does not exist here)."""
    assert main(["predict", "--model", str(tmp_path / "missing.rnnkit"), "--text", "a b",
                 "--input", given]) == 2
    assert f"--text and --input {given} both give the input; give one of them" in \
        capsys.readouterr().err


@pytest.mark.parametrize(("command", "setting", "message"), [
    (["train", "synthetic"], "data.task=cpy", "data.task must be one of adding, copy; got 'cpy'"),
    (["train", "tagger"], "tagger.output=crff", "tagger.output must be one of crf, softmax"),
    (["train", "tagger"], "data.scheme=bilou", "data.scheme must be one of bio, bioes"),
    (["train", "classifier"], "classifier.pooling=attn",
     "classifier.pooling must be one of last, max, mean, attention; got 'attn'"),
    (["train", "classifier"], "data.format=xml", "data.format must be one of auto, jsonl"),
    (["train", "dqn"], 'run.seeds="1,x"', "run.seeds must be whole numbers separated by commas"),
    (["stocks"], "data.symbols=XYZ", "data.symbols: unknown ['XYZ']"),
    (["stocks"], 'data.symbols="AAPL,data/prices.csv"',  # was "unknown ['DATA/PRICES.CSV']"
     "data.symbols names the file data/prices.csv, but rnnkit stocks reads only the built-in"),
    (["stocks"], 'data.symbols="msft.csv"', "use rnnkit train forecaster or rnnkit train "
     "signal with --set data.source=FILE"),
    (["train", "tagger"], "data.min_count=0", "data.min_count must be at least 1; got 0"),
    (["train", "classifier"], "data.min_count=-1", "data.min_count must be at least 1; got -1"),
    (["train", "lm"], "data.min_count=0", "data.min_count must be at least 1; got 0"),
    (["train", "classifier"], "data.max_tokens=-5", "data.max_tokens must be at least 0; got -5"),
    (["train", "classifier"], 'embeddings.vectors="no-such-vectors.bin"',
     "embeddings.vectors: vectors file no-such-vectors.bin does not exist"),
    (["train", "classifier"], "embeddings.extend_vocab=-1",
     "embeddings.extend_vocab must be at least 0; got -1"),
    # the dataset's splits were read and the file silently never (--train with --dataset too)
    (["train", "classifier", "--dataset", "sst"], 'data.test="mine.tsv"',
     "data.dataset=sst reads that dataset's own splits, so data.test would not be read"),
    (["train", "classifier", "--dataset", "imdb", "--train", "mine.tsv"], 'data.dev="d.tsv"',
     "so data.train and data.dev would not be read"),
])
def test_print_config_and_nproc_run_the_task_checks(
        command: list[str], setting: str, message: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """--print-config printed these settings and exited 0, and --nproc 2 started both
    processes, each printing the error."""
    import rnnkit.cli

    def no_launch(*_: object) -> int:
        raise AssertionError("the processes started")

    monkeypatch.setattr(rnnkit.cli, "launch", no_launch)
    assert main([*command, "--print-config", "--set", setting]) == 2
    assert message in capsys.readouterr().err
    if command[0] == "train" and command[1] != "dqn":  # those trained through the trainer
        assert main([*command, "--nproc", "2", "--set", "train.device=cpu", "--set",
                     setting]) == 2
        assert message in capsys.readouterr().err


@pytest.mark.parametrize("command, setting, message", [
    (["train", "tagger", "--format", "conllu", "--train", "no-such-train.conllu"],
     "train.epochs=1", "data.train (--train) no-such-train.conllu: no such file; give the path"),
    (["train", "tagger", "--format", "conllu", "--train", __file__], 'data.test="no-such.txt"',
     "no dev file: give --dev FILE (data.dev)"),
    (["train", "classifier", "--train", "no-such-train.csv"], "train.epochs=1",
     "data.train (--train) no-such-train.csv: no such file"),
    (["train", "classifier"], 'data.dataset=""', "no training data: set data.dataset"),
    (["train", "lm", "--file", "no-such.txt"], "train.epochs=1",
     "data.file (--file) no-such.txt: no such file"),
    (["train", "lm"], 'data.dataset=""', "no text: set data.dataset"),
    (["train", "seq2seq", "--train", "no-such"], "train.epochs=1",
     "data.train (--train) no-such.de: no such file; give the prefix of an existing pair"),
    (["train", "forecaster"], 'data.source="no-such.csv"', "data.source no-such.csv: no such"),
    (["train", "signal"], 'data.source="no-such.csv"', "data.source no-such.csv: no such"),
])
def test_nproc_checks_the_input_files_once_before_the_processes_start(
        command: list[str], setting: str, message: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing input file (or a split given none) was refused only by the processes that
    --nproc 2 started, each printing the same error line. --print-config alone still prints
    the settings, whatever files they name. One process says the same (it said 'no such file
    or folder: X; check the path given', or 'text file X.de does not exist', naming no
    setting), and makes no --out either."""
    import rnnkit.cli

    def no_launch(*_: object) -> int:
        raise AssertionError("the processes started")

    monkeypatch.setattr(rnnkit.cli, "launch", no_launch)
    monkeypatch.chdir(tmp_path)  # the relative names are missing here
    assert main([*command, "--print-config", "--set", setting]) == 0
    capsys.readouterr()
    assert main([*command, "--nproc", "2", "--set", "train.device=cpu", "--set", setting,
                 "--out", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("rnnkit: error:") == 1
    assert not (tmp_path / "run").exists()
    assert main([*command, "--set", setting, "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == error  # one process: the same message
    assert not (tmp_path / "run").exists()


def test_a_run_whose_output_pipe_closes_says_it_stopped(tmp_path: Path) -> None:
    # `rnnkit train ... | head -1`: the run stops at its next line; exit 0 would claim success
    command = [sys.executable, "-m", "rnnkit", "train", "synthetic", "--out", str(tmp_path / "run"),
               "--set", "train.epochs=4", "--set", "data.train_size=200",
               "--set", "train.progress=false"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"epoch 1:")
    process.stdout.close()  # what `head -1` does
    assert process.wait(timeout=120) == 141
    assert b"standard output was closed (piped into head?), which stopped the run; continue " \
           b"it with --resume" in process.stderr.read()
    process.stderr.close()
    assert not (tmp_path / "run" / "results.json").exists()


def test_a_run_whose_output_and_error_pipe_closes_exits_141(tmp_path: Path) -> None:
    # `rnnkit train ... 2>&1 | head -1`: the message could not be written either, and the
    # BrokenPipeError it raised made the run exit 1 instead of 141
    command = [sys.executable, "-m", "rnnkit", "train", "synthetic", "--out", str(tmp_path / "run"),
               "--set", "train.epochs=4", "--set", "data.train_size=200",
               "--set", "train.progress=false"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    assert process.stdout.readline().startswith(b"epoch 1:")
    process.stdout.close()  # what `head -1` does, to both
    assert process.wait(timeout=120) == 141
    assert not (tmp_path / "run" / "results.json").exists()


def test_print_config_into_a_closed_pipe_is_no_stopped_run(tmp_path: Path) -> None:
    # `rnnkit train ... --print-config | head -1`: settings cut short as asked, no run stopped
    command = [sys.executable, "-m", "rnnkit", "train", "synthetic", "--print-config",
               "--out", str(tmp_path / "run")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # closed before anything is printed
    assert process.wait(timeout=120) == 0
    assert b"stopped the run" not in process.stderr.read()
    process.stderr.close()


def test_printed_results_are_strict_json(capsys: pytest.CaptureFixture[str]) -> None:
    # what train/evaluate print is read by scripts: NaN (nothing to score) must be null there
    from rnnkit.commands.common import print_json

    print_json({"test": {"f1": float("nan"), "loss": float("inf"), "runs": [1.5, float("nan")]}},
               indent=2)
    printed = capsys.readouterr().out
    assert json.loads(printed, parse_constant=lambda name: pytest.fail(name)) == {
        "test": {"f1": None, "loss": None, "runs": [1.5, None]}}


def test_info_on_a_cpu_only_machine_does_not_report_cudnn_math(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import rnnkit.info

    monkeypatch.setattr(rnnkit.info, "fused_available",
                        lambda: {"oneDNN (CPU)": True, "cuDNN (GPU)": False})
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    info = rnnkit.info.collect_info()
    assert info["cuda"] == "not available" and info["default device"] == "cpu"
    assert info["cuDNN float32 math"] == "not used (no GPU)"


def test_info_says_when_onednn_is_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # it said 'available' and 'on the CPU oneDNN for an LSTM over a full batch' with
    # torch.backends.mkldnn.enabled = False, where every layer runs ATen's kernels
    import rnnkit.info

    monkeypatch.setattr(rnnkit.info, "fused_available",
                        lambda: {"oneDNN (CPU)": True, "cuDNN (GPU)": False})
    monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.mkldnn, "enabled", False)
    info = rnnkit.info.collect_info()
    assert info["fused oneDNN (CPU)"] == ("available, turned off"
                                          " (torch.backends.mkldnn.enabled)")
    assert info["fused path on the CPU"] == (
        "ATen's C++ kernels for every RNN/LSTM/GRU (oneDNN is turned off:"
        " torch.backends.mkldnn.enabled is False)")


def test_resume_help_names_every_setting_a_resumed_run_may_change(
        capsys: pytest.CaptureFixture[str]) -> None:
    # it said "train.epochs, max_steps, patience and how it runs", leaving out lr_patience,
    # lr_factor, min_lr and checkpoint_every, which the refusal itself lists
    from rnnkit.config import RESUMABLE

    with pytest.raises(SystemExit):
        main(["train", "tagger", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert all(key in shown for key in RESUMABLE), shown
    assert "and sample.* for train lm)" in shown  # it offered sample.* to every task


def test_a_diverged_run_is_one_error_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """TrainingDiverged is a RuntimeError: main's out-of-memory branch caught it and re-raised
    it (its message says nothing of 'allocate'), a traceback for every diverged run."""
    out = tmp_path / "run"
    code = main(["train", "synthetic", *TINY, "--set", "train.lr=1e30", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnkit: error: loss became") and "lower train.lr" in err


@pytest.mark.parametrize("settings", [
    ["train.lr=1e300"],
    ["train.optimizer=sgd", "train.weight_decay=1e300"],
    ["train.optimizer=adamw", "train.lr=1e300"],
])
def test_a_learning_rate_float32_cannot_hold_is_one_error_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: list[str]
) -> None:
    """train.lr=1e300 ended in torch's 'value cannot be converted to type float without
    overflow' from inside the optimizer's step, a traceback."""
    pairs = [arg for setting in settings for arg in ("--set", setting)]
    code = main(["train", "synthetic", *TINY, *pairs, "--out", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnkit: error: train.lr=") and "overflows the" in err
    assert "lower them" in err and "Traceback" not in err


def test_sizes_whose_product_overflows_are_one_error_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """data.test_size=2**62 (each size below 2**63, as the config checks) times data.length
    overflows torch's storage size: 'RuntimeError: Storage size calculation overflowed' came
    out as a traceback (evaluate --size 2**62 too); it is now the out-of-memory line."""
    out = tmp_path / "run"
    code = main(["train", "synthetic", *TINY, "--set", f"data.test_size={2**62}",
                 "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnkit: error: out of memory") and "lower the sizes" in err


@pytest.mark.parametrize("argv", [
    ["diagnose", "--length", str(2**70)],  # a torch traceback
    ["generate", "--model", "unused.rnnkit", "--length", str(2**70)],  # generated without end
])
def test_whole_number_flags_past_2_63_are_refused(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith(
        "rnnkit: error: --length must be a whole number below 2**63")


@pytest.mark.parametrize(("command", "key"), [
    (["train", "tagger", "--format", "conllu", "--train"], "train"),  # no dataset: a format
    (["train", "lm", "--file"], "file"),
    (["train", "lm", "--data-dir"], "data_dir"),
])
def test_a_flag_s_path_with_a_character_beyond_the_bmp_is_read_as_given(
        command: list[str], key: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--train '\U0001F600 "x".conllu' became the setting '"\\ud83d\\ude00 \\"x\\".conllu"',
    quotes and escapes included, so the file was not found."""
    import tomllib

    path = 'runs/\U0001F600 "x".conllu'
    assert main([*command, path, "--print-config"]) == 0
    assert tomllib.loads(capsys.readouterr().out)["data"][key] == path


def test_a_section_of_another_command_is_named_as_such(
        capsys: pytest.CaptureFixture[str]) -> None:
    """train forecaster --set signal.mode=long_short said 'did you mean train.mode?', a
    setting of min or max."""
    assert main(["train", "forecaster", "--print-config", "--set", "signal.mode=long_short"]) == 2
    err = capsys.readouterr().err
    assert "--set signal.mode: signal.* are settings of rnnkit train signal and rnnkit stocks, " \
           "not of this command, whose sections are data, model, train, forecast" in err
    assert "train.mode" not in err


def test_a_file_with_a_section_of_another_command_is_named_as_such(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A signal run's config.toml given to train forecaster said 'unknown config section
    'signal'; did you mean train.mode?', the guess the --set check above was made to avoid."""
    path = tmp_path / "signal.toml"
    path.write_text('[signal]\nmode = "long_short"\n', encoding="utf-8")
    assert main(["train", "forecaster", "--config", str(path), "--print-config"]) == 2
    err = capsys.readouterr().err
    assert f"{path} holds [signal]: signal.* are settings of rnnkit train signal and rnnkit " \
           "stocks, not of this command, whose sections are data, model, train, forecast: " \
           "give the file to that command, or remove the section" in err
    assert "train.mode" not in err
    path.write_text("[agent]\nlr = 0.1\n", encoding="utf-8")
    assert main(["stocks", "--config", str(path), "--print-config"]) == 2
    assert "holds [agent]: agent.* are settings of rnnkit train dqn" in capsys.readouterr().err


def test_the_table_of_sections_by_command_is_true() -> None:
    import dataclasses

    from rnnkit.commands.common import SECTION_COMMANDS
    from rnnkit.pipelines.classifier import ClassifierRunConfig
    from rnnkit.pipelines.dqn import DQNRunConfig
    from rnnkit.pipelines.forecaster import ForecastRunConfig
    from rnnkit.pipelines.language_model import LMRunConfig
    from rnnkit.pipelines.seq2seq import Seq2SeqRunConfig
    from rnnkit.pipelines.signal import SignalRunConfig
    from rnnkit.pipelines.stocks import StocksRunConfig
    from rnnkit.pipelines.synthetic import SyntheticRunConfig
    from rnnkit.pipelines.tagger import TaggerRunConfig

    configs = {"train synthetic": SyntheticRunConfig, "train tagger": TaggerRunConfig,
               "train classifier": ClassifierRunConfig, "train lm": LMRunConfig,
               "train seq2seq": Seq2SeqRunConfig, "train forecaster": ForecastRunConfig,
               "train signal": SignalRunConfig, "train dqn": DQNRunConfig,
               "stocks": StocksRunConfig}
    table: dict[str, set[str]] = {}
    for command, config in configs.items():
        for field in dataclasses.fields(config):
            if field.name not in ("data", "model", "train"):
                table.setdefault(field.name, set()).add(command)
    assert {section: set(commands) for section, commands in SECTION_COMMANDS.items()} == table


@pytest.mark.parametrize("command", [["evaluate"], ["predict", "--text", "x"]])
def test_evaluate_or_predict_of_a_newer_rnnkit_s_model_kind_says_to_upgrade(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It said only "cannot handle 'transformer' models yet"."""
    from safetensors.torch import save_file

    from rnnkit.config import ModelConfig
    from rnnkit.models.synthetic import SyntheticTaskModel
    from rnnkit.training.bundle import read_bundle, save_bundle

    path = save_bundle(SyntheticTaskModel("adding", ModelConfig(hidden_size=4)),
                       tmp_path / "m.rnnkit")
    metadata, tensors = read_bundle(path)
    save_file(tensors, str(path), metadata={**metadata, "kind": "transformer",
                                            "rnnkit_version": "0.9.0"})
    assert main([command[0], "--model", str(path), *command[1:]]) == 2
    assert "cannot handle 'transformer' models yet" in (err := capsys.readouterr().err)
    assert f"{path} holds a 'transformer' model" in err  # which file: it said none
    assert "written by rnnkit 0.9.0, newer than this one (0.1.0): upgrade rnnkit" in err


def test_a_path_flag_written_with_an_equals_sign_expands_the_home_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The shell leaves ~ in --config=~/run.toml and --out=~/runs/x: the file did not exist,
    and the run folder was made under a folder named ~ in the current one."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.toml").write_text("[train]\nepochs = 3\n", encoding="utf-8")
    assert main(["train", "synthetic", "--config=~/run.toml", "--print-config"]) == 0
    assert "epochs = 3" in capsys.readouterr().out
    assert main(["train", "synthetic", "--out=~/runs/x", "--resume", "--print-config"]) == 2
    assert f"{tmp_path / 'runs' / 'x'} holds no run" in capsys.readouterr().err
