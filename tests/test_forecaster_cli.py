"""rnnkit train forecaster end to end: runs, results and plots, bad input exiting 2, and
settings refused before training or by --print-config, and --data-dir."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import SHARED_DATA
from test_forecaster import series_frame, settings, write_csv

import rnnkit.cli
from rnnkit.models.forecaster import Forecaster
from rnnkit.training.bundle import load_bundle


def test_cli_trains_on_a_csv_and_writes_results(tmp_path: Path, monkeypatch, capsys) -> None:
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    args = ["train", "forecaster", "--out", str(tmp_path / "run")]
    for item in settings(csv, **{"forecast.loss": "gaussian"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    step = results["test"]["step_6"]
    for name in ("model", "persistence", "seasonal_naive_24", "moving_average_6", "ridge"):
        assert set(step[name]) >= {"mae", "rmse", "smape", "mase", "directional_accuracy",
                                   "mae_ratio_to_persistence"}
    assert 0.0 <= results["test"]["interval"]["coverage"] <= 1.0
    assert (tmp_path / "run" / "forecast.png").stat().st_size > 0
    capsys.readouterr()
    code = rnnkit.cli.main(["evaluate", "--model", str(tmp_path / "run" / "model.rnnkit")])
    assert code == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["step_6"] == results["test"]["step_6"]  # scored as in training
    assert evaluated["interval"] == results["test"]["interval"]


def test_evaluate_plots_as_many_windows_as_training_did(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """rnnkit evaluate --out drew the last 504 test windows whatever forecast.plot_points the
    model was trained with."""
    import rnnkit.viz.timeseries

    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    args = ["train", "forecaster", "--out", str(tmp_path / "run")]
    for item in settings(csv, **{"forecast.plot_points": "7", "train.epochs": "1"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    shown: list[int] = []
    monkeypatch.setattr(rnnkit.viz.timeseries, "plot_forecast",
                        lambda actual, forecasts, path, **options: shown.append(len(actual)))
    assert rnnkit.cli.main(["evaluate", "--model", str(tmp_path / "run" / "model.rnnkit"),
                            "--out", str(tmp_path / "evaluated")]) == 0
    assert shown == [7]


@pytest.mark.parametrize("extra", [
    {"forecast.strategy": "recursive", "forecast.loss": "mae"},
    {"forecast.loss": "quantile", "forecast.quantiles": "0.1,0.5,0.9"},
])
def test_cli_trains_recursive_and_quantile_models(tmp_path: Path, extra: dict) -> None:
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    args = ["train", "forecaster", "--out", str(tmp_path / "run")]
    for item in settings(csv, **extra):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    model = results["test"]["step_6"]["model"]
    assert np.isfinite(model["mae"]) and model["mae_ratio_to_persistence"] < 2.0
    loaded = load_bundle(tmp_path / "run" / "model.rnnkit")
    assert isinstance(loaded, Forecaster)
    assert loaded.strategy == extra.get("forecast.strategy", "direct")
    if loaded.loss_name == "quantile":  # the level is 0.9 - 0.1, not forecast.interval
        assert results["test"]["interval"]["level"] == pytest.approx(0.8)
        assert 0.0 <= results["test"]["interval"]["coverage"] <= 1.0
    else:
        assert "interval" not in results["test"]


@pytest.mark.parametrize(("rows", "extra", "message"), [
    (400, {"data.target": "nope"}, "no target column 'nope'"),
    # named a train_end the user never set as if set: "(2020-01-12 15:00:00); ... move
    # data.train_end earlier"
    (400, {"data.val_end": "2020-01-05"}, "data.val_end (2020-01-05) is before data.train_end "
                                          "(2020-01-12 15:00:00, by default the row at 70%)"),
    # was "has no target column ''": a file has no default target
    (400, {"data.target": ""}, "data.target is not set, and a file has no default target; "
                               "its columns: y, x. Set data.target"),
    (20, {}, "too few"),
    (400, {"data.log1p": "y"}, "data.log1p lists the target 'y'"),
    (400, {"data.changes": "z"}, "no column 'z' to derive from"),
    (400, {"data.changes": "x", "data.change_lags": "1,day"}, "data.change_lags must be whole"),
    (400, {"data.changes": "x", "data.change_lags": ""}, "data.change_lags must be whole"),
    (400, {"data.changes": "x", "data.change_lags": "0"}, "lags must be whole numbers of at"),
    (400, {"forecast.ridge_alphas": "1,x"}, "forecast.ridge_alphas must be numbers separated"),
    (400, {"forecast.ridge_alphas": "-1"}, "ridge_alphas must be numbers of at least 0"),
    # NaN passed the minimum, was trained, then chosen as the ridge's alpha: NaN predictions
    # and "predicted holds 330 NaN" after training
    (400, {"forecast.ridge_alphas": "nan"}, "forecast.ridge_alphas must be finite numbers"),
    (400, {"forecast.ridge_alphas": "nan,1"}, "forecast.ridge_alphas must be finite numbers"),
    (400, {"forecast.ridge_steps": "24.5"}, "forecast.ridge_steps must be whole numbers"),
    (400, {"forecast.moving_average": "0"}, "forecast.moving_average must be at least 1"),
    (400, {"forecast.seasonal_period": "-1"}, "forecast.seasonal_period must be at least 0"),
    # forecast.png was drawn empty
    (400, {"forecast.plot_points": "0"}, "forecast.plot_points must be at least 1"),
    (400, {"forecast.plot_points": "-1"}, "forecast.plot_points must be at least 1"),
    (400, {"data.stride": "0"}, "data.stride must be at least 1"),
    (400, {"forecast.loss": "gaussian", "forecast.interval": "90"},
     "forecast.interval must be between 0 and 1"),
])
def test_bad_input_exits_2_with_a_clear_message(tmp_path: Path, monkeypatch, capsys, rows: int,
                                                extra: dict, message: str) -> None:
    csv = write_csv(tmp_path / "series.csv", series_frame(rows))
    args = ["train", "forecaster", "--out", str(tmp_path / "run")]
    for item in settings(csv, **extra):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run" / "model.rnnkit").exists()  # refused before training


@pytest.mark.parametrize(("extra", "message"), [
    ({"forecast.quantiles": "0.1,0.5,0.9"},
     "forecast.quantiles is read only with forecast.loss=quantile"),
    ({"forecast.loss": "quantile", "forecast.interval": "0.5"},
     "forecast.interval is read only with forecast.loss=gaussian or forecast.conformal=true"
     " (this run's loss is quantile; a quantile model's interval is its outer quantiles"),
    ({"forecast.interval": "0.5"}, "forecast.interval is read only with forecast.loss=gaussian"),
    ({"data.change_lags": "1,7"}, "data.change_lags is read only with data.changes"),  # was ignored
])
def test_interval_settings_another_loss_ignores_are_refused(tmp_path: Path, capsys,
                                                            extra: dict, message: str) -> None:
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    args = ["train", "forecaster", "--out", str(tmp_path / "run")]
    for item in settings(csv, **extra):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 2
    assert message in capsys.readouterr().err


def test_a_constant_target_is_refused_before_training(tmp_path: Path, capsys) -> None:
    csv = write_csv(tmp_path / "flat.csv", series_frame(400).assign(y=5.0))
    args = ["train", "forecaster", "--out", str(tmp_path / "run")]
    for item in settings(csv):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 2
    assert "holds one value (5) over the whole training period" in capsys.readouterr().err
    assert not (tmp_path / "run" / "last.pt").exists()


SHARED_BEIJING = SHARED_DATA / "beijing_pm25" / "pollution.csv"


@pytest.mark.skipif(not SHARED_BEIJING.exists(), reason="needs ../shared/data")
def test_data_dir_reaches_every_command_that_reads_a_registry_source(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RNNKIT_DATA", raising=False)  # only --data-dir says where the data is
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))  # and nothing is cached
    monkeypatch.setattr("rnnkit.data.registry.fetch_file", lambda *_: (_ for _ in ()).throw(
        AssertionError("tried to download")))
    moved = tmp_path / "moved"  # the mirror training read, gone by evaluation time
    moved.mkdir()
    (moved / "beijing_pm25").symlink_to(SHARED_BEIJING.parent)
    mirror, run = str(SHARED_DATA), tmp_path / "run"
    args = ["train", "forecaster", "--data-dir", str(moved), "--out", str(run)]
    for item in ("data.source=beijing", "data.lookback=6", "data.horizon=1", "data.stride=48",
                 "model.hidden_size=4", "train.epochs=1", "train.max_steps=3",
                 "train.threads=1", "train.progress=false"):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    (moved / "beijing_pm25").unlink()
    model = str(run / "model.rnnkit")
    assert rnnkit.cli.main(["evaluate", "--model", model]) == 2  # no mirror: no data
    assert rnnkit.cli.main(["evaluate", "--model", model, "--data-dir", mirror]) == 0
    assert rnnkit.cli.main(["forecast", "--model", model, "--data-dir", mirror,
                            "--as-of", "2014-06-30"]) == 0
    assert "2014-07-01" in capsys.readouterr().out


@pytest.mark.parametrize(("task", "setting"), [
    ("forecaster", "data.train_end=2014-13-01"), ("signal", "data.val_end=20x4")])
def test_split_ends_that_are_no_date_are_refused_before_data_is_read(
        task: str, setting: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--print-config printed them and exited 0; only training, after reading the data,
    refused them."""
    key = setting.split("=")[0]
    settings = [part for one in setting.split(" --set ") for part in ("--set", one)]
    assert rnnkit.cli.main(["train", task, *settings, "--print-config"]) == 2
    assert f"{key} must be a date such as 2009-12-31" in capsys.readouterr().err


