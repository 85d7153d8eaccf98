"""The recurrent forecaster: shapes, fitting, bundles, no leak into the scaler, CLI, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import rnnkit.cli
from rnnkit.config import ModelConfig, TrainConfig, load_config
from rnnkit.models.forecaster import Forecaster
from rnnkit.pipelines.forecaster import ForecastRunConfig, train_forecaster
from rnnkit.timeseries.windows import StandardScaler, make_windows
from rnnkit.training.bundle import load_bundle, save_bundle
from rnnkit.training.trainer import Trainer


def series_frame(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    return pd.DataFrame(
        {"y": np.sin(2 * np.pi * t / 24) * 5 + 10 + 0.1 * rng.standard_normal(rows),
         "x": np.cos(2 * np.pi * t / 24) + 0.1 * rng.standard_normal(rows)},
        index=pd.date_range("2020-01-01", periods=rows, freq="h", name="date"))


def model_for(frame: pd.DataFrame, loss: str = "mse", hidden: int = 16,
              highway: int = 0) -> Forecaster:
    scaler = StandardScaler(["y", "x"]).fit(frame[["y", "x"]].to_numpy())
    return Forecaster(ModelConfig(cell="gru", hidden_size=hidden), ["y", "x"], "y", 24, 6,
                      scaler, loss=loss, highway_steps=highway)


@pytest.mark.parametrize("loss", ["mse", "mae", "gaussian"])
def test_shapes(loss: str) -> None:
    model = model_for(series_frame(), loss)
    mean, log_variance = model(torch.zeros(5, 24, 2))
    assert mean.shape == (5, 6)
    assert (log_variance is None) == (loss != "gaussian")
    out = model.predict_windows(model.windows_of(series_frame(100)))
    assert out["mean"].shape == (100 - 24 - 6 + 1, 6)
    assert ("lower" in out) == (loss == "gaussian")


def test_overfits_a_tiny_series() -> None:
    frame = series_frame(200)
    model = model_for(frame, hidden=32)
    windows = make_windows(frame, "y", ["y", "x"], 24, 6)
    scaled = windows.scaled(model.scaler)
    batch = (torch.as_tensor(scaled.inputs[:64], dtype=torch.float32),
             torch.as_tensor(model.scale_targets(windows.targets[:64]), dtype=torch.float32))
    first = float(model.step(batch).loss.detach())
    Trainer(model, TrainConfig(epochs=150, lr=0.01, device="cpu", progress=False),
            log=lambda line: None).fit(_Fixed([batch]))
    assert float(model.step(batch).loss.detach()) < 0.05 * first


class _Fixed:
    def __init__(self, items: list) -> None:
        self.items = items

    def batches(self, epoch: int):  # noqa: ANN201
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@pytest.mark.parametrize(("loss", "highway"), [("mse", 0), ("gaussian", 0), ("mae", 12)])
def test_bundle_round_trip_gives_identical_forecasts(tmp_path: Path, loss: str,
                                                     highway: int) -> None:
    frame = series_frame()
    model = model_for(frame, loss, highway=highway).eval()
    path = save_bundle(model, tmp_path / "m.rnnkit")
    loaded = load_bundle(path, expected_kind="forecaster")
    assert isinstance(loaded, Forecaster)
    before, after = model.forecast(frame), loaded.forecast(frame)
    pd.testing.assert_frame_equal(before, after)
    assert len(after) == 6 and after.index[0] == frame.index[-1] + pd.Timedelta(hours=1)


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.reset_index().to_csv(path, index=False)
    return path


def settings(source: Path, **extra: str) -> list[str]:
    values = {"data.source": str(source), "data.target": "y", "data.lookback": "24",
              "data.horizon": "6", "data.calendar": "hour", "model.hidden_size": "8",
              "train.epochs": "2", "train.progress": "false", "train.device": "cpu",
              "train.threads": "1", "forecast.moving_average": "6", **extra}
    return [f"{key}={value}" for key, value in values.items()]


def test_scaler_is_fitted_on_training_rows_only(tmp_path: Path) -> None:
    frame = series_frame(400)
    changed = frame.copy()
    changed.iloc[300:, :] *= 50.0  # the validation and test periods (after 70% of the rows)
    scalers = []
    for name, data in (("a", frame), ("b", changed)):
        csv = write_csv(tmp_path / f"{name}.csv", data)
        config = load_config(ForecastRunConfig, None, settings(csv, **{"train.epochs": "1"}))
        train_forecaster(config, tmp_path / name, log=lambda line: None)
        model = load_bundle(tmp_path / name / "model.rnnkit")
        assert isinstance(model, Forecaster)
        scalers.append(model.scaler.to_json())
    assert scalers[0] == scalers[1]


def test_cli_trains_on_a_csv_and_writes_results(tmp_path: Path, monkeypatch, capsys) -> None:
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    args = ["train", "forecaster", "--out", str(tmp_path / "run")]
    for item in settings(csv, **{"forecast.loss": "gaussian"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    step = results["test"]["step_6"]
    for name in ("model", "persistence", "seasonal_naive_24", "moving_average_6", "ridge"):
        assert set(step[name]) >= {"mae", "rmse", "smape", "mase", "directional_accuracy",
                                   "mae_ratio_to_persistence"}
    assert 0.0 <= results["test"]["interval"]["coverage"] <= 1.0
    assert (tmp_path / "run" / "forecast.png").stat().st_size > 0
    capsys.readouterr()
    code = rnnkit.cli.main(["evaluate", "--model", str(tmp_path / "run" / "model.rnnkit")])
    assert code == 0
    assert "ridge" in json.loads(capsys.readouterr().out)["step_6"]


@pytest.mark.parametrize(("rows", "extra", "message"), [
    (400, {"data.target": "nope"}, "no target column 'nope'"),
    (20, {}, "too few"),
])
def test_bad_input_exits_2_with_a_clear_message(tmp_path: Path, monkeypatch, capsys, rows: int,
                                                extra: dict, message: str) -> None:
    csv = write_csv(tmp_path / "series.csv", series_frame(rows))
    args = ["train", "forecaster", "--out", str(tmp_path / "run")]
    for item in settings(csv, **extra):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 2
    assert message in capsys.readouterr().err
