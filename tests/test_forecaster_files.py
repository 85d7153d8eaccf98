"""The forecaster and the user's files: columns, dates, text and long formats, gaps, parquet
folders, bad --data and --output, and forecasts written whole."""

from __future__ import annotations

import importlib.util
import json
import warnings
from contextlib import nullcontext
from dataclasses import asdict, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_forecaster import _prepare, model_for, series_frame, settings, write_csv

import rnnkit.cli
from rnnkit.commands.common import check_source
from rnnkit.config import ConfigError, load_config
from rnnkit.pipelines.forecaster import ForecastRunConfig, train_forecaster
from rnnkit.pipelines.saved_source import prepare_for
from rnnkit.pipelines.source_config import ForecastDataConfig
from rnnkit.pipelines.sources import prepare
from rnnkit.training.bundle import load_bundle, save_bundle


def test_evaluate_names_a_bad_data_flag(tmp_path: Path, capsys) -> None:
    save_bundle(model_for(series_frame(100), hidden=4), tmp_path / "model.rnnkit")
    for data in ("seatle", str(tmp_path / "missing.csv")):
        assert rnnkit.cli.main(["evaluate", "--model", str(tmp_path / "model.rnnkit"),
                                "--data", data]) == 2
        assert f"--data {data!r} is neither a source" in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "message"), [
    (["--split", "dev"], "--split does not apply; leave it out"),  # was: '--split do not apply'
    (["--format", "csv"], "--format does not apply; leave it out"),
    (["--length", "5"], "--length does not apply; leave it out"),
    (["--split", "dev", "--format", "csv"], "--format, --split do not apply; leave them out"),
])
def test_evaluate_refuses_flags_a_forecaster_does_not_read(tmp_path: Path, capsys,
                                                           flags: list[str], message: str) -> None:
    """--split dev printed the test period's scores as the dev split's."""
    save_bundle(model_for(series_frame(100), hidden=4), tmp_path / "model.rnnkit")
    assert rnnkit.cli.main(["evaluate", "--model", str(tmp_path / "model.rnnkit"), *flags]) == 2
    assert message in capsys.readouterr().err


def test_forecast_names_a_bad_output_other_data_and_as_of(tmp_path: Path, capsys) -> None:
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    config = load_config(ForecastRunConfig, None, settings(csv, **{"train.epochs": "1"}))
    train_forecaster(config, tmp_path / "run", log=lambda line: None)
    model = str(tmp_path / "run" / "model.rnnkit")
    sheet = tmp_path / "f.xlsx"  # was written as CSV under that name
    assert rnnkit.cli.main(["forecast", "--model", model, "--output", str(sheet)]) == 2
    assert "end the name in .csv or .json (got .xlsx)" in capsys.readouterr().err
    assert not sheet.exists()
    if importlib.util.find_spec("zstandard") is None:  # was pandas' ImportError traceback
        squeezed = tmp_path / "f.csv.zst"
        assert rnnkit.cli.main(["forecast", "--model", model, "--output", str(squeezed)]) == 2
        assert "writing .zst needs the zstandard package, which is not installed; pip " \
            "install zstandard, or end the name in .gz" in capsys.readouterr().err
    other = write_csv(tmp_path / "other.csv", series_frame(400).rename(columns={"y": "z"}))
    assert rnnkit.cli.main(["forecast", "--model", model, "--data", str(other)]) == 2
    err = capsys.readouterr().err  # was "Pass target=<one of them>" ("Set data.target" for a stock)
    assert f"the data {other} has no column 'y', the target the model forecasts" in err
    assert "columns: z, x. Give --data with that column" in err
    assert rnnkit.cli.main(["forecast", "--model", model, "--as-of", "1990-01-01"]) == 2
    assert "--as-of 1990-01-01: no rows at or before it; the data starts on 2020-01-01" in \
        capsys.readouterr().err
    own = tmp_path / "series.csv"  # the model's own data, read without --data: was overwritten
    assert rnnkit.cli.main(["forecast", "--model", model, "--output", str(own)]) == 2
    assert f"--output {own} is the model's training data file" in capsys.readouterr().err
    assert len(pd.read_csv(own)) == 400
    for command in ("forecast", "evaluate"):  # the flag was ignored without --data
        assert rnnkit.cli.main([command, "--model", model, "--date-column", "day"]) == 2
        assert "--date-column day names the date column of a --data file; give --data too" in \
            capsys.readouterr().err
        # and with a registry series, which has its own dates: was ignored in silence
        assert rnnkit.cli.main([command, "--model", model, "--data", "seattle",
                                "--date-column", "day"]) == 2
        assert "seattle is a registry series, read with its own dates; leave --date-column" \
            " out" in capsys.readouterr().err


