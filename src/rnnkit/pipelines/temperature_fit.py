"""``classifier.calibrate=temperature`` and ``signal.calibrate=temperature``: after training
(the best weights restored), fit the model's temperature on its validation examples
(:func:`~rnnkit.training.temperature.fit_temperature`) and report their NLL and ECE before and
after. The model keeps ``T`` (its bundle too) and divides its logits by it in every probability
it gives; the predicted classes, and so accuracy and F1, stay as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnkit.models.classifier import SequenceClassifier
from rnnkit.models.signal import SignalClassifier
from rnnkit.models.window_inputs import scaled_batches
from rnnkit.pipelines.classifier_data import Example
from rnnkit.pipelines.classifier_scoring import probability_calibration, source
from rnnkit.timeseries.windows import Windows
from rnnkit.training.calibration import class_calibration
from rnnkit.training.task import evaluating, move_to
from rnnkit.training.temperature import LIMIT, at_limit, fit_temperature, scaled_nll

NO_VALIDATION = ("{setting}=temperature fits the temperature on the validation {what}, and "
                 "this run has none: {fix}, or leave {setting} out")


def fit_and_report(logits: Tensor, targets: Tensor, kind: str,
                   ece: Callable[[float], float], log: Any = print) -> tuple[float, dict[str, Any]]:
    """``T`` fitted on ``logits`` and the ``temperature`` block of ``results.json``: ``T``,
    the validation examples and their NLL and ECE (``ece(T)``) at ``T = 1`` and at ``T``."""
    temperature = fit_temperature(logits, targets, kind)
    report: dict[str, Any] = {
        "method": "temperature", "temperature": round(temperature, 6),
        "validation_examples": int(len(logits)),
        "validation_nll": {"before": round(scaled_nll(logits, targets, kind), 6),
                           "after": round(scaled_nll(logits, targets, kind, temperature), 6)},
        "validation_ece": {"before": ece(1.0), "after": ece(temperature)}}
    limit = ""
    if at_limit(temperature):
        limit = (f" (at the end of the search, 1/{LIMIT:g} to {LIMIT:g}: the validation NLL "
                 "still falls beyond it)")
        report["at_limit"] = True
    log(f"temperature {temperature:.4f}{limit} fitted on {len(logits)} validation examples: "
        f"NLL {report['validation_nll']['before']:.4f} -> {report['validation_nll']['after']:.4f}"
        f", ECE {report['validation_ece']['before']:.4f} -> "
        f"{report['validation_ece']['after']:.4f}")
    return temperature, report


def calibrate_signal(model: SignalClassifier, validation: Windows, labels: np.ndarray,
                     log: Any = print) -> dict[str, Any]:
    """Fit the buy/sell/hold classifier's temperature on the validation windows whose class
    is known (``labels >= 0``); ``model.temperature`` is set."""
    known = np.flatnonzero(np.asarray(labels) >= 0)
    if not len(known):
        raise ValueError(NO_VALIDATION.format(
            setting="signal.calibrate", what="windows whose class is known",
            fix="move data.val_end later (or data.train_end earlier)"))
    weight = next(model.parameters())
    with evaluating(model), torch.no_grad():
        logits = torch.cat([model(inputs).double().cpu() for inputs in scaled_batches(
            validation.subset(known), model.scaler, 1024, weight.device, weight.dtype)])
    gold = torch.as_tensor(np.asarray(labels)[known], dtype=torch.long)

    def ece(temperature: float) -> float:
        probabilities = torch.softmax(logits / temperature, -1)
        return float(class_calibration(probabilities, gold)["ece"])

    model.temperature, report = fit_and_report(logits, gold, "softmax", ece, log)
    return report


def calibrate_classifier(model: SequenceClassifier, examples: list[Example],
                         log: Any = print) -> dict[str, Any]:
    """Fit a softmax or sigmoid classifier's temperature on its dev examples;
    ``model.temperature`` is set. A regression (``classifier.output=linear``) is refused."""
    if model.config.output == "linear":
        raise ValueError("classifier.calibrate=temperature scales the logits of class "
                         "probabilities, and classifier.output=linear gives numbers: leave "
                         "classifier.calibrate out")
    if not examples:
        raise ValueError(NO_VALIDATION.format(
            setting="classifier.calibrate", what="examples",
            fix="give a dev file with examples (data.dev) or hold some out (data.dev_fraction)"))
    kind = "softmax" if model.config.output == "softmax" else (
        "binary" if model.binary else "multi_label")
    device = next(model.parameters()).device
    scores, targets = [], []
    with evaluating(model), torch.no_grad():
        for batch in source(model, examples, 256, False).batches(0):
            scores.append(model(move_to(batch, device)).double().cpu())
            targets.append(batch.targets.cpu())
    logits, gold = torch.cat(scores), torch.cat(targets)

    def ece(temperature: float) -> float:
        probabilities = model.probabilities(logits / temperature)
        return float(probability_calibration(probabilities, gold, model.multi_label)["ece"])

    model.temperature, report = fit_and_report(logits, gold, kind, ece, log)
    return report
