"""Split-conformal intervals: the quantile, its coverage guarantee, and forecast.conformal from
training to the bundle, evaluate and forecast."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnnkit.cli
from rnnkit.timeseries.conformal import (
    calibrate,
    conformal_quantile,
    conformalize,
    fewest_windows,
    interval_report,
)


def test_the_quantile_is_the_ceil_n_plus_1_level_th_smallest_finite_score() -> None:
    scores = np.array([[5.0, 1.0], [1.0, np.nan], [3.0, 2.0], [2.0, 3.0], [4.0, 4.0]])
    # column 0: n = 5, ceil(6 * 0.5) = 3rd smallest; column 1: n = 4, ceil(5 * 0.5) = 3rd
    assert conformal_quantile(scores, 0.5).tolist() == [3.0, 3.0]
    # ceil past n: no score is large enough for the guarantee, the band is infinite
    assert conformal_quantile(scores, 0.9).tolist() == [math.inf, math.inf]
    assert conformal_quantile(scores[:, :1], 0.8).tolist() == [5.0]  # ceil(6 * 0.8) = 5 = n
    assert math.isnan(conformal_quantile(np.full((3, 1), np.nan), 0.9)[0])


def test_the_rank_is_that_of_the_level_as_written_not_of_its_float_product() -> None:
    # (99 + 1) * 0.55 is 55.00000000000001 and (24 + 1) * 0.56 is 14.000000000000002 in floating
    # point: their ceilings, 56 and 15, took one score more than ceil((n + 1) level)
    for n, level, rank in ((99, 0.55, 55), (24, 0.56, 14), (74, 0.68, 51), (1499, 0.67, 1005)):
        scores = np.arange(1.0, n + 1)[:, None]  # the k-th smallest is k
        assert conformal_quantile(scores, level).tolist() == [float(rank)]
    assert conformal_quantile(np.arange(1.0, 100)[:, None], 0.9).tolist() == [90.0]
    assert [fewest_windows(level) for level in (0.55, 0.56, 0.9, 0.95)] == [2, 2, 9, 19]


def test_a_calibrated_band_holds_its_level_of_exchangeable_values() -> None:
    """The split-conformal guarantee: with n = 99 calibration values the band is the 90th
    smallest |error|, so a new exchangeable value falls inside it with probability exactly
    90/100; over 40,000 draws (sd 0.0015) the share is within 0.005 of it (the 89th would give
    0.89)."""
    rng = np.random.default_rng(0)
    n, trials = 99, 40_000
    errors = rng.standard_t(3, size=(n + 1, trials)) * 2.0  # heavy tails: no Gaussian shortcut
    calibration = calibrate(errors[:n], {"mean": np.zeros((n, trials))}, 0.9)
    band = conformalize({"mean": np.zeros((1, trials))}, calibration)
    inside = (band["lower"][0] <= errors[n]) & (errors[n] <= band["upper"][0])
    assert abs(inside.mean() - 0.9) < 0.005


def test_conformal_quantile_covers_new_draws_at_its_level() -> None:
    rng = np.random.default_rng(0)
    calibration, fresh = np.abs(rng.normal(size=(999, 3))), np.abs(rng.normal(size=(20000, 3)))
    half = conformal_quantile(calibration, 0.9)
    # the 900th of 999 sorted values: ceil(1000 * 0.9) / 999 of the way up
    assert half[0] == np.sort(calibration[:, 0])[899]
    coverage = (fresh <= half).mean(axis=0)
    assert np.all(coverage > 0.88) and np.all(coverage < 0.92)
    assert np.all(conformal_quantile(calibration[:9], 0.9) == calibration[:9].max(axis=0))
    assert np.all(conformal_quantile(calibration[:8], 0.9) == math.inf)


def test_cqr_widens_or_narrows_the_model_s_interval_by_the_scores_quantile() -> None:
    actual = np.array([[0.0], [1.0], [2.0], [3.0]])
    out = {"mean": actual, "lower": actual - 1.0, "upper": actual + 1.0}
    calibration = calibrate(actual, out, 0.5)  # every value 1 inside: narrowed by 1
    assert (calibration["method"], calibration["widen"], calibration["windows"]) == \
        ("cqr", [-1.0], 4)
    narrowed = conformalize(out, calibration)
    assert np.array_equal(narrowed["lower"], actual) and np.array_equal(narrowed["upper"], actual)
    with pytest.raises(ValueError, match="between 0 and 1"):
        calibrate(actual, out, 90)


def test_interval_report_counts_coverage_width_and_winkler_s_score() -> None:
    actual = np.array([0.0, 5.0, np.nan])
    report = interval_report(actual, np.array([-1.0, 1.0, 0.0]), np.array([1.0, 3.0, 9.0]), 0.8)
    # the second value is 2 above its interval: its score is 2 + 2 / 0.2 * 2 = 22
    assert report == {"level": 0.8, "coverage": 0.5, "mean_width": 2.0,
                      "interval_score": pytest.approx(12.0)}


def frame(rows: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    t = np.arange(rows)
    return pd.DataFrame({"y": np.sin(2 * np.pi * t / 24) * 5 + rng.standard_normal(rows)},
                        index=pd.date_range("2020-01-01", periods=rows, freq="h", name="date"))


def train(tmp_path: Path, *extra: str, code: int = 0) -> Path:
    csv = tmp_path / "series.csv"
    frame().reset_index().to_csv(csv, index=False)
    args = ["train", "forecaster", "--out", str(tmp_path / "run")]
    for item in (f"data.source={csv}", "data.target=y", "data.lookback=24", "data.horizon=4",
                 "model.hidden_size=8", "train.epochs=2", "train.progress=false",
                 "train.threads=1", "forecast.loss=mae", "forecast.conformal=true", *extra):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == code
    return tmp_path / "run"


def test_an_mae_model_gets_a_calibrated_interval_kept_in_its_bundle(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """forecast.loss=mae gave no interval at all; forecast.conformal=true gives it one, the
    validation windows' errors setting each step's width, and the bundle keeps it."""
    from rnnkit.models.forecaster import Forecaster
    from rnnkit.pipelines.sources import prepare
    from rnnkit.training.bundle import load_model

    run = train(tmp_path, "forecast.interval=0.8")
    results = json.loads((run / "results.json").read_text())
    interval = results["test"]["interval"]
    assert interval["level"] == 0.8 and interval["conformal"]["method"] == "absolute"
    assert 0.6 < interval["coverage"] < 0.95 and interval["interval_score"] > 0
    model = load_model(run / "model.rnnkit", Forecaster)
    assert model.conformal is not None and len(model.conformal["widen"]) == 4
    from rnnkit.config import load_config
    from rnnkit.pipelines.forecaster import ForecastRunConfig

    config = load_config(ForecastRunConfig, run / "config.toml", [])
    validation = prepare(config.data).split.validation
    out = model.predict_windows(validation)
    inside = (validation.targets >= out["lower"]) & (validation.targets <= out["upper"])
    assert (inside.mean(axis=0) >= 0.8).all()  # by construction, on its own windows
    capsys.readouterr()
    assert rnnkit.cli.main(["evaluate", "--model", str(run / "model.rnnkit")]) == 0
    assert json.loads(capsys.readouterr().out)["interval"] == interval
    table = model.forecast(frame())
    assert list(table.columns) == ["step", "mean", "lower", "upper", "level"]
    assert (table["level"] == 0.8).all()
    with pytest.raises(ValueError, match="calibrated \\(conformal\\) at level 0.8 only"):
        model.predict_windows(validation, interval=0.9)


def test_a_quantile_model_s_interval_is_conformalized_by_cqr(tmp_path: Path) -> None:
    from rnnkit.models.forecaster import Forecaster
    from rnnkit.training.bundle import load_model

    run = train(tmp_path, "forecast.loss=quantile", "forecast.quantiles=0.1,0.5,0.9")
    interval = json.loads((run / "results.json").read_text())["test"]["interval"]
    assert interval["level"] == 0.8 and interval["conformal"]["method"] == "cqr"
    model = load_model(run / "model.rnnkit", Forecaster)
    windows = model.windows_of(frame())
    own = dict(model.predict_windows(windows))
    model.conformal, calibration = None, model.conformal
    plain = model.predict_windows(windows)
    assert calibration is not None
    widen = np.asarray(calibration["widen"])
    np.testing.assert_allclose(own["lower"], plain["lower"] - widen)
    np.testing.assert_allclose(own["upper"], plain["upper"] + widen)


def test_forecast_interval_is_refused_without_an_interval_to_set(tmp_path: Path,
                                                                 capsys) -> None:
    code = rnnkit.cli.main(["train", "forecaster", "--set", "forecast.loss=mae", "--set",
                            "forecast.interval=0.8", "--print-config"])
    assert code == 2
    assert "forecast.interval is read only with forecast.loss=gaussian or " \
           "forecast.conformal=true" in capsys.readouterr().err


def test_forecast_interval_on_a_conformal_quantile_model_says_what_sets_its_level(
        capsys: pytest.CaptureFixture[str]) -> None:
    """It was told that forecast.interval 'is read only with ... forecast.conformal=true',
    which the run had set."""
    code = rnnkit.cli.main(["train", "forecaster", "--set", "forecast.loss=quantile", "--set",
                            "forecast.conformal=true", "--set", "forecast.interval=0.8",
                            "--print-config"])
    assert code == 2
    error = capsys.readouterr().err
    assert "forecast.interval is not read by a conformal quantile model: its level is the " \
           "span of its outer forecast.quantiles" in error
    assert "read only with" not in error


def test_conformal_with_a_median_only_quantile_model_is_refused_before_training(
        capsys: pytest.CaptureFixture[str]) -> None:
    """forecast.quantiles=0.5 bounds no interval: forecast.conformal=true trained the model,
    then failed on 'the conformal level must be between 0 and 1 ... got 0.0', with no bundle
    saved; it is now refused before any data is read, saying what to set."""
    code = rnnkit.cli.main(["train", "forecaster", "--set", "forecast.loss=quantile", "--set",
                            "forecast.quantiles=0.5", "--set", "forecast.conformal=true",
                            "--print-config"])
    assert code == 2
    err = capsys.readouterr().err
    assert "forecast.conformal=true" in err and "forecast.quantiles=0.5" in err
    assert len(err.strip().splitlines()) == 1


def test_too_few_calibration_windows_for_the_level_are_refused() -> None:
    """With n scores the band is the ceil((n + 1) level)-th smallest; past n no score bounds
    it. The largest was taken instead, and a '90%' band from 5 windows held 5/6 of new
    values at best; calibrate now refuses, saying how many windows the level needs."""
    assert [fewest_windows(level) for level in (0.5, 0.8, 0.9, 0.95, 0.99)] == \
        [1, 4, 9, 19, 99]
    for level in (0.5, 0.8, 0.9, 0.95, 0.99, 0.123):  # the fewest n that works, and not n - 1
        n = fewest_windows(level)
        assert math.ceil((n + 1) * level) <= n
        assert n == 1 or math.ceil(n * level) > n - 1
    actual = np.arange(8.0).reshape(8, 1)
    with pytest.raises(ValueError, match="needs at least 9 calibration windows.*8"):
        calibrate(actual, {"mean": actual}, 0.9)
    assert calibrate(actual, {"mean": actual}, 0.8)["widen"] == [0.0]


def test_a_run_with_too_few_validation_windows_for_its_level_is_refused_before_training(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """6 validation windows and forecast.conformal=true at 0.9: the run calibrated on the
    largest error, reported a '90%' interval, and saved it; it is now refused before
    training, saying how many windows 0.9 needs and what to change."""
    train(tmp_path, "data.train_end=2020-01-17 23:00", "data.val_end=2020-01-18 08:00",
          code=2)
    captured = capsys.readouterr()
    assert "needs at least 9 validation windows" in captured.err and "has 6" in captured.err
    assert len(captured.err.strip().splitlines()) == 1 and "epoch 1" not in captured.out
    assert not (tmp_path / "run" / "model.rnnkit").exists()
    train(tmp_path, "data.train_end=2020-01-17 23:00", "data.val_end=2020-01-18 08:00",
          "forecast.interval=0.8")  # 6 windows are enough for 0.8 (4)
