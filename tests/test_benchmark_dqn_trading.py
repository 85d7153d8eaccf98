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
