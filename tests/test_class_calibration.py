"""The calibration of the classifiers' predicted-class probabilities (text and numeric
sequence classifiers, the buy/sell/hold signal, ``rnnkit stocks``) by hand, in results.json and
in ``rnnkit evaluate``; none for a regression."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from rnnkit.cli import main
from rnnkit.pipelines.classifier_scoring import probability_calibration
from rnnkit.training.calibration import calibration_report, class_calibration

# predicted class (argmax) and its probability: 2 @ 0.95 right, 0 @ 0.92 wrong, 1 @ 1.0 right,
# 0 @ 0.6 right, 2 @ 0.65 right, 0 @ 0.4 wrong (a tie 0.4/0.4: the first), 1 @ 0.35 right
ROWS = [[0.03, 0.02, 0.95], [0.92, 0.08, 0.0], [0.0, 1.0, 0.0], [0.6, 0.3, 0.1],
        [0.2, 0.15, 0.65], [0.4, 0.4, 0.2], [0.33, 0.35, 0.32]]
GOLD = [2, 1, 1, 0, 2, 1, 1]


def test_class_calibration_of_a_hand_made_prediction_set() -> None:
    report = class_calibration(np.array(ROWS), np.array(GOLD))
    # bins: [0.9, 1] 0.95, 0.92, 1.0 (2 right): |2 - 2.87|; [0.6, 0.7) 0.6, 0.65 (2 right):
    # |2 - 1.25|; [0.4, 0.5) 0.4 (wrong): |0 - 0.4|; [0.3, 0.4) 0.35 (right): |1 - 0.35|
    assert report["ece"] == pytest.approx((0.87 + 0.75 + 0.4 + 0.65) / 7, abs=1e-6)
    assert report["accuracy"] == pytest.approx(5 / 7, abs=1e-6)
    assert report["mean_confidence"] == pytest.approx(4.87 / 7, abs=1e-6)
    assert report["above"] == {"0.5": {"share": pytest.approx(5 / 7, abs=1e-6), "accuracy": 0.8},
                               "0.9": {"share": pytest.approx(3 / 7, abs=1e-6),
                                       "accuracy": pytest.approx(2 / 3, abs=1e-6)},
                               "0.99": {"share": pytest.approx(1 / 7, abs=1e-6),
                                        "accuracy": 1.0}}
    assert report == calibration_report([0.95, 0.92, 1.0, 0.6, 0.65, 0.4, 0.35],
                                        [True, False, True, True, True, False, True])
    # a float32 tensor (a classifier's) gives the same, its probabilities read exactly
    tensor = class_calibration(torch.tensor(ROWS), torch.tensor(GOLD))
    assert tensor["accuracy"] == report["accuracy"] and tensor["above"]["0.9"]["share"] == \
        report["above"]["0.9"]["share"]
    assert tensor["ece"] == pytest.approx(report["ece"], abs=1e-6)


@pytest.mark.parametrize("probabilities, gold, message", [
    ([0.5, 0.5], [0, 1], "probabilities of shape \\[2\\]: give one row"),
    ([[0.5, 0.5]], [0, 1], "1 rows of probabilities but gold of shape \\[2\\]"),
    ([[0.5, 0.5]], [2], "gold class 2 is not one of the 2 classes"),
    ([[0.5, 0.5]], [-1], "gold class -1 is not one of the 2 classes.*without a label"),
    ([[0.5, 0.5]], [0.0], "gold holds float64 values"),
    (np.zeros((0, 3)), np.zeros(0, dtype=int), "no predictions"),
    ([[1.5, -0.5]], [0], "confidence 1.5 is not a probability"),
])
def test_bad_input_is_named(probabilities: object, gold: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        class_calibration(probabilities, gold)


def test_binary_sigmoid_and_multi_label_outputs() -> None:
    # a binary sigmoid's outputs are its two classes' probabilities, as a softmax's
    binary = torch.tensor([[0.2, 0.8], [0.7, 0.3], [0.45, 0.55]])
    assert probability_calibration(binary, torch.tensor([1, 1, 0]), False) == \
        calibration_report([0.8, 0.7, 0.55], [True, False, False])
    # multi-label: each label's decision (p >= 0.5) with probability max(p, 1 - p)
    multi = torch.tensor([[0.875, 0.25, 0.625], [0.375, 0.9375, 0.5]])  # exact in float32
    gold = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert probability_calibration(multi, gold, True) == calibration_report(
        [0.875, 0.75, 0.625, 0.625, 0.9375, 0.5], [True, True, False, True, False, True])


def test_float32_probabilities_at_a_threshold_count_at_it() -> None:
    """float32's 0.9 (0.89999998) counts at 0.9 and in the [0.9, 1] bin, as float32's 0.99
    (0.99000001) counts at 0.99, given as a float32 tensor or array, or float64 values read
    from float32 (the signal's), and in a multi-label classifier's decisions (1 - 0.1)."""
    rows = [[0.1, 0.9], [0.01, 0.99]]
    exact = class_calibration(np.array(rows), np.array([1, 0]))
    assert exact["above"] == {"0.5": {"share": 1.0, "accuracy": 0.5},
                              "0.9": {"share": 1.0, "accuracy": 0.5},
                              "0.99": {"share": 0.5, "accuracy": 0.0}}
    assert exact["ece"] == pytest.approx(0.445, abs=1e-6)  # one bin: |1 - 1.89| / 2
    for probabilities in (torch.tensor(rows), np.array(rows, dtype=np.float32),
                          np.array(rows, dtype=np.float32).astype(np.float64)):
        assert class_calibration(probabilities, np.array([1, 0])) == exact
    multi = probability_calibration(torch.tensor(rows), torch.tensor([[0.0, 1.0], [1.0, 0.0]]),
                                    True)  # decisions at 0.9, 0.9 (both right), 0.99, 0.99
    assert multi["above"]["0.9"] == {"share": 1.0, "accuracy": 0.5}
    assert multi["above"]["0.99"] == {"share": 0.5, "accuracy": 0.0}
    assert multi["ece"] == pytest.approx(0.445, abs=1e-6)


QUICK = ["--set", "train.epochs=2", "--set", "model.hidden_size=4", "--set",
         "train.progress=false", "--set", "train.threads=1", "--set", "classifier.word_dim=4"]


def _train_and_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                        *settings: str) -> tuple[dict, dict]:
    data = tmp_path / "texts.csv"
    data.write_text("text,label\ngood film,1\nbad film,0\ngreat,1\nawful,0\nfine film,1\n"
                    "dull,0\n")
    out = tmp_path / "run"
    assert main(["train", "classifier", "--train", str(data), "--dev", str(data), "--test",
                 str(data), "--out", str(out), *QUICK, *settings]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out / "model.rnnkit"), "--data", str(data)]) == 0
    return json.loads((out / "results.json").read_text()), json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_results_and_evaluate_give_the_same_calibration(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], output: str) -> None:
    results, evaluated = _train_and_evaluate(tmp_path, capsys, "--set",
                                             f"classifier.output={output}")
    for split in ("dev", "test"):
        calibration = results[split]["calibration"]
        assert calibration["accuracy"] == pytest.approx(results[split]["scores"]["accuracy"],
                                                        abs=1e-6)
        assert calibration["bins"] == 10 and set(calibration["above"]) == {"0.5", "0.9", "0.99"}
        assert calibration["above"]["0.5"]["share"] == 1.0  # two classes: argmax >= 0.5
    assert evaluated["calibration"] == results["test"]["calibration"]
    assert {key: value for key, value in evaluated.items()
            if key not in ("calibration", "examples_per_second")} == \
        {key: value for key, value in results["test"].items()
         if key not in ("calibration", "examples_per_second")}


def test_a_regression_has_no_calibration(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    results, evaluated = _train_and_evaluate(tmp_path, capsys, "--set",
                                             "classifier.output=linear", "--set",
                                             "train.monitor=val_loss", "--set", "train.mode=min")
    assert "rmse" in evaluated["scores"] and "calibration" not in evaluated
    assert "calibration" not in results["dev"] and "calibration" not in results["test"]


def test_signal_results_and_evaluate_give_the_same_calibration(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from test_signal import price_frame, settings, write_csv

    csv = write_csv(tmp_path / "prices.csv", price_frame(500))
    run = tmp_path / "signal"
    args = ["train", "signal", "--out", str(run)]
    for item in settings(csv):
        args += ["--set", item]
    assert main(args) == 0
    test = json.loads((run / "results.json").read_text())["test"]
    calibration = test["calibration"]
    assert calibration["accuracy"] == pytest.approx(
        test["classification"]["model"]["accuracy"], abs=1e-6)
    assert 0.0 <= calibration["ece"] <= 1.0 and calibration["bins"] == 10
    capsys.readouterr()
    assert main(["evaluate", "--model", str(run / "model.rnnkit")]) == 0
    assert json.loads(capsys.readouterr().out)["calibration"] == calibration


def test_stocks_scores_each_symbol_s_classifier_calibration() -> None:
    from rnnkit.pipelines.stocks import StocksRunConfig
    from rnnkit.pipelines.stocks_report import score_symbol
    from rnnkit.timeseries.features import price_features
    from rnnkit.timeseries.windows import make_windows

    days = len(ROWS)
    rng = np.random.default_rng(0)
    prices = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, days + 30))), name="X",
                       index=pd.bdate_range("2010-01-01", periods=days + 30))
    frame = pd.concat([prices, price_features(prices)], axis=1).dropna()
    windows = make_windows(frame, "X_log_return", [c for c in frame if c != "X"], 10, 1)
    windows = windows.subset(slice(len(windows) - days, None))
    classes = np.array(GOLD)
    result = {"windows": windows, "forecast": np.zeros((days, 1)), "ridge": np.zeros((days, 1)),
              "price": prices, "probabilities": np.array(ROWS), "labels": classes,
              "majority": classes, "persistence_signal": classes, "folds": []}
    scores, _ = score_symbol("X", result, StocksRunConfig())
    assert scores["calibration"] == class_calibration(np.array(ROWS), classes)
    assert scores["calibration"]["accuracy"] == pytest.approx(
        scores["classification"]["model"]["accuracy"], abs=1e-6)


def test_a_numeric_sequence_classifier_s_calibration(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ["id,step,x,label"] + [f"s{index},{step},{index + step},{index % 2}"
                                   for index in range(8) for step in range(1 + index % 3)]
    data = tmp_path / "sequences.csv"
    data.write_text("\n".join(lines) + "\n")
    out = tmp_path / "numeric"
    assert main(["train", "classifier", "--train", str(data), "--dev", str(data), "--test",
                 str(data), "--format", "numeric", "--out", str(out), "--set",
                 "data.time_column=step", *QUICK[:-2]]) == 0
    test = json.loads((out / "results.json").read_text())["test"]
    assert test["calibration"]["accuracy"] == pytest.approx(test["scores"]["accuracy"],
                                                            abs=1e-6)
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out / "model.rnnkit"), "--data", str(data),
                 "--format", "numeric"]) == 0
    assert json.loads(capsys.readouterr().out)["calibration"] == test["calibration"]
