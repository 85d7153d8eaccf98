"""A plot that fails after training (a matplotlib error, a disk too full for the PNG) is a
warning naming it (rnnkit.pipelines.run.drawing): the run's results.json and printed scores
are kept. The commands drew their plots before writing results.json, so one failed plot lost
the whole run's numbers. ``translate --attention-plot`` likewise keeps its translations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_seq2seq_cli import SOURCE, TARGET, TINY

import rnnkit.viz.attention
import rnnkit.viz.confusion
import rnnkit.viz.seed_equity
import rnnkit.viz.timeseries
from rnnkit.cli import main

pytestmark = pytest.mark.filterwarnings(r"ignore:seed \d+. the agent:UserWarning")  # tiny DQN


def full_disk(*args: object, **kwargs: object) -> None:
    raise OSError(28, "No space left on device")


def matplotlib_error(*args: object, **kwargs: object) -> None:
    raise ValueError("Image size of 100000x400 pixels is too large")


def prices_csv(path: Path, rows: int = 700) -> Path:
    """A random-walk price with momentum, and its log return."""
    rng = np.random.default_rng(0)
    returns = np.zeros(rows)
    for t in range(1, rows):
        returns[t] = 0.6 * returns[t - 1] + rng.normal(0, 0.01)
    price = 100 * np.exp(np.cumsum(returns))
    frame = pd.DataFrame({"date": pd.date_range("2015-01-01", periods=rows, freq="D"),
                          "price": price, "price_log_return": np.r_[np.nan, np.diff(
                              np.log(price))]}).iloc[1:]
    frame.to_csv(path, index=False)
    return path


def train(task: str, csv: Path, out: Path) -> int:
    settings = {"data.source": str(csv), "data.target": "price_log_return",
                "data.features": "price_log_return", "data.lookback": "10",
                "data.horizon": "1", "data.calendar": "", "model.hidden_size": "8",
                "train.epochs": "1", "train.progress": "false", "train.threads": "1"}
    return main(["train", task, "--out", str(out),
                 *[arg for key, value in settings.items() for arg in ("--set", f"{key}={value}")]])


def test_train_forecaster_keeps_its_results_when_the_plot_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(rnnkit.viz.timeseries, "plot_forecast", full_disk)
    run = tmp_path / "run"
    assert train("forecaster", prices_csv(tmp_path / "prices.csv"), run) == 0
    printed = capsys.readouterr()
    assert ("rnnkit: warning: could not draw forecast.png: [Errno 28] No space left on device"
            in printed.err)
    assert "test MAE at step 1: model" in printed.out
    results = json.loads((run / "results.json").read_text())
    assert results["test"]["step_1"]["model"]["mae"] > 0 and results["total_seconds"] >= 0
    assert not (run / "forecast.png").exists()
    # rnnkit evaluate --out, too, writes its results.json
    assert main(["evaluate", "--model", str(run / "model.rnnkit"), "--out",
                 str(tmp_path / "evaluated")]) == 0
    assert "could not draw forecast.png" in capsys.readouterr().err
    evaluated = json.loads((tmp_path / "evaluated" / "results.json").read_text())
    assert evaluated["step_1"] == results["test"]["step_1"]


def test_train_signal_keeps_its_results_and_the_plots_that_did_not_fail(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(rnnkit.viz.confusion, "plot_confusion", matplotlib_error)
    monkeypatch.setattr(rnnkit.viz.timeseries, "plot_equity", full_disk)
    run = tmp_path / "run"
    assert train("signal", prices_csv(tmp_path / "prices.csv"), run) == 0
    printed = capsys.readouterr()
    assert ("rnnkit: warning: could not draw confusion.png: Image size of 100000x400 pixels is"
            " too large" in printed.err)
    assert "rnnkit: warning: could not draw equity.png: [Errno 28]" in printed.err
    assert "test macro-F1: model" in printed.out
    assert "macro_f1" in json.loads((run / "results.json").read_text())["test"][
        "classification"]["model"]
    assert (run / "drawdown.png").stat().st_size > 0  # drawn: only the two above failed


def test_train_dqn_prints_its_table_when_the_plot_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(rnnkit.viz.seed_equity, "plot_seed_equity", full_disk)
    settings = ["data.symbol=IBM", "data.train_end=2004-12-31", "data.test_end=2005-06-30",
                "agent.episodes=1", "agent.learning_starts=200", "model.hidden_size=8",
                'run.seeds="0"', "run.supervised=false"]
    out = tmp_path / "run"
    assert main(["train", "dqn", "--out", str(out),
                 *[arg for setting in settings for arg in ("--set", setting)]]) == 0
    printed = capsys.readouterr()
    assert "rnnkit: warning: could not draw equity.png: [Errno 28]" in printed.err
    assert "buy_and_hold" in printed.out and (out / "results.json").is_file()


def test_translate_keeps_its_translations_when_the_attention_plot_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "tiny.de").write_text("\n".join(SOURCE) + "\n", encoding="utf-8")
    (tmp_path / "tiny.en").write_text("\n".join(TARGET) + "\n", encoding="utf-8")
    prefix, run = str(tmp_path / "tiny"), tmp_path / "run"
    assert main(["train", "seq2seq", "--train", prefix, "--dev", prefix, "--test", prefix,
                 "--out", str(run), *TINY, "--set", "train.epochs=1"]) == 0
    lines = tmp_path / "in.de"
    lines.write_text("ein roter hund\nein hund rennt\n", encoding="utf-8")
    translate = ["translate", "--model", str(run / "model.rnnkit"), "--input", str(lines),
                 "--output", str(tmp_path / "out.txt"), "--attention-plot"]
    capsys.readouterr()
    assert main([*translate, str(tmp_path / "drawn.png")]) == 0  # it was drawn: said what
    assert ("wrote {}: the attention of the first line and its best translation".format(
        tmp_path / "drawn.png") in capsys.readouterr().err)
    expected = (tmp_path / "out.txt").read_text(encoding="utf-8")
    (tmp_path / "out.txt").unlink()
    monkeypatch.setattr(rnnkit.viz.attention, "save_figure", full_disk)
    assert main([*translate, str(tmp_path / "a.png")]) == 0  # was 2: 'rnnkit: error'
    printed = capsys.readouterr()
    assert ("rnnkit: warning: could not draw a.png: [Errno 28] No space left on device"
            in printed.err) and "wrote" not in printed.err
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == expected
    assert len(expected.splitlines()) == 2 and not (tmp_path / "a.png").exists()
