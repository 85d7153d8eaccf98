"""benchmarks/forecast_beijing.py's training helper, on the real Beijing data, tiny settings."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from helpers import SHARED_DATA

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from forecast_beijing import beijing_settings, train_model  # noqa: E402


@pytest.mark.skipif(not (SHARED_DATA / "beijing_pm25").is_dir(),
                    reason="needs the Beijing data in ../shared/data or $RNNKIT_DATA")
def test_a_run_stopped_by_max_steps_inside_its_first_epoch_is_scored(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``--set train.max_steps=3`` (fewer steps than an epoch) trained and scored the model,
    then failed with FileNotFoundError on metrics.jsonl, which the run folder only holds once
    an epoch has ended: the run now comes back with no per-epoch records."""
    monkeypatch.setenv("RNNKIT_DATA", str(SHARED_DATA))
    settings = beijing_settings(stride=200, epochs=1, threads=1, plain=True, overrides=[
        "data.lookback=24", "model.hidden_size=4", "train.batch_size=2", "train.max_steps=1"])
    model, results, history = train_model(settings, log=lambda line: None)
    assert history == []
    assert results["epochs"] == 0 and results["test"]["step_24"]["model"]["mae"] > 0
    assert model.predict_windows is not None


def test_the_sweep_refuses_cuda_without_a_gpu_before_any_run(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Its default --device cuda on a machine without a GPU started every run, printed each
    worker's traceback ('ValueError: train.device 'cuda': no CUDA GPU ...') and ended with 'no
    run finished; nothing to report'; it is now refused at once, naming --device cpu."""
    import forecast_beijing_sweep
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("RNNKIT_DATA", raising=False)  # restored after, whatever main sets
    monkeypatch.setattr(sys, "argv", ["forecast_beijing_sweep.py", "--configs", "gru64",
                                      "--seeds", "0", "--jobs", "1"])
    with pytest.raises(SystemExit) as stopped:
        forecast_beijing_sweep.main()
    assert stopped.value.code == 2
    assert "RNNKIT_DATA" not in os.environ  # refused before it points the data anywhere
    error = capsys.readouterr().err
    assert "--device cuda" in error and "--device cpu" in error and "Traceback" not in error
