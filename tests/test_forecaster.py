"""The recurrent forecaster: shapes, fitting, bundles, no leak into the scaler, CLI, bad input;
quantile intervals and the recursive (one step, rolled forward) strategy."""

from __future__ import annotations

import importlib.util
import json
import re
import warnings
from contextlib import nullcontext
from dataclasses import asdict, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import SHARED_DATA

import rnnkit.cli
from rnnkit.commands.common import check_source
from rnnkit.config import ConfigError, ModelConfig, TrainConfig, load_config
from rnnkit.models.forecaster import Forecaster
from rnnkit.models.quantiles import pinball_loss
from rnnkit.models.window_inputs import add_calendar
from rnnkit.pipelines.forecast import _rows_up_to
from rnnkit.pipelines.forecaster import ForecastRunConfig, train_forecaster
from rnnkit.pipelines.saved_source import prepare_for
from rnnkit.pipelines.source_config import ForecastDataConfig, split_ends
from rnnkit.pipelines.sources import prepare
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.windows import make_windows
from rnnkit.training.bundle import load_bundle, save_bundle
from rnnkit.training.trainer import Trainer


def series_frame(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    return pd.DataFrame(
        {"y": np.sin(2 * np.pi * t / 24) * 5 + 10 + 0.1 * rng.standard_normal(rows),
         "x": np.cos(2 * np.pi * t / 24) + 0.1 * rng.standard_normal(rows)},
        index=pd.date_range("2020-01-01", periods=rows, freq="h", name="date"))


def model_for(frame: pd.DataFrame, loss: str = "mse", hidden: int = 16, highway: int = 0,
              lookback: int = 24, calendar: tuple[str, ...] = (), **options: str) -> Forecaster:
    features = ["y", "x", *[f"{part}_{wave}" for part in calendar for wave in ("sin", "cos")]]
    scaler = StandardScaler(features).fit(add_calendar(frame, calendar)[features].to_numpy())
    return Forecaster(ModelConfig(cell="gru", hidden_size=hidden), features, "y", lookback, 6,
                      scaler, loss=loss, highway_steps=highway, calendar=calendar, **options)


@pytest.mark.parametrize("loss", ["mse", "mae", "gaussian", "quantile"])
def test_shapes(loss: str) -> None:
    model = model_for(series_frame(), loss)
    mean, spread = model(torch.zeros(5, 24, 2))
    assert mean.shape == (5, 6)
    assert spread is None if loss in ("mse", "mae") else spread.shape[:2] == (5, 6)
    out = model.predict_windows(model.windows_of(series_frame(100)))
    assert out["mean"].shape == (100 - 24 - 6 + 1, 6)
    assert ("lower" in out) == (loss in ("gaussian", "quantile"))
    assert ("quantiles" in out) == (loss == "quantile")


def test_quantiles_do_not_cross_and_the_median_is_the_mean() -> None:
    model = model_for(series_frame(), "quantile", quantiles="0.9,0.05,0.5,0.25,0.99")
    assert model.quantiles == [0.05, 0.25, 0.5, 0.9, 0.99]
    with torch.no_grad():
        for parameter in model.parameters():  # large weights: raw gaps of either sign
            parameter.normal_(0.0, 3.0)
        mean, spread = model(torch.randn(64, 24, 2) * 3)
    assert spread is not None and spread.shape == (64, 6, 5)
    assert (spread.diff(dim=-1) >= 0).all()  # softplus gaps: > 0, but may round to 0
    assert torch.equal(mean, spread[..., 2])
    out = model.predict_windows(model.windows_of(series_frame(100)))
    assert out["quantiles"].shape == (71, 6, 5)
    assert (np.diff(out["quantiles"], axis=-1) >= 0).all()
    np.testing.assert_array_equal(out["mean"], out["quantiles"][..., 2])
    np.testing.assert_array_equal(out["lower"], out["quantiles"][..., 0])
    np.testing.assert_array_equal(out["upper"], out["quantiles"][..., -1])
    assert model.interval_level(0.5) == pytest.approx(0.94)
    table = model.forecast(series_frame(100))
    assert list(table.columns) == ["step", "mean", "lower", "upper", "level"]
    assert (table["lower"] <= table["mean"]).all() and (table["mean"] <= table["upper"]).all()


def test_pinball_loss_equals_a_hand_computed_value() -> None:
    predicted = torch.tensor([[[1.0, 2.0, 4.0]], [[0.0, 3.0, 3.5]]])  # [B=2, H=1, Q=3]
    targets = torch.tensor([[3.0], [3.0]])
    levels = torch.tensor([0.1, 0.5, 0.9])
    # errors y - y_q: (2, 1, -1) and (3, 0, -0.5); loss max(q e, (q - 1) e) per quantile:
    # (0.2, 0.5, 0.1) and (0.3, 0, 0.05); mean of the six
    expected = (0.2 + 0.5 + 0.1 + 0.3 + 0.0 + 0.05) / 6
    assert float(pinball_loss(predicted, targets, levels)) == pytest.approx(expected)
    assert float(pinball_loss(targets[..., None], targets, levels[:1])) == 0.0


def test_quantile_model_covers_near_its_level() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(1200)
    frame = pd.DataFrame({"y": np.sin(2 * np.pi * t / 24) + rng.standard_normal(len(t)),
                          "x": np.cos(2 * np.pi * t / 24)},
                         index=pd.date_range("2020-01-01", periods=len(t), freq="h"))
    torch.manual_seed(0)
    model = model_for(frame, "quantile", hidden=8, lookback=12, quantiles="0.1,0.5,0.9")
    windows = model.windows_of(frame)
    train, test = windows.subset(slice(None, 900)), windows.subset(slice(900, None))
    batch = (torch.as_tensor(train.scaled(model.scaler).inputs, dtype=torch.float32),
             torch.as_tensor(model.training_targets(train), dtype=torch.float32))
    Trainer(model, TrainConfig(epochs=80, lr=0.02, device="cpu", progress=False),
            log=lambda line: None).fit(_Fixed([batch]))
    out = model.predict_windows(test)
    coverage = ((test.targets >= out["lower"]) & (test.targets <= out["upper"])).mean()
    assert model.interval_level() == pytest.approx(0.8)
    assert 0.7 <= coverage <= 0.9  # about 0.79 trained, about 0.4 untrained
    below_median = (test.targets < out["mean"]).mean()
    assert 0.35 <= below_median <= 0.65


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


def sine_frame(rows: int = 200) -> pd.DataFrame:
    t = np.arange(rows)
    return pd.DataFrame({"y": np.sin(2 * np.pi * t / 24) * 5 + 10,
                         "x": np.cos(2 * np.pi * t / 12)},
                        index=pd.date_range("2020-01-01", periods=rows, freq="h", name="date"))


@pytest.mark.parametrize("calendar", [(), ("hour",)])
def test_recursive_model_overfits_and_rolls_out_the_series(calendar: tuple[str, ...]) -> None:
    frame = sine_frame()
    torch.manual_seed(0)
    model = model_for(frame, hidden=32, lookback=12, calendar=calendar, strategy="recursive")
    assert model.dynamic == [0, 1]  # y and x; the calendar columns are computed
    windows = model.windows_of(frame)
    targets = model.training_targets(windows)  # [N, 2] the next row of y and x, scaled
    assert targets.shape == (len(windows), 2)
    np.testing.assert_allclose(model.scaler.inverse_transform(
        np.pad(targets, ((0, 0), (0, 2 * len(calendar)))))[:, 0], windows.targets[:, 0])
    batch = (torch.as_tensor(windows.scaled(model.scaler).inputs, dtype=torch.float32),
             torch.as_tensor(targets, dtype=torch.float32))
    Trainer(model, TrainConfig(epochs=150, lr=0.01, device="cpu", progress=False),
            log=lambda line: None).fit(_Fixed([batch]))
    out = model.predict_windows(windows)  # rolled forward 6 steps from every window
    assert out["mean"].shape == windows.targets.shape == (len(windows), 6)
    error = np.abs(out["mean"] - windows.targets)
    persistence = np.abs(windows.current[:, None] - windows.targets)
    assert error.max() < 0.1 and error[:, -1].mean() < 0.01 * persistence[:, -1].mean()
    table = model.forecast(frame.iloc[:100])  # the 6 rows after row 99: rows 100..105
    np.testing.assert_allclose(table["mean"], frame["y"].iloc[100:106], atol=0.1)


@pytest.mark.filterwarnings("ignore:.*outside the training scale")
def test_recursive_roll_out_is_causal() -> None:
    frame = add_calendar(sine_frame(), ["hour"])
    torch.manual_seed(0)
    model = model_for(frame, lookback=12, calendar=("hour",), strategy="recursive")
    windows = model.windows_of(frame)
    k, origin = 30, int(windows.origins[30])
    before = model.predict_windows(windows)["mean"][k]
    later = windows.values.copy()
    later[origin + 1:] = 100.0 * np.random.default_rng(0).standard_normal(later[origin + 1:].shape)
    after = model.predict_windows(replace(windows, values=later))["mean"][k]
    np.testing.assert_array_equal(before, after)  # calendar columns too: computed, not read
    now = windows.values.copy()
    now[origin, 0] += 5.0
    assert not np.allclose(before, model.predict_windows(replace(windows, values=now))["mean"][k])


def test_a_recursive_roll_out_computes_its_change_inputs_from_the_values_it_predicts() -> None:
    # the roll-out fed back the model's own prediction of y_change_1 and y_change_3 beside its
    # prediction of y, unrelated to it: on Seattle (temp_max, 5 epochs) the change_1 fed back
    # was 2.4 degC off the change of the temp_max fed back, more than a day's typical change
    frame = add_calendar(sine_frame(200), ["hour"])
    frame["y_change_1"] = frame["y"].diff()
    frame["y_change_3"] = frame["y"].diff(3)
    features = ["y", "x", "y_change_1", "y_change_3", "hour_sin", "hour_cos"]
    scaler = StandardScaler(features).fit(frame[features].to_numpy()[3:150])
    torch.manual_seed(0)
    model = Forecaster(ModelConfig(cell="gru", hidden_size=8), features, "y", 12, 5, scaler,
                       calendar=("hour",), strategy="recursive", highway_steps=2,
                       trained_on={"changes": "y", "change_lags": "1,3"}).double()
    windows = model.windows_of(frame.iloc[3:])
    mean = model.predict_windows(windows)["mean"]
    values = frame[features].iloc[3:].to_numpy()
    for k in (0, 40, len(windows) - 1):
        origin = int(windows.origins[k])
        rows = values[origin - 11:origin + 1].copy()  # [L, F] in the data's units
        for ahead in range(5):
            with torch.no_grad():
                scaled = torch.as_tensor(scaler.transform(rows)[None])
                predicted = model(scaled)[0][0].numpy() * scaler.scale[:4] + scaler.mean[:4]
            stamp = windows.target_times[k, ahead].astype("datetime64[h]").astype(int)
            hour = 2 * np.pi * (stamp % 24) / 24  # the hour of the step ahead
            y = predicted[0]
            row = [y, predicted[1], y - rows[-1, 0], y - rows[-3, 0], np.sin(hour), np.cos(hour)]
            rows = np.vstack([rows[1:], row])
            assert mean[k, ahead] == pytest.approx(y, abs=1e-9)
    # without the settings (another kind of bundle) its predictions of them are fed back
    model.trained_on = {}
    assert np.abs(model.predict_windows(windows)["mean"] - mean).max() > 1e-3


def test_recursive_targets_mask_a_missing_feature() -> None:
    frame = sine_frame()
    frame.iloc[50, 1] = np.nan  # x missing at row 50
    model = model_for(frame.fillna(0.0), lookback=12, strategy="recursive")
    windows = model.windows_of(frame)  # windows reading row 50 are dropped
    targets = model.training_targets(windows)
    missing = np.isnan(targets)
    assert missing.sum() == 1 and missing[list(windows.origins).index(49), 1]
    batch = (torch.as_tensor(windows.scaled(model.scaler).inputs, dtype=torch.float32),
             torch.as_tensor(targets, dtype=torch.float32))
    out = model.step(batch)
    assert torch.isfinite(out.loss) and np.isfinite(out.metrics["mae_last"])


class _Fixed:
    def __init__(self, items: list) -> None:
        self.items = items

    def batches(self, epoch: int):  # noqa: ANN201
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@pytest.mark.parametrize(("loss", "highway", "options"), [
    ("mse", 0, {}), ("gaussian", 0, {}), ("mae", 12, {}),
    ("quantile", 3, {"quantiles": "0.1,0.5,0.8"}),
    ("mse", 0, {"strategy": "recursive", "calendar": ("hour",)}),
    ("mae", 4, {"strategy": "recursive"}),
    ("mae", 0, {"attention": True, "input_noise": 0.1, "last_step_weight": 6.0}),
    ("quantile", 0, {"attention": True, "last_step_weight": 3.0}),
])
def test_bundle_round_trip_gives_identical_forecasts(tmp_path: Path, loss: str, highway: int,
                                                     options: dict) -> None:
    frame = series_frame()
    model = model_for(frame, loss, highway=highway, **options).eval()
    path = save_bundle(model, tmp_path / "m.rnnkit")
    loaded = load_bundle(path, expected_kind="forecaster")
    assert isinstance(loaded, Forecaster)
    before, after = model.forecast(frame), loaded.forecast(frame)
    pd.testing.assert_frame_equal(before, after)
    assert len(after) == 6 and after.index[0] == frame.index[-1] + pd.Timedelta(hours=1)
    assert loaded.bundle_config() == model.bundle_config()
    windows = model.windows_of(frame)
    for key, value in model.predict_windows(windows).items():
        np.testing.assert_array_equal(value, loaded.predict_windows(windows)[key])


def test_a_bundle_without_the_new_options_loads_as_direct() -> None:
    config = model_for(series_frame()).bundle_config()
    del config["quantiles"], config["strategy"], config["attention"], config["input_noise"]
    del config["last_step_weight"]
    loaded = Forecaster.from_bundle_config(config)
    assert loaded.strategy == "direct" and loaded.quantiles == []
    assert loaded.attention is None and loaded.input_noise == 0 and loaded.last_step_weight == 1


def test_last_step_weight_weighs_the_last_step_and_noise_is_for_training_only() -> None:
    torch.manual_seed(0)
    model = model_for(series_frame(), "mae", last_step_weight=5.0)
    inputs, targets = torch.randn(4, 24, 2), torch.zeros(4, 6)
    mean, _ = model(inputs)
    error = mean.detach().abs()  # the loss is the weighted mean, weights 1,1,1,1,1,5 over 10/6
    expected = (error[:, :5].sum(1) + 5 * error[:, 5]).mean() / 10
    loss = model.step((inputs, targets)).loss.detach()
    assert float(loss) == pytest.approx(float(expected), rel=1e-6)
    noisy = model_for(series_frame(), "mae", input_noise=0.5, attention=True)
    noisy.train()
    assert not torch.equal(noisy(inputs)[0], noisy(inputs)[0])  # fresh noise on each call
    noisy.eval()
    assert torch.equal(noisy(inputs)[0], noisy(inputs)[0])


@pytest.mark.parametrize(("options", "message"), [
    ({"loss": "quantile", "quantiles": "0.1,0.9"}, "must include 0.5"),
    ({"loss": "quantile", "quantiles": "0,0.5,0.9"}, "strictly between 0 and 1"),
    ({"loss": "quantile", "quantiles": "0.5,1.5"}, "strictly between 0 and 1"),
    ({"loss": "quantile", "quantiles": "0.1,median"}, "numbers separated by commas, e.g. 0.05,0.5"),
    ({"loss": "quantile", "quantiles": "0.5,0.5"}, "repeats a level"),
    ({"loss": "gaussian", "strategy": "recursive"}, "forecast.loss=gaussian is unsupported"),
    ({"loss": "quantile", "strategy": "recursive"}, "forecast.loss=quantile is unsupported"),
    ({"strategy": "sideways"}, "forecast.strategy must be one of direct, recursive"),
    ({"input_noise": -0.1}, "forecast.input_noise must be >= 0"),
    ({"input_noise": float("nan")}, "forecast.input_noise must be >= 0"),
    ({"last_step_weight": 0.0}, "forecast.last_step_weight > 0"),
    ({"strategy": "recursive", "last_step_weight": 2.0}, "applies to direct models"),
])
def test_bad_options_raise_clear_errors(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        model_for(series_frame(100), **options)


@pytest.mark.parametrize(("lookback", "horizon"), [
    (0, 6), (24, 0), (24, -2), (24, 2.5),
    (24, float("inf")), (float("nan"), 6), ("24", 6), (24, None)])  # OverflowError, ...
def test_lookback_and_horizon_below_one_are_refused(lookback: int, horizon: float) -> None:
    # the API took horizon 0 (a model of no outputs, an IndexError at its first forecast) and
    # ended a negative one in torch's "negative dimension" RuntimeError
    features = ["y", "x"]
    scaler = StandardScaler(features).fit(series_frame(50)[features].to_numpy())
    with pytest.raises(ValueError, match="lookback and horizon must be whole numbers >= 1"):
        Forecaster(ModelConfig(cell="gru", hidden_size=4), features, "y", lookback,
                   horizon, scaler)  # type: ignore[arg-type]


@pytest.mark.parametrize(("lookback", "horizon"), [(np.int64(24), np.int64(6)), (24.0, 6.0)])
def test_whole_lookback_and_horizon_of_other_types_are_taken(lookback: Any,
                                                             horizon: Any) -> None:
    # the check admits whole numbers of any type (NumPy integers, 6.0); a float horizon then
    # failed in nn.Linear ('must be tuple of ints') as the head's width
    features = ["y", "x"]
    scaler = StandardScaler(features).fit(series_frame(50)[features].to_numpy())
    model = Forecaster(ModelConfig(cell="gru", hidden_size=4), features, "y", lookback,
                       horizon, scaler, highway_steps=2)
    assert (model.lookback, model.horizon, model.outputs) == (24, 6, 6)
    assert type(model.horizon) is int and model.head.out_features == 6


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.reset_index().to_csv(path, index=False)
    return path


def settings(source: Path, **extra: str) -> list[str]:
    values = {"data.source": str(source), "data.target": "y", "data.lookback": "24",
              "data.horizon": "6", "data.calendar": "hour", "model.hidden_size": "8",
              "train.epochs": "2", "train.progress": "false", "train.device": "cpu",
              "train.threads": "1", "forecast.moving_average": "6", **extra}
    return [f"{key}={value}" for key, value in values.items()]


@pytest.mark.filterwarnings("ignore:.*outside the training scale")
def test_scaler_is_fitted_on_training_rows_only(tmp_path: Path) -> None:
    from rnnkit.pipelines.sources import prepare

    frame = series_frame(400)
    first = write_csv(tmp_path / "first.csv", frame)
    split = prepare(load_config(ForecastRunConfig, None, settings(first)).data).split
    changed = frame.copy()  # every row after the training period's last target, no later
    changed.loc[changed.index > split.train.target_times[-1, -1], :] *= 50.0
    scalers = []
    for name, data in (("a", frame), ("b", changed)):
        csv = write_csv(tmp_path / f"{name}.csv", data)
        config = load_config(ForecastRunConfig, None, settings(csv, **{"train.epochs": "1"}))
        train_forecaster(config, tmp_path / name, log=lambda line: None)
        model = load_bundle(tmp_path / name / "model.rnnkit")
        assert isinstance(model, Forecaster)
        scalers.append(model.scaler.to_json())
    assert scalers[0] == scalers[1]


@pytest.mark.filterwarnings("ignore:.*outside the training scale")
@pytest.mark.parametrize("options", [
    {"forecast.strategy": "recursive", "data.changes": "x", "data.change_lags": "1,3",
     "forecast.loss": "mae", "forecast.conformal": "true"},
    {"forecast.loss": "quantile", "forecast.quantiles": "0.1,0.5,0.9",
     "forecast.attention": "true", "forecast.conformal": "true", "data.log1p": "x"},
])
def test_test_forecasts_made_before_a_cut_ignore_every_later_row(tmp_path: Path,
                                                                 options: dict[str, str]) -> None:
    """Rewrite every value after a cut inside the test period and train again (same seed):
    the model, its conformal calibration and every test output and baseline (ridge's choice
    too) of a window whose origin is at or before the cut stay the same to the bit."""
    from rnnkit.pipelines.forecast_options import ForecastOptions
    from rnnkit.pipelines.forecast_scoring import score

    frame = series_frame(400)
    frame["x"] += 2.0  # above -1 for log1p
    cut = frame.index[370]
    changed = frame.copy()
    later = changed.index > cut
    changed.loc[later] = changed.loc[later] * 3.0 + 5.0
    runs = []
    for name, data in (("a", frame), ("b", changed)):
        csv = write_csv(tmp_path / f"{name}.csv", data)
        config = load_config(ForecastRunConfig, None, settings(csv, **options))
        train_forecaster(config, tmp_path / name, log=lambda line: None)
        model = load_bundle(tmp_path / name / "model.rnnkit")
        assert isinstance(model, Forecaster)
        split = prepare(config.data).split
        results, outputs = score(model, split, replace(ForecastOptions(), moving_average=6), 24)
        runs.append((model, split.test, results, outputs))
    (model, test, results, outputs), (again, _, results_again, outputs_again) = runs
    assert model.conformal is not None and model.conformal == again.conformal
    for mine, theirs in zip(model.state_dict().values(), again.state_dict().values(),
                            strict=True):
        assert torch.equal(mine, theirs)
    assert results["ridge_choice"] == results_again["ridge_choice"]
    made = test.input_end <= np.datetime64(cut)
    assert 10 < made.sum() < len(test)
    assert {"mean", "lower", "upper", "baseline_ridge",
            "baseline_seasonal_naive_24"} <= set(outputs)
    for name, values in outputs.items():
        np.testing.assert_array_equal(values[made], outputs_again[name][made], err_msg=name)
    assert not np.array_equal(outputs["mean"][~made], outputs_again["mean"][~made])


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
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["step_6"] == results["test"]["step_6"]  # scored as in training
    assert evaluated["interval"] == results["test"]["interval"]


def test_evaluate_plots_as_many_windows_as_training_did(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """rnnkit evaluate --out drew the last 504 test windows whatever forecast.plot_points the
    model was trained with."""
    import rnnkit.viz.timeseries

    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    args = ["train", "forecaster", "--out", str(tmp_path / "run")]
    for item in settings(csv, **{"forecast.plot_points": "7", "train.epochs": "1"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    shown: list[int] = []
    monkeypatch.setattr(rnnkit.viz.timeseries, "plot_forecast",
                        lambda actual, forecasts, path, **options: shown.append(len(actual)))
    assert rnnkit.cli.main(["evaluate", "--model", str(tmp_path / "run" / "model.rnnkit"),
                            "--out", str(tmp_path / "evaluated")]) == 0
    assert shown == [7]


@pytest.mark.parametrize("extra", [
    {"forecast.strategy": "recursive", "forecast.loss": "mae"},
    {"forecast.loss": "quantile", "forecast.quantiles": "0.1,0.5,0.9"},
])
def test_cli_trains_recursive_and_quantile_models(tmp_path: Path, extra: dict) -> None:
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    args = ["train", "forecaster", "--out", str(tmp_path / "run")]
    for item in settings(csv, **extra):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    model = results["test"]["step_6"]["model"]
    assert np.isfinite(model["mae"]) and model["mae_ratio_to_persistence"] < 2.0
    loaded = load_bundle(tmp_path / "run" / "model.rnnkit")
    assert isinstance(loaded, Forecaster)
    assert loaded.strategy == extra.get("forecast.strategy", "direct")
    if loaded.loss_name == "quantile":  # the level is 0.9 - 0.1, not forecast.interval
        assert results["test"]["interval"]["level"] == pytest.approx(0.8)
        assert 0.0 <= results["test"]["interval"]["coverage"] <= 1.0
    else:
        assert "interval" not in results["test"]


@pytest.mark.parametrize(("rows", "extra", "message"), [
    (400, {"data.target": "nope"}, "no target column 'nope'"),
    # named a train_end the user never set as if set: "(2020-01-12 15:00:00); ... move
    # data.train_end earlier"
    (400, {"data.val_end": "2020-01-05"}, "data.val_end (2020-01-05) is before data.train_end "
                                          "(2020-01-12 15:00:00, by default the row at 70%)"),
    # was "has no target column ''": a file has no default target
    (400, {"data.target": ""}, "data.target is not set, and a file has no default target; "
                               "its columns: y, x. Set data.target"),
    (20, {}, "too few"),
    (400, {"data.log1p": "y"}, "data.log1p lists the target 'y'"),
    (400, {"data.changes": "z"}, "no column 'z' to derive from"),
    (400, {"data.changes": "x", "data.change_lags": "1,day"}, "data.change_lags must be whole"),
    (400, {"data.changes": "x", "data.change_lags": ""}, "data.change_lags must be whole"),
    (400, {"data.changes": "x", "data.change_lags": "0"}, "lags must be whole numbers of at"),
    (400, {"forecast.ridge_alphas": "1,x"}, "forecast.ridge_alphas must be numbers separated"),
    (400, {"forecast.ridge_alphas": "-1"}, "ridge_alphas must be numbers of at least 0"),
    # NaN passed the minimum, was trained, then chosen as the ridge's alpha: NaN predictions
    # and "predicted holds 330 NaN" after training
    (400, {"forecast.ridge_alphas": "nan"}, "forecast.ridge_alphas must be finite numbers"),
    (400, {"forecast.ridge_alphas": "nan,1"}, "forecast.ridge_alphas must be finite numbers"),
    (400, {"forecast.ridge_steps": "24.5"}, "forecast.ridge_steps must be whole numbers"),
    (400, {"forecast.moving_average": "0"}, "forecast.moving_average must be at least 1"),
    (400, {"forecast.seasonal_period": "-1"}, "forecast.seasonal_period must be at least 0"),
    # forecast.png was drawn empty
    (400, {"forecast.plot_points": "0"}, "forecast.plot_points must be at least 1"),
    (400, {"forecast.plot_points": "-1"}, "forecast.plot_points must be at least 1"),
    (400, {"data.stride": "0"}, "data.stride must be at least 1"),
    (400, {"forecast.loss": "gaussian", "forecast.interval": "90"},
     "forecast.interval must be between 0 and 1"),
])
def test_bad_input_exits_2_with_a_clear_message(tmp_path: Path, monkeypatch, capsys, rows: int,
                                                extra: dict, message: str) -> None:
    csv = write_csv(tmp_path / "series.csv", series_frame(rows))
    args = ["train", "forecaster", "--out", str(tmp_path / "run")]
    for item in settings(csv, **extra):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run" / "model.rnnkit").exists()  # refused before training


def test_a_return_target_is_scored_by_its_own_sign_and_no_baseline_is_misnamed(
        tmp_path: Path) -> None:
    frame = series_frame(400).assign(y_return=lambda f: 0.01 + 0.001 * f["x"].abs())
    csv = write_csv(tmp_path / "series.csv", frame[["y_return", "x"]])
    extra = {"data.target": "y_return", "data.lookback": "12", "train.epochs": "1",
             "forecast.moving_average": "48"}
    config = load_config(ForecastRunConfig, None, settings(csv, **extra))
    results = train_forecaster(config, tmp_path / "run", log=lambda line: None)["test"]
    # every return is positive and so is the last one: persistence gets every direction
    assert results["step_6"]["persistence"]["directional_accuracy"] == 1.0
    assert set(results["step_6"]) == {"model", "persistence", "moving_average_12", "ridge"}
    assert results["notes"] == ["no seasonal_naive_24: its season (24 rows) is longer than the "
                                "lookback (12)"]


def test_derived_inputs_are_trained_on_and_rebuilt_for_a_forecast(tmp_path: Path,
                                                                   capsys) -> None:
    frame = series_frame(400).assign(x=lambda f: f["x"].abs())
    csv = write_csv(tmp_path / "series.csv", frame)
    extra = {"data.log1p": "x", "data.changes": "y", "data.change_lags": "1,3",
             "forecast.attention": "true"}
    config = load_config(ForecastRunConfig, None, settings(csv, **extra))
    results = train_forecaster(config, tmp_path / "run", log=lambda line: None)
    assert results["features"] == ["y", "x_log1p", "y_change_1", "y_change_3", "hour_sin",
                                   "hour_cos"]
    code = rnnkit.cli.main(["forecast", "--model", str(tmp_path / "run" / "model.rnnkit"),
                            "--output", str(tmp_path / "f.csv")])
    written = pd.read_csv(tmp_path / "f.csv")
    assert code == 0 and len(written) == 6
    assert written.columns.tolist() == ["date", "step", "mean"]  # the index has a header
    code = rnnkit.cli.main(["forecast", "--model", str(tmp_path / "run" / "model.rnnkit"),
                            "--as-of", "2020-01-01"])  # 24 rows: the 3 before them are missing
    assert code == 2  # said "24 rows are too few ... give at least 27", naming no date
    assert "--as-of 2020-01-01: 24 rows at or before it, and the model reads the last 24 " \
        "and its 3-row changes (data.changes) need 3 rows before those; give 2020-01-02 or " \
        "later" in capsys.readouterr().err
    # the date it names is enough (its first suggestion, 2020-01-01, was the refused one)
    code = rnnkit.cli.main(["forecast", "--model", str(tmp_path / "run" / "model.rnnkit"),
                            "--as-of", "2020-01-02"])
    assert code == 0
    assert len(_rows_up_to(frame, "2020-01-01", 21, lag=3)) == 24  # just enough: 21 + 3
    with pytest.raises(ValueError, match="--as-of 2020-01-01: 24 rows at or before it, "
                       "and the model reads the last 22 and its 3-row changes [(]data.changes"
                       "[)] need 3 rows before those; give 2020-01-02 or later"):
        _rows_up_to(frame, "2020-01-01", 22, lag=3)


def test_each_split_end_falls_back_to_its_own_default() -> None:
    index = pd.date_range("2010-01-01", "2014-12-31 23:00", freq="h")
    ends = {(train, val): split_ends(ForecastDataConfig(source=source, train_end=train,
                                                        val_end=val), index)
            for source in ("beijing",) for train, val in (("", ""), ("2011", ""), ("", "2013-06"))}
    assert ends == {("", ""): ("2012", "2013"), ("2011", ""): ("2011", "2013"),
                    ("", "2013-06"): ("2012", "2013-06")}
    files = [split_ends(ForecastDataConfig(source="my.csv", **ends), index) for ends in (
        {}, {"train_end": "2011"})]  # a file: 70% / 85%; or half of the rows after train_end
    assert files == [("2013-07-02 04:00:00", "2014-04-02 01:00:00"),
                     ("2011", "2013-07-01 23:00:00")]
    assert split_ends(ForecastDataConfig(train_end="2013"), index) == (  # after beijing's 2013
        "2013", "2014-07-02 11:00:00")


@pytest.mark.parametrize(("ends", "message"), [
    ({"train_end": "2020-13-01"}, "data.train_end must be a date such as 2009-12-31"),
    ({"val_end": "garbage"}, "data.val_end must be a date such as 2009-12-31"),
    ({"train_end": "2013", "val_end": "2012"}, "data.val_end (2012) is before data.train_end"),
])
def test_bad_split_ends_name_their_keys(ends: dict, message: str) -> None:
    index = pd.date_range("2010-01-01", "2014-12-31 23:00", freq="h")
    with pytest.raises(ValueError, match=re.escape(message)):
        split_ends(ForecastDataConfig(source="my.csv", **ends), index)


def test_a_validation_end_before_the_training_end_is_a_clear_error(tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    config = load_config(ForecastRunConfig, None, settings(csv, **{
        "data.train_end": "2020-01-12", "data.val_end": "2020-01-10"}))
    with pytest.raises(ValueError, match=re.escape("data.val_end (2020-01-10) is before "
                                                   "data.train_end (2020-01-12)")):
        train_forecaster(config, tmp_path / "run", log=lambda line: None)
    late = load_config(ForecastRunConfig, None, settings(csv, **{"data.train_end": "2030"}))
    with pytest.raises(ValueError, match=re.escape(  # was: 'data.val_end (2020-01-17 15:00:00)
            "data.train_end (2030) is at or after the data's last row (2020-01-17 15:00:00)")):
        train_forecaster(late, tmp_path / "run", log=lambda line: None)  # is before ...'


def test_evaluate_names_a_bad_data_flag(tmp_path: Path, capsys) -> None:
    save_bundle(model_for(series_frame(100), hidden=4), tmp_path / "model.rnnkit")
    for data in ("seatle", str(tmp_path / "missing.csv")):
        assert rnnkit.cli.main(["evaluate", "--model", str(tmp_path / "model.rnnkit"),
                                "--data", data]) == 2
        assert f"--data {data!r} is neither a source" in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "message"), [
    (["--split", "dev"], "--split does not apply; leave it out"),  # was: '--split do not apply'
    (["--format", "csv"], "--format does not apply; leave it out"),
    (["--length", "5"], "--length does not apply; leave it out"),
    (["--split", "dev", "--format", "csv"], "--format, --split do not apply; leave them out"),
])
def test_evaluate_refuses_flags_a_forecaster_does_not_read(tmp_path: Path, capsys,
                                                           flags: list[str], message: str) -> None:
    """--split dev printed the test period's scores as the dev split's."""
    save_bundle(model_for(series_frame(100), hidden=4), tmp_path / "model.rnnkit")
    assert rnnkit.cli.main(["evaluate", "--model", str(tmp_path / "model.rnnkit"), *flags]) == 2
    assert message in capsys.readouterr().err


def test_forecast_names_a_bad_output_other_data_and_as_of(tmp_path: Path, capsys) -> None:
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    config = load_config(ForecastRunConfig, None, settings(csv, **{"train.epochs": "1"}))
    train_forecaster(config, tmp_path / "run", log=lambda line: None)
    model = str(tmp_path / "run" / "model.rnnkit")
    sheet = tmp_path / "f.xlsx"  # was written as CSV under that name
    assert rnnkit.cli.main(["forecast", "--model", model, "--output", str(sheet)]) == 2
    assert "end the name in .csv or .json (got .xlsx)" in capsys.readouterr().err
    assert not sheet.exists()
    if importlib.util.find_spec("zstandard") is None:  # was pandas' ImportError traceback
        squeezed = tmp_path / "f.csv.zst"
        assert rnnkit.cli.main(["forecast", "--model", model, "--output", str(squeezed)]) == 2
        assert "writing .zst needs the zstandard package, which is not installed; pip " \
            "install zstandard, or end the name in .gz" in capsys.readouterr().err
    other = write_csv(tmp_path / "other.csv", series_frame(400).rename(columns={"y": "z"}))
    assert rnnkit.cli.main(["forecast", "--model", model, "--data", str(other)]) == 2
    err = capsys.readouterr().err  # was "Pass target=<one of them>" ("Set data.target" for a stock)
    assert f"the data {other} has no column 'y', the target the model forecasts" in err
    assert "columns: z, x. Give --data with that column" in err
    assert rnnkit.cli.main(["forecast", "--model", model, "--as-of", "1990-01-01"]) == 2
    assert "--as-of 1990-01-01: no rows at or before it; the data starts on 2020-01-01" in \
        capsys.readouterr().err
    own = tmp_path / "series.csv"  # the model's own data, read without --data: was overwritten
    assert rnnkit.cli.main(["forecast", "--model", model, "--output", str(own)]) == 2
    assert f"--output {own} is the model's training data file" in capsys.readouterr().err
    assert len(pd.read_csv(own)) == 400
    for command in ("forecast", "evaluate"):  # the flag was ignored without --data
        assert rnnkit.cli.main([command, "--model", model, "--date-column", "day"]) == 2
        assert "--date-column day names the date column of a --data file; give --data too" in \
            capsys.readouterr().err
        # and with a registry series, which has its own dates: was ignored in silence
        assert rnnkit.cli.main([command, "--model", model, "--data", "seattle",
                                "--date-column", "day"]) == 2
        assert "seattle is a registry series, read with its own dates; leave --date-column" \
            " out" in capsys.readouterr().err


def test_data_features_a_file_lacks_are_named_by_their_setting_or_as_the_model_s(
        tmp_path: Path, capsys) -> None:
    # training said "no column 'z' in the frame; its columns: ...", naming no setting;
    # evaluate and backtest of a model of data.features=x on a file without x said "no column
    # 'x' in the frame", and forecast "the frame lacks the model's feature(s) ['x']"
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    assert rnnkit.cli.main(["train", "forecaster", "--out", str(tmp_path / "bad"), *[
        part for pair in settings(csv, **{"data.features": "x,z"}) for part in ("--set", pair)
    ]]) == 2
    assert capsys.readouterr().err == (
        f"rnnkit: error: data.features names 'z', which {csv} lacks; its columns: y, x, "
        "hour_sin, hour_cos. Name columns it has\n")
    config = load_config(ForecastRunConfig, None, settings(csv, **{
        "data.features": "x", "train.epochs": "1"}))
    train_forecaster(config, tmp_path / "run", log=lambda line: None)
    model = str(tmp_path / "run" / "model.rnnkit")
    only_y = write_csv(tmp_path / "only_y.csv", series_frame(400)[["y"]])
    for verb in (["evaluate"], ["backtest", "--threshold", "0"], ["forecast"]):
        assert rnnkit.cli.main([*verb, "--model", model, "--data", str(only_y)]) == 2
        error = capsys.readouterr().err
        assert f"rnnkit: error: the data {only_y} lacks input columns the model" in error
        assert "reads: x" in error and "Give --data with the model's columns" in error


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_a_forecast_interrupted_while_written_keeps_the_old_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, suffix: str) -> None:
    """The forecast was written in place: a Ctrl-C mid-write left a truncated file."""
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    config = load_config(ForecastRunConfig, None, settings(csv, **{"train.epochs": "1"}))
    train_forecaster(config, tmp_path / "run", log=lambda line: None)
    output = tmp_path / "out" / f"forecast{suffix}"
    args = ["forecast", "--model", str(tmp_path / "run" / "model.rnnkit"), "--output",
            str(output)]
    assert rnnkit.cli.main(args) == 0
    before = output.read_bytes()

    def half(self: pd.DataFrame, target: Any, *args: Any, **kwargs: Any) -> None:
        with open(target, "wb") if isinstance(target, str | Path) else nullcontext(target) as f:
            f.write(before[: len(before) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_json" if suffix == ".json" else "to_csv", half)
    assert rnnkit.cli.main(args) == 130
    assert "rnnkit: interrupted" in capsys.readouterr().err
    assert output.read_bytes() == before
    assert [path.name for path in output.parent.iterdir()] == [output.name]  # nothing left


def test_as_of_keeps_rows_to_the_end_of_a_day_month_or_year() -> None:
    frame = series_frame(400)  # hourly from 2020-01-01 00:00 to 2020-01-17 15:00
    assert [len(_rows_up_to(frame, as_of, 24)) for as_of in ("2020-01-05", "2020-01", "2020")
            ] == [5 * 24, 400, 400]
    # too few rows for the model's window: said '24 rows are too few', naming no flag
    with pytest.raises(ValueError, match="--as-of 2020-01-01: 24 rows at or before it, "
                       "and the model reads the last 48; give 2020-01-02 or later"):
        _rows_up_to(frame, "2020-01-01", 48)


def test_an_as_of_after_the_data_s_last_row_is_refused_not_read_as_the_last_row() -> None:
    # a forecast --as-of 2020-05-05 of data ending 2020-01-17 15:00 forecast 2020-01-17 16:00
    # onwards, dated before the as-of, without a word
    frame = series_frame(400)  # hourly from 2020-01-01 00:00 to 2020-01-17 15:00
    for as_of in ("2020-05-05", "2020-01-18", "2021", "2020-01-17 16:00"):
        with pytest.raises(ValueError, match=f"--as-of {as_of}: the data's last row is "
                           "2020-01-17 15:00:00, and the row after it, 2020-01-17 16:00:00, "
                           "is missing; give 2020-01-17 or earlier [(]a forecast starts "
                           "after the last row, not after the date asked for[)], or leave "
                           "--as-of out"):
            _rows_up_to(frame, as_of, 24)
    # a period the data ends in keeps its rows, as before
    assert len(_rows_up_to(frame, "2020-01-17", 24)) == len(_rows_up_to(frame, "2020", 24)) == 400
    days = pd.DataFrame({"y": np.arange(10.0)},  # trading days to Friday 2020-01-10
                        index=pd.bdate_range("2019-12-30", periods=10, name="date"))
    assert len(_rows_up_to(days, "2020-01-12", 5)) == 10  # the weekend after: no row missing
    with pytest.raises(ValueError, match="the row after it, 2020-01-13 00:00:00, is missing"):
        _rows_up_to(days, "2020-01-13", 5)
    uneven = days.iloc[[0, 1, 3, 4, 7, 8, 9]].set_axis(  # no grid: the next row unknown
        pd.DatetimeIndex(["2020-01-01", "2020-01-02", "2020-01-05", "2020-01-09",
                          "2020-01-10", "2020-01-20", "2020-01-21"], name="date"))
    assert len(_rows_up_to(uneven, "2020-01-21", 5)) == 7
    with pytest.raises(ValueError, match="--as-of 2020-01-22: the data's last row is "
                       "2020-01-21 00:00:00; give 2020-01-21 or earlier"):
        _rows_up_to(uneven, "2020-01-22", 5)


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".csv.zip", ".json"])
def test_a_forecast_of_uneven_rows_is_written_without_a_blank_index(
        tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]) -> None:
    days = pd.date_range("2020-01-01", periods=600, name="date")
    frame = series_frame(400).set_axis(days[days.day % 3 != 0][:400])  # no grid: no dates
    csv = write_csv(tmp_path / "days.csv", frame)  # for the steps ahead
    config = load_config(ForecastRunConfig, None, settings(csv, **{
        "data.calendar": "", "train.epochs": "1"}))
    with pytest.warns(UserWarning, match="of its 'D' grid have no row"):  # rows as given
        train_forecaster(config, tmp_path / "run", log=lambda line: None)
    output = tmp_path / f"f{suffix}"
    capsys.readouterr()
    assert rnnkit.cli.main(["forecast", "--model", str(tmp_path / "run" / "model.rnnkit"),
                            "--output", str(output)]) == 0
    err = capsys.readouterr().err  # the CLI's warnings: one line each, as its errors
    assert "rnnkit: warning: " in err and "of its 'D' grid have no row" in err
    assert "warnings.warn(" not in err  # Python's source line under the warning: gone
    if suffix.startswith(".csv"):
        written = pd.read_csv(output)  # .gz: compressed, as pandas infers from the name
        assert written.columns.tolist() == ["step", "mean"] and len(written) == 6
    else:
        rows = json.loads(output.read_text())["data"]
        assert len(rows) == 6 and set(rows[0]) == {"step", "mean"}


def test_a_parquet_folder_is_a_source(tmp_path: Path) -> None:
    folder = tmp_path / "series.parquet"  # a partitioned dataset is a folder
    folder.mkdir()
    check_source(str(folder), "--data")
    with pytest.raises(ValueError, match="neither a source"):
        check_source(str(tmp_path / "missing.parquet"), "--data")


def test_data_without_the_model_columns_is_named_column_by_column(tmp_path: Path,
                                                                  capsys) -> None:
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    config = load_config(ForecastRunConfig, None, settings(csv, **{"train.epochs": "1"}))
    train_forecaster(config, tmp_path / "run", log=lambda line: None)
    other = write_csv(tmp_path / "other.csv", series_frame(400).rename(columns={"x": "z"}))
    assert rnnkit.cli.main(["evaluate", "--model", str(tmp_path / "run" / "model.rnnkit"),
                            "--data", str(other)]) == 2
    assert f"the data {other} lacks input columns the model (trained on {csv}) reads: x; it " \
        "has z instead. Give --data" in capsys.readouterr().err
    extra = write_csv(tmp_path / "extra.csv", series_frame(400).assign(z=1.0))
    assert rnnkit.cli.main(["evaluate", "--model", str(tmp_path / "run" / "model.rnnkit"),
                            "--data", str(extra)]) == 2
    assert f"the data {extra} has columns the model (trained on {csv}) does not read: z; it " \
        "reads " in capsys.readouterr().err  # was 'lacks input columns ... reads: ; it has z'


def test_a_file_with_the_model_columns_in_another_order_is_read_by_name(tmp_path: Path) -> None:
    # rnnkit forecast read such a file; evaluate and backtest refused it: 'has the model's
    # input columns in another order (x, y, ...; the model reads y, x, ...)'
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    config = load_config(ForecastRunConfig, None, settings(csv, **{"train.epochs": "1"}))
    trained = train_forecaster(config, tmp_path / "run", log=lambda line: None)
    model = load_bundle(tmp_path / "run" / "model.rnnkit")
    swapped = write_csv(tmp_path / "swapped.csv", series_frame(400)[["x", "y"]])
    prepared = prepare_for(model, str(swapped))
    assert prepared.features == list(model.feature_names) == ["y", "x", "hour_sin", "hour_cos"]
    own = prepare_for(model, str(csv))
    assert np.array_equal(prepared.split.test.inputs, own.split.test.inputs)
    from rnnkit.pipelines.forecaster import evaluate_forecaster
    assert evaluate_forecaster(tmp_path / "run" / "model.rnnkit", str(swapped)) == trained["test"]


def test_a_file_s_date_column_and_missing_columns(tmp_path: Path, capsys) -> None:
    frame = series_frame(400).rename_axis("day")
    csv = write_csv(tmp_path / "days.csv", frame)
    config = load_config(ForecastRunConfig, None, settings(csv, **{
        "data.date_column": "day", "train.epochs": "1"}))
    train_forecaster(config, tmp_path / "run", log=lambda line: None)
    model = str(tmp_path / "run" / "model.rnnkit")
    assert rnnkit.cli.main(["forecast", "--model", model, "--data", str(csv)]) == 0  # its column
    other = write_csv(tmp_path / "when.csv", frame.rename_axis("when"))  # another file's name
    for verb in (["evaluate"], ["backtest", "--threshold", "0"]):
        assert rnnkit.cli.main([*verb, "--model", model, "--data", str(other)]) == 2
        assert "no date column 'day'" in capsys.readouterr().err
        assert rnnkit.cli.main([*verb, "--model", model, "--data", str(other),
                                "--date-column", "when"]) == 0
    someday = frame.reset_index().astype({"day": str})
    someday.loc[5, "day"] = "someday"
    someday.to_csv(tmp_path / "someday.csv", index=False)
    assert rnnkit.cli.main(["forecast", "--model", model, "--data",
                            str(tmp_path / "someday.csv")]) == 2
    error = capsys.readouterr().err  # ended 'set data.date_format ..., or pass date_format'
    assert "holds 'someday' at line 7, not a date; fix or drop that row, or write dates such as " \
        "2020-01-31, or give their format (e.g. %d/%m/%Y) as data.date_format when training, " \
        "date_format= in tidy and load_table; forecast, evaluate and backtest read a --data " \
        "file with the model's data.date_format" in error
    (tmp_path / "folder").mkdir()  # said "has no date column 'day'; its columns: (none)"
    assert rnnkit.cli.main(["forecast", "--model", model, "--data", str(tmp_path / "folder")]) == 2
    assert f"{tmp_path / 'folder'} is a folder that holds no data files; give a CSV/Parquet " \
        "file" in capsys.readouterr().err
    args = ["train", "forecaster", "--out", str(tmp_path / "bad"), "--set",
            f"data.source={json.dumps(str(tmp_path / 'folder'))}"]
    assert rnnkit.cli.main(args) == 2
    assert f"{tmp_path / 'folder'} is a folder that holds no data files" in \
        capsys.readouterr().err
    empty = write_csv(tmp_path / "notes.csv", series_frame(400).assign(notes=np.nan))
    args = ["train", "forecaster", "--out", str(tmp_path / "bad")]
    for item in settings(empty):
        args += ["--set", item]
    capsys.readouterr()
    assert rnnkit.cli.main(args) == 2
    assert "free of missing values; missing in 'notes' (400 rows). Leave such columns out" in \
        capsys.readouterr().err


@pytest.mark.parametrize(("extra", "message"), [
    ({"forecast.quantiles": "0.1,0.5,0.9"},
     "forecast.quantiles is read only with forecast.loss=quantile"),
    ({"forecast.loss": "quantile", "forecast.interval": "0.5"},
     "forecast.interval is read only with forecast.loss=gaussian or forecast.conformal=true"
     " (this run's loss is quantile; a quantile model's interval is its outer quantiles"),
    ({"forecast.interval": "0.5"}, "forecast.interval is read only with forecast.loss=gaussian"),
    ({"data.change_lags": "1,7"}, "data.change_lags is read only with data.changes"),  # was ignored
])
def test_interval_settings_another_loss_ignores_are_refused(tmp_path: Path, capsys,
                                                            extra: dict, message: str) -> None:
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    args = ["train", "forecaster", "--out", str(tmp_path / "run")]
    for item in settings(csv, **extra):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 2
    assert message in capsys.readouterr().err


def test_a_constant_target_is_refused_before_training(tmp_path: Path, capsys) -> None:
    csv = write_csv(tmp_path / "flat.csv", series_frame(400).assign(y=5.0))
    args = ["train", "forecaster", "--out", str(tmp_path / "run")]
    for item in settings(csv):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 2
    assert "holds one value (5) over the whole training period" in capsys.readouterr().err
    assert not (tmp_path / "run" / "last.pt").exists()


@pytest.mark.parametrize(("dates", "period"), [
    (pd.bdate_range("2020-01-01", periods=60), 5),  # trading days: a week is 5 rows, not 7
    (pd.date_range("2020-01-01", periods=60, freq="D"), 7),
    (pd.date_range("2020-01-01", periods=60, freq="h"), 24),
    (pd.date_range("2020-01-01", periods=60, freq="30min"), 48),
    (pd.date_range("2020-01-06", periods=60, freq="W-MON"), 52),
    (pd.date_range("2015-01-31", periods=60, freq="ME"), 12),
    (pd.date_range("2015-01-01", periods=60, freq="7h"), 3),
    (pd.date_range("2015-01-01", periods=60, freq="BME"), 12),  # month ends on trading days
    (pd.date_range("2015-01-01", periods=60, freq="28D"), 1),  # a fixed step: no known season
])
def test_the_seasonal_period_follows_the_series_grid(dates: pd.DatetimeIndex,
                                                     period: int) -> None:
    from rnnkit.pipelines.series_grid import seasonal_period

    frame = pd.DataFrame({"y": np.arange(len(dates), dtype=float)}, index=dates)
    assert seasonal_period(ForecastDataConfig(source="file.csv"), frame) == period
    assert seasonal_period(ForecastDataConfig(source="beijing"), frame) == 24  # the source's


def test_registry_series_names_are_read_in_any_case_as_stock_symbols_are() -> None:
    from rnnkit.pipelines.series_grid import seasonal_period
    from rnnkit.pipelines.sources import is_file, read_source, same_source, with_source

    index = pd.date_range("2010-01-01", "2014-12-31 23:00", freq="h")
    frame = pd.DataFrame(index=index)
    for name in ("Beijing", "BEIJING"):  # was "unknown data.source 'Beijing': use beijing, ..."
        assert split_ends(ForecastDataConfig(source=name), index) == ("2012", "2013")
        assert seasonal_period(ForecastDataConfig(source=name), frame) == 24
        assert not is_file(name) and same_source(name, "beijing")
        check_source(name, "--data")
    file_settings = ForecastDataConfig(source="meters.csv", frequency="infer", max_fill=2)
    assert with_source(file_settings, "Seattle").max_fill == 0  # a registry series, no file
    assert not same_source("Seattle", "beijing") and same_source("aapl", "AAPL")
    seattle, target = read_source(ForecastDataConfig(source="Seattle"))
    assert target == "temp_max"
    pd.testing.assert_frame_equal(seattle, read_source(ForecastDataConfig(source="seattle"))[0])
    assert len(prepare(ForecastDataConfig(source="SEATTLE", lookback=14, horizon=3)).split.test)


def test_forecast_gives_the_interval_the_model_was_scored_with() -> None:
    frame = series_frame(200)
    model = model_for(frame, "gaussian", scoring={"interval": 0.5})
    table = model.forecast(frame)
    window = model.windows_of(frame).subset(np.array([len(frame) - 24 - 6]))  # a known one
    assert set(table.columns) == {"step", "mean", "lower", "upper", "level"}
    assert (table["level"] == 0.5).all()
    wide = model.forecast(frame, interval=0.9)
    assert ((wide["upper"] - wide["lower"]) > (table["upper"] - table["lower"])).all()
    assert model.predict_windows(window, interval=0.5)["mean"].shape == (1, 6)
    quantile = model_for(frame, "quantile", quantiles=(0.1, 0.5, 0.9))
    assert quantile.forecast(frame)["level"].tolist() == pytest.approx([0.8] * 6)  # outer ones


def test_a_recursive_model_on_trading_days_forecasts_business_days() -> None:
    from rnnkit.models.recursive import times_after

    days = pd.bdate_range(end="2012-11-16", periods=120, name="date")  # weekdays, to a Friday
    assert list(times_after(days, 3).strftime("%a")) == ["Mon", "Tue", "Wed"]  # after a Fri
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"y": 10 + rng.standard_normal(120).cumsum(),
                          "x": rng.standard_normal(120)}, index=days)
    model = model_for(frame, lookback=10, calendar=("day_of_week",), strategy="recursive")
    table = model.forecast(frame)  # was refused: "the frame's last rows must be evenly spaced"
    assert table.index[0] == pd.Timestamp("2012-11-19") and table["mean"].notna().all()


