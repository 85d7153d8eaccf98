"""Forecast and classification metrics, numpy only.

Forecasts: MAE, RMSE, sMAPE (percent, 0-200), MASE (scaled by the training series' seasonal
naive error), directional accuracy, and the ratio to persistence. Classes: accuracy, macro-F1,
confusion matrix. Arrays of any matching shape; a ``NaN``, an infinite value or a shape
mismatch is an error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from rnnkit.plural import plural

Metric = Callable[[np.ndarray, np.ndarray], float]


def _pair(actual: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    actual, predicted = np.asarray(actual, dtype=float), np.asarray(predicted, dtype=float)
    if actual.shape != predicted.shape:
        raise ValueError(f"actual has shape {actual.shape} but predicted {predicted.shape}; "
                         "align predictions with the same windows' targets")
    if not actual.size:
        raise ValueError("no values to score")
    for name, values in (("actual", actual), ("predicted", predicted)):
        if np.isnan(values).any():
            raise ValueError(f"{name} holds {int(np.isnan(values).sum())} NaN; score only the "
                             "windows that have a prediction")
        if np.isinf(values).any():  # sMAPE gave NaN, with a RuntimeWarning, on them
            raise ValueError(f"{name} holds {plural(int(np.isinf(values).sum()), 'infinite value')}"
                             " (a model that diverged?); scores need finite numbers")
    return actual, predicted


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute error.

    Example:
        >>> mae(np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 1.0]))
        1.3333333333333333
    """
    actual, predicted = _pair(actual, predicted)
    return float(np.mean(np.abs(actual - predicted)))


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Root mean squared error.

    Example:
        >>> rmse(np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 1.0]))
        1.8257418583505538
    """
    actual, predicted = _pair(actual, predicted)
    return float(np.sqrt(np.mean((actual - predicted) ** 2)))


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Symmetric MAPE in percent: ``100 * mean(2|F - A| / (|A| + |F|))``, 0 when both are 0.

    Absolute values below, so it stays within 0 to 200 for a series that crosses 0 (Beijing's
    temperatures), but there it weighs an error near 0 up to 200% whatever its size (a
    forecast of 0.5 for -0.5 scores 200): read MAE or MASE for such a series.

    Example:
        >>> smape(np.array([100.0, 0.0]), np.array([110.0, 0.0]))
        4.761904761904762
    """
    actual, predicted = _pair(actual, predicted)
    denominator = np.abs(actual) + np.abs(predicted)
    safe = np.where(denominator == 0, 1.0, denominator)
    return float(100.0 * np.mean(np.where(denominator == 0, 0.0,
                                          2.0 * np.abs(predicted - actual) / safe)))


def naive_scale(training: np.ndarray, period: int = 1) -> float:
    """Mean absolute change over ``period`` steps in the training series (NaN pairs skipped)."""
    series = np.asarray(training, dtype=float)
    if period < 1 or len(series) <= period:
        raise ValueError(f"the MASE scale needs a training series longer than the period "
                         f"{period}; got {plural(len(series), 'value')}")
    if np.isinf(series).any():  # read as "no change" (scale nan) before
        raise ValueError(f"the training series holds "
                         f"{plural(int(np.isinf(series).sum()), 'infinite value')}; the MASE "
                         "scale needs finite numbers")
    changes = np.abs(series[period:] - series[:-period])
    scale = float(np.nanmean(changes)) if np.isfinite(changes).any() else float("nan")
    if not scale > 0:
        raise ValueError(f"the training series has no change over {plural(period, 'step')} (scale "
                         f"{scale}); MASE is undefined for it")
    return scale


def mase(actual: np.ndarray, predicted: np.ndarray, training: np.ndarray,
         period: int = 1) -> float:
    """MAE divided by the in-sample seasonal naive MAE of the training series (period ``m``).

    Example:
        >>> mase(np.array([3.0, 5.0]), np.array([4.0, 4.0]), np.array([1.0, 3.0, 2.0]))
        0.6666666666666666
    """
    return mae(actual, predicted) / naive_scale(training, period)


