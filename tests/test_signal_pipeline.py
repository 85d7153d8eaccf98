"""``rnnkit train signal``: its scores, baselines and plots, and the settings and data refused
before training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_signal import price_frame, settings, write_csv

import rnnkit.cli
from rnnkit.config import load_config
from rnnkit.pipelines.signal import SignalRunConfig, train_signal


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


@pytest.mark.parametrize("key", ["horizon", "lookback", "stride"])
def test_a_window_size_below_1_is_refused_by_print_config(capsys, key: str) -> None:
    # --print-config printed data.horizon = 0 and exited 0; only training refused it
    assert rnnkit.cli.main(["train", "signal", "--print-config", "--set", f"data.{key}=0"]) == 2
    assert f"data.{key} must be at least 1; got 0" in capsys.readouterr().err


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
