"""Buy/sell/hold classifier, its pipeline, and the forecast / backtest commands on bundles."""

from __future__ import annotations

import copy
import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

import rnnkit.cli
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


def test_pipeline_scores_baselines_and_backtests(tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "prices.csv", price_frame(700))
    config = load_config(SignalRunConfig, None, settings(csv))
    results = train_signal(config, tmp_path / "run", log=lambda line: None)
    classes = results["test"]["classification"]
    assert set(classes) == {"model", "majority", "persistence"}
    for scores in classes.values():
        assert 0.0 <= scores["macro_f1"] <= 1.0
        assert np.sum(scores["confusion"]) == results["windows"]["test"]
    assert set(results["test"]["backtest"]) == {"model", "persistence", "buy_and_hold"}
    for name in ("model.rnnkit", "results.json", "confusion.png", "equity.png", "drawdown.png"):
        assert (tmp_path / "run" / name).stat().st_size > 0


def test_cli_signal_forecast_and_backtest(tmp_path: Path, capsys) -> None:
    csv = write_csv(tmp_path / "prices.csv", price_frame(700))
    run = tmp_path / "signal"
    args = ["train", "signal", "--out", str(run)]
    for item in settings(csv, **{"signal.mode": "long_short"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    forecaster = tmp_path / "forecaster"
    args = ["train", "forecaster", "--out", str(forecaster)]
    for item in settings(csv, **{"forecast.residual": "false", "forecast.moving_average": "5"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    capsys.readouterr()

    assert rnnkit.cli.main(["forecast", "--model", str(run / "model.rnnkit"), "--output",
                            str(tmp_path / "signal.csv")]) == 0
    assert "p_buy" in capsys.readouterr().out
    # a day's signal was 'as of 2016-11-30 00:00:00' where a forecast's dates are days
    assert pd.read_csv(tmp_path / "signal.csv")["as_of"].tolist() == [
        str(price_frame(700).index[-1].date())]
    output = tmp_path / "next.csv"
    assert rnnkit.cli.main(["forecast", "--model", str(forecaster / "model.rnnkit"),
                            "--as-of", "2016-06-30", "--output", str(output)]) == 0
    table = pd.read_csv(output)
    assert list(table["step"]) == [1] and "price_implied" in table.columns

    for bundle in (run, forecaster):
        out = bundle / "backtest"
        assert rnnkit.cli.main(["backtest", "--model", str(bundle / "model.rnnkit"),
                                "--out", str(out), "--mode", "long_short"]) == 0
        summary = json.loads((out / "backtest.json").read_text())
        assert set(summary["reports"]) == {"model", "persistence", "buy_and_hold"}
        assert (out / "equity.png").stat().st_size > 0
    # by default the signal bundle trades as its training run did (long_short), to its numbers
    assert rnnkit.cli.main(["backtest", "--model", str(run / "model.rnnkit"), "--out",
                            str(tmp_path / "default")]) == 0
    default = json.loads((tmp_path / "default" / "backtest.json").read_text())
    trained = json.loads((run / "results.json").read_text())["test"]["backtest"]
    assert default["options"]["mode"] == "long_short" and default["in_sample"] == ""
    assert default["reports"]["model"]["total_return"] == pytest.approx(
        trained["model"]["total_return"], rel=1e-9)
    capsys.readouterr()
    for threshold in ("0.5", "0"):
        assert rnnkit.cli.main(["backtest", "--model", str(run / "model.rnnkit"),
                                "--threshold", threshold]) == 2
        assert "--threshold is read for forecaster bundles only" in capsys.readouterr().err
    for data in ([], ["--data", str(csv)]):  # its own series, named or not
        assert rnnkit.cli.main(["backtest", "--model", str(run / "model.rnnkit"), *data,
                                "--end", "2015-06"]) == 0  # the training period
        assert "rnnkit: warning: " in capsys.readouterr().err  # beside errors, not the table
    capsys.readouterr()
    assert rnnkit.cli.main(["evaluate", "--model", str(run / "model.rnnkit")]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert set(scored["classification"]) == {"model", "majority", "persistence"}
    for name in ("model", "persistence"):  # evaluate trades long/short too, as trained
        assert scored["backtest"][name]["total_return"] == pytest.approx(
            trained[name]["total_return"], rel=1e-9)


def test_bad_input_gets_clear_errors(tmp_path: Path, capsys) -> None:
    csv = write_csv(tmp_path / "prices.csv", price_frame(400))
    args = ["train", "signal", "--out", str(tmp_path / "run")]
    for item in settings(csv, **{"signal.up": "-0.1", "signal.down": "0.1",
                                 "signal.thresholds": "fixed"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 2
    assert "must not be above" in capsys.readouterr().err
    args = ["train", "signal", "--out", str(tmp_path / "run")]
    for item in settings(csv, **{"data.target": "volume"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 2
    assert "has no target column 'volume'; its columns: " in capsys.readouterr().err
    args = ["train", "signal", "--out", str(tmp_path / "run")]
    for item in settings(csv, **{"train.epochs": "1"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    bundle = str(tmp_path / "run" / "model.rnnkit")
    capsys.readouterr()
    assert rnnkit.cli.main(["backtest", "--model", bundle, "--start", "2030-01-01"]) == 2
    # it said "the data runs from <first decision> to <last decision>": a file ending months
    # after the last decision seemed cut short
    err = capsys.readouterr().err
    last = price_frame(400).index[-1 - 1].date()  # the settings' horizon: 1 row
    assert re.search(r"no decision dates between 2030-01-01 and the end; the decision dates "
                     rf"run from \S+ to {last} \(a decision reads the \d+ rows up to it and is "
                     r"scored 1 row after it", err), err
    assert rnnkit.cli.main(["backtest", "--model", bundle, "--start", "2015-06", "--end",
                            "2015-06", "--out", str(tmp_path / "june")]) == 0
    june = json.loads((tmp_path / "june" / "backtest.json").read_text())
    assert (june["first_decision"][:10], june["last_decision"][:10]) == (
        "2015-06-01", "2015-06-30")  # --end 2015-06: to the end of June
    assert rnnkit.cli.main(["forecast", "--model", bundle, "--as-of", "1990-01-01"]) == 2
    assert "no rows" in capsys.readouterr().err


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


@pytest.mark.parametrize(("extra", "message"), [
    ({"signal.mode": "longshort"}, "signal.mode must be one of long_flat, long_short"),
    ({"signal.cost_bps": "-5"}, "signal.cost_bps must be at least 0"),
    ({"signal.slippage_bps": "-5"}, "signal.slippage_bps must be at least 0"),
    ({"signal.kind": "logreturn"}, "signal.kind must be one of auto, price"),
    ({"signal.up": "0.02"}, "signal.up are read only with signal.thresholds=fixed"),
    ({"signal.thresholds": "fixed", "signal.up": "-0.01", "signal.down": "0.01"},
     "signal.down 0.01 must not be above signal.up -0.01"),
    ({"data.change_lags": "1,7"}, "data.change_lags is read only with data.changes"),  # ignored
])
def test_backtest_settings_are_refused_before_training(tmp_path: Path, capsys, extra: dict,
                                                       message: str) -> None:
    csv = write_csv(tmp_path / "prices.csv", price_frame(400))
    args = ["train", "signal", "--out", str(tmp_path / "run")]
    for item in settings(csv, **extra):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run" / "model.rnnkit").exists()


@pytest.mark.parametrize(("command", "message"), [
    (["forecast", "--as-of", "2014-13-01"], "--as-of must be a date such as 2009-12-31"),
    (["forecast", "--data", "APPL"], "--data 'APPL' is neither a source (beijing, seattle"),
    (["backtest", "--end", "garbage"], "--end must be a date such as 2009-12-31"),
    (["backtest", "--cost-bps", "-1"], "--cost-bps must be at least 0; got -1.0"),
    (["backtest", "--slippage-bps", "-1"], "--slippage-bps must be at least 0; got -1.0"),
    (["backtest", "--threshold", "-0.1"], "--threshold must be at least 0; got -0.1"),
    (["backtest", "--data", "missing.csv"], "--data 'missing.csv' is neither a source"),
])
def test_forecast_and_backtest_name_a_bad_flag_before_loading_the_model(
        command: list[str], message: str, tmp_path: Path, capsys) -> None:
    assert rnnkit.cli.main([*command, "--model", str(tmp_path / "missing.rnnkit")]) == 2
    assert message in capsys.readouterr().err


def test_evaluate_names_a_bad_data_flag(tmp_path: Path, capsys) -> None:
    windows = make_windows(price_frame(100), "price", ["price_log_return"], lookback=5,
                           horizon=1)
    scaler = StandardScaler(["price_log_return"]).fit(windows.period_rows())
    model = SignalClassifier(ModelConfig(cell="gru", hidden_size=4), ["price_log_return"],
                             "price", 5, 1, scaler, 0.005, -0.005, "price")
    save_bundle(model, tmp_path / "model.rnnkit")
    assert rnnkit.cli.main(["evaluate", "--model", str(tmp_path / "model.rnnkit"), "--data",
                            "APPL"]) == 2
    assert "--data 'APPL' is neither a source" in capsys.readouterr().err  # not data.source
    # --split dev printed the test period's scores as the dev split's
    assert rnnkit.cli.main(["evaluate", "--model", str(tmp_path / "model.rnnkit"), "--split",
                            "dev"]) == 2
    assert "--split does not apply; leave it out" in capsys.readouterr().err
    # the flag names a --data file's date column; without --data it was ignored, silently
    assert rnnkit.cli.main(["evaluate", "--model", str(tmp_path / "model.rnnkit"),
                            "--date-column", "day"]) == 2
    assert "--date-column day names the date column of a --data file; give --data too" in \
        capsys.readouterr().err


def test_a_test_period_with_a_missing_value_is_classified_but_not_backtested(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = price_frame()
    frame.iloc[-20, 1] = np.nan  # a missing return in the test period drops 11 windows
    csv = write_csv(tmp_path / "gap.csv", frame)
    args = ["train", "signal", "--out", str(tmp_path / "run")]
    for item in settings(csv, **{"train.epochs": "1"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    results = json.loads((tmp_path / "run" / "results.json").read_text())["test"]
    assert "macro_f1" in results["classification"]["model"] and "backtest" not in results
    assert results["notes"][0].startswith("no backtest: no decision between")
    assert (tmp_path / "run" / "confusion.png").is_file()
    assert not (tmp_path / "run" / "equity.png").exists()


def test_a_target_that_is_not_a_price_must_say_so(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    frame = price_frame().rename(columns={"price_log_return": "returns"})
    csv = write_csv(tmp_path / "returns.csv", frame)
    args = ["train", "signal", "--out", str(tmp_path / "run")]
    for item in settings(csv, **{"data.target": "returns", "data.features": "returns"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 2
    assert "is read as a price (its name does not end in return or log_return)" in \
        capsys.readouterr().err
    assert rnnkit.cli.main([*args, "--set", "signal.kind=log_return"]) == 0
    capsys.readouterr()  # the bundle keeps the kind: backtest trades the returns it models
    assert rnnkit.cli.main(["backtest", "--model", str(tmp_path / "run" / "model.rnnkit"),
                            "--out", str(tmp_path / "bt")]) == 0
    trained = json.loads((tmp_path / "run" / "results.json").read_text())["test"]["backtest"]
    again = json.loads((tmp_path / "bt" / "backtest.json").read_text())["reports"]
    assert again["model"]["total_return"] == pytest.approx(trained["model"]["total_return"])


def test_one_class_in_every_training_window_is_refused(tmp_path: Path, capsys) -> None:
    frame = price_frame(400).assign(price=50.0)
    csv = write_csv(tmp_path / "flat.csv", frame)
    args = ["train", "signal", "--out", str(tmp_path / "run")]
    for item in settings(csv, **{"data.target": "price", "data.features": "price"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 2
    assert "every training window of 'price' has the class hold" in capsys.readouterr().err


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


def test_a_lookback_too_short_for_the_persistence_signal_is_refused_before_training(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = write_csv(tmp_path / "prices.csv", price_frame(300))
    args = ["train", "signal", "--out", str(tmp_path / "run")]
    for item in settings(csv, **{"data.target": "price", "data.features": "price",
                                 "data.lookback": "5", "data.horizon": "5"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 2  # a price's 5-day return needs 6 prices in the window
    assert "data.lookback 5 is too short for the persistence signal" in capsys.readouterr().err
    assert not (tmp_path / "run" / "model.rnnkit").exists()  # refused before training
    assert rnnkit.cli.main([*args, "--set", "data.lookback=6"]) == 0


@pytest.mark.parametrize(("kind", "lookback", "needed"), [("price", 5, 6), ("log_return", 4, 5)])
def test_a_lookback_too_short_for_a_named_kind_is_refused_by_print_config(
        kind: str, lookback: int, needed: int, capsys: pytest.CaptureFixture[str]) -> None:
    """With signal.kind named (not auto, which the target's name decides), --print-config
    passed it; the run refused it only once its data was read."""
    args = ["train", "signal", "--set", f"signal.kind={kind}", "--set", "data.horizon=5",
            "--print-config"]
    assert rnnkit.cli.main([*args, "--set", f"data.lookback={lookback}"]) == 2
    assert (f"data.lookback {lookback} is too short for the persistence signal baseline: the "
            f"past 5-step return of a {kind} target needs {needed} rows") in \
        capsys.readouterr().err
    assert rnnkit.cli.main([*args, "--set", f"data.lookback={needed}"]) == 0


@pytest.mark.parametrize(("target", "lookback", "needed"), [
    ("", 4, 5),  # the stock's default target, AAPL_log_return
    ("price", 5, 6),  # a target named, read as a price by its name
])
def test_a_lookback_too_short_for_a_known_target_is_refused_by_print_config(
        target: str, lookback: int, needed: int, capsys: pytest.CaptureFixture[str]) -> None:
    """With signal.kind=auto the target's name decides the kind, and where the name is known
    before the data (a stock's default target, data.target given) --print-config passed a
    lookback too short; the run refused it only once its data was read."""
    args = ["train", "signal", "--set", "data.source=AAPL", "--set", "data.horizon=5",
            "--print-config"] + (["--set", f"data.target={target}"] if target else [])
    assert rnnkit.cli.main([*args, "--set", f"data.lookback={lookback}"]) == 2
    assert f"data.lookback {lookback} is too short for the persistence signal baseline" in \
        capsys.readouterr().err
    assert rnnkit.cli.main([*args, "--set", f"data.lookback={needed}"]) == 0


def test_a_changed_file_keeps_the_model_s_test_period(tmp_path: Path, capsys) -> None:
    """A file's default split ends are found from its rows (70%, 85%): when earlier rows are
    added, the backtest still trades the model's test period, not days it trained on."""
    history = price_frame(900)
    csv = write_csv(tmp_path / "prices.csv", history.iloc[300:])
    for task, extra in (("signal", {}), ("forecaster", {"forecast.residual": "false"})):
        args = ["train", task, "--out", str(tmp_path / task)]
        for item in settings(csv, **{"train.epochs": "1", **extra}):
            args += ["--set", item]
        assert rnnkit.cli.main(args) == 0

    def first_decisions() -> list[str]:
        found = []
        for task in ("signal", "forecaster"):
            assert rnnkit.cli.main(["backtest", "--model", str(tmp_path / task / "model.rnnkit"),
                                    "--out", str(tmp_path / "bt")]) == 0
            found.append(json.loads((tmp_path / "bt" / "backtest.json").read_text())[
                "first_decision"])
        return found

    before = first_decisions()
    write_csv(csv, history)  # the file now holds 300 earlier rows too
    assert first_decisions() == before
    capsys.readouterr()


def test_the_model_s_own_file_named_another_way_is_warned_of_as_in_sample(
        tmp_path: Path, capsys, monkeypatch) -> None:
    csv = write_csv(tmp_path / "prices.csv", price_frame(500))
    monkeypatch.chdir(tmp_path)
    args = ["train", "signal", "--out", "run"]
    for item in settings(Path("prices.csv"), **{"train.epochs": "1"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    capsys.readouterr()
    for data in ("./prices.csv", str(csv)):  # the file the model trained on, by another path
        assert rnnkit.cli.main(["backtest", "--model", "run/model.rnnkit", "--data", data,
                                "--end", "2015-06"]) == 0  # the training period
        assert "rnnkit: warning: " in capsys.readouterr().err  # beside errors, not the table


def test_an_in_sample_backtest_says_so_on_its_plots(tmp_path: Path, capsys,
                                                     monkeypatch) -> None:
    """equity.png and drawdown.png of a backtest over the training period looked like a test:
    only the terminal and backtest.json said that the numbers were in-sample."""
    import rnnkit.viz.timeseries as viz

    figures: dict[str, Any] = {}
    save = viz.save_figure
    monkeypatch.setattr(viz, "save_figure", lambda figure, path, dpi: figures.setdefault(
        Path(path).name, figure) and save(figure, path, dpi))
    csv = write_csv(tmp_path / "prices.csv", price_frame(500))
    args = ["train", "signal", "--out", str(tmp_path / "run")]
    for item in settings(csv, **{"train.epochs": "1"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    model = str(tmp_path / "run" / "model.rnnkit")
    figures.clear()  # the test period alone: no note, no line
    assert rnnkit.cli.main(["backtest", "--model", model, "--out", str(tmp_path / "test")]) == 0
    axes = figures["equity.png"].axes[0]
    assert "in-sample" not in axes.get_title()
    assert "test period starts" not in [line.get_label() for line in axes.get_lines()]
    start = json.loads((tmp_path / "test" / "backtest.json").read_text())["first_decision"]
    start = np.datetime64(start[:10])
    figures.clear()
    assert rnnkit.cli.main(["backtest", "--model", model, "--start", "2015-02",
                            "--out", str(tmp_path / "bt")]) == 0
    assert json.loads((tmp_path / "bt" / "backtest.json").read_text())["in_sample"]
    for name in ("equity.png", "drawdown.png"):
        axes = figures[name].axes[0]
        assert f"in-sample before {start}" in axes.get_title()
        assert axes.get_title().startswith("price_log_return: ")  # as equity.png
        lines = {line.get_label(): line for line in axes.get_lines()}
        assert np.datetime64(lines["test period starts"].get_xdata()[0], "D") == start
    capsys.readouterr()


def test_a_model_whose_file_is_gone_says_so_and_names_data(tmp_path: Path, capsys) -> None:
    csv = write_csv(tmp_path / "prices.csv", price_frame(400))
    args = ["train", "signal", "--out", str(tmp_path / "run")]
    for item in settings(csv, **{"train.epochs": "1"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    moved = csv.rename(tmp_path / "moved.csv")
    bundle = str(tmp_path / "run" / "model.rnnkit")
    capsys.readouterr()
    for verb in ("backtest", "forecast", "evaluate"):
        assert rnnkit.cli.main([verb, "--model", bundle]) == 2
        assert f"the model was trained on the file {csv}, which is not there now; give " \
            "--data with the file's path" in capsys.readouterr().err
    assert rnnkit.cli.main(["backtest", "--model", bundle, "--data", str(moved)]) == 0


def test_another_source_without_the_model_s_target_names_it(tmp_path: Path, capsys) -> None:
    args = ["train", "signal", "--out", str(tmp_path / "run")]
    for item in ("data.source=AAPL", "data.lookback=10", "data.horizon=1",
                 "model.hidden_size=4", "train.epochs=1", "train.threads=1"):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    csv = write_csv(tmp_path / "prices.csv", price_frame(400))
    capsys.readouterr()
    assert rnnkit.cli.main(["backtest", "--model", str(tmp_path / "run" / "model.rnnkit"),
                            "--data", str(csv)]) == 2
    assert "has no target column 'AAPL_log_return'; its columns: price, price_log_return. " \
        "The model (trained on AAPL) reads its target 'AAPL_log_return': give --data with " \
        "that column" in capsys.readouterr().err


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


@pytest.mark.parametrize("key", ["horizon", "lookback", "stride"])
def test_a_window_size_below_1_is_refused_by_print_config(capsys, key: str) -> None:
    # --print-config printed data.horizon = 0 and exited 0; only training refused it
    assert rnnkit.cli.main(["train", "signal", "--print-config", "--set", f"data.{key}=0"]) == 2
    assert f"data.{key} must be at least 1; got 0" in capsys.readouterr().err


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


@pytest.mark.parametrize("zero_from", [0, 330])
def test_evaluate_on_prices_of_zero_says_so(tmp_path: Path, capsys, zero_from: int) -> None:
    """``evaluate`` of a price model on a file whose prices hold 0 (from the start, or in the
    test period) said 'no training labels to take the majority of', or printed NumPy's
    'divide by zero' warning first; it now refuses the prices, as training and backtest do."""
    frame = price_frame(400)
    csv = write_csv(tmp_path / "prices.csv", frame)
    args = ["train", "signal", "--out", str(tmp_path / "run")]
    for item in settings(csv, **{"train.epochs": "1", "data.target": "price",
                                 "data.features": "price"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    frame.iloc[zero_from:, 0] = 0.0
    zeros = write_csv(tmp_path / "zeros.csv", frame)
    capsys.readouterr()
    assert rnnkit.cli.main(["evaluate", "--model", str(tmp_path / "run" / "model.rnnkit"),
                            "--data", str(zeros)]) == 2
    err = capsys.readouterr().err
    assert "the target 'price' is read as a price" in err and "holds values of 0 or below" in err
    assert "warning" not in err


def test_signal_plots_name_their_target_and_period(tmp_path: Path, monkeypatch) -> None:
    """drawdown.png's title read "drawdown" alone, while equity.png beside it named the
    target and the test period."""
    import rnnkit.viz.timeseries as viz

    titles: dict[str, str] = {}
    monkeypatch.setattr(viz, "save_figure", lambda figure, path, dpi: titles.setdefault(
        Path(path).name, figure.axes[0].get_title()))
    csv = write_csv(tmp_path / "prices.csv", price_frame(500))
    config = load_config(SignalRunConfig, None, settings(csv, **{"train.epochs": "1"}))
    train_signal(config, tmp_path / "run", log=lambda line: None)
    assert titles == {"equity.png": "price_log_return: equity after costs (test)",
                      "drawdown.png": "price_log_return: drawdown (test)"}
