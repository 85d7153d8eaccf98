"""benchmarks/dqn_trading.py's ``--resume``: the argument plumbing only (the benchmark itself
trains 24 agents and writes benchmarks/results)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import dqn_trading  # noqa: E402

import rnnkit.pipelines.dqn  # noqa: E402


class Stop(Exception):
    """Raised by the stand-in run_dqn once every run of the symbol was asked for."""


def started_runs(monkeypatch: pytest.MonkeyPatch, *arguments: str) -> list[tuple[str, bool]]:
    """(agent folder, resume) of each run_dqn call for one symbol and one seed."""
    calls: list[tuple[str, bool]] = []

    def recording(config: Any, out_dir: Path, log: Any = print, resume: bool = False) -> Any:
        calls.append((Path(out_dir).name, resume))
        if len(calls) == len(dqn_trading.AGENTS):
            raise Stop
        return {}

    monkeypatch.setattr(rnnkit.pipelines.dqn, "run_dqn", recording)
    monkeypatch.setattr(sys, "argv", ["dqn_trading.py", "--symbols", "IBM", "--seeds", "0",
                                      *arguments])
    with pytest.raises(Stop):
        dqn_trading.main()
    return calls


def test_resume_goes_on_with_each_begun_run_and_starts_the_others(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """run_dqn resumes by seed and by episode, but the benchmark had no --resume: a stopped
    benchmark started every agent again. A run folder with a config.toml now resumes; one
    not begun starts (run_dqn refuses --resume of a folder that holds no run)."""
    (tmp_path / "IBM" / "dqn_mlp").mkdir(parents=True)
    (tmp_path / "IBM" / "dqn_mlp" / "config.toml").write_text("", encoding="utf-8")
    assert started_runs(monkeypatch, "--keep", str(tmp_path), "--resume") == [
        ("dqn_mlp", True), ("dqn_gru", False)]
    assert started_runs(monkeypatch, "--keep", str(tmp_path)) == [
        ("dqn_mlp", False), ("dqn_gru", False)]


def test_resume_without_keep_is_refused(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["dqn_trading.py", "--resume"])
    with pytest.raises(SystemExit) as stopped:
        dqn_trading.main()
    assert stopped.value.code == 2
    assert "--resume needs --keep DIR, the folder of the runs to go on with" in (
        capsys.readouterr().err)


def test_help_names_resume() -> None:
    shown = subprocess.run([sys.executable, str(BENCHMARKS / "dqn_trading.py"), "--help"],
                           capture_output=True, text=True, check=True).stdout
    assert "--resume" in shown and "--keep" in shown


def stopped_main() -> int:
    """The script's exit code; a KeyboardInterrupt that escapes it fails the test (not the
    whole pytest session, which Ctrl-C ends)."""
    try:
        return dqn_trading.main()
    except KeyboardInterrupt:
        pytest.fail("the KeyboardInterrupt escaped main: Python printed its traceback")


@pytest.mark.parametrize(("arguments", "said"), [
    ([], "interrupted; nothing was kept (the runs were in a temporary folder, now removed) and "
         "no result was written: run again with --keep DIR"),
    (["--keep", "KEEP"], "interrupted; the runs so far are kept in KEEP (finished seeds;"),
    (["--keep", "KEEP", "--resume"], "no result was written: continue with the same command\n"),
])
def test_ctrl_c_says_what_was_kept_and_exits_130_without_a_traceback(
        arguments: list[str], said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C printed Python's traceback (exit 1) and left it to the reader to know that
    --keep and --resume could go on with the runs."""
    def interrupted(config: Any, out_dir: Path, log: Any = print, resume: bool = False) -> Any:
        raise KeyboardInterrupt

    arguments = [part.replace("KEEP", str(tmp_path)) for part in arguments]
    monkeypatch.setattr(rnnkit.pipelines.dqn, "run_dqn", interrupted)
    monkeypatch.setattr(sys, "argv", ["dqn_trading.py", "--symbols", "IBM", *arguments])
    assert stopped_main() == 130
    error = capsys.readouterr().err
    assert error.startswith("dqn_trading: ") and error.count("\n") == 1
    assert said.replace("KEEP", str(tmp_path)) in error


def test_ctrl_c_in_a_supervised_model_says_where_its_training_stopped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from rnnkit.training.interruption import TrainingInterrupted

    def interrupted(config: Any, out_dir: Path, log: Any = print, resume: bool = False) -> Any:
        raise TrainingInterrupted.at(3, 0, 3, 0, Path(out_dir) / "seed-0" / "forecaster")

    monkeypatch.setattr(rnnkit.pipelines.dqn, "run_dqn", interrupted)
    monkeypatch.setattr(sys, "argv", ["dqn_trading.py", "--symbols", "IBM", "--keep",
                                      str(tmp_path)])
    assert stopped_main() == 130
    assert ("dqn_trading: interrupted after optimizer step 3 (in epoch 1, after batch 3); saved "
            f"{tmp_path}/IBM/dqn_mlp/seed-0/forecaster/last.pt; the runs so far are kept in "
            f"{tmp_path}") in capsys.readouterr().err