def directional_accuracy(actual: np.ndarray, predicted: np.ndarray,
                         origin: np.ndarray | None = None) -> float:
    """Share of moves whose direction was predicted right.

    With ``origin`` (the value known at prediction time, ``[N]`` or the shape of ``actual``)
    the moves are ``actual - origin`` and ``predicted - origin``; without it the values are
    themselves changes (returns). Moves where the actual change is exactly zero are left out;
    a predicted change of zero is never right (so a price persistence forecast scores 0).
    NaN when every actual change is zero.

    Example:
        >>> directional_accuracy(np.array([0.01, -0.02, 0.0, 0.03]),
        ...                      np.array([0.02, 0.01, 0.05, 0.01]))
        0.6666666666666666
    """
    actual, predicted = _pair(actual, predicted)
    if origin is not None:
        base = np.asarray(origin, dtype=float)
        if base.ndim == 1 and actual.ndim == 2:
            base = base[:, None]  # [N] -> [N, 1], one origin per window
        if (base.ndim != actual.ndim or base.shape[0] != actual.shape[0]
                or base.shape[1:] not in (actual.shape[1:], (1,) * (actual.ndim - 1))
                or not np.isfinite(base).all()):
            raise ValueError(f"origin has shape {np.shape(origin)} for actual {actual.shape}; "
                             "give one finite origin per window (the value known at it)")
        actual, predicted = actual - base, predicted - base
    moved = actual != 0
    if not moved.any():
        return float("nan")
    return float(np.mean(np.sign(actual[moved]) == np.sign(predicted[moved])))


def ratio_to_persistence(actual: np.ndarray, predicted: np.ndarray, persistence: np.ndarray,
                         metric: Metric = mae) -> float:
    """``metric(model) / metric(persistence)`` on the same targets: below 1 beats persistence;
    ``inf`` when persistence is exact and the model is not, ``nan`` when both are.

    Example:
        >>> ratio_to_persistence(np.ones(3), np.array([1.0, 2.0, 3.0]), np.ones(3))
        inf
    """
    return ratio(metric(actual, predicted), metric(actual, persistence))


def ratio(value: float, reference: float) -> float:
    """``value / reference`` that gives ``inf`` (or ``nan`` for 0/0) for a zero reference."""
    if reference == 0:
        return float("nan") if value == 0 else math.copysign(math.inf, value)
    return value / reference


def forecast_report(actual: np.ndarray, predicted: np.ndarray, persistence: np.ndarray,
                    training: np.ndarray, period: int = 1,
                    origin: np.ndarray | None = None) -> dict[str, float]:
    """Every forecast metric at once, for a table beside the baselines."""
    return {
        "mae": mae(actual, predicted),
        "rmse": rmse(actual, predicted),
        "smape": smape(actual, predicted),
        "mase": mase(actual, predicted, training, period),
        "directional_accuracy": directional_accuracy(actual, predicted, origin),
        "mae_ratio_to_persistence": ratio_to_persistence(actual, predicted, persistence),
    }


def _labels(actual: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    actual, predicted = np.asarray(actual), np.asarray(predicted)
    if actual.shape != predicted.shape or actual.ndim != 1 or not len(actual):
        raise ValueError(f"need two equal, non-empty 1-D label arrays; got {actual.shape} and "
                         f"{predicted.shape}")
    if (actual < 0).any():
        raise ValueError(f"actual holds {int((actual < 0).sum())} missing labels (-1); drop "
                         "those windows before scoring")
    return actual.astype(int), predicted.astype(int)


def accuracy(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Share of labels predicted right."""
    actual, predicted = _labels(actual, predicted)
    return float(np.mean(actual == predicted))


def confusion_matrix(actual: np.ndarray, predicted: np.ndarray,
                     classes: Sequence[int] | None = None) -> np.ndarray:
    """``[C, C]`` counts: rows are actual classes, columns predicted, in ``classes`` order.

    Example:
        >>> confusion_matrix(np.array([0, 1, 2, 2]), np.array([0, 2, 2, 1]), [0, 1, 2]).tolist()
        [[1, 0, 0], [0, 0, 1], [0, 1, 1]]
    """
    actual, predicted = _labels(actual, predicted)
    chosen = list(classes) if classes is not None else sorted(set(actual) | set(predicted))
    position = {label: i for i, label in enumerate(chosen)}
    matrix = np.zeros((len(chosen), len(chosen)), dtype=int)
    for truth, guess in zip(actual, predicted, strict=True):
        if truth in position and guess in position:
            matrix[position[truth], position[guess]] += 1
    return matrix


def macro_f1(actual: np.ndarray, predicted: np.ndarray,
             classes: Sequence[int] | None = None) -> float:
    """Mean F1 over classes (F1 0 where a class is never predicted or never present).

    Example:
        >>> round(macro_f1(np.array([0, 1, 2, 2]), np.array([0, 2, 2, 1]), [0, 1, 2]), 4)
        0.5
    """
    matrix = confusion_matrix(actual, predicted, classes).astype(float)
    hits = np.diag(matrix)
    denominator = matrix.sum(axis=0) + matrix.sum(axis=1)  # predicted + actual per class
    f1 = np.where(denominator > 0, 2 * hits / np.maximum(denominator, 1), 0.0)
    return float(np.mean(f1))
