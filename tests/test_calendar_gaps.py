"""Rows of calendar months, quarters or years that skip one are warned of, as clock grids are."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnkit.pipelines.series_grid import warn_gaps
from rnnkit.timeseries.grid import skipped_periods


@pytest.mark.parametrize(("dates", "said"), [
    # a monthly file without 2010-03 to 2010-08 was read with no word: a 12-row window spanned
    # 18 months, and a forecast 3 rows ahead was 9 months ahead
    (pd.date_range("2006-01-01", periods=120, freq="MS").delete(range(50, 56)),
     "6 of 120 months of its monthly grid have no row (first missing: 2010-03)"),
    (pd.date_range("2006-01-31", periods=120, freq="ME").delete([7]),
     "1 of 120 months of its monthly grid have no row (first missing: 2006-08)"),
    (pd.date_range("2006-01-01", periods=120, freq="BMS").delete([7]),  # first trading days
     "1 of 120 months of its monthly grid have no row (first missing: 2006-08)"),
    (pd.date_range("2006-01-01", periods=30, freq="QS").delete([4]),
     "1 of 30 quarters of its quarterly grid have no row (first missing: 2007-01)"),
    (pd.date_range("2001-01-01", periods=17, freq="YS").delete([7]),
     "1 of 17 years of its yearly grid have no row (first missing: 2008)"),
])
def test_a_calendar_grid_that_skips_a_period_is_warned_of(dates: pd.DatetimeIndex,
                                                          said: str) -> None:
    with pytest.warns(UserWarning, match=r"^file.csv: " + said.replace("(", r"\(").replace(
            ")", r"\)") + "; a window reads the rows as given"):
        warn_gaps(dates, "file.csv")


@pytest.mark.parametrize("freq", ["MS", "ME", "BMS", "BME", "QS", "QE", "YS"])
def test_a_whole_calendar_grid_is_not_warned_of(freq: str) -> None:
    dates = pd.date_range("2006-01-01", periods=40, freq=freq)
    assert skipped_periods(dates) == (0, 40, "")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_gaps(dates, "file.csv")


def test_training_on_a_monthly_file_with_a_gap_warns(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import rnnkit.cli

    months = pd.date_range("2006-01-01", periods=60, freq="MS").delete(range(30, 34))
    values = 100 + np.random.default_rng(0).standard_normal(len(months)).cumsum()
    pd.DataFrame({"month": months, "jobs": values}).to_csv(tmp_path / "jobs.csv", index=False)
    code = rnnkit.cli.main([
        "train", "forecaster", "--out", str(tmp_path / "run"), "--set",
        f"data.source={tmp_path / 'jobs.csv'}", "--set", "data.date_column=month", "--set",
        "data.target=jobs", "--set", "data.lookback=6", "--set", "data.horizon=2", "--set",
        "model.hidden_size=4", "--set", "train.epochs=1", "--set", "train.progress=false",
        "--set", "train.threads=1"])
    assert code == 0
    assert "rnnkit: warning: " in (err := capsys.readouterr().err)
    assert "4 of 60 months of its monthly grid have no row (first missing: 2008-07)" in err
