"""Temperature scaling (Guo et al. 2017): one scalar ``T > 0`` that divides a trained
classifier's logits, fitted on held-out examples by minimising their negative log-likelihood.

``softmax(z / T)`` (or ``sigmoid(z / T)``) keeps every logit's order, so the predicted class
(the argmax, or a sigmoid's side of 0) and every score taken from it stay as they were; only the
confidences move: ``T > 1`` softens an over-confident model, ``T < 1`` sharpens an
under-confident one. The NLL is convex in ``1 / T``, so it has one minimum along ``log T``;
:func:`fit_temperature` finds it by a golden-section search in float64 over ``log T`` in
``[log(1 / 100), log(100)]``: no random start, the same ``T`` for the same logits.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor
from torch.nn import functional as F

LIMIT = 100.0  # T is searched in [1 / LIMIT, LIMIT]
TOLERANCE = 1e-7  # of log T, where the search stops
KINDS = ("softmax", "binary", "multi_label")
BUNDLE_KEY = "temperature"  # in a bundle's config, where T != 1


def scaled_nll(logits: Tensor, targets: Tensor, kind: str, temperature: float = 1.0) -> float:
    """The mean negative log-likelihood of ``targets`` under ``logits / temperature``
    (float64, unweighted), per example; a multi-label model's per example and label.

    Args:
        logits: ``[N, K]`` (softmax, multi_label) or ``[N]`` (binary: the positive class's).
        targets: ``[N]`` class indices (softmax), ``[N]`` 0/1 (binary), ``[N, K]`` 0/1.
        kind: ``softmax``, ``binary`` or ``multi_label``.

    Example:
        >>> round(scaled_nll(torch.tensor([[0.0, 0.0]]), torch.tensor([1]), "softmax"), 6)
        0.693147
    """
    scaled = logits.double() / temperature
    if kind == "softmax":
        return float(F.cross_entropy(scaled, targets.long()))
    if kind in ("binary", "multi_label"):
        return float(F.binary_cross_entropy_with_logits(scaled, targets.double()))
    raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")


def fit_temperature(logits: Tensor, targets: Tensor, kind: str) -> float:
    """The ``T`` in ``[1 / 100, 100]`` that minimises :func:`scaled_nll` of the examples.

    Raises:
        ValueError: no examples, logits and targets that do not fit, or a logit that is not
            finite.

    Example:
        >>> sharp = torch.tensor([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 0.0]])
        >>> round(fit_temperature(sharp, torch.tensor([0, 1, 0, 1]), "softmax"), 3)
        1.82
    """
    check_logits(logits, targets, kind)
    values, gold = logits.detach().double().cpu(), targets.detach().cpu()

    def nll(log_t: float) -> float:
        return scaled_nll(values, gold, kind, math.exp(log_t))

    low, high = -math.log(LIMIT), math.log(LIMIT)
    ratio = (math.sqrt(5.0) - 1.0) / 2.0  # golden section: one new point per step
    left, right = high - ratio * (high - low), low + ratio * (high - low)
    left_nll, right_nll = nll(left), nll(right)
    while high - low > TOLERANCE:
        if left_nll <= right_nll:  # the minimum is in [low, right]
            high, right, right_nll = right, left, left_nll
            left = high - ratio * (high - low)
            left_nll = nll(left)
        else:  # in [left, high]
            low, left, left_nll = left, right, right_nll
            right = low + ratio * (high - low)
            right_nll = nll(right)
    return math.exp((low + high) / 2.0)


def check_logits(logits: Tensor, targets: Tensor, kind: str) -> None:
    """Refuse what :func:`fit_temperature` cannot fit, naming it."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if not len(logits):
        raise ValueError("no validation examples to fit the temperature on")
    rows = logits.shape[0]
    wanted = (rows,) if kind == "softmax" else tuple(logits.shape)
    if (kind == "softmax" and logits.dim() != 2) or (kind == "binary" and logits.dim() != 1) \
            or tuple(targets.shape) != wanted:
        raise ValueError(f"{kind} logits of shape {list(logits.shape)} and targets of shape "
                         f"{list(targets.shape)} do not fit: give [N, K] logits and [N] class "
                         "indices (softmax), [N] and [N] (binary), [N, K] and [N, K] (multi_label)")
    if not bool(torch.isfinite(logits).all()):
        raise ValueError("the validation logits hold NaN or infinite values (a model that "
                         "diverged?): there is no temperature to fit")


def at_limit(temperature: float) -> bool:
    """Whether a fitted ``T`` lies at an end of the search (1/100 or 100)."""
    return abs(abs(math.log(temperature)) - math.log(LIMIT)) < 1e-5


def is_flat(logits: Tensor, targets: Tensor, kind: str) -> bool:
    """Whether the NLL is the same at both ends of the search: logits that do not vary between
    the classes (a constant model), which no ``T`` changes. The search then ends at its lower
    end, as if the NLL still fell beyond it."""
    sharpest, softest = (scaled_nll(logits, targets, kind, t) for t in (1 / LIMIT, LIMIT))
    return abs(sharpest - softest) <= 1e-12 * max(1.0, abs(softest))


def errors(logits: Tensor, targets: Tensor, kind: str) -> int:
    """The validation predictions that are wrong: the argmax (softmax), the side of 0 (binary,
    each label of a multi-label model; 0 itself is the negative, as the argmax of
    ``[1 - p, p]`` takes it)."""
    if kind == "softmax":
        return int((logits.argmax(-1) != targets.long()).sum())
    return int(((logits > 0) != (targets >= 0.5)).sum())


def fit_outcome(logits: Tensor, targets: Tensor, kind: str, temperature: float) -> str:
    """What a fitted ``T`` means: ``fitted`` (a minimum inside the search), ``flat`` (the NLL
    does not depend on ``T``: :func:`is_flat`), ``no_errors`` (at the lower end with every
    validation prediction right: the NLL keeps falling as ``T`` shrinks, towards
    probabilities of 1), ``sharpest`` (at the lower end with errors that are near ties),
    ``softest`` (at the upper end: the model is close to uninformative on the validation
    examples, its best probabilities near uniform).

    Example:
        >>> fit_outcome(torch.tensor([[1.0, 0.0]]), torch.tensor([0]), "softmax", 0.01)
        'no_errors'
    """
    if is_flat(logits, targets, kind):
        return "flat"
    if not at_limit(temperature):
        return "fitted"
    if temperature > 1.0:
        return "softest"
    return "sharpest" if errors(logits, targets, kind) else "no_errors"


def calibrated(logits: Tensor, temperature: float) -> Tensor:
    """Logits over ``temperature``; at 1 (not fitted) the logits themselves."""
    return logits if temperature == 1.0 else logits / temperature


def bundle_entry(temperature: float) -> dict[str, float]:
    """A bundle config's ``temperature`` entry: none at 1, so that the bundle of a model
    without temperature scaling is as before it (its format too: training/bundle.py)."""
    return {BUNDLE_KEY: temperature} if temperature != 1.0 else {}


def saved_temperature(config: dict[str, Any]) -> float:
    """The ``T`` of a bundle's config, checked; 1 for a bundle without one (older ones)."""
    return check_temperature(config.get(BUNDLE_KEY, 1.0))


def check_temperature(value: Any, where: str = "temperature") -> float:
    """A saved temperature as a float, refused unless finite and above 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{where} must be a finite number above 0; got {value!r}: the bundle "
                         "is damaged, train it again")
    return float(value)
