"""Strategies: forecasts, classes and confidences turned into positions, and the values they
refuse rather than trade flat."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.timeseries.labels import BUY, HOLD, MISSING, SELL
from rnnkit.trading.strategies import class_positions, size_by_confidence, threshold_positions


def test_strategies_turn_forecasts_into_positions() -> None:
    predicted = np.array([0.02, 0.004, -0.001, -0.03])
    assert threshold_positions(predicted, 0.005).tolist() == [1, 0, 0, 0]
    assert threshold_positions(predicted, 0.005, "long_short").tolist() == [1, 0, 0, -1]
    classes = np.array([HOLD, BUY, HOLD, MISSING, SELL, HOLD])
    assert class_positions(classes, "long_short").tolist() == [0, 1, 1, 1, -1, -1]
    assert class_positions(classes, "long_flat").tolist() == [0, 1, 1, 1, 0, 0]
    assert class_positions(classes, "long_short", hold="flat").tolist() == [0, 1, 0, 0, -1, 0]
    sized = size_by_confidence(np.array([1.0, -1.0, 1.0]), np.array([0.9, 0.6, 0.2]), 0.5)
    assert sized.tolist() == [0.9, -0.6, 0.0]
    with pytest.raises(ValueError, match="mode must be one of long_flat, long_short, not 'short'"):
        threshold_positions(predicted, 0.0, "short")


@pytest.mark.parametrize(("classes", "message"), [
    # the probabilities [N, 3] instead of their argmax: numpy's 'The truth value of an array
    # with more than one element is ambiguous'
    (np.full((4, 3), 1 / 3), r"classes must be one per decision \(\[N\]\), not shape "
                             r"\(4, 3\): class probabilities\? Take their argmax"),
    # a class that is none of them was read as hold, and a probability 0.9 as sell (0)
    (np.array([2, 5, 1]), r"classes must be sell 0, hold 1 or buy 2 \(-1: none\); got 5 at 1"),
    (np.array([2.0, 0.9, 1.0]), r"classes must be sell 0, hold 1 or buy 2 \(-1: none\); "
                                r"got 0.9 at 1"),
])
def test_classes_that_are_not_classes_are_refused(classes: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        class_positions(classes, "long_short")
    assert class_positions(np.array([2.0, 1.0, 0.0, -1.0]), "long_short").tolist() == [
        1, 1, -1, -1]  # whole numbers in a float array are classes


def test_a_negative_confidence_is_refused_not_read_as_flat() -> None:
    """A signed predicted return over its cap as the confidence made every short flat: -0.5
    was clipped to 0, without a word."""
    predicted = np.array([0.02, -0.01, 0.005])
    positions = threshold_positions(predicted, 0.0, "long_short")
    with pytest.raises(ValueError, match=r"confidence must be at least 0; got -0.5 at 1: size "
                                         r"by \|predicted return\| / cap"):
        size_by_confidence(positions, predicted / 0.02)
    sized = size_by_confidence(positions, np.abs(predicted) / 0.02)
    assert sized.tolist() == [1.0, -0.5, 0.25]


def test_a_threshold_that_is_no_number_is_refused() -> None:
    # NaN passed 'threshold < 0' and every position came out flat, saying nothing
    with pytest.raises(ValueError, match="threshold must be a finite number >= 0, not nan"):
        threshold_positions(np.array([0.02, -0.01]), float("nan"), "long_short")
    with pytest.raises(ValueError, match="threshold must be a finite number >= 0, not -0.1"):
        threshold_positions(np.array([0.02, -0.01]), -0.1)
    # inf passed '>= 0' and every position came out flat
    with pytest.raises(ValueError, match="threshold must be a finite number >= 0, not inf"):
        threshold_positions(np.array([0.02, -0.01]), float("inf"))


def test_an_infinite_predicted_return_is_refused() -> None:
    """An overflowed forecast (exp of a huge log return) was taken as a long position."""
    with pytest.raises(ValueError, match="the predicted returns hold 2 NaN or infinite"):
        threshold_positions(np.array([0.02, np.inf, -np.inf]), 0.0, "long_short")


def test_a_nan_predicted_return_is_refused_not_traded_flat() -> None:
    with pytest.raises(ValueError, match="the predicted returns hold 1 NaN"):
        threshold_positions(np.array([0.02, np.nan, -0.01]), 0.0, "long_short")


def test_a_nan_confidence_or_minimum_is_refused_not_sized_flat() -> None:
    # a NaN confidence (a model that diverged) was silently flat, and a NaN minimum made
    # every position flat
    with pytest.raises(ValueError, match="the confidence holds 1 NaN"):
        size_by_confidence(np.array([1.0, -1.0, 1.0]), np.array([0.8, np.nan, 0.3]))
    with pytest.raises(ValueError, match="min_confidence must be a number in"):
        size_by_confidence(np.array([1.0, -1.0]), np.array([0.8, 0.5]), float("nan"))
