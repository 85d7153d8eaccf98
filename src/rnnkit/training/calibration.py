"""How far a model's confidences can be trusted: expected calibration error and the accuracy
of the predictions above a confidence threshold.

A model is calibrated when, of the predictions it gives confidence 0.9, nine in ten are right.
The expected calibration error (ECE; Naeini et al. 2015, Guo et al. 2017) sorts the predictions
into equal-width confidence bins and averages, weighted by the bins' sizes, the gap between each
bin's accuracy and its mean confidence: 0 for a calibrated model, up to 1.

Thresholds and bin edges are compared at float32 precision: a confidence is at or above 0.9
when its nearest float32 is at or above 0.9's (:func:`at_or_above`). A float32 model's 0.9 is
0.89999998, which a float64 comparison put below 0.9 and in the 0.8 bin while the tagger
printed it as 0.9000, and its 0.99 (0.99000001) above 0.99; now every probability that is a
threshold in float32 counts as that threshold, whether it comes as float32 or float64. For
float64 probabilities this moves only those within half a float32 ulp (3e-8) below a threshold
or edge. Sums and means are taken of the values as given (float64).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

THRESHOLDS = (0.5, 0.9, 0.99)


def at_or_above(confidences: Sequence[float], limit: float) -> list[bool]:
    """Whether each confidence is at or above ``limit`` at float32 precision (both rounded to
    the nearest float32 first), so float32's 0.9 is at 0.9.

    Example:
        >>> at_or_above([float(np.float32(0.9)), 0.89, 0.9], 0.9)
        [True, False, True]
    """
    values = np.asarray(confidences, dtype=np.float64).astype(np.float32)
    return (values >= np.float32(limit)).tolist()


def bin_indices(confidences: Sequence[float], bins: int) -> list[int]:
    """The equal-width bin of each confidence: ``b`` for ``[b / bins, (b + 1) / bins)`` (1.0 in
    the last), the edges compared at float32 precision as in :func:`at_or_above`.

    Example:
        >>> bin_indices([0.0, float(np.float32(0.9)), 0.85, 1.0], 10)
        [0, 9, 8, 9]
    """
    edges = (np.arange(bins + 1, dtype=np.float64) / bins).astype(np.float32)
    values = np.asarray(confidences, dtype=np.float64).astype(np.float32)
    indices = np.searchsorted(edges, values, side="right") - 1
    return np.clip(indices, 0, bins - 1).tolist()


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool],
                               bins: int = 10) -> float:
    """ECE over ``bins`` equal-width bins of [0, 1]: ``sum_b n_b / n * |accuracy_b -
    confidence_b|``. Bin ``b`` holds the confidences in ``[b / bins, (b + 1) / bins)``, the
    last one 1.0 too (:func:`bin_indices`: edges at float32 precision).

    Raises:
        ValueError: no predictions, lengths that differ, a confidence outside [0, 1], or
            fewer than one bin.

    Example:
        >>> expected_calibration_error([0.95, 0.95, 0.65, 0.65], [True, False, True, True])
        0.4
    """
    _check(confidences, correct)
    if bins < 1:
        raise ValueError(f"bins is {bins}; give at least 1")
    counts = [0] * bins
    confidence_sums = [0.0] * bins
    correct_counts = [0] * bins
    indices = bin_indices(confidences, bins)
    for index, confidence, right in zip(indices, confidences, correct, strict=True):
        counts[index] += 1
        confidence_sums[index] += confidence
        correct_counts[index] += bool(right)
    total = len(confidences)
    error = sum(abs(correct_counts[b] - confidence_sums[b]) / total
                for b in range(bins) if counts[b])
    return round(error, 12)


def calibration_report(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10,
                       thresholds: Sequence[float] = THRESHOLDS) -> dict[str, Any]:
    """ECE, mean confidence and accuracy of all predictions, and for each threshold the share
    of the predictions at or above it (:func:`at_or_above`: at float32 precision) and their
    accuracy (``None`` where none are).

    Example:
        >>> report = calibration_report([0.95, 0.95, 0.65, 0.65], [True, False, True, True],
        ...                             thresholds=(0.9,))
        >>> report["ece"], report["above"]
        (0.4, {'0.9': {'share': 0.5, 'accuracy': 0.5}})
    """
    _check(confidences, correct)
    total = len(confidences)
    above: dict[str, dict[str, float | None]] = {}
    for threshold in thresholds:
        picked = [right for above_it, right
                  in zip(at_or_above(confidences, threshold), correct, strict=True) if above_it]
        accuracy = round(sum(picked) / len(picked), 6) if picked else None
        above[f"{threshold:g}"] = {"share": round(len(picked) / total, 6), "accuracy": accuracy}
    return {
        "ece": round(expected_calibration_error(confidences, correct, bins), 6),
        "bins": bins,
        "mean_confidence": round(sum(confidences) / total, 6),
        "accuracy": round(sum(bool(right) for right in correct) / total, 6),
        "above": above,
    }


def class_calibration(probabilities: Any, gold: Any) -> dict[str, Any]:
    """:func:`calibration_report` of a classifier's predictions: each example's confidence is
    the probability of its predicted class (the argmax, the first of tied ones as
    ``torch.argmax`` and ``numpy.argmax`` take), right when that class is the gold one.

    Args:
        probabilities: ``[N, K]`` class probabilities (an array or tensor).
        gold: ``[N]`` gold class indices in ``0 .. K - 1``.

    Raises:
        ValueError: probabilities that are not ``[N, K]``, a gold count or index that does not
            fit them, or (from :func:`calibration_report`) no examples or a probability outside
            [0, 1].

    Example:
        >>> report = class_calibration([[0.2, 0.8], [0.9, 0.1], [0.4, 0.6]], [1, 1, 1])
        >>> report["accuracy"], report["mean_confidence"]
        (0.666667, 0.766667)
    """
    if hasattr(probabilities, "detach"):  # a tensor: float64, so no probability is rounded
        # (thresholds and bins compare at float32 precision: float32's 0.9 is at 0.9)
        probabilities = probabilities.detach().cpu().double().numpy()
    if hasattr(gold, "detach"):
        gold = gold.detach().cpu().numpy()
    table = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(gold)
    if table.ndim != 2 or table.shape[1] < 1:
        raise ValueError(f"probabilities of shape {list(table.shape)}: give one row of class "
                         "probabilities per example, [N, K]")
    if labels.shape != (len(table),):
        raise ValueError(f"{len(table)} rows of probabilities but gold of shape "
                         f"{list(labels.shape)}: give one gold class index per row")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"gold holds {labels.dtype} values: give class indices from 0 to "
                         f"{table.shape[1] - 1}")
    outside = labels[(labels < 0) | (labels >= table.shape[1])]
    if len(outside):
        raise ValueError(f"gold class {int(outside[0])} is not one of the {table.shape[1]} "
                         f"classes: give class indices from 0 to {table.shape[1] - 1} (drop "
                         "the examples without a label, -1, first)")
    predicted = table.argmax(axis=1)
    confidences = table[np.arange(len(table)), predicted]
    return calibration_report(confidences.tolist(), (predicted == labels).tolist())


def _check(confidences: Sequence[float], correct: Sequence[bool]) -> None:
    if len(confidences) != len(correct):
        raise ValueError(f"{len(confidences)} confidences but {len(correct)} correctness "
                         "flags: give one of each per prediction")
    if not confidences:
        raise ValueError("no predictions to measure the calibration of")
    outside = [c for c in confidences if not 0.0 <= c <= 1.0]
    if outside:
        raise ValueError(f"confidence {outside[0]!r} is not a probability in [0, 1]")