def test_data_features_a_file_lacks_are_named_by_their_setting_or_as_the_model_s(
        tmp_path: Path, capsys) -> None:
    # training said "no column 'z' in the frame; its columns: ...", naming no setting;
    # evaluate and backtest of a model of data.features=x on a file without x said "no column
    # 'x' in the frame", and forecast "the frame lacks the model's feature(s) ['x']"
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    assert rnnkit.cli.main(["train", "forecaster", "--out", str(tmp_path / "bad"), *[
        part for pair in settings(csv, **{"data.features": "x,z"}) for part in ("--set", pair)
    ]]) == 2
    assert capsys.readouterr().err == (
        f"rnnkit: error: data.features names 'z', which {csv} lacks; its columns: y, x, "
        "hour_sin, hour_cos. Name columns it has\n")
    config = load_config(ForecastRunConfig, None, settings(csv, **{
        "data.features": "x", "train.epochs": "1"}))
    train_forecaster(config, tmp_path / "run", log=lambda line: None)
    model = str(tmp_path / "run" / "model.rnnkit")
    only_y = write_csv(tmp_path / "only_y.csv", series_frame(400)[["y"]])
    for verb in (["evaluate"], ["backtest", "--threshold", "0"], ["forecast"]):
        assert rnnkit.cli.main([*verb, "--model", model, "--data", str(only_y)]) == 2
        error = capsys.readouterr().err
        assert f"rnnkit: error: the data {only_y} lacks input columns the model" in error
        assert "reads: x" in error and "Give --data with the model's columns" in error


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_a_forecast_interrupted_while_written_keeps_the_old_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, suffix: str) -> None:
    """The forecast was written in place: a Ctrl-C mid-write left a truncated file."""
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    config = load_config(ForecastRunConfig, None, settings(csv, **{"train.epochs": "1"}))
    train_forecaster(config, tmp_path / "run", log=lambda line: None)
    output = tmp_path / "out" / f"forecast{suffix}"
    args = ["forecast", "--model", str(tmp_path / "run" / "model.rnnkit"), "--output",
            str(output)]
    assert rnnkit.cli.main(args) == 0
    before = output.read_bytes()

    def half(self: pd.DataFrame, target: Any, *args: Any, **kwargs: Any) -> None:
        with open(target, "wb") if isinstance(target, str | Path) else nullcontext(target) as f:
            f.write(before[: len(before) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_json" if suffix == ".json" else "to_csv", half)
    assert rnnkit.cli.main(args) == 130
    assert "rnnkit: interrupted" in capsys.readouterr().err
    assert output.read_bytes() == before
    assert [path.name for path in output.parent.iterdir()] == [output.name]  # nothing left


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".csv.zip", ".json"])
def test_a_forecast_of_uneven_rows_is_written_without_a_blank_index(
        tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]) -> None:
    days = pd.date_range("2020-01-01", periods=600, name="date")
    frame = series_frame(400).set_axis(days[days.day % 3 != 0][:400])  # no grid: no dates
    csv = write_csv(tmp_path / "days.csv", frame)  # for the steps ahead
    config = load_config(ForecastRunConfig, None, settings(csv, **{
        "data.calendar": "", "train.epochs": "1"}))
    with pytest.warns(UserWarning, match="of its 'D' grid have no row"):  # rows as given
        train_forecaster(config, tmp_path / "run", log=lambda line: None)
    output = tmp_path / f"f{suffix}"
    capsys.readouterr()
    assert rnnkit.cli.main(["forecast", "--model", str(tmp_path / "run" / "model.rnnkit"),
                            "--output", str(output)]) == 0
    err = capsys.readouterr().err  # the CLI's warnings: one line each, as its errors
    assert "rnnkit: warning: " in err and "of its 'D' grid have no row" in err
    assert "warnings.warn(" not in err  # Python's source line under the warning: gone
    if suffix.startswith(".csv"):
        written = pd.read_csv(output)  # .gz: compressed, as pandas infers from the name
        assert written.columns.tolist() == ["step", "mean"] and len(written) == 6
    else:
        rows = json.loads(output.read_text())["data"]
        assert len(rows) == 6 and set(rows[0]) == {"step", "mean"}


def test_a_parquet_folder_is_a_source(tmp_path: Path) -> None:
    folder = tmp_path / "series.parquet"  # a partitioned dataset is a folder
    folder.mkdir()
    check_source(str(folder), "--data")
    with pytest.raises(ValueError, match="neither a source"):
        check_source(str(tmp_path / "missing.parquet"), "--data")


