"""benchmarks/translation_multi30k.py's command line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import translation_multi30k  # noqa: E402


def test_report_refuses_cuda_without_a_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """``report --device cuda`` on a machine without a GPU read the run and its data, then
    failed inside torch ('AssertionError: Torch not compiled with CUDA enabled'); it is now
    refused before anything is read, naming --device cpu."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(sys, "argv", [
        "translation_multi30k.py", "report", "--runs", str(tmp_path), "--variants",
        "de-en-plain", "--device", "cuda", "--result-path", str(tmp_path / "result.json")])
    with pytest.raises(SystemExit) as stopped:
        translation_multi30k.main()
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "--device cuda" in error and "--device cpu" in error
    assert not (tmp_path / "result.json").exists()
