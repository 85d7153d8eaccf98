"""``rnnkit forecast`` / ``backtest`` / ``evaluate`` on signal and forecaster bundles: their flags,
the data they read, in-sample periods and clear errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_signal import price_frame, settings, write_csv

import rnnkit.cli
from rnnkit.config import ModelConfig
from rnnkit.models.signal import SignalClassifier
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.windows import make_windows
from rnnkit.training.bundle import save_bundle


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