def test_data_without_the_model_columns_is_named_column_by_column(tmp_path: Path,
                                                                  capsys) -> None:
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    config = load_config(ForecastRunConfig, None, settings(csv, **{"train.epochs": "1"}))
    train_forecaster(config, tmp_path / "run", log=lambda line: None)
    other = write_csv(tmp_path / "other.csv", series_frame(400).rename(columns={"x": "z"}))
    assert rnnkit.cli.main(["evaluate", "--model", str(tmp_path / "run" / "model.rnnkit"),
                            "--data", str(other)]) == 2
    assert f"the data {other} lacks input columns the model (trained on {csv}) reads: x; it " \
        "has z instead. Give --data" in capsys.readouterr().err
    extra = write_csv(tmp_path / "extra.csv", series_frame(400).assign(z=1.0))
    assert rnnkit.cli.main(["evaluate", "--model", str(tmp_path / "run" / "model.rnnkit"),
                            "--data", str(extra)]) == 2
    assert f"the data {extra} has columns the model (trained on {csv}) does not read: z; it " \
        "reads " in capsys.readouterr().err  # was 'lacks input columns ... reads: ; it has z'


def test_a_file_with_the_model_columns_in_another_order_is_read_by_name(tmp_path: Path) -> None:
    # rnnkit forecast read such a file; evaluate and backtest refused it: 'has the model's
    # input columns in another order (x, y, ...; the model reads y, x, ...)'
    csv = write_csv(tmp_path / "series.csv", series_frame(400))
    config = load_config(ForecastRunConfig, None, settings(csv, **{"train.epochs": "1"}))
    trained = train_forecaster(config, tmp_path / "run", log=lambda line: None)
    model = load_bundle(tmp_path / "run" / "model.rnnkit")
    swapped = write_csv(tmp_path / "swapped.csv", series_frame(400)[["x", "y"]])
    prepared = prepare_for(model, str(swapped))
    assert prepared.features == list(model.feature_names) == ["y", "x", "hour_sin", "hour_cos"]
    own = prepare_for(model, str(csv))
    assert np.array_equal(prepared.split.test.inputs, own.split.test.inputs)
    from rnnkit.pipelines.forecaster import evaluate_forecaster
    assert evaluate_forecaster(tmp_path / "run" / "model.rnnkit", str(swapped)) == trained["test"]


def test_a_file_s_date_column_and_missing_columns(tmp_path: Path, capsys) -> None:
    frame = series_frame(400).rename_axis("day")
    csv = write_csv(tmp_path / "days.csv", frame)
    config = load_config(ForecastRunConfig, None, settings(csv, **{
        "data.date_column": "day", "train.epochs": "1"}))
    train_forecaster(config, tmp_path / "run", log=lambda line: None)
    model = str(tmp_path / "run" / "model.rnnkit")
    assert rnnkit.cli.main(["forecast", "--model", model, "--data", str(csv)]) == 0  # its column
    other = write_csv(tmp_path / "when.csv", frame.rename_axis("when"))  # another file's name
    for verb in (["evaluate"], ["backtest", "--threshold", "0"]):
        assert rnnkit.cli.main([*verb, "--model", model, "--data", str(other)]) == 2
        assert "no date column 'day'" in capsys.readouterr().err
        assert rnnkit.cli.main([*verb, "--model", model, "--data", str(other),
                                "--date-column", "when"]) == 0
    someday = frame.reset_index().astype({"day": str})
    someday.loc[5, "day"] = "someday"
    someday.to_csv(tmp_path / "someday.csv", index=False)
    assert rnnkit.cli.main(["forecast", "--model", model, "--data",
                            str(tmp_path / "someday.csv")]) == 2
    error = capsys.readouterr().err  # ended 'set data.date_format ..., or pass date_format'
    assert "holds 'someday' at line 7, not a date; fix or drop that row, or write dates such as " \
        "2020-01-31, or give their format (e.g. %d/%m/%Y) as data.date_format when training, " \
        "date_format= in tidy and load_table; forecast, evaluate and backtest read a --data " \
        "file with the model's data.date_format" in error
    (tmp_path / "folder").mkdir()  # said "has no date column 'day'; its columns: (none)"
    assert rnnkit.cli.main(["forecast", "--model", model, "--data", str(tmp_path / "folder")]) == 2
    assert f"{tmp_path / 'folder'} is a folder that holds no data files; give a CSV/Parquet " \
        "file" in capsys.readouterr().err
    args = ["train", "forecaster", "--out", str(tmp_path / "bad"), "--set",
            f"data.source={json.dumps(str(tmp_path / 'folder'))}"]
    assert rnnkit.cli.main(args) == 2
    assert f"{tmp_path / 'folder'} is a folder that holds no data files" in \
        capsys.readouterr().err
    empty = write_csv(tmp_path / "notes.csv", series_frame(400).assign(notes=np.nan))
    args = ["train", "forecaster", "--out", str(tmp_path / "bad")]
    for item in settings(empty):
        args += ["--set", item]
    capsys.readouterr()
    assert rnnkit.cli.main(args) == 2
    assert "free of missing values; missing in 'notes' (400 rows). Leave such columns out" in \
        capsys.readouterr().err


