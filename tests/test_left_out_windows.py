"""A training run says how many windows missing values left out, and in which columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnnkit.cli


def run_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], task: str, gap: int = -1,
             **extra: str) -> str:
    """The line of ``train <task>`` that counts its windows, on 200 days of a price ``y``
    (missing on day ``gap``, if given) and a column ``late`` that starts on day 100."""
    days = pd.date_range("2020-01-01", periods=200, freq="D")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"date": days, "y": 100 * np.exp(rng.normal(0, 0.01, 200).cumsum()),
                          "late": np.where(np.arange(200) < 100, np.nan, 1.0)})
    if gap >= 0:
        frame.loc[gap, "y"] = np.nan
    frame.to_csv(tmp_path / "prices.csv", index=False)
    settings = {"data.source": str(tmp_path / "prices.csv"), "data.target": "y",
                "data.lookback": "10", "data.horizon": "2", "data.calendar": "",
                "model.hidden_size": "4", "train.epochs": "1", "train.progress": "false",
                "train.threads": "1", **extra}
    arguments = [part for key, value in settings.items() for part in ("--set", f"{key}={value}")]
    code = rnnkit.cli.main(["train", task, "--out", str(tmp_path / "run"), *arguments])
    assert code == 0
    return next(line for line in capsys.readouterr().out.splitlines() if "windows train" in line)


@pytest.mark.parametrize("task", ["forecaster", "signal"])
def test_windows_left_out_for_missing_values_are_counted_in_the_run_s_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], task: str) -> None:
    # a long file whose series 'late' starts halfway (GOOG in vega's stocks.csv) trained AAPL
    # on 5 windows of 60, and the line said only "windows train 5": no word of why
    line = run_line(tmp_path, capsys, task)
    assert line.endswith("(100 windows were left out for missing values in 'late' (100 rows): "
                         "leave such columns out (data.features) or fill them)")


def test_the_first_rows_of_a_change_column_are_not_counted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a change over k rows has no value in its first k rows by construction: nothing to fill
    line = run_line(tmp_path, capsys, "forecaster", **{"data.features": "y,y_change_24",
                                                        "data.changes": "y"})
    assert line.endswith("windows train 105, validation 29, test 29")  # 24 fewer, unsaid


def test_a_target_s_own_gaps_are_counted_without_advice_to_leave_it_out(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = run_line(tmp_path, capsys, "forecaster", gap=150, **{"data.features": "y"})
    assert line.endswith("(12 windows were left out for missing values in 'y' (1 row))")
