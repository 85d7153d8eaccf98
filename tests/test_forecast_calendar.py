"""The calendar inputs ``data.calendar=auto`` adds to a user's file, by the file's grid."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnnkit.cli
from rnnkit.pipelines.series_grid import calendar_parts
from rnnkit.pipelines.source_config import ForecastDataConfig


@pytest.mark.parametrize(("dates", "parts"), [
    (pd.date_range("2020-01-01", periods=60, freq="h"), ["hour", "day_of_year"]),
    (pd.date_range("2020-01-01", periods=60, freq="D"), ["day_of_week", "day_of_year"]),
    (pd.bdate_range("2020-01-01", periods=60), ["day_of_week", "day_of_year"]),
    # every row the same weekday: its day_of_week columns were constant
    (pd.date_range("2020-01-05", periods=60, freq="W-SUN"), ["day_of_year"]),
    # the weekday of each month's first day was an input of noise, and the month none
    (pd.date_range("2006-01-01", periods=60, freq="MS"), ["month"]),
    (pd.date_range("2006-01-31", periods=60, freq="ME"), ["month"]),
    (pd.date_range("2006-01-01", periods=20, freq="QS"), ["month"]),
    # every row January 1st: day_of_year constant, day_of_week noise
    (pd.date_range("2001-01-01", periods=16, freq="YS"), []),
    (pd.date_range("2001-01-01", periods=3, freq="365D"), []),
])
def test_auto_calendar_parts_follow_the_grid(dates: pd.DatetimeIndex, parts: list[str]) -> None:
    assert calendar_parts(ForecastDataConfig(source="file.csv"), dates) == parts


def test_a_set_calendar_is_kept_as_given() -> None:
    dates = pd.date_range("2006-01-01", periods=60, freq="MS")
    data = ForecastDataConfig(source="file.csv", calendar="day_of_week")
    assert calendar_parts(data, dates) == ["day_of_week"]


def test_a_monthly_file_trains_on_the_month_not_the_weekday(tmp_path: Path) -> None:
    months = pd.date_range("2006-01-01", periods=80, freq="MS")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"month": months.strftime("%Y-%m-%d"),
                          "jobs": 1000 + rng.standard_normal(80).cumsum()})
    frame.to_csv(tmp_path / "jobs.csv", index=False)
    run = tmp_path / "run"
    code = rnnkit.cli.main(["train", "forecaster", "--out", str(run), "--set",
                            f"data.source={tmp_path / 'jobs.csv'}", "--set",
                            "data.date_column=month", "--set", "data.target=jobs", "--set",
                            "data.lookback=12", "--set", "data.horizon=3", "--set",
                            "model.hidden_size=4", "--set", "train.epochs=1", "--set",
                            "train.progress=false", "--set", "train.threads=1"])
    assert code == 0
    features = json.loads((run / "results.json").read_text())["features"]
    assert features == ["jobs", "month_sin", "month_cos"]
