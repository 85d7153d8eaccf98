"""Split-conformal prediction intervals, one per step ahead, calibrated on held-out windows.

A model's own interval (a Gaussian's mean +- z sd, a quantile model's outer quantiles) holds
its nominal share of values only as far as the model's spread is right. Split conformal
prediction (Vovk et al. 2005) widens it by what held-out windows say: for each step ahead, the
``ceil((n + 1) level)``-th smallest of ``n`` calibration scores. With an interval, the score is
conformalized quantile regression's (Romano et al. 2019), ``max(lower - y, y - upper)``: how
far a value fell outside (negative inside, so a too-wide interval narrows); without one (an MSE
or MAE model), ``|y - mean|``: a band of fixed width per step around the point forecast. Given
calibration windows exchangeable with the later ones, each step's interval then holds at least
``level`` of them.

Example:
    >>> actual = np.array([[1.0], [2.0], [3.0], [4.0]])
    >>> calibration = calibrate(actual, {"mean": actual + 0.5}, level=0.5)
    >>> calibration["method"], calibration["widen"]
    ('absolute', [0.5])
    >>> conformalize({"mean": np.array([[10.0]])}, calibration)["upper"].tolist()
    [[10.5]]
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np


def conformal_quantile(scores: np.ndarray, level: float) -> np.ndarray:
    """``[H]``: per column of ``[N, H]`` calibration scores, the split-conformal quantile of its
    finite scores, the ``ceil((n + 1) level)``-th smallest; infinite where that exceeds ``n``
    (fewer than :func:`fewest_windows` scores: none bounds the interval); NaN for a column
    with none."""
    scores = np.asarray(scores, dtype=float)
    out = np.full(scores.shape[1], np.nan)
    for column in range(scores.shape[1]):
        finite = np.sort(scores[:, column][np.isfinite(scores[:, column])])
        rank = calibration_rank(len(finite), level)
        if len(finite):
            out[column] = finite[rank - 1] if rank <= len(finite) else math.inf
    return out


def fewest_windows(level: float) -> int:
    """The fewest calibration scores whose ``ceil((n + 1) level)``-th smallest exists (9 for
    0.9, 19 for 0.95): with fewer, the interval would have to be infinite."""
    n = max(1, math.floor(level / (1 - level)) - 1)
    while calibration_rank(n, level) > n:  # the same arithmetic as conformal_quantile
        n += 1
    return n


def calibration_rank(count: int, level: float) -> int:
    """``ceil((count + 1) level)``, of the level as written: ``(99 + 1) * 0.55`` is
    ``55.00000000000001`` in floating point, whose ceiling, 56, would take one score more than
    the finite-sample rank; a product within rounding of a whole number is that number.

    Example:
        >>> calibration_rank(99, 0.55), calibration_rank(99, 0.9), calibration_rank(8, 0.9)
        (55, 90, 9)
        >>> calibration_rank(999_999, 0.9000000001)  # 900000.0001: not rounding, a rank more
        900001
    """
    product = (count + 1) * level
    whole = round(product)
    if abs(product - whole) <= 4 * sys.float_info.epsilon * max(1.0, product):  # a few ulps
        product = whole
    return math.ceil(product)


def calibrate(actual: np.ndarray, out: dict[str, np.ndarray], level: float) -> dict[str, Any]:
    """The per-step widening of ``out``'s interval (``lower``/``upper``, else a band around
    ``mean``; all ``[N, H]``, in the target's units) that makes it hold ``level`` of the
    calibration windows' ``actual`` values; kept in a bundle."""
    if not 0 < level < 1:
        raise ValueError(f"the conformal level must be between 0 and 1 (both excluded), e.g. "
                         f"0.9; got {level!r}")
    actual = np.asarray(actual, dtype=float)
    if "lower" in out:
        method, scores = "cqr", np.maximum(out["lower"] - actual, actual - out["upper"])
    else:
        method, scores = "absolute", np.abs(actual - out["mean"])
    widen = conformal_quantile(scores, level)
    if np.isnan(widen).any():
        raise ValueError("the calibration windows hold no known value at step(s) "
                         f"{(np.flatnonzero(np.isnan(widen)) + 1).tolist()}: nothing to "
                         "calibrate the interval on")
    if np.isinf(widen).any():
        counts = np.isfinite(scores).sum(axis=0)
        raise ValueError(f"a {level:g} conformal interval needs at least "
                         f"{fewest_windows(level)} calibration windows per step, and step(s) "
                         f"{(np.flatnonzero(np.isinf(widen)) + 1).tolist()} have "
                         f"{int(counts.min())}: give more windows, or a lower level")
    return {"level": float(level), "method": method, "widen": widen.tolist(),
            "windows": int(np.isfinite(scores).any(axis=1).sum())}


def conformalize(out: dict[str, np.ndarray], calibration: dict[str, Any]
                 ) -> dict[str, np.ndarray]:
    """``out`` with its interval widened by a :func:`calibrate` result (``lower``/``upper``
    made from ``mean`` for a model without one)."""
    widen = np.asarray(calibration["widen"], dtype=float)  # [H], broadcast over the windows
    if calibration["method"] == "cqr":
        lower, upper = out["lower"], out["upper"]
    else:
        lower = upper = out["mean"]
    return {**out, "lower": lower - widen, "upper": upper + widen}


def interval_report(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float
                    ) -> dict[str, float]:
    """Over the known ``actual`` values: coverage (the share inside), mean width, and the mean
    interval score (Winkler's: the width plus ``2 / (1 - level)`` times how far a value fell
    outside; lower is better, and it rewards neither a too-narrow nor a too-wide interval)."""
    known = np.isfinite(actual)
    actual, lower, upper = actual[known], lower[known], upper[known]
    outside = np.maximum(lower - actual, 0) + np.maximum(actual - upper, 0)
    score = (upper - lower) + 2 / (1 - level) * outside
    return {"level": float(level), "coverage": float(((actual >= lower) & (actual <= upper))
                                                     .mean()),
            "mean_width": float((upper - lower).mean()), "interval_score": float(score.mean())}
