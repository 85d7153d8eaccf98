"""benchmarks/language_model.py, end to end on a small text file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import language_model  # noqa: E402


def run(monkeypatch: pytest.MonkeyPatch, *arguments: str) -> None:
    monkeypatch.setattr(sys, "argv", ["language_model.py", *arguments])
    language_model.main()


def test_resume_reads_the_run_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its docstring finishes a run stopped early with ``--resume --set train.epochs=N``, but
    the script rebuilt the settings from the defaults: a run of other sizes (the GPU runs'
    3 x 512) was refused ('--resume: model.hidden_size (8 -> 384) ... differ from the run').
    As ``rnnkit train lm --resume``, it now starts from the run's own config.toml."""
    text = tmp_path / "text.txt"
    text.write_text("To be, or not to be, that is the question.\n" * 120, encoding="utf-8")
    out = tmp_path / "run"
    run(monkeypatch, "--out", str(out), "--set", 'data.dataset=""', "--set",
        f'data.file="{text}"', "--set", "data.steps=20", "--set", "model.hidden_size=8",
        "--set", "lm.embedding_dim=4", "--set", "train.threads=1", "--set", "train.epochs=2",
        "--set", "train.max_steps=3", "--set", "sample.length=20",
        "--result-path", str(tmp_path / "stopped.json"))
    assert json.loads((tmp_path / "stopped.json").read_text())["extra"]["epochs"] == 0
    run(monkeypatch, "--out", str(out), "--resume", "--set", "train.epochs=1", "--set",
        "train.max_steps=0", "--result-path", str(tmp_path / "finished.json"))
    result = json.loads((tmp_path / "finished.json").read_text())
    assert result["extra"]["epochs"] == 1
    assert "hidden_size = 8" in result["extra"]["config"]
