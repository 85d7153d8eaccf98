"""The command line: run folders, results.json's seconds and --resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import TINY

from rnnkit.cli import main


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
