"""The recurrent forecaster: shapes, fitting, quantile intervals, the recursive (one step,
rolled forward) strategy, bundles and the model's options.

Training on a file and scoring without a leak, forecasts, the user's data files, and the train
forecaster command are tested in tests/test_forecaster_*.py, which import series_frame,
model_for, write_csv, settings and _prepare from here (tests/test_cuda.py imports model_for and
series_frame)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from rnnkit.config import ModelConfig, TrainConfig
from rnnkit.models.forecaster import Forecaster
from rnnkit.models.quantiles import pinball_loss
from rnnkit.models.window_inputs import add_calendar
from rnnkit.pipelines.source_config import ForecastDataConfig
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


def _prepare(path: Path, **settings: Any) -> Any:
    values = {"source": str(path), "target": "y", "lookback": 24, "horizon": 6,
              "calendar": "hour", **settings}
    return prepare(ForecastDataConfig(**values))