@pytest.mark.parametrize("freq", ["MS", "ME", "QS"])
def test_a_recursive_model_on_calendar_months_forecasts_the_next_months(freq: str) -> None:
    months = pd.date_range("2001-01-01", periods=60, freq=freq, name="date")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"y": 10 + rng.standard_normal(60).cumsum(),
                          "x": rng.standard_normal(60)}, index=months)
    model = model_for(frame, lookback=10, calendar=("month",), strategy="recursive")
    table = model.forecast(frame.iloc[:-6])  # was refused: "... must be evenly spaced in time"
    assert table.index.equals(months[-6:])
    window = model.windows_of(frame)  # the same forecast from the window ending there
    np.testing.assert_allclose(table["mean"], model.predict_windows(window)["mean"][-1],
                               rtol=1e-5)


SHARED_BEIJING = SHARED_DATA / "beijing_pm25" / "pollution.csv"


@pytest.mark.skipif(not SHARED_BEIJING.exists(), reason="needs ../shared/data")
def test_data_dir_reaches_every_command_that_reads_a_registry_source(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RNNKIT_DATA", raising=False)  # only --data-dir says where the data is
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))  # and nothing is cached
    monkeypatch.setattr("rnnkit.data.registry.fetch_file", lambda *_: (_ for _ in ()).throw(
        AssertionError("tried to download")))
    moved = tmp_path / "moved"  # the mirror training read, gone by evaluation time
    moved.mkdir()
    (moved / "beijing_pm25").symlink_to(SHARED_BEIJING.parent)
    mirror, run = str(SHARED_DATA), tmp_path / "run"
    args = ["train", "forecaster", "--data-dir", str(moved), "--out", str(run)]
    for item in ("data.source=beijing", "data.lookback=6", "data.horizon=1", "data.stride=48",
                 "model.hidden_size=4", "train.epochs=1", "train.max_steps=3",
                 "train.threads=1", "train.progress=false"):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    (moved / "beijing_pm25").unlink()
    model = str(run / "model.rnnkit")
    assert rnnkit.cli.main(["evaluate", "--model", model]) == 2  # no mirror: no data
    assert rnnkit.cli.main(["evaluate", "--model", model, "--data-dir", mirror]) == 0
    assert rnnkit.cli.main(["forecast", "--model", model, "--data-dir", mirror,
                            "--as-of", "2014-06-30"]) == 0
    assert "2014-07-01" in capsys.readouterr().out