@pytest.mark.parametrize("task", ["forecaster", "signal"])
def test_a_validation_end_before_the_training_end_is_refused_before_data_is_read(
        task: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--print-config printed data.train_end=2013-06 with data.val_end=2013-01 and exited 0;
    only training, after reading the data, refused the pair. Within one period is fine."""
    settings = ["--set", "data.train_end=2013-06", "--set", "data.val_end=2013-01"]
    assert rnnkit.cli.main(["train", task, *settings, "--print-config"]) == 2
    assert "data.val_end (2013-01) is before data.train_end (2013-06)" in capsys.readouterr().err
    settings = ["--set", "data.train_end=2013-06-30 12:00", "--set", "data.val_end=2013-06"]
    assert rnnkit.cli.main(["train", task, *settings, "--print-config"]) == 0


@pytest.mark.parametrize(("task", "setting", "message"), [
    ("forecaster", "data.lookback=-1", "data.lookback must be at least 1; got -1"),
    ("signal", "data.horizon=0", "data.horizon must be at least 1; got 0"),
    ("forecaster", "data.stride=0", "data.stride must be at least 1; got 0"),
    ("signal", "data.max_fill=-1", "data.max_fill must be at least 0; got -1"),
    ("forecaster", "forecast.loss=l2", "forecast.loss must be one of mse, mae, gaussian, "
                                       "quantile; got 'l2'"),
    ("forecaster", "forecast.strategy=rolling", "forecast.strategy must be one of direct, "
                                                "recursive; got 'rolling'"),
    ("forecaster", "forecast.input_noise=-0.1", "forecast.input_noise must be at least 0"),
    ("forecaster", "forecast.last_step_weight=0", "forecast.last_step_weight must be above 0"),
    ("forecaster", "forecast.highway_steps=500", "forecast.highway_steps must be from 0 to "
                                                 "data.lookback (120); got 500"),
    ("forecaster", "forecast.loss=quantile --set forecast.quantiles=0.05,0.95",
     "must include 0.5 (the median is the point forecast)"),
    ("forecaster", "forecast.loss=quantile --set forecast.quantiles=5,50,95",
     "every quantile must lie strictly between 0 and 1"),
    ("forecaster", "forecast.strategy=recursive --set forecast.loss=gaussian",
     "forecast.loss=gaussian is unsupported with forecast.strategy=recursive"),
    ("forecaster", "forecast.strategy=recursive --set forecast.last_step_weight=2",
     "forecast.last_step_weight applies to direct models"),
])
def test_window_and_model_options_are_refused_by_print_config(
        task: str, setting: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--print-config (and train --nproc N, which reads the settings once first) printed them
    and exited 0; training refused them, the model's only after reading the data."""
    settings = [part for one in setting.split(" --set ") for part in ("--set", one)]
    assert rnnkit.cli.main(["train", task, *settings, "--print-config"]) == 2
    assert message in capsys.readouterr().err


def test_a_monitor_the_forecaster_never_reports_is_refused_before_training(
        tmp_path: Path, capsys) -> None:
    """train.monitor=val_acc was refused only after the first epoch had trained (a forecaster
    named no metrics), and rnnkit stocks after its first fold's epoch."""
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    args = ["train", "forecaster", "--out", str(tmp_path / "run")]
    for item in settings(csv, **{"train.monitor": "val_acc"}):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 2
    out, err = capsys.readouterr()
    assert "epoch 1" not in out
    assert ("train.monitor 'val_acc' is not a validation metric of Forecaster; choose one of "
            "val_loss, val_mae, val_mae_last, train_loss") in err
    assert not (tmp_path / "run" / "last.pt").exists()


@pytest.mark.parametrize("task", ["forecaster", "signal"])
def test_an_unknown_source_is_refused_before_the_run(task: str, capsys) -> None:
    # --print-config printed it and exit 0; the run refused it only once it read the data,
    # after --nproc had started its processes
    assert rnnkit.cli.main(["train", task, "--set", "data.source=APPL", "--print-config"]) == 2
    assert "data.source 'APPL' is neither a source (beijing, seattle, AAPL" in \
        capsys.readouterr().err


@pytest.mark.parametrize("command", ["forecaster", "signal"])
def test_an_unknown_calendar_part_is_refused_before_the_data_naming_the_setting(
        command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--print-config passed data.calendar=week; the run read its data, then said only
    "unknown calendar part 'week'", naming no setting."""
    assert rnnkit.cli.main(["train", command, "--set", "data.calendar=hour,week",
                            "--print-config"]) == 2
    assert ("data.calendar: unknown calendar part 'week'; give parts of hour, day_of_week, "
            "day_of_year, month, comma-separated") in capsys.readouterr().err
    for calendar in ("auto", "", "hour,month"):
        assert rnnkit.cli.main(["train", command, "--set", f"data.calendar={calendar}",
                                "--print-config"]) == 0
