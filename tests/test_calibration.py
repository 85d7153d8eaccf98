"""Expected calibration error and the accuracy above confidence thresholds, by hand, and as
``rnnkit evaluate`` reports them for a tagger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rnnkit.training.calibration import calibration_report, expected_calibration_error


def test_ece_of_a_hand_made_case() -> None:
    # bin [0.9, 1]: 0.95, 0.92, 1.0 (2 right): |2 - 2.87| = 0.87
    # bin [0.6, 0.7): 0.6, 0.65 (2 right): |2 - 1.25| = 0.75
    # bin [0.0, 0.1): 0.0 (wrong): |0 - 0| = 0;  bin [0.3, 0.4): 0.3 (right): |1 - 0.3| = 0.7
    confidences = [0.95, 0.92, 1.0, 0.6, 0.65, 0.0, 0.3]
    correct = [True, False, True, True, True, False, True]
    assert expected_calibration_error(confidences, correct) == pytest.approx(
        (0.87 + 0.75 + 0.0 + 0.7) / 7, abs=1e-12)
    # one bin: the gap between the mean confidence and the accuracy
    assert expected_calibration_error(confidences, correct, bins=1) == pytest.approx(
        abs(5 / 7 - sum(confidences) / 7), abs=1e-12)
    # calibrated: in each bin the share right is the mean confidence
    assert expected_calibration_error([0.75] * 4 + [0.5] * 2,
                                      [True, True, True, False, True, False]) == 0.0
    assert expected_calibration_error([1.0, 1.0], [False, False]) == 1.0


def test_report_above_thresholds() -> None:
    confidences = [0.995, 0.95, 0.92, 0.6, 0.4]
    correct = [True, True, False, True, False]
    report = calibration_report(confidences, correct)
    assert report["bins"] == 10 and report["accuracy"] == 0.6
    assert report["mean_confidence"] == pytest.approx(sum(confidences) / 5)
    assert report["above"] == {"0.5": {"share": 0.8, "accuracy": 0.75},
                               "0.9": {"share": 0.6, "accuracy": pytest.approx(2 / 3)},
                               "0.99": {"share": 0.2, "accuracy": 1.0}}
    assert calibration_report([0.3], [True], thresholds=(0.5,))["above"] == {
        "0.5": {"share": 0.0, "accuracy": None}}


def test_float32_probabilities_at_a_threshold_count_at_it() -> None:
    """A float32 model's 0.9 is 0.89999998, printed 0.9000 by the tagger: it counts at 0.9 and
    in the [0.9, 1] bin, as float32's 0.99 (0.99000001) counts at 0.99; the tagger's scores
    come as Python floats of float32 values (Tagger.predict_with_confidence's .tolist())."""
    confidences = torch.tensor([0.9, 0.99]).tolist()  # [0.8999999762, 0.9900000095]
    assert f"{confidences[0]:.4f}" == "0.9000" and confidences[0] < 0.9 < 0.99 < confidences[1]
    report = calibration_report(confidences, [True, False])
    assert report["above"] == {"0.5": {"share": 1.0, "accuracy": 0.5},
                               "0.9": {"share": 1.0, "accuracy": 0.5},
                               "0.99": {"share": 0.5, "accuracy": 0.0}}
    # one bin, [0.9, 1]: |1 - 1.89| / 2 (the 0.8 bin and the 0.9 bin were |1 - 0.9| / 2 +
    # |0 - 0.99| / 2 = 0.545)
    assert report["ece"] == pytest.approx(0.445, abs=1e-6)
    assert report == calibration_report([0.9, 0.99], [True, False])
    # every bin edge: b / 10 is in bin b, in float32 as in float64
    from rnnkit.training.calibration import bin_indices

    edges = [b / 10 for b in range(11)]
    assert bin_indices(torch.tensor(edges).tolist(), 10) == bin_indices(edges, 10) == \
        [*range(10), 9]


@pytest.mark.parametrize("confidences, correct, message", [
    ([0.5], [True, False], "1 confidences but 2 correctness flags"),
    ([], [], "no predictions"),
    ([1.5], [True], "confidence 1.5 is not a probability"),
])
def test_bad_input_is_named(confidences: list[float], correct: list[bool], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        calibration_report(confidences, correct)


def test_evaluate_reports_the_tagger_s_calibration(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from rnnkit.cli import main

    data = tmp_path / "ner.iob"
    data.write_text("John\tB-PER\nlives\tO\nin\tO\nParis\tB-LOC\n\nMary\tB-PER\nleft\tO\n\n")
    out = tmp_path / "run"
    assert main(["train", "tagger", "--train", str(data), "--dev", str(data), "--test",
                 str(data), "--format", "iob", "--out", str(out), "--set", "train.epochs=2",
                 "--set", "train.progress=false", "--set", "model.hidden_size=8", "--set",
                 "tagger.word_dim=8", "--set", "tagger.char_dim=0", "--set",
                 "train.threads=1"]) == 0
    assert "calibration" in json.loads((out / "results.json").read_text())["test"]
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out / "model.rnnkit"), "--data", str(data)]) == 0
    result = json.loads(capsys.readouterr().out)
    calibration = result["calibration"]
    assert calibration["accuracy"] == pytest.approx(result["scores"]["accuracy"], abs=1e-6)
    assert 0.0 <= calibration["ece"] <= 1.0 and calibration["bins"] == 10
    assert set(calibration["above"]) == {"0.5", "0.9", "0.99"}