def test_a_short_weekly_series_scores_mase_on_one_step_changes(tmp_path: Path) -> None:
    dates = pd.date_range("2020-01-06", periods=70, freq="W-MON", name="date")  # season 52
    frame = pd.DataFrame({"y": np.sin(np.arange(70) / 3.0) + np.arange(70) / 20.0},
                         index=dates)
    csv = write_csv(tmp_path / "weekly.csv", frame)
    config = load_config(ForecastRunConfig, None, settings(csv, **{
        "data.lookback": "8", "data.horizon": "2", "data.calendar": "", "train.epochs": "1",
        "forecast.ridge_steps": "0", "forecast.moving_average": "4"}))
    results = train_forecaster(config, tmp_path / "run", log=lambda line: None)
    assert "MASE is scaled by the one-step naive change" in " ".join(results["test"]["notes"])
    assert np.isfinite(results["test"]["step_2"]["model"]["mase"])


def _prepare(path: Path, **settings: Any) -> Any:
    values = {"source": str(path), "target": "y", "lookback": 24, "horizon": 6,
              "calendar": "hour", **settings}
    return prepare(ForecastDataConfig(**values))


def test_a_user_column_named_like_a_calendar_input_is_refused_not_replaced(tmp_path: Path
                                                                         ) -> None:
    frame = series_frame(400)
    clash = write_csv(tmp_path / "clash.csv", frame.assign(hour_sin=frame["x"]))
    with pytest.raises(ValueError, match="a column 'hour_sin', the name of a calendar input"):
        _prepare(clash)
    assert "hour_sin" in _prepare(clash, calendar="").features  # the user's own column
    listed = write_csv(tmp_path / "listed.csv", frame.assign(wind_sin=np.nan))
    prepared = _prepare(listed, features="y,x")  # only the listed inputs and hour's
    assert prepared.features == ["y", "x", "hour_sin", "hour_cos"]


