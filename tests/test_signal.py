"""Buy/sell/hold classifier, its pipeline, and the forecast / backtest commands on bundles.

The classifier is tested here; train signal's pipeline and the forecast / backtest / evaluate
commands on bundles in tests/test_signal_*.py, which import price_frame, write_csv and settings
from here (as do tests/test_temperature.py, tests/test_class_calibration.py and, with
tiny_signal, tests/test_cuda.py).
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from rnnkit.config import ModelConfig, load_config
from rnnkit.models.signal import SignalClassifier, balanced_weights, target_kind
from rnnkit.pipelines.signal import SignalOptions, SignalRunConfig, thresholds, train_signal
from rnnkit.timeseries.labels import window_labels
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.windows import make_windows
from rnnkit.trading.returns import forecast_returns, next_period_returns
from rnnkit.training.bundle import load_bundle, save_bundle


def price_frame(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    """A random-walk price whose log return is also a column; a momentum pattern makes the
    next return partly predictable (positive autocorrelation)."""
    rng = np.random.default_rng(seed)
    returns = np.zeros(rows)
    for t in range(1, rows):
        returns[t] = 0.6 * returns[t - 1] + rng.normal(0, 0.01)
    price = 100 * np.exp(np.cumsum(returns))
    index = pd.date_range("2015-01-01", periods=rows, freq="D", name="date")
    return pd.DataFrame({"price": price, "price_log_return": np.r_[np.nan, np.diff(
        np.log(price))]}, index=index).iloc[1:]


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.reset_index().to_csv(path, index=False)
    return path


def settings(source: Path, **extra: str) -> list[str]:
    values = {"data.source": str(source), "data.target": "price_log_return",
              "data.features": "price_log_return", "data.lookback": "10", "data.horizon": "1",
              "data.calendar": "", "model.hidden_size": "8", "train.epochs": "2",
              "train.progress": "false", "train.threads": "1", **extra}
    return [f"{key}={value}" for key, value in values.items()]


def test_target_kind_and_balanced_weights() -> None:
    assert target_kind("AAPL_log_return") == "log_return"
    assert target_kind("AAPL_return") == "return"
    assert target_kind("close") == "price"
    with pytest.raises(ValueError, match="kind must be"):
        target_kind("close", "percent")
    weights = balanced_weights(np.array([0, 0, 0, 0, 1, 1, 2, -1]))
    assert weights == pytest.approx([7 / 12, 7 / 6, 7 / 3], abs=1e-4)


def test_a_scaler_fitted_on_the_features_in_another_order_is_refused() -> None:
    """The forecaster refused it; the signal model took it, each column then scaled by
    another's mean and std."""
    frame = price_frame(200)
    frame["volume"] = np.arange(len(frame), dtype=float)
    scaler = StandardScaler(["price", "volume"]).fit(frame[["price", "volume"]].to_numpy())
    with pytest.raises(ValueError, match=r"the scaler was fitted on the features "
                                         r"\['price', 'volume'\], the model reads "
                                         r"\['volume', 'price'\]; fit it on"):
        SignalClassifier(ModelConfig(cell="gru", hidden_size=4), ["volume", "price"], "price",
                         5, 1, scaler, 0.01, -0.01)


def test_tertile_thresholds_balance_the_training_classes() -> None:
    frame = price_frame(900)
    windows = make_windows(frame, "price", ["price_log_return"], lookback=5, horizon=1)
    up, down = thresholds(SignalOptions(), windows, "price")
    counts = np.bincount(window_labels(windows, up, down, "price"), minlength=3)
    assert down < up
    assert counts.min() >= 0.3 * len(windows)  # about a third each
    assert thresholds(SignalOptions(thresholds="fixed", up=0.02, down=-0.03), windows,
                      "price") == (0.02, -0.03)


