"""Temperature scaling: T fitted where the optimum is known, predictions unchanged, kept in the
bundle (older bundles: T = 1), and refused where it cannot act."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from test_classifier import TEXTS, _batch, _text_model
from test_signal import price_frame, settings, write_csv

import rnnkit.cli
from rnnkit.config import ConfigError, ModelConfig, load_config
from rnnkit.models.signal import SignalClassifier
from rnnkit.pipelines.classifier import ClassifierRunConfig, check_run
from rnnkit.pipelines.classifier_scoring import source
from rnnkit.pipelines.signal import SignalRunConfig, train_signal
from rnnkit.pipelines.signal import check_run as check_signal_run
from rnnkit.pipelines.stocks_config import StocksRunConfig, check_config
from rnnkit.pipelines.temperature_fit import (
    calibrate_classifier,
    calibrate_signal,
    fit_and_report,
)
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.windows import make_windows
from rnnkit.training.bundle import header_metadata, load_bundle, save_bundle
from rnnkit.training.temperature import fit_outcome, fit_temperature, scaled_nll


def _sampled(kind: str, rows: int = 20000, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """True logits and targets drawn from their probabilities: T = 1 is the optimum."""
    generator = torch.Generator().manual_seed(seed)
    if kind == "softmax":
        logits = 2 * torch.randn(rows, 4, generator=generator)
        targets = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)[:, 0]
        return logits, targets
    shape = (rows,) if kind == "binary" else (rows, 3)
    logits = 2 * torch.randn(shape, generator=generator)
    return logits, (torch.rand(shape, generator=generator) < torch.sigmoid(logits)).float()


@pytest.mark.parametrize("kind", ["softmax", "binary", "multi_label"])
@pytest.mark.parametrize("sharpness", [3.0, 0.5])
def test_logits_k_times_too_sharp_give_t_near_k(kind: str, sharpness: float) -> None:
    logits, targets = _sampled(kind)
    fitted = fit_temperature(sharpness * logits, targets, kind)
    assert fitted == pytest.approx(sharpness, rel=0.05)
    assert fit_temperature(sharpness * logits, targets, kind) == fitted  # deterministic
    best = scaled_nll(sharpness * logits, targets, kind, fitted)
    for other in (0.9 * fitted, 1.1 * fitted, 1.0):  # a minimum of the NLL
        assert best < scaled_nll(sharpness * logits, targets, kind, other)


def test_a_binary_sigmoid_gets_the_t_of_the_two_class_softmax() -> None:
    """sigmoid(z / T) is softmax([0, z] / T): one T is right for a binary sigmoid head (its
    ECE can still rise, README: the fit minimises the NLL)."""
    logits, targets = _sampled("binary", 5000, seed=2)
    for shift in (0.0, -1.5):  # a wrong threshold too: T cannot move it
        pair = torch.stack([torch.zeros_like(logits), logits + shift], 1)
        assert fit_temperature(logits + shift, targets, "binary") == pytest.approx(
            fit_temperature(pair, targets.long(), "softmax"), rel=1e-6)


def test_the_optimum_of_a_hand_made_set() -> None:
    # one logit gap g, right 3 times in 4: the optimum gives p = 0.75, g / T = log 3
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 0.0]])
    fitted = fit_temperature(logits, torch.tensor([0, 1, 0, 1]), "softmax")
    assert fitted == pytest.approx(2.0 / np.log(3.0), rel=1e-6)


def test_every_validation_example_right_ends_at_the_limit() -> None:
    logits = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert fit_temperature(logits, torch.tensor([0, 1]), "softmax") == pytest.approx(0.01,
                                                                                     rel=1e-5)


@pytest.mark.parametrize("logits, targets, kind, outcome, applied", [
    # every prediction right: the NLL falls towards T = 0, probabilities of 1
    (torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 1]), "softmax", "no_errors", 1.0),
    (torch.tensor([2.0, -1.0]), torch.tensor([1.0, 0.0]), "binary", "no_errors", 1.0),
    # a constant model: the NLL is the same at every T (the search ended at 0.01 too)
    (torch.zeros(4, 3), torch.tensor([0, 1, 2, 0]), "softmax", "flat", 1.0),
    # an error that is a tie: the NLL still falls at T = 0.01
    (torch.tensor([[1.0, 0.0], [0.0, 0.0]]), torch.tensor([0, 1]), "softmax", "sharpest", 1.0),
    # the same confident logits right and wrong: uninformative, T = 100 applied
    (torch.tensor([[1.0, 0.0], [1.0, 0.0]]), torch.tensor([0, 1]), "softmax", "softest", 100.0),
])
def test_a_fit_at_an_end_of_the_search_keeps_t_1_or_warns(
        logits: torch.Tensor, targets: torch.Tensor, kind: str, outcome: str,
        applied: float) -> None:
    fitted = fit_temperature(logits, targets, kind)
    assert fit_outcome(logits, targets, kind, fitted) == outcome
    lines: list[str] = []
    with pytest.warns(UserWarning, match="temperature scaling: ") as caught:
        temperature, report = fit_and_report(logits, targets, kind, lambda t: 0.0, lines.append)
    assert temperature == pytest.approx(applied, rel=1e-5)
    assert report["temperature"] == pytest.approx(applied, rel=1e-5)
    assert report["applied"] is (outcome == "softest")
    assert report["outcome"] == outcome and report["reason"] in str(caught[0].message)
    if outcome == "no_errors":
        assert "every one of the 2 validation predictions is right" in report["reason"]
        assert "T = 1 kept" in report["reason"] and "(not applied)" in lines[0]
    if outcome == "flat":
        assert "the same at every T" in report["reason"]


def test_a_fit_inside_the_search_is_applied_without_a_warning(recwarn) -> None:
    logits, targets = _sampled("softmax", 2000)
    temperature, report = fit_and_report(3 * logits, targets, "softmax", lambda t: 0.0,
                                         lambda line: None)
    assert report["applied"] is True and "outcome" not in report and not recwarn.list
    assert report["temperature"] == pytest.approx(temperature, abs=1e-6)


def test_dividing_by_t_keeps_every_argmax() -> None:
    logits, targets = _sampled("softmax", 5000, seed=1)
    for temperature in (0.01, 0.37, 1.0, 2.9, 100.0):
        assert torch.equal(torch.softmax(logits / temperature, -1).argmax(-1), logits.argmax(-1))
        assert torch.equal(torch.sigmoid(logits[:, 0] / temperature) >= 0.5, logits[:, 0] >= 0)


@pytest.mark.parametrize("logits, targets, kind, message", [
    (torch.empty(0, 2), torch.empty(0), "softmax", "no validation examples"),
    (torch.zeros(3, 2), torch.zeros(2), "softmax", r"softmax logits of shape \[3, 2\] and "
                                                   r"targets of shape \[2\] do not fit"),
    (torch.tensor([[float("nan"), 0.0]]), torch.tensor([0]), "softmax", "NaN or infinite"),
    (torch.zeros(2), torch.zeros(2), "platt", "kind must be one of softmax, binary"),
])
def test_what_cannot_be_fitted_is_refused(logits: torch.Tensor, targets: torch.Tensor,
                                          kind: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit_temperature(logits, targets, kind)


def _signal_model() -> tuple[SignalClassifier, object]:
    frame = price_frame(200)
    windows = make_windows(frame, "price_log_return", ["price_log_return"], 10, 1)
    scaler = StandardScaler(["price_log_return"]).fit(windows.period_rows())
    torch.manual_seed(0)
    model = SignalClassifier(ModelConfig(cell="gru", hidden_size=8), ["price_log_return"],
                             "price_log_return", 10, 1, scaler, 0.005, -0.005)
    return model, windows


@pytest.mark.filterwarnings("ignore:temperature scaling")  # T = 100: random labels
def test_a_signal_bundle_keeps_t_and_an_older_one_loads_with_1(tmp_path: Path) -> None:
    model, windows = _signal_model()
    plain = save_bundle(model, tmp_path / "plain.rnnkit")
    saved = json.loads(header_metadata(plain.read_bytes())["config"])
    assert "temperature" not in saved  # T = 1: the header as before
    assert load_bundle(plain).temperature == 1.0
    before = model.predict_windows(windows)
    labels = np.random.default_rng(0).integers(0, 3, len(windows))
    report = calibrate_signal(model, windows, labels, log=lambda line: None)
    assert model.temperature == pytest.approx(report["temperature"], rel=1e-5)
    assert report["validation_nll"]["after"] <= report["validation_nll"]["before"]
    loaded = load_bundle(save_bundle(model, tmp_path / "scaled.rnnkit"))
    assert loaded.temperature == model.temperature != 1.0
    after = loaded.predict_windows(windows)
    assert np.array_equal(after.argmax(1), before.argmax(1))
    assert not np.allclose(after, before)
    np.testing.assert_allclose(after, model.predict_windows(windows), rtol=1e-6)
    with pytest.raises(ValueError, match="signal.calibrate=temperature fits the temperature on "
                                         "the validation windows whose class is known"):
        calibrate_signal(model, windows, np.full(len(windows), -1))


@pytest.mark.filterwarnings("ignore:temperature scaling")  # T = 100: random labels
def test_a_classifier_bundle_keeps_t_in_predict_and_evaluate(tmp_path: Path) -> None:
    from rnnkit.data.text_labels import LabelledText

    model = _text_model(output="sigmoid").eval()
    batch = _batch(model, torch.tensor([1, 0, 1, 0, 1, 0]))
    before, scores = model.predict(batch), model.evaluate([batch])
    examples = [LabelledText(tuple(text.split()), (label,)) for text, label in TEXTS]
    report = calibrate_classifier(model, source(model, examples, 256, False),
                                  log=lambda line: None)
    assert report["validation_examples"] == len(TEXTS)
    loaded = load_bundle(save_bundle(model, tmp_path / "c.rnnkit")).eval()
    assert loaded.temperature == model.temperature != 1.0
    after = loaded.predict(batch)
    assert torch.equal(after.argmax(1), before.argmax(1))
    torch.testing.assert_close(after[:, 1], torch.sigmoid(model(batch) / model.temperature))
    rescored = loaded.evaluate([batch])
    assert rescored["accuracy"] == scores["accuracy"]
    assert rescored["macro_f1"] == scores["macro_f1"]
    with pytest.raises(ValueError, match="no validation examples to fit the temperature on"):
        calibrate_classifier(model, source(model, [], 256, False))


# the classifier section of a bundle before temperature scaling (an rnnkit of then refuses
# any other key: ClassifierConfig(**section))
OLDER_CLASSIFIER_KEYS = {"word_dim", "pooling", "output", "embedding_dropout", "output_dropout",
                         "word_dropout", "class_weights"}


def test_an_uncalibrated_bundle_is_as_before_and_a_calibrated_one_is_format_3(
        tmp_path: Path) -> None:
    """Every classifier bundle held "calibrate": "none", which an rnnkit before temperature
    scaling refused, and a calibrated signal bundle (format 1) loaded there without T."""
    from dataclasses import replace

    model = _text_model(output="sigmoid")
    model.config = replace(model.config, calibrate="temperature")  # as a calibrated run's
    header = header_metadata(save_bundle(model, tmp_path / "plain.rnnkit").read_bytes())
    assert header["format_version"] == "1"
    assert set(json.loads(header["config"])["classifier"]) == OLDER_CLASSIFIER_KEYS
    model.temperature = 0.5
    header = header_metadata(save_bundle(model, tmp_path / "scaled.rnnkit").read_bytes())
    assert header["format_version"] == "3"
    assert set(json.loads(header["config"])["classifier"]) == OLDER_CLASSIFIER_KEYS
    assert load_bundle(tmp_path / "scaled.rnnkit").temperature == 0.5
    signal, _ = _signal_model()
    assert header_metadata(save_bundle(signal, tmp_path / "s.rnnkit").read_bytes())[
        "format_version"] == "1"
    signal.temperature = 2.0
    scaled = save_bundle(signal, tmp_path / "s3.rnnkit")
    assert header_metadata(scaled.read_bytes())["format_version"] == "3"
    assert load_bundle(scaled).temperature == 2.0


def test_a_damaged_temperature_is_refused(tmp_path: Path) -> None:
    model, _ = _signal_model()
    model.temperature = -2.0
    path = save_bundle(model, tmp_path / "bad.rnnkit")
    with pytest.raises(ValueError, match="temperature must be a finite number above 0; got -2.0"):
        load_bundle(path)


def test_a_regression_and_unknown_settings_are_refused() -> None:
    linear = load_config(ClassifierRunConfig, None, ["data.train=x.csv",
                                                     "classifier.output=linear",
                                                     "classifier.calibrate=temperature"])
    with pytest.raises(ConfigError, match="classifier.output=linear gives numbers \\(a "
                                          "regression\\): leave classifier.calibrate out"):
        check_run(linear)
    with pytest.raises(ConfigError, match="signal.calibrate"):
        check_signal_run(load_config(SignalRunConfig, None, ["signal.calibrate=platt"]))
    stocks = load_config(StocksRunConfig, None, ["signal.calibrate=temperature"])
    with pytest.raises(ConfigError, match="rnnkit stocks does not read signal.calibrate"):
        check_config(stocks)


def test_train_signal_records_t_and_keeps_the_classes(tmp_path: Path, capsys) -> None:
    csv = write_csv(tmp_path / "prices.csv", price_frame(700))
    plain = train_signal(load_config(SignalRunConfig, None, settings(csv)), tmp_path / "a",
                         log=lambda line: None)
    assert "temperature_scaling" not in plain
    assert rnnkit.cli.main(["train", "signal", "--out", str(tmp_path / "b"), *[
        part for setting in settings(csv, **{"signal.calibrate": "temperature"})
        for part in ("--set", setting)]]) == 0
    assert "temperature" in capsys.readouterr().out
    scaled = json.loads((tmp_path / "b" / "results.json").read_text())
    fitted = scaled["temperature_scaling"]
    assert fitted["temperature"] > 0 and fitted["validation_examples"] > 0
    assert set(fitted["validation_ece"]) == {"before", "after"}
    assert scaled["test"]["classification"] == plain["test"]["classification"]
    assert load_bundle(tmp_path / "b" / "model.rnnkit").temperature == pytest.approx(
        fitted["temperature"], rel=1e-5)


def _signal_args(out: Path, csv: Path, calibrate: str = "none") -> list[str]:
    return ["train", "signal", "--out", str(out), *[
        part for setting in settings(csv, **{"signal.calibrate": calibrate})
        for part in ("--set", setting)]]


def test_a_finished_run_resumed_with_calibrate_gets_its_t(tmp_path: Path) -> None:
    """--resume refused any change of signal.calibrate (or classifier.calibrate), which acts
    after training only: a run whose fit failed could never be finished."""
    csv = write_csv(tmp_path / "prices.csv", price_frame(700))
    assert rnnkit.cli.main(_signal_args(tmp_path / "fresh", csv, "temperature")) == 0
    fresh = json.loads((tmp_path / "fresh" / "results.json").read_text())
    assert rnnkit.cli.main(_signal_args(tmp_path / "run", csv)) == 0
    assert "temperature_scaling" not in json.loads((tmp_path / "run" / "results.json")
                                                   .read_text())
    assert rnnkit.cli.main([*_signal_args(tmp_path / "run", csv, "temperature"),
                            "--resume"]) == 0
    resumed = json.loads((tmp_path / "run" / "results.json").read_text())
    assert resumed["temperature_scaling"] == fresh["temperature_scaling"]  # the best weights'
    assert load_bundle(tmp_path / "run" / "model.rnnkit").temperature == pytest.approx(
        fresh["temperature_scaling"]["temperature"], rel=1e-5)
    assert rnnkit.cli.main([*_signal_args(tmp_path / "run", csv), "--resume"]) == 0
    assert load_bundle(tmp_path / "run" / "model.rnnkit").temperature == 1.0  # and back


def test_no_validation_window_to_fit_on_is_refused_before_training(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused before training, as forecast.conformal's too few windows are (it was refused
    after training: no bundle, no results.json). Validation windows of unknown class are
    dropped when read (a missing target), so this one is made by hand."""
    import rnnkit.pipelines.signal as pipeline

    labels = pipeline.window_labels
    calls: list[int] = []

    def unknown_in_validation(windows, *args):  # the second call: the validation windows'
        calls.append(1)
        found = labels(windows, *args)
        return np.full(len(found), -1) if len(calls) == 2 else found

    monkeypatch.setattr(pipeline, "window_labels", unknown_in_validation)
    csv = write_csv(tmp_path / "prices.csv", price_frame(700))
    config = load_config(SignalRunConfig, None, settings(csv, **{
        "signal.calibrate": "temperature"}))
    with pytest.raises(ValueError, match="signal.calibrate=temperature fits the temperature on "
                                         "the validation windows whose class is known, and "
                                         "this run has none"):
        train_signal(config, tmp_path / "run", log=lambda line: None)
    assert not (tmp_path / "run" / "last.pt").exists()


def test_logits_that_are_not_finite_keep_t_1_and_the_run() -> None:
    logits = torch.tensor([[float("nan"), 0.0], [1.0, 0.0]])
    with pytest.warns(UserWarning, match="NaN or infinite values .*T = 1 kept"):
        temperature, report = fit_and_report(logits, torch.tensor([0, 1]), "softmax",
                                             lambda t: 0.0, lambda line: None)
    assert temperature == 1.0 and report["applied"] is False
    assert report["outcome"] == "non_finite"
