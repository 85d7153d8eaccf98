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


def test_the_hourly_wind_undoes_the_files_cumulated_speed_and_restarts_with_the_direction(
) -> None:
    """``--wind``: the file's ``Iws`` sums the speed while the direction class holds (1.79,
    4.92, 6.71 is 1.79, 3.13, 1.79 an hour) and restarts when it changes."""
    import numpy as np
    import pandas as pd
    from forecast_beijing import hourly_wind

    frame = pd.DataFrame({"wind_speed": [1.79, 4.92, 6.71, 0.89, 1.78, 0.45],
                          "wind_NE": [0, 0, 0, 1, 1, 0], "wind_NW": [1, 1, 1, 0, 0, 0],
                          "wind_SE": [0.0] * 6, "wind_calm": [0, 0, 0, 0, 0, 1]},
                         dtype=float)
    wind = hourly_wind(frame)
    np.testing.assert_allclose(wind["wind_hourly"], [1.79, 3.13, 1.79, 0.89, 0.89, 0.45])
    root = np.sqrt(0.5)
    np.testing.assert_allclose(wind["wind_east"], [-1.79 * root, -3.13 * root, -1.79 * root,
                                                   0.89 * root, 0.89 * root, 0.0])
    np.testing.assert_allclose(wind["wind_north"], [1.79 * root, 3.13 * root, 1.79 * root,
                                                    0.89 * root, 0.89 * root, 0.0])


@pytest.mark.skipif(not (SHARED_DATA / "beijing_pm25").is_dir(),
                    reason="needs the Beijing data in ../shared/data or $RNNKIT_DATA")
def test_the_extra_columns_frame_keeps_the_source_and_adds_only_what_was_asked(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import pandas as pd
    from forecast_beijing import with_columns

    from rnnkit.timeseries.datasets import beijing_weather

    monkeypatch.setenv("RNNKIT_DATA", str(SHARED_DATA))
    weather = beijing_weather().drop(columns="pm25")
    for pm25, wind, added in [(True, False, ["pm25"]),
                              (False, True, ["wind_hourly", "wind_east", "wind_north"])]:
        settings = with_columns(tmp_path, pm25=pm25, wind=wind)
        assert settings[1:] == ["data.target=temperature", "data.train_end=2012",
                                "data.val_end=2013"]
        frame = pd.read_csv(settings[0].split("=", 1)[1], index_col="date", parse_dates=True)
        assert sorted(frame.columns) == sorted([*weather.columns, *added])
        pd.testing.assert_frame_equal(frame[weather.columns], weather, check_freq=False)
        assert frame.notna().all().all()
        if wind:  # the smallest step of the file's cumulated speed is 0.45 m/s
            assert frame["wind_hourly"].min() == pytest.approx(0.45)
