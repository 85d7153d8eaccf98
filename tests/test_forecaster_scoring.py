"""The forecaster pipeline's splits and scores: the scaler and test forecasts see no later
rows, split ends, derived and return or change targets, seasonal periods, too few windows."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from test_forecaster import _prepare, series_frame, settings, write_csv

import rnnkit.cli
from rnnkit.commands.common import check_source
from rnnkit.config import load_config
from rnnkit.models.forecaster import Forecaster
from rnnkit.pipelines.forecast import _rows_up_to
from rnnkit.pipelines.forecaster import ForecastRunConfig, train_forecaster
from rnnkit.pipelines.source_config import ForecastDataConfig, split_ends
from rnnkit.pipelines.sources import prepare
from rnnkit.training.bundle import load_bundle


@pytest.mark.filterwarnings("ignore:.*outside the training scale")
def test_scaler_is_fitted_on_training_rows_only(tmp_path: Path) -> None:
    from rnnkit.pipelines.sources import prepare

    frame = series_frame(400)
    first = write_csv(tmp_path / "first.csv", frame)
    split = prepare(load_config(ForecastRunConfig, None, settings(first)).data).split
    changed = frame.copy()  # every row after the training period's last target, no later
    changed.loc[changed.index > split.train.target_times[-1, -1], :] *= 50.0
    scalers = []
    for name, data in (("a", frame), ("b", changed)):
        csv = write_csv(tmp_path / f"{name}.csv", data)
        config = load_config(ForecastRunConfig, None, settings(csv, **{"train.epochs": "1"}))
        train_forecaster(config, tmp_path / name, log=lambda line: None)
        model = load_bundle(tmp_path / name / "model.rnnkit")
        assert isinstance(model, Forecaster)
        scalers.append(model.scaler.to_json())
    assert scalers[0] == scalers[1]


@pytest.mark.filterwarnings("ignore:.*outside the training scale")
@pytest.mark.parametrize("options", [
    {"forecast.strategy": "recursive", "data.changes": "x", "data.change_lags": "1,3",
     "forecast.loss": "mae", "forecast.conformal": "true"},
    {"forecast.loss": "quantile", "forecast.quantiles": "0.1,0.5,0.9",
     "forecast.attention": "true", "forecast.conformal": "true", "data.log1p": "x"},
])
def test_test_forecasts_made_before_a_cut_ignore_every_later_row(tmp_path: Path,
                                                                 options: dict[str, str]) -> None:
    """Rewrite every value after a cut inside the test period and train again (same seed):
    the model, its conformal calibration and every test output and baseline (ridge's choice
    too) of a window whose origin is at or before the cut stay the same to the bit."""
    from rnnkit.pipelines.forecast_options import ForecastOptions
    from rnnkit.pipelines.forecast_scoring import score

    frame = series_frame(400)
    frame["x"] += 2.0  # above -1 for log1p
    cut = frame.index[370]
    changed = frame.copy()
    later = changed.index > cut
    changed.loc[later] = changed.loc[later] * 3.0 + 5.0
    runs = []
    for name, data in (("a", frame), ("b", changed)):
        csv = write_csv(tmp_path / f"{name}.csv", data)
        config = load_config(ForecastRunConfig, None, settings(csv, **options))
        train_forecaster(config, tmp_path / name, log=lambda line: None)
        model = load_bundle(tmp_path / name / "model.rnnkit")
        assert isinstance(model, Forecaster)
        split = prepare(config.data).split
        results, outputs = score(model, split, replace(ForecastOptions(), moving_average=6), 24)
        runs.append((model, split.test, results, outputs))
    (model, test, results, outputs), (again, _, results_again, outputs_again) = runs
    assert model.conformal is not None and model.conformal == again.conformal
    for mine, theirs in zip(model.state_dict().values(), again.state_dict().values(),
                            strict=True):
        assert torch.equal(mine, theirs)
    assert results["ridge_choice"] == results_again["ridge_choice"]
    made = test.input_end <= np.datetime64(cut)
    assert 10 < made.sum() < len(test)
    assert {"mean", "lower", "upper", "baseline_ridge",
            "baseline_seasonal_naive_24"} <= set(outputs)
    for name, values in outputs.items():
        np.testing.assert_array_equal(values[made], outputs_again[name][made], err_msg=name)
    assert not np.array_equal(outputs["mean"][~made], outputs_again["mean"][~made])


def test_a_return_target_is_scored_by_its_own_sign_and_no_baseline_is_misnamed(
        tmp_path: Path) -> None:
    frame = series_frame(400).assign(y_return=lambda f: 0.01 + 0.001 * f["x"].abs())
    csv = write_csv(tmp_path / "series.csv", frame[["y_return", "x"]])
    extra = {"data.target": "y_return", "data.lookback": "12", "train.epochs": "1",
             "forecast.moving_average": "48"}
    config = load_config(ForecastRunConfig, None, settings(csv, **extra))
    results = train_forecaster(config, tmp_path / "run", log=lambda line: None)["test"]
    # every return is positive and so is the last one: persistence gets every direction
    assert results["step_6"]["persistence"]["directional_accuracy"] == 1.0
    assert set(results["step_6"]) == {"model", "persistence", "moving_average_12", "ridge"}
    assert results["notes"] == ["no seasonal_naive_24: its season (24 rows) is longer than the "
                                "lookback (12)"]


def test_derived_inputs_are_trained_on_and_rebuilt_for_a_forecast(tmp_path: Path,
                                                                   capsys) -> None:
    frame = series_frame(400).assign(x=lambda f: f["x"].abs())
    csv = write_csv(tmp_path / "series.csv", frame)
    extra = {"data.log1p": "x", "data.changes": "y", "data.change_lags": "1,3",
             "forecast.attention": "true"}
    config = load_config(ForecastRunConfig, None, settings(csv, **extra))
    results = train_forecaster(config, tmp_path / "run", log=lambda line: None)
    assert results["features"] == ["y", "x_log1p", "y_change_1", "y_change_3", "hour_sin",
                                   "hour_cos"]
    code = rnnkit.cli.main(["forecast", "--model", str(tmp_path / "run" / "model.rnnkit"),
                            "--output", str(tmp_path / "f.csv")])
    written = pd.read_csv(tmp_path / "f.csv")
    assert code == 0 and len(written) == 6
    assert written.columns.tolist() == ["date", "step", "mean"]  # the index has a header
    code = rnnkit.cli.main(["forecast", "--model", str(tmp_path / "run" / "model.rnnkit"),
                            "--as-of", "2020-01-01"])  # 24 rows: the 3 before them are missing
    assert code == 2  # said "24 rows are too few ... give at least 27", naming no date
    assert "--as-of 2020-01-01: 24 rows at or before it, and the model reads the last 24 " \
        "and its 3-row changes (data.changes) need 3 rows before those; give 2020-01-02 or " \
        "later" in capsys.readouterr().err
    # the date it names is enough (its first suggestion, 2020-01-01, was the refused one)
    code = rnnkit.cli.main(["forecast", "--model", str(tmp_path / "run" / "model.rnnkit"),
                            "--as-of", "2020-01-02"])
    assert code == 0
    assert len(_rows_up_to(frame, "2020-01-01", 21, lag=3)) == 24  # just enough: 21 + 3
    with pytest.raises(ValueError, match="--as-of 2020-01-01: 24 rows at or before it, "
                       "and the model reads the last 22 and its 3-row changes [(]data.changes"
                       "[)] need 3 rows before those; give 2020-01-02 or later"):
        _rows_up_to(frame, "2020-01-01", 22, lag=3)


def test_each_split_end_falls_back_to_its_own_default() -> None:
    index = pd.date_range("2010-01-01", "2014-12-31 23:00", freq="h")
    ends = {(train, val): split_ends(ForecastDataConfig(source=source, train_end=train,
                                                        val_end=val), index)
            for source in ("beijing",) for train, val in (("", ""), ("2011", ""), ("", "2013-06"))}
    assert ends == {("", ""): ("2012", "2013"), ("2011", ""): ("2011", "2013"),
                    ("", "2013-06"): ("2012", "2013-06")}
    files = [split_ends(ForecastDataConfig(source="my.csv", **ends), index) for ends in (
        {}, {"train_end": "2011"})]  # a file: 70% / 85%; or half of the rows after train_end
    assert files == [("2013-07-02 04:00:00", "2014-04-02 01:00:00"),
                     ("2011", "2013-07-01 23:00:00")]
    assert split_ends(ForecastDataConfig(train_end="2013"), index) == (  # after beijing's 2013
        "2013", "2014-07-02 11:00:00")


@pytest.mark.parametrize(("ends", "message"), [
    ({"train_end": "2020-13-01"}, "data.train_end must be a date such as 2009-12-31"),
    ({"val_end": "garbage"}, "data.val_end must be a date such as 2009-12-31"),
    ({"train_end": "2013", "val_end": "2012"}, "data.val_end (2012) is before data.train_end"),
])
def test_bad_split_ends_name_their_keys(ends: dict, message: str) -> None:
    index = pd.date_range("2010-01-01", "2014-12-31 23:00", freq="h")
    with pytest.raises(ValueError, match=re.escape(message)):
        split_ends(ForecastDataConfig(source="my.csv", **ends), index)


def test_a_validation_end_before_the_training_end_is_a_clear_error(tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    config = load_config(ForecastRunConfig, None, settings(csv, **{
        "data.train_end": "2020-01-12", "data.val_end": "2020-01-10"}))
    with pytest.raises(ValueError, match=re.escape("data.val_end (2020-01-10) is before "
                                                   "data.train_end (2020-01-12)")):
        train_forecaster(config, tmp_path / "run", log=lambda line: None)
    late = load_config(ForecastRunConfig, None, settings(csv, **{"data.train_end": "2030"}))
    with pytest.raises(ValueError, match=re.escape(  # was: 'data.val_end (2020-01-17 15:00:00)
            "data.train_end (2030) is at or after the data's last row (2020-01-17 15:00:00)")):
        train_forecaster(late, tmp_path / "run", log=lambda line: None)  # is before ...'


@pytest.mark.parametrize(("dates", "period"), [
    (pd.bdate_range("2020-01-01", periods=60), 5),  # trading days: a week is 5 rows, not 7
    (pd.date_range("2020-01-01", periods=60, freq="D"), 7),
    (pd.date_range("2020-01-01", periods=60, freq="h"), 24),
    (pd.date_range("2020-01-01", periods=60, freq="30min"), 48),
    (pd.date_range("2020-01-06", periods=60, freq="W-MON"), 52),
    (pd.date_range("2015-01-31", periods=60, freq="ME"), 12),
    (pd.date_range("2015-01-01", periods=60, freq="7h"), 3),
    (pd.date_range("2015-01-01", periods=60, freq="BME"), 12),  # month ends on trading days
    (pd.date_range("2015-01-01", periods=60, freq="28D"), 1),  # a fixed step: no known season
])
def test_the_seasonal_period_follows_the_series_grid(dates: pd.DatetimeIndex,
                                                     period: int) -> None:
    from rnnkit.pipelines.series_grid import seasonal_period

    frame = pd.DataFrame({"y": np.arange(len(dates), dtype=float)}, index=dates)
    assert seasonal_period(ForecastDataConfig(source="file.csv"), frame) == period
    assert seasonal_period(ForecastDataConfig(source="beijing"), frame) == 24  # the source's


def test_registry_series_names_are_read_in_any_case_as_stock_symbols_are() -> None:
    from rnnkit.pipelines.series_grid import seasonal_period
    from rnnkit.pipelines.sources import is_file, read_source, same_source, with_source

    index = pd.date_range("2010-01-01", "2014-12-31 23:00", freq="h")
    frame = pd.DataFrame(index=index)
    for name in ("Beijing", "BEIJING"):  # was "unknown data.source 'Beijing': use beijing, ..."
        assert split_ends(ForecastDataConfig(source=name), index) == ("2012", "2013")
        assert seasonal_period(ForecastDataConfig(source=name), frame) == 24
        assert not is_file(name) and same_source(name, "beijing")
        check_source(name, "--data")
    file_settings = ForecastDataConfig(source="meters.csv", frequency="infer", max_fill=2)
    assert with_source(file_settings, "Seattle").max_fill == 0  # a registry series, no file
    assert not same_source("Seattle", "beijing") and same_source("aapl", "AAPL")
    seattle, target = read_source(ForecastDataConfig(source="Seattle"))
    assert target == "temp_max"
    pd.testing.assert_frame_equal(seattle, read_source(ForecastDataConfig(source="seattle"))[0])
    assert len(prepare(ForecastDataConfig(source="SEATTLE", lookback=14, horizon=3)).split.test)


def test_a_short_weekly_series_scores_mase_on_one_step_changes(tmp_path: Path) -> None:
    dates = pd.date_range("2020-01-06", periods=70, freq="W-MON", name="date")  # season 52
    frame = pd.DataFrame({"y": np.sin(np.arange(70) / 3.0) + np.arange(70) / 20.0},
                         index=dates)
    csv = write_csv(tmp_path / "weekly.csv", frame)
    config = load_config(ForecastRunConfig, None, settings(csv, **{
        "data.lookback": "8", "data.horizon": "2", "data.calendar": "", "train.epochs": "1",
        "forecast.ridge_steps": "0", "forecast.moving_average": "4"}))
    results = train_forecaster(config, tmp_path / "run", log=lambda line: None)
    assert "MASE is scaled by the one-step naive change" in " ".join(results["test"]["notes"])
    assert np.isfinite(results["test"]["step_2"]["model"]["mase"])


def test_too_few_training_windows_are_named_before_training(tmp_path: Path) -> None:
    short = write_csv(tmp_path / "short.csv", series_frame(400).iloc[:64])
    with pytest.raises(ValueError, match=r"only 1 training window .* need at least 2"):
        _prepare(short, train_end="2020-01-02 05:00", val_end="2020-01-02 12:00")
    late = series_frame(300)
    late.loc[late.index[:240], "x"] = np.nan  # an input that starts late
    with pytest.raises(ValueError, match="no window has all its targets at or before train_end"
                                         r".*windows were left out for missing values in 'x' "
                                         r"\(240 rows\)"):
        _prepare(write_csv(tmp_path / "late.csv", late))


def test_a_change_target_is_scored_on_its_own_direction(tmp_path: Path) -> None:
    """A target made by data.changes (y_change_3) was scored as a level: its direction was
    its move from the current change, so persistence (tomorrow's change = today's) scored 0%
    where its momentum is right about as often as the changes persist."""
    from rnnkit.timeseries.metrics import directional_accuracy

    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    config = load_config(ForecastRunConfig, None, settings(
        csv, **{"data.changes": "y", "data.change_lags": "3", "data.target": "y_change_3",
                "train.epochs": "1"}))
    results = train_forecaster(config, tmp_path / "run", log=lambda line: None)
    prepared = prepare(config.data)
    test = prepared.split.test
    last = test.targets[:, -1]
    expected = directional_accuracy(last, test.current)  # persistence: the change now
    scored = results["test"]["step_6"]["persistence"]["directional_accuracy"]
    assert scored == pytest.approx(expected) and scored > 0.3
