"""The dates of a forecast's steps for rows of calendar months not on their first or last day."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnnkit.cli
from rnnkit.models.recursive import times_after


@pytest.mark.parametrize(("freq", "expected"), [
    ("MS", ["2016-02-15", "2016-03-15", "2016-04-15"]),
    ("QS", ["2016-04-15", "2016-07-15", "2016-10-15"]),
    ("YS", ["2017-01-15", "2018-01-15", "2019-01-15"]),
])
def test_rows_on_one_day_of_their_months_step_on_to_that_day(freq: str,
                                                             expected: list[str]) -> None:
    # were None: a forecast of data recorded on the 15th of each month had no dates
    months = pd.date_range("2006-01-01", "2016-01-01", freq=freq) + pd.Timedelta(days=14)
    after = times_after(months, 3)
    assert after is not None and [str(day.date()) for day in after] == expected


def test_days_of_months_that_differ_stay_undated() -> None:
    varied = pd.DatetimeIndex(["2020-01-15", "2020-02-14", "2020-03-16", "2020-04-15"])
    assert times_after(varied, 2) is None  # first trading days: the next one is unknown


def test_a_forecast_of_a_mid_month_file_is_dated(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    months = pd.date_range("2006-01-01", periods=80, freq="MS") + pd.Timedelta(days=14)
    values = 100 + np.random.default_rng(0).standard_normal(80).cumsum()
    pd.DataFrame({"date": months, "y": values}).to_csv(tmp_path / "mid.csv", index=False)
    run = tmp_path / "run"
    settings = {"data.source": str(tmp_path / "mid.csv"), "data.target": "y",
                "data.lookback": "12", "data.horizon": "2", "model.hidden_size": "4",
                "train.epochs": "1", "train.progress": "false", "train.threads": "1"}
    arguments = [part for key, value in settings.items() for part in ("--set", f"{key}={value}")]
    assert rnnkit.cli.main(["train", "forecaster", "--out", str(run), *arguments]) == 0
    output = tmp_path / "next.csv"
    assert rnnkit.cli.main(["forecast", "--model", str(run / "model.rnnkit"), "--output",
                            str(output)]) == 0
    table = pd.read_csv(output)
    assert table["date"].tolist() == ["2012-09-15", "2012-10-15"]