def test_learns_momentum_and_round_trips(tmp_path: Path) -> None:
    frame = price_frame(1200)
    windows = make_windows(frame, "price", ["price_log_return"], lookback=5, horizon=1)
    up, down = 0.005, -0.005
    labels = window_labels(windows, up, down, "price")
    scaler = StandardScaler(["price_log_return"]).fit(windows.period_rows())
    torch.manual_seed(0)
    model = SignalClassifier(ModelConfig(cell="gru", hidden_size=16), ["price_log_return"],
                             "price", 5, 1, scaler, up, down, "price",
                             balanced_weights(labels))
    inputs = torch.as_tensor(windows.scaled(scaler).inputs, dtype=torch.float32)
    gold = torch.as_tensor(labels)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(150):
        optimizer.zero_grad()
        model.step((inputs, gold)).loss.backward()
        optimizer.step()
    scores = model.evaluate([(inputs, gold)])
    assert scores["accuracy"] > 0.55  # chance is about 1/3; the AR(1) pattern is learnable
    with torch.no_grad():  # the exact fraction of hits, not a float32 mean (8th digit)
        hits = int((model(inputs).argmax(-1) == gold).sum())
    assert scores["accuracy"] == hits / len(gold)
    assert model.step((inputs, gold)).metrics["accuracy"] == hits / len(gold)
    assert scores["macro_f1"] > 0.5
    probabilities = model.predict_windows(windows)
    assert probabilities.shape == (len(windows), 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    save_bundle(model, tmp_path / "signal.rnnkit")
    loaded = load_bundle(tmp_path / "signal.rnnkit", expected_kind="signal")
    assert isinstance(loaded, SignalClassifier)
    assert np.array_equal(loaded.predict_windows(windows), probabilities)
    answer = loaded.classify(frame)
    assert answer["signal"] in ("sell", "hold", "buy")
    assert sum(answer["probabilities"].values()) == pytest.approx(1.0)


def test_returns_for_strategies_by_hand() -> None:
    frame = pd.DataFrame({"p": [100.0, 110.0, 99.0, 99.0, 108.9]},
                         index=pd.date_range("2020-01-01", periods=5))
    windows = make_windows(frame, "p", lookback=1, horizon=2)
    assert next_period_returns(windows, "price").round(6).tolist() == [0.1, -0.1, 0.0]
    mean = np.array([[0.0, 121.0], [0.0, 99.0], [0.0, 99.0]])
    assert forecast_returns(mean, windows, "price").round(6).tolist() == [0.21, -0.1, 0.0]
    logs = np.log([[1.1, 1.1]])
    assert forecast_returns(logs, windows.subset(slice(0, 1)), "log_return")[0] == \
        pytest.approx(0.21)
    assert forecast_returns(np.array([[0.1, 0.1]]), windows.subset(slice(0, 1)),
                            "return")[0] == pytest.approx(0.21)


def test_model_predictions_made_before_a_change_do_not_move(tmp_path: Path) -> None:
    """Rewrite every price after a cut: the trained models' outputs for windows whose origin is
    at or before the cut stay the same to the bit (inputs, calendar, scaler all causal)."""
    frame = price_frame(500)
    csv = write_csv(tmp_path / "prices.csv", frame)
    config = load_config(SignalRunConfig, None, settings(csv, **{"train.epochs": "1",
                                                                "data.calendar": "day_of_week"}))
    train_signal(config, tmp_path / "run", log=lambda line: None)
    model = load_bundle(tmp_path / "run" / "model.rnnkit", expected_kind="signal")
    assert isinstance(model, SignalClassifier)
    cut = frame.index[300]
    changed = frame.copy()
    later = changed.index > cut
    rng = np.random.default_rng(1)
    changed.loc[later, "price_log_return"] = rng.normal(0, 0.05, later.sum())
    windows = [model.windows_of(table) for table in (frame, changed)]
    made = windows[0].input_end <= np.datetime64(cut)
    outputs = [model.predict_windows(each) for each in windows]
    np.testing.assert_array_equal(outputs[0][made], outputs[1][made])
    assert not np.array_equal(outputs[0][~made], outputs[1][~made])  # the change does reach
    answer = model.classify(frame.loc[:cut])
    assert answer == model.classify(changed.loc[:cut])


def test_a_series_far_outside_the_training_scale_warns(tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "prices.csv", price_frame(400))
    config = load_config(SignalRunConfig, None, settings(csv, **{"train.epochs": "1"}))
    train_signal(config, tmp_path / "run", log=lambda line: None)
    model = load_bundle(tmp_path / "run" / "model.rnnkit", expected_kind="signal")
    assert isinstance(model, SignalClassifier)
    frame = price_frame(400, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same kind of series: no warning
        model.predict_windows(model.windows_of(frame))
    frame["price_log_return"] *= 100.0  # percent instead of fractions
    with pytest.warns(UserWarning, match="outside the training scale"):
        model.predict_windows(model.windows_of(frame))


def tiny_signal(frame: pd.DataFrame) -> SignalClassifier:
    windows = make_windows(frame, "price", ["price_log_return"], lookback=5, horizon=1)
    scaler = StandardScaler(["price_log_return"]).fit(windows.period_rows())
    return SignalClassifier(ModelConfig(cell="gru", hidden_size=4), ["price_log_return"],
                            "price", 5, 1, scaler, 0.005, -0.005, "price")


def test_classify_gives_back_the_mode_and_follows_the_weights_dtype() -> None:
    frame = price_frame(100)
    model = tiny_signal(frame)
    for mode in (True, False):
        model.train(mode)
        first = model.classify(frame)["probabilities"]
        assert model.training is mode
    wide = copy.deepcopy(model).double()  # float64 weights get float64 inputs
    assert wide.classify(frame)["probabilities"] == pytest.approx(first, abs=1e-6)
    windows = make_windows(frame, "price", ["price_log_return"], lookback=5, horizon=1)
    assert np.allclose(wide.predict_windows(windows), model.predict_windows(windows), atol=1e-6)


def test_a_class_weighted_model_trains_and_evaluates_in_float64() -> None:
    # the class weights were a float32 tensor: a float64 model failed in its loss with
    # 'expected scalar type Double but found Float'
    frame = price_frame(100)
    model = tiny_signal(frame)
    model.class_weights = [2.0, 0.5, 1.0]
    inputs = torch.randn(8, 5, 1, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 1, 2, 1, 1, 0, 2, 1])
    narrow = model.step((inputs, labels)).loss.detach()
    wide = copy.deepcopy(model).double()
    loss = wide.step((inputs.double(), labels)).loss
    assert loss.dtype == torch.float64
    assert float(loss.detach()) == pytest.approx(float(narrow), abs=1e-6)
    loss.backward()
    assert wide.evaluate([(inputs.double(), labels)])["loss"] == pytest.approx(float(narrow),
                                                                                abs=1e-6)


@pytest.mark.parametrize(("lookback", "horizon"), [(0, 1), (5, 0), (5, -1), (5, 1.5), (True, 1)])
def test_a_signal_model_refuses_lookback_and_horizon_below_one(lookback: float,
                                                                 horizon: float) -> None:
    """As the forecaster does (843795b): SignalClassifier took horizon 0 and lookback 0."""
    scaler = StandardScaler(["price_log_return"]).fit(np.zeros((4, 1)) + [[0.0], [1], [2], [3]])
    with pytest.raises(ValueError, match="lookback and horizon must be whole numbers >= 1"):
        SignalClassifier(ModelConfig(cell="gru", hidden_size=4), ["price_log_return"],
                         "price", lookback, horizon, scaler, 0.005, -0.005,  # type: ignore[arg-type]
                         "price")
    assert SignalClassifier(ModelConfig(cell="gru", hidden_size=4), ["price_log_return"],
                            "price", np.int64(5), 2.0, scaler, 0.005, -0.005,  # type: ignore[arg-type]
                            "price").horizon == 2
