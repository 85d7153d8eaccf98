"""``classifier.calibrate=temperature`` and ``signal.calibrate=temperature``: after training
(the best weights restored), fit the model's temperature on its validation examples
(:func:`~rnnkit.training.temperature.fit_temperature`) and report their NLL and ECE before and
after. The model keeps ``T`` (its bundle too) and divides its logits by it in every probability
it gives; the predicted classes, and so accuracy and F1, stay as they were.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnkit.data.batching import BatchSource
from rnnkit.models.classifier import SequenceClassifier
from rnnkit.models.classifier_options import check_calibration
from rnnkit.models.signal import SignalClassifier
from rnnkit.pipelines.classifier_scoring import probability_calibration
from rnnkit.timeseries.windows import Windows
from rnnkit.training.calibration import class_calibration
from rnnkit.training.task import evaluating, move_to
from rnnkit.training.temperature import (
    LIMIT,
    calibrated,
    errors,
    fit_outcome,
    fit_temperature,
    scaled_nll,
)

NO_VALIDATION = ("{setting}=temperature fits the temperature on the validation {what}, and "
                 "this run has none: {fix}, or leave {setting} out")


# why a T at an end of the search, or from logits that do not vary, is not applied (T = 1 is
# kept), or is applied with a warning (the upper end); {examples}: the validation examples
OUTCOMES = {
    "flat": "the validation logits do not vary between the classes (a constant model?), so "
            "their NLL is the same at every T: there is nothing to calibrate on; T = 1 kept",
    "no_errors": "every one of the {examples} validation predictions is right, so their NLL "
                 "keeps falling as T shrinks (towards probabilities of 1 that a test set with "
                 "any error punishes): there is nothing to calibrate on; T = 1 kept. A larger "
                 "validation set, on which the model makes errors, gives a T",
    "sharpest": "the validation NLL still falls at T = 1/{limit:g} (its {errors} error(s) are "
                "near ties), and so small a T puts a probability of about 1 on every "
                "prediction; T = 1 kept",
    "non_finite": "the validation logits hold NaN or infinite values (a model that "
                  "diverged?): there is no temperature to fit; T = 1 kept",
    "softest": "the fitted T is {limit:g}, the end of the search: the model is close to "
               "uninformative on the validation examples (their NLL still falls as T grows, "
               "towards uniform probabilities), so its probabilities are now near uniform; "
               "its classes are unchanged",
}


def fit_and_report(logits: Tensor, targets: Tensor, kind: str,
                   ece: Callable[[float], float], log: Any = print) -> tuple[float, dict[str, Any]]:
    """``T`` to apply, fitted on ``logits``, and the ``temperature_scaling`` block of
    ``results.json``: ``T``, whether it was applied, the validation examples and their NLL and
    ECE (``ece(T)``) at ``T = 1`` and at ``T``. A fit at the lower end of the search (every
    validation prediction right: the NLL falls towards ``T = 0``) or from logits that do not
    vary keeps ``T = 1`` with a warning (``applied: false`` and the reason); at the upper end
    (a model close to uninformative) ``T`` is applied with a warning."""
    if not bool(torch.isfinite(logits).all()):  # a model that diverged: its run is kept
        reason = OUTCOMES["non_finite"]
        warnings.warn(f"temperature scaling: {reason}", stacklevel=2)
        return 1.0, {"method": "temperature", "temperature": 1.0, "applied": False,
                     "validation_examples": int(len(logits)), "outcome": "non_finite",
                     "reason": reason}
    fitted = fit_temperature(logits, targets, kind)
    outcome = fit_outcome(logits, targets, kind, fitted)
    applied = outcome in ("fitted", "softest")
    temperature = fitted if applied else 1.0
    report: dict[str, Any] = {
        "method": "temperature", "temperature": round(temperature, 6), "applied": applied,
        "validation_examples": int(len(logits)),
        "validation_nll": {"before": round(scaled_nll(logits, targets, kind), 6),
                           "after": round(scaled_nll(logits, targets, kind, temperature), 6)},
        "validation_ece": {"before": ece(1.0), "after": ece(temperature)}}
    if outcome != "fitted":
        reason = OUTCOMES[outcome].format(examples=len(logits), limit=LIMIT,
                                          errors=errors(logits, targets, kind))
        report.update(outcome=outcome, fitted_temperature=round(fitted, 6), reason=reason)
        warnings.warn(f"temperature scaling: {reason}", stacklevel=2)
    log(f"temperature {temperature:.4f}{'' if applied else ' (not applied)'} on "
        f"{len(logits)} validation examples: NLL {report['validation_nll']['before']:.4f} -> "
        f"{report['validation_nll']['after']:.4f}, ECE {report['validation_ece']['before']:.4f}"
        f" -> {report['validation_ece']['after']:.4f}")
    return temperature, report


def check_signal_validation(labels: np.ndarray) -> np.ndarray:
    """The validation windows whose class is known (``labels >= 0``), which
    ``signal.calibrate=temperature`` fits on: refused, before training, where there are none."""
    known = np.flatnonzero(np.asarray(labels) >= 0)
    if not len(known):
        raise ValueError(NO_VALIDATION.format(
            setting="signal.calibrate", what="windows whose class is known",
            fix="move data.val_end later (or data.train_end earlier)"))
    return known


def calibrate_signal(model: SignalClassifier, validation: Windows, labels: np.ndarray,
                     log: Any = print) -> dict[str, Any]:
    """Fit the buy/sell/hold classifier's temperature on the validation windows whose class
    is known (``labels >= 0``); ``model.temperature`` is set."""
    known = check_signal_validation(labels)
    logits = model.window_logits(validation.subset(known), 1024).double().cpu()
    gold = torch.as_tensor(np.asarray(labels)[known], dtype=torch.long)

    def ece(temperature: float) -> float:
        probabilities = torch.softmax(calibrated(logits, temperature), -1)
        return float(class_calibration(probabilities, gold)["ece"])

    model.temperature, report = fit_and_report(logits, gold, "softmax", ece, log)
    return report


def calibrate_classifier(model: SequenceClassifier, dev: BatchSource,
                         log: Any = print) -> dict[str, Any]:
    """Fit a softmax or sigmoid classifier's temperature on its dev batches (those it was
    validated on in training); ``model.temperature`` is set. A regression
    (``classifier.output=linear``) is refused."""
    check_calibration(model.config.output)
    kind = "softmax" if model.config.output == "softmax" else (
        "binary" if model.binary else "multi_label")
    device = next(model.parameters()).device
    scores, targets = [], []
    with evaluating(model), torch.no_grad():
        for batch in dev.batches(0):
            scores.append(model(move_to(batch, device)).double().cpu())
            targets.append(batch.targets.cpu())
    if not scores:  # (train classifier's dev split is never empty)
        raise ValueError("no validation examples to fit the temperature on: give "
                         "calibrate_classifier the dev batches")
    logits, gold = torch.cat(scores), torch.cat(targets)

    def ece(temperature: float) -> float:
        probabilities = model.probabilities(calibrated(logits, temperature))
        return float(probability_calibration(probabilities, gold, model.multi_label)["ece"])

    model.temperature, report = fit_and_report(logits, gold, kind, ece, log)
    return report
