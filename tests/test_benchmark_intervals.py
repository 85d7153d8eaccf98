"""The interval measures of benchmarks/forecast_intervals.py, on hand-made cases (its conformal
quantile is rnnkit.timeseries.conformal's: tests/test_conformal.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from forecast_intervals import interval_report  # noqa: E402


def test_interval_report_scores_width_and_misses() -> None:
    actual = np.array([[0.0, 5.0], [2.0, -3.0]])
    lower, upper = np.full((2, 2), -1.0), np.full((2, 2), 1.0)
    report = interval_report(actual, lower, upper, level=0.9)
    # inside: 0 and -> last step: 5 (miss by 4), -3 (miss by 2); first step: 0 in, 2 out by 1
    assert report["coverage_last"] == 0.0 and report["coverage_all"] == 0.25
    assert report["width_last"] == report["width_all"] == 2.0
    # Winkler: width + 2 / 0.1 * miss
    assert report["score_last"] == pytest.approx(2 + 20 * (4 + 2) / 2)
    assert report["score_all"] == pytest.approx(2 + 20 * (0 + 4 + 1 + 2) / 4)
