"""``rnnkit.forecast``: the table ``rnnkit forecast`` prints and writes, as a DataFrame, for
a forecaster (with an interval; with a log-return target's implied price) and a signal model,
and the command's errors for bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import test_signal
from test_forecaster import series_frame, settings, write_csv

import rnnkit
from rnnkit.cli import main
from rnnkit.config import ConfigError


def _train(task: str, out: Path, values: list[str]) -> Path:
    args = ["train", task, "--out", str(out)]
    for item in values:
        args += ["--set", item]
    assert main(args) == 0
    return out / "model.rnnkit"


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A forecaster with an interval, one of a log return (its price implied), and a
    buy/sell/hold model, each trained for 2 epochs on a small CSV."""
    folder = tmp_path_factory.mktemp("series")
    series = write_csv(folder / "series.csv", series_frame(400))
    prices = test_signal.write_csv(folder / "price.csv", test_signal.price_frame(300))
    return {
        "series": series, "prices": prices,
        "gaussian": _train("forecaster", folder / "gaussian",
                           settings(series, **{"forecast.loss": "gaussian"})),
        "return": _train("forecaster", folder / "return",
                         test_signal.settings(prices, **{"data.horizon": "3"})),
        "signal": _train("signal", folder / "signal", test_signal.settings(prices)),
    }


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(("name", "data", "as_of"), [
    ("gaussian", None, None), ("gaussian", "series", "2020-01-15"),
    ("return", None, None), ("signal", "prices", "2015-06")])
def test_forecast_gives_what_the_command_line_prints_and_writes(
        name: str, data: str | None, as_of: str | None, bundles: dict[str, Path],
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = bundles[name]
    flags = [*(["--data", str(bundles[data])] if data else []),
             *(["--as-of", as_of] if as_of else [])]
    written = tmp_path / "forecast.csv"
    printed = _cli(capsys, "forecast", "--model", str(model), *flags, "--output", str(written))
    table = rnnkit.forecast(model, data=bundles[data] if data else None, as_of=as_of)
    assert isinstance(table, pd.DataFrame)
    assert printed == f"wrote {written}\n{table.to_string()}\n"
    dated = table.index.name is not None  # a signal model's one row has no dates
    read = pd.read_csv(written, index_col=0 if dated else None,
                       parse_dates=dated)
    assert list(read.columns) == list(table.columns) and len(read) == len(table)
    if dated:
        assert (read.index == table.index).all()
    for column in table.columns:
        if table[column].dtype.kind == "f":
            assert np.array_equal(read[column].to_numpy(), table[column].to_numpy())
        else:
            assert read[column].astype(str).tolist() == table[column].astype(str).tolist()
    loaded = rnnkit.forecast(rnnkit.load(model), data=bundles[data] if data else None,
                             as_of=as_of)
    pd.testing.assert_frame_equal(loaded, table)  # a loaded model: the same table


def test_forecast_gives_the_interval_and_the_implied_price(bundles: dict[str, Path]) -> None:
    table = rnnkit.forecast(bundles["gaussian"])
    assert list(table.columns) == ["step", "mean", "lower", "upper", "level"]
    assert str(table.index[0]) == "2020-01-17 16:00:00" and len(table) == 6
    implied = rnnkit.forecast(str(bundles["return"]))
    assert list(implied.columns) == ["step", "mean", "price_implied"]
    signal = rnnkit.forecast(bundles["signal"])
    assert list(signal.columns) == ["as_of", "horizon", "signal", "p_sell", "p_hold", "p_buy"]


def test_bad_input_raises_the_command_line_s_error(
        bundles: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    model = str(bundles["gaussian"])
    for kwargs, flags in [({"as_of": "2020-13"}, ["--as-of", "2020-13"]),
                          ({"as_of": "2031"}, ["--as-of", "2031"]),
                          ({"data": "seatle"}, ["--data", "seatle"]),
                          ({"date_column": "day"}, ["--date-column", "day"])]:
        with pytest.raises(ValueError) as raised:  # a ConfigError is a ValueError
            rnnkit.forecast(model, **kwargs)
        capsys.readouterr()
        assert main(["forecast", "--model", model, *flags]) == 2
        assert capsys.readouterr().err.strip() == f"rnnkit: error: {raised.value}"
    with pytest.raises(ConfigError, match="write the frame to a file"):
        rnnkit.forecast(model, data=series_frame(50))
    with pytest.raises(ConfigError, match="takes no output=; its options are date_column="):
        rnnkit.forecast(model, output="f.csv")
    tagger = torch_linear()
    with pytest.raises(ValueError, match="does not run 'Linear' models: rnnkit.predict runs"):
        rnnkit.forecast(tagger)
    with pytest.raises(ValueError, match=r"use rnnkit.forecast\(model\)"):
        rnnkit.predict(model, ["x"])


def torch_linear() -> object:
    import torch

    return torch.nn.Linear(1, 1)


def test_too_few_rows_name_the_model_as_given(bundles: dict[str, Path], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    # a loaded model said 'the model in the model given reads the last 24'
    short = write_csv(tmp_path / "short.csv", series_frame(400).iloc[:5])
    model = bundles["gaussian"]
    lookback = rnnkit.load(model).lookback
    with pytest.raises(ValueError) as loaded:
        rnnkit.forecast(rnnkit.load(model), data=short)
    assert str(loaded.value) == (
        f"5 rows of {short} are too few: the model reads the last {lookback} (its "
        "data.lookback); give a longer series, or a model trained with a shorter lookback")
    with pytest.raises(ValueError) as given:
        rnnkit.forecast(model, data=short)
    assert f"too few: the model in {model} reads the last {lookback} (its" in str(given.value)
    capsys.readouterr()
    assert main(["forecast", "--model", str(model), "--data", str(short)]) == 2
    assert capsys.readouterr().err.strip() == f"rnnkit: error: {given.value}"