def test_a_user_column_named_like_a_calendar_input_is_refused_not_replaced(tmp_path: Path
                                                                         ) -> None:
    frame = series_frame(400)
    clash = write_csv(tmp_path / "clash.csv", frame.assign(hour_sin=frame["x"]))
    with pytest.raises(ValueError, match="a column 'hour_sin', the name of a calendar input"):
        _prepare(clash)
    assert "hour_sin" in _prepare(clash, calendar="").features  # the user's own column
    listed = write_csv(tmp_path / "listed.csv", frame.assign(wind_sin=np.nan))
    prepared = _prepare(listed, features="y,x")  # only the listed inputs and hour's
    assert prepared.features == ["y", "x", "hour_sin", "hour_cos"]


def test_gaps_in_a_file_s_dates_are_warned_of_or_put_on_the_grid(tmp_path: Path) -> None:
    frame = series_frame(400)
    gappy = write_csv(tmp_path / "gappy.csv", frame.drop(frame.index[100:130]))
    with pytest.warns(UserWarning, match="30 of 400 timestamps of its 'h' grid have no row "
                                         r"\(first missing: 2020-01-05 04:00:00\)"):
        windows = _prepare(gappy).split.train
    spans = windows.target_times[:, -1] - windows.index.to_numpy()[windows.origins - 23]
    assert (spans > np.timedelta64(29, "h")).any()  # as given: some windows span the gap
    for fill in (0, 5):
        prepared = _prepare(gappy, frequency="infer", max_fill=fill)
        train = prepared.split.train
        spans = train.target_times[:, -1] - train.index.to_numpy()[train.origins - 23]
        assert (spans == np.timedelta64(29, "h")).all()  # every window 30 consecutive hours
        assert len(prepared.frame) == 400 and prepared.frame["y"].isna().sum() == 30
        assert prepared.frame["x"].isna().sum() == 30 - fill  # inputs filled, never the target
    change = _prepare(gappy, frequency="infer", max_fill=5, target="y_change_1", changes="y",
                      change_lags="1")  # a change of y is the target: y is never filled either
    assert change.frame["y_change_1"].isna().sum() == 32  # was 27: 5 changes of 0 invented
    logged = _prepare(gappy, frequency="infer", max_fill=5, target="y_log1p", log1p="y")
    assert logged.frame["y_log1p"].isna().sum() == 30  # was 25: 5 copied targets invented
    assert logged.frame["x"].isna().sum() == 25  # the inputs are still filled
    days = pd.DataFrame({"y": np.arange(300.0)},
                        index=pd.bdate_range("2020-01-01", periods=300, name="date"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # trading days skip weekends: not a gap
        _prepare(write_csv(tmp_path / "days.csv", days), lookback=10, horizon=1, calendar="")
    with pytest.raises(ValueError, match="unknown frequency 'hourly'; use infer or a pandas"):
        _prepare(gappy, frequency="hourly")
    with pytest.raises(ConfigError, match="data.max_fill fills the rows data.frequency adds"):
        _prepare(gappy, max_fill=2)
    for setting in ({"frequency": "h"}, {"max_fill": 2}, {"date_format": "%d/%m/%Y"}):
        with pytest.raises(ConfigError, match="are for files; beijing is a registry series"):
            prepare(ForecastDataConfig(source="beijing", **setting))  # was: max_fill ignored


def test_a_saved_model_reads_a_file_with_a_text_column_it_does_not_read(tmp_path: Path,
                                                                         capsys) -> None:
    # forecast and evaluate of a model with --data a file holding a text column beside the
    # model's inputs (Seattle's CSV and its 'weather' label for a model trained on seattle)
    # were refused: "column 'note' holds the non-numeric value 'calm' ... list the inputs in
    # data.features (training)", advice no forecast can follow; the model knows its inputs
    frame = series_frame(400)
    csv = write_csv(tmp_path / "series.csv", frame)
    config = load_config(ForecastRunConfig, None, settings(csv, **{"train.epochs": "1"}))
    train_forecaster(config, tmp_path / "run", log=lambda line: None)
    model = str(tmp_path / "run" / "model.rnnkit")
    noted = write_csv(tmp_path / "noted.csv", frame.assign(note="calm"))
    for data, name in ((csv, "plain"), (noted, "noted")):
        assert rnnkit.cli.main(["forecast", "--model", model, "--data", str(data),
                                "--output", str(tmp_path / f"{name}_forecast.csv")]) == 0
        assert rnnkit.cli.main(["evaluate", "--model", model, "--data", str(data),
                                "--out", str(tmp_path / name)]) == 0
    capsys.readouterr()
    assert (tmp_path / "plain_forecast.csv").read_text() == \
        (tmp_path / "noted_forecast.csv").read_text()
    assert json.loads((tmp_path / "plain" / "results.json").read_text()) == \
        json.loads((tmp_path / "noted" / "results.json").read_text())
    texted = write_csv(tmp_path / "texted.csv", frame.assign(x="calm"))  # an input: refused
    assert rnnkit.cli.main(["forecast", "--model", model, "--data", str(texted)]) == 2
    assert "column 'x' holds the non-numeric value 'calm'" in capsys.readouterr().err


def test_a_file_s_text_and_long_format_and_saved_index(tmp_path: Path) -> None:
    frame = series_frame(400)
    noted = write_csv(tmp_path / "noted.csv", frame.assign(note="calm"))
    with pytest.raises(ValueError, match="non-numeric value 'calm'.*list the inputs in "
                                         "data.features"):
        _prepare(noted)
    assert _prepare(noted, features="y,x").features == ["y", "x", "hour_sin", "hour_cos"]
    with pytest.raises(ValueError, match="non-numeric value 'calm'"):
        _prepare(noted, features="y,note")  # a column the run reads must hold numbers
    long = frame.rename_axis("date").reset_index().melt(id_vars="date", var_name="series")
    long.to_csv(tmp_path / "long.csv", index=False)
    prepared = _prepare(tmp_path / "long.csv", series_column="series", value_column="value")
    assert prepared.features == ["x", "y", "hour_sin", "hour_cos"]  # series by name
    assert np.allclose(prepared.frame["x"], frame["x"])
    frame.reset_index().iloc[50:].to_csv(tmp_path / "indexed.csv")  # pandas' default index
    with pytest.warns(UserWarning, match=r"first column has no name and counts rows \(50, 51"):
        assert _prepare(tmp_path / "indexed.csv").features == [
            "Unnamed: 0", "y", "x", "hour_sin", "hour_cos"]  # read as before: old bundles
    with pytest.warns(UserWarning, match="counts rows"):  # read it; listed inputs leave it out
        assert _prepare(tmp_path / "indexed.csv", features="y,x").features[:2] == ["y", "x"]
    trailing = "date,y,x,\n" + "".join(f"{day:%Y-%m-%d %H:%M},{y},{x},\n" for day, (y, x)
                                       in zip(frame.index, frame.to_numpy(), strict=True))
    (tmp_path / "trailing.csv").write_text(trailing)  # a spreadsheet's trailing commas
    assert _prepare(tmp_path / "trailing.csv", features="y,x").features[:2] == ["y", "x"]


def test_a_model_trained_on_a_file_reads_a_registry_source_without_file_settings() -> None:
    from rnnkit.pipelines.sources import with_source

    trained = ForecastDataConfig(source="meters.csv", frequency="infer", max_fill=2,
                                 series_column="meter", value_column="kwh",
                                 date_format="%d/%m/%Y")
    beijing = with_source(trained, "beijing")
    assert (beijing.source, beijing.frequency, beijing.max_fill, beijing.series_column,
            beijing.value_column, beijing.date_format) == ("beijing", "", 0, "", "", "")
    assert with_source(trained, "other.csv") == replace(trained, source="other.csv")
    # a bundle trained on a registry series when max_fill was silently ignored still reads it
    old = SimpleNamespace(trained_on=asdict(ForecastDataConfig(
        source="seattle", lookback=14, horizon=3, max_fill=2)), target="temp_max",
        feature_names=["precipitation", "temp_max", "temp_min", "wind", "day_of_week_sin",
                       "day_of_week_cos", "day_of_year_sin", "day_of_year_cos"])
    assert len(prepare_for(old).split.test) > 300