def test_gaps_in_a_file_s_dates_are_warned_of_or_put_on_the_grid(tmp_path: Path) -> None:
    frame = series_frame(400)
    gappy = write_csv(tmp_path / "gappy.csv", frame.drop(frame.index[100:130]))
    with pytest.warns(UserWarning, match="30 of 400 timestamps of its 'h' grid have no row "
                                         r"\(first missing: 2020-01-05 04:00:00\)"):
        windows = _prepare(gappy).split.train
    spans = windows.target_times[:, -1] - windows.index.to_numpy()[windows.origins - 23]
    assert (spans > np.timedelta64(29, "h")).any()  # as given: some windows span the gap
    for fill in (0, 5):
        prepared = _prepare(gappy, frequency="infer", max_fill=fill)
        train = prepared.split.train
        spans = train.target_times[:, -1] - train.index.to_numpy()[train.origins - 23]
        assert (spans == np.timedelta64(29, "h")).all()  # every window 30 consecutive hours
        assert len(prepared.frame) == 400 and prepared.frame["y"].isna().sum() == 30
        assert prepared.frame["x"].isna().sum() == 30 - fill  # inputs filled, never the target
    change = _prepare(gappy, frequency="infer", max_fill=5, target="y_change_1", changes="y",
                      change_lags="1")  # a change of y is the target: y is never filled either
    assert change.frame["y_change_1"].isna().sum() == 32  # was 27: 5 changes of 0 invented
    logged = _prepare(gappy, frequency="infer", max_fill=5, target="y_log1p", log1p="y")
    assert logged.frame["y_log1p"].isna().sum() == 30  # was 25: 5 copied targets invented
    assert logged.frame["x"].isna().sum() == 25  # the inputs are still filled
    days = pd.DataFrame({"y": np.arange(300.0)},
                        index=pd.bdate_range("2020-01-01", periods=300, name="date"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # trading days skip weekends: not a gap
        _prepare(write_csv(tmp_path / "days.csv", days), lookback=10, horizon=1, calendar="")
    with pytest.raises(ValueError, match="unknown frequency 'hourly'; use infer or a pandas"):
        _prepare(gappy, frequency="hourly")
    with pytest.raises(ConfigError, match="data.max_fill fills the rows data.frequency adds"):
        _prepare(gappy, max_fill=2)
    for setting in ({"frequency": "h"}, {"max_fill": 2}, {"date_format": "%d/%m/%Y"}):
        with pytest.raises(ConfigError, match="are for files; beijing is a registry series"):
            prepare(ForecastDataConfig(source="beijing", **setting))  # was: max_fill ignored


def test_a_saved_model_reads_a_file_with_a_text_column_it_does_not_read(tmp_path: Path,
                                                                         capsys) -> None:
    # forecast and evaluate of a model with --data a file holding a text column beside the
    # model's inputs (Seattle's CSV and its 'weather' label for a model trained on seattle)
    # were refused: "column 'note' holds the non-numeric value 'calm' ... list the inputs in
    # data.features (training)", advice no forecast can follow; the model knows its inputs
    frame = series_frame(400)
    csv = write_csv(tmp_path / "series.csv", frame)
    config = load_config(ForecastRunConfig, None, settings(csv, **{"train.epochs": "1"}))
    train_forecaster(config, tmp_path / "run", log=lambda line: None)
    model = str(tmp_path / "run" / "model.rnnkit")
    noted = write_csv(tmp_path / "noted.csv", frame.assign(note="calm"))
    for data, name in ((csv, "plain"), (noted, "noted")):
        assert rnnkit.cli.main(["forecast", "--model", model, "--data", str(data),
                                "--output", str(tmp_path / f"{name}_forecast.csv")]) == 0
        assert rnnkit.cli.main(["evaluate", "--model", model, "--data", str(data),
                                "--out", str(tmp_path / name)]) == 0
    capsys.readouterr()
    assert (tmp_path / "plain_forecast.csv").read_text() == \
        (tmp_path / "noted_forecast.csv").read_text()
    assert json.loads((tmp_path / "plain" / "results.json").read_text()) == \
        json.loads((tmp_path / "noted" / "results.json").read_text())
    texted = write_csv(tmp_path / "texted.csv", frame.assign(x="calm"))  # an input: refused
    assert rnnkit.cli.main(["forecast", "--model", model, "--data", str(texted)]) == 2
    assert "column 'x' holds the non-numeric value 'calm'" in capsys.readouterr().err


def test_a_file_s_text_and_long_format_and_saved_index(tmp_path: Path) -> None:
    frame = series_frame(400)
    noted = write_csv(tmp_path / "noted.csv", frame.assign(note="calm"))
    with pytest.raises(ValueError, match="non-numeric value 'calm'.*list the inputs in "
                                         "data.features"):
        _prepare(noted)
    assert _prepare(noted, features="y,x").features == ["y", "x", "hour_sin", "hour_cos"]
    with pytest.raises(ValueError, match="non-numeric value 'calm'"):
        _prepare(noted, features="y,note")  # a column the run reads must hold numbers
    long = frame.rename_axis("date").reset_index().melt(id_vars="date", var_name="series")
    long.to_csv(tmp_path / "long.csv", index=False)
    prepared = _prepare(tmp_path / "long.csv", series_column="series", value_column="value")
    assert prepared.features == ["x", "y", "hour_sin", "hour_cos"]  # series by name
    assert np.allclose(prepared.frame["x"], frame["x"])
    frame.reset_index().iloc[50:].to_csv(tmp_path / "indexed.csv")  # pandas' default index
    with pytest.warns(UserWarning, match=r"first column has no name and counts rows \(50, 51"):
        assert _prepare(tmp_path / "indexed.csv").features == [
            "Unnamed: 0", "y", "x", "hour_sin", "hour_cos"]  # read as before: old bundles
    with pytest.warns(UserWarning, match="counts rows"):  # read it; listed inputs leave it out
        assert _prepare(tmp_path / "indexed.csv", features="y,x").features[:2] == ["y", "x"]
    trailing = "date,y,x,\n" + "".join(f"{day:%Y-%m-%d %H:%M},{y},{x},\n" for day, (y, x)
                                       in zip(frame.index, frame.to_numpy(), strict=True))
    (tmp_path / "trailing.csv").write_text(trailing)  # a spreadsheet's trailing commas
    assert _prepare(tmp_path / "trailing.csv", features="y,x").features[:2] == ["y", "x"]


def test_a_model_trained_on_a_file_reads_a_registry_source_without_file_settings() -> None:
    from rnnkit.pipelines.sources import with_source

    trained = ForecastDataConfig(source="meters.csv", frequency="infer", max_fill=2,
                                 series_column="meter", value_column="kwh",
                                 date_format="%d/%m/%Y")
    beijing = with_source(trained, "beijing")
    assert (beijing.source, beijing.frequency, beijing.max_fill, beijing.series_column,
            beijing.value_column, beijing.date_format) == ("beijing", "", 0, "", "", "")
    assert with_source(trained, "other.csv") == replace(trained, source="other.csv")
    # a bundle trained on a registry series when max_fill was silently ignored still reads it
    old = SimpleNamespace(trained_on=asdict(ForecastDataConfig(
        source="seattle", lookback=14, horizon=3, max_fill=2)), target="temp_max",
        feature_names=["precipitation", "temp_max", "temp_min", "wind", "day_of_week_sin",
                       "day_of_week_cos", "day_of_year_sin", "day_of_year_cos"])
    assert len(prepare_for(old).split.test) > 300


def test_too_few_training_windows_are_named_before_training(tmp_path: Path) -> None:
    short = write_csv(tmp_path / "short.csv", series_frame(400).iloc[:64])
    with pytest.raises(ValueError, match=r"only 1 training window .* need at least 2"):
        _prepare(short, train_end="2020-01-02 05:00", val_end="2020-01-02 12:00")
    late = series_frame(300)
    late.loc[late.index[:240], "x"] = np.nan  # an input that starts late
    with pytest.raises(ValueError, match="no window has all its targets at or before train_end"
                                         r".*windows were left out for missing values in 'x' "
                                         r"\(240 rows\)"):
        _prepare(write_csv(tmp_path / "late.csv", late))


def test_forecast_follows_the_weights_dtype_and_needs_dates() -> None:
    import copy

    frame = series_frame(200)
    model = model_for(frame)
    wide = copy.deepcopy(model).double()
    assert np.allclose(wide.forecast(frame)["mean"], model.forecast(frame)["mean"], atol=1e-5)
    with pytest.raises(ValueError, match="the frame needs a DatetimeIndex, not RangeIndex"):
        model.forecast(frame.reset_index(drop=True))  # no invented 1970 timestamps


def test_a_gaussian_interval_that_is_no_probability_is_refused() -> None:
    """95 (meaning 95%) raised statistics' 'p must be in the range 0.0 < p < 1.0'; 0 gave a
    zero-width interval labelled level 0."""
    frame = series_frame(200)
    model = model_for(frame, loss="gaussian")
    assert model.forecast(frame, interval=0.5)["level"].eq(0.5).all()
    for interval in (95, 0, 1.0, float("nan")):
        with pytest.raises(ValueError, match=r"interval must be a probability between 0 and 1 "
                                             r"\(both excluded\), e\.g\. 0\.9 for a 90% "):
            model.forecast(frame, interval=interval)


def test_a_median_only_quantile_model_gives_no_interval() -> None:
    """quantiles=0.5 gave lower = upper = the median, reported as a level-0 interval."""
    frame = series_frame(200)
    model = model_for(frame, loss="quantile", quantiles="0.5")
    table = model.forecast(frame)
    assert list(table.columns) == ["step", "mean"]
    out = model.predict_windows(model.windows_of(frame))
    assert "lower" not in out and np.allclose(out["quantiles"][..., 0], out["mean"])


def test_a_scaler_fitted_on_the_features_in_another_order_is_refused() -> None:
    """It was taken: each column then scaled by another's mean and std, silently."""
    frame = series_frame(200)
    scaler = StandardScaler(["x", "y"]).fit(frame[["x", "y"]].to_numpy())
    with pytest.raises(ValueError, match=r"the scaler was fitted on the features \['x', 'y'\], "
                                         r"the model reads \['y', 'x'\]; fit it on"):
        Forecaster(ModelConfig(cell="gru", hidden_size=4), ["y", "x"], "y", 8, 2, scaler)


def test_a_forecast_of_dates_out_of_order_is_refused() -> None:
    """A newest-first frame was read backwards: its oldest rows, forecast into the past."""
    frame = series_frame(200)
    model = model_for(frame)
    for shuffled in (frame.iloc[::-1], pd.concat([frame, frame.iloc[-3:]])):
        with pytest.raises(ValueError, match=r"the dates of the frame must be ascending, each "
                                             r"once \(its last rows are read as the latest\); "
                                             r"sort them \(frame.sort_index\(\)\)"):
            model.forecast(shuffled)


@pytest.mark.parametrize(("task", "setting"), [
    ("forecaster", "data.train_end=2014-13-01"), ("signal", "data.val_end=20x4")])
def test_split_ends_that_are_no_date_are_refused_before_data_is_read(
        task: str, setting: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--print-config printed them and exited 0; only training, after reading the data,
    refused them."""
    key = setting.split("=")[0]
    settings = [part for one in setting.split(" --set ") for part in ("--set", one)]
    assert rnnkit.cli.main(["train", task, *settings, "--print-config"]) == 2
    assert f"{key} must be a date such as 2009-12-31" in capsys.readouterr().err


@pytest.mark.parametrize("task", ["forecaster", "signal"])
def test_a_validation_end_before_the_training_end_is_refused_before_data_is_read(
        task: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--print-config printed data.train_end=2013-06 with data.val_end=2013-01 and exited 0;
    only training, after reading the data, refused the pair. Within one period is fine."""
    settings = ["--set", "data.train_end=2013-06", "--set", "data.val_end=2013-01"]
    assert rnnkit.cli.main(["train", task, *settings, "--print-config"]) == 2
    assert "data.val_end (2013-01) is before data.train_end (2013-06)" in capsys.readouterr().err
    settings = ["--set", "data.train_end=2013-06-30 12:00", "--set", "data.val_end=2013-06"]
    assert rnnkit.cli.main(["train", task, *settings, "--print-config"]) == 0


@pytest.mark.parametrize(("task", "setting", "message"), [
    ("forecaster", "data.lookback=-1", "data.lookback must be at least 1; got -1"),
    ("signal", "data.horizon=0", "data.horizon must be at least 1; got 0"),
    ("forecaster", "data.stride=0", "data.stride must be at least 1; got 0"),
    ("signal", "data.max_fill=-1", "data.max_fill must be at least 0; got -1"),
    ("forecaster", "forecast.loss=l2", "forecast.loss must be one of mse, mae, gaussian, "
                                       "quantile; got 'l2'"),
    ("forecaster", "forecast.strategy=rolling", "forecast.strategy must be one of direct, "
                                                "recursive; got 'rolling'"),
    ("forecaster", "forecast.input_noise=-0.1", "forecast.input_noise must be at least 0"),
    ("forecaster", "forecast.last_step_weight=0", "forecast.last_step_weight must be above 0"),
    ("forecaster", "forecast.highway_steps=500", "forecast.highway_steps must be from 0 to "
                                                 "data.lookback (120); got 500"),
    ("forecaster", "forecast.loss=quantile --set forecast.quantiles=0.05,0.95",
     "must include 0.5 (the median is the point forecast)"),
    ("forecaster", "forecast.loss=quantile --set forecast.quantiles=5,50,95",
     "every quantile must lie strictly between 0 and 1"),
    ("forecaster", "forecast.strategy=recursive --set forecast.loss=gaussian",
     "forecast.loss=gaussian is unsupported with forecast.strategy=recursive"),
    ("forecaster", "forecast.strategy=recursive --set forecast.last_step_weight=2",
     "forecast.last_step_weight applies to direct models"),
])
def test_window_and_model_options_are_refused_by_print_config(
        task: str, setting: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--print-config (and train --nproc N, which reads the settings once first) printed them
    and exited 0; training refused them, the model's only after reading the data."""
    settings = [part for one in setting.split(" --set ") for part in ("--set", one)]
    assert rnnkit.cli.main(["train", task, *settings, "--print-config"]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("points", "part"), [
    (5, "the last 5 of 21 test windows (2020-01-02 06:00:00 to 2020-01-02 10:00:00)"),
    (504, "test (2020-01-01 14:00:00 to 2020-01-02 10:00:00)")])
def test_forecast_plot_title_says_which_windows_it_shows(
        points: int, part: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """forecast.png draws the last forecast.plot_points test windows and was titled '(test)'
    whatever share of the test they were (results.json scores them all)."""
    import rnnkit.viz.timeseries
    from rnnkit.pipelines.forecaster import plot

    test = make_windows(series_frame(35), "y", ["y", "x"], lookback=12, horizon=3, stride=1)
    out = {"mean": test.targets + 1, "baseline_persistence": test.targets - 1}
    seen: dict[str, Any] = {}
    monkeypatch.setattr(rnnkit.viz.timeseries, "plot_forecast",
                        lambda actual, forecasts, path, **options: seen.update(options))
    plot(test, out, tmp_path / "forecast.png", points, "degC", {})
    assert seen["title"] == f"y, 3 steps ahead, {part}" and seen["level"] is None
    from rnnkit.trading.returns import span_text  # hourly from a midnight: both timed

    assert span_text("2014-12-10", "2014-12-31 23:00") == ("2014-12-10 00:00:00 to "
                                                            "2014-12-31 23:00:00")
    assert span_text("2014-12-10", "2014-12-31") == "2014-12-10 to 2014-12-31"
    assert len(seen["times"]) == min(points, len(test))
    assert seen["times"][-1] == test.target_times[-1, -1]


def test_forecast_plot_names_its_interval_s_level(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The band's legend read 'model interval', whatever its level (a quantile model's outer
    quantiles 0.1 and 0.9 give 80%, not the 90% a Gaussian one defaults to)."""
    import rnnkit.viz.timeseries
    from rnnkit.pipelines.forecaster import plot

    test = make_windows(series_frame(35), "y", ["y", "x"], lookback=12, horizon=3, stride=1)
    out = {"mean": test.targets, "baseline_persistence": test.targets - 1,
           "lower": test.targets - 2, "upper": test.targets + 2}
    kept: list[Any] = []
    monkeypatch.setattr(rnnkit.viz.timeseries, "save_figure",
                        lambda figure, path, dpi: kept.append(figure))
    plot(test, out, tmp_path / "forecast.png", 504, "degC", {"interval": {"level": 0.8}})
    legend = [text.get_text() for text in kept[0].axes[0].get_legend().get_texts()]
    assert legend == ["actual", "model", "model 80% interval", "persistence"]


def test_missing_values_in_the_last_window_are_named() -> None:
    """Forecaster.forecast said only 'the last lookback rows hold missing values'."""
    frame = series_frame(100)
    frame.iloc[-5, frame.columns.get_loc("x")] = np.nan
    frame.iloc[-2, frame.columns.get_loc("x")] = np.nan
    model = model_for(series_frame(100))
    with pytest.raises(ValueError, match=re.escape(
            "the last 24 rows (the model's lookback) hold 2 missing values, in 'x', the first "
            "at 2020-01-04 23:00:00; fill them, or forecast from an earlier date")):
        model.forecast(frame)


def test_a_change_target_is_scored_on_its_own_direction(tmp_path: Path) -> None:
    """A target made by data.changes (y_change_3) was scored as a level: its direction was
    its move from the current change, so persistence (tomorrow's change = today's) scored 0%
    where its momentum is right about as often as the changes persist."""
    from rnnkit.timeseries.metrics import directional_accuracy

    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    config = load_config(ForecastRunConfig, None, settings(
        csv, **{"data.changes": "y", "data.change_lags": "3", "data.target": "y_change_3",
                "train.epochs": "1"}))
    results = train_forecaster(config, tmp_path / "run", log=lambda line: None)
    prepared = prepare(config.data)
    test = prepared.split.test
    last = test.targets[:, -1]
    expected = directional_accuracy(last, test.current)  # persistence: the change now
    scored = results["test"]["step_6"]["persistence"]["directional_accuracy"]
    assert scored == pytest.approx(expected) and scored > 0.3


def test_a_monitor_the_forecaster_never_reports_is_refused_before_training(
        tmp_path: Path, capsys) -> None:
    """train.monitor=val_acc was refused only after the first epoch had trained (a forecaster
    named no metrics), and rnnkit stocks after its first fold's epoch."""
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    args = ["train", "forecaster", "--out", str(tmp_path / "run")]
    for item in settings(csv, **{"train.monitor": "val_acc"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 2
    out, err = capsys.readouterr()
    assert "epoch 1" not in out
    assert ("train.monitor 'val_acc' is not a validation metric of Forecaster; choose one of "
            "val_loss, val_mae, val_mae_last, train_loss") in err
    assert not (tmp_path / "run" / "last.pt").exists()


@pytest.mark.parametrize("task", ["forecaster", "signal"])
def test_an_unknown_source_is_refused_before_the_run(task: str, capsys) -> None:
    # --print-config printed it and exit 0; the run refused it only once it read the data,
    # after --nproc had started its processes
    assert rnnkit.cli.main(["train", task, "--set", "data.source=APPL", "--print-config"]) == 2
    assert "unknown data.source 'APPL': use beijing, seattle, one of AAPL" in \
        capsys.readouterr().err


@pytest.mark.parametrize("command", ["forecaster", "signal"])
def test_an_unknown_calendar_part_is_refused_before_the_data_naming_the_setting(
        command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--print-config passed data.calendar=week; the run read its data, then said only
    "unknown calendar part 'week'", naming no setting."""
    assert rnnkit.cli.main(["train", command, "--set", "data.calendar=hour,week",
                            "--print-config"]) == 2
    assert ("data.calendar: unknown calendar part 'week'; give parts of hour, day_of_week, "
            "day_of_year, month, comma-separated") in capsys.readouterr().err
    for calendar in ("auto", "", "hour,month"):
        assert rnnkit.cli.main(["train", command, "--set", f"data.calendar={calendar}",
                                "--print-config"]) == 0
