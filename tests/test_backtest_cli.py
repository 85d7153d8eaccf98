"""rnnkit backtest (and train signal) on the command line: the flags and data refused, the
forecaster's positions, and what the command prints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnnkit.cli
from rnnkit.timeseries.windows import make_windows


def test_costs_beyond_all_that_a_trade_moves_are_refused_by_their_flags(tmp_path: Path,
                                                                       capsys) -> None:
    args = ["backtest", "--model", str(tmp_path / "model.rnnkit"), "--cost-bps", "1e9"]
    assert rnnkit.cli.main(args) == 2  # before the model is read
    assert "--cost-bps and --slippage-bps add up to 1e+09 basis points, more than 10000 " \
        "(100% of the value a trade moves); costs are in basis points: 5 means 0.05%" in \
        capsys.readouterr().err


def test_a_date_column_without_data_is_refused_as_forecast_and_evaluate_refuse_it(
        tmp_path: Path, capsys) -> None:
    # the flag was ignored: the backtest ran on the model's own data and exited 0
    args = ["backtest", "--model", str(tmp_path / "model.rnnkit"), "--date-column", "day"]
    assert rnnkit.cli.main(args) == 2  # before the model is read
    assert "--date-column day names the date column of a --data file; give --data too" in \
        capsys.readouterr().err


@pytest.mark.parametrize(("start", "end", "refused"), [
    ("2013-02-01", "2012-01-01", True), ("2013-01-01", "2012", True),
    ("2012-06-15", "2012-06", False), ("2012", "2012", False),
])
def test_a_start_after_the_end_is_refused_as_such(tmp_path: Path, capsys, start: str,
                                                  end: str, refused: bool) -> None:
    # it said 'no decision dates between 2013-02-01 and 2012-01-01; the data runs from ...',
    # after reading the model and its data
    args = ["backtest", "--model", str(tmp_path / "model.rnnkit"), "--start", start,
            "--end", end]
    assert rnnkit.cli.main(args) == 2  # before the model (not there) is read
    err = capsys.readouterr().err
    assert (f"--start {start} comes after --end {end}: no day lies between them" in err) \
        is refused, err


def test_a_forecaster_with_a_lookback_shorter_than_the_persistence_return_is_backtested(
        ) -> None:
    # a forecaster trained with lookback 1 and horizon 2 (a price target): rnnkit backtest
    # refused it ('the past 2-step return of a price target needs a lookback of at least 3,
    # not 1'), a model that trained and evaluated, for its persistence baseline's sake
    from types import SimpleNamespace

    from rnnkit.pipelines.backtest import POSITIONS, BacktestOptions

    prices = 100.0 * 1.01 ** np.array([0, 1, 3, 2, 0, 1, 4, 2, 3, 0, 1, 2])
    frame = pd.DataFrame({"p": prices}, index=pd.date_range("2021-01-04", periods=12, freq="B"))
    everything = make_windows(frame, "p", lookback=1, horizon=2)
    model = SimpleNamespace(target="p", predict_windows=lambda windows: {
        "mean": np.repeat(windows.current[:, None], 2, axis=1) * 1.01})
    windows = everything.subset(slice(2, None))
    positions = POSITIONS["forecaster"](model, windows, BacktestOptions())
    past = prices[windows.origins] / prices[windows.origins - 2] - 1  # the last 2-day return
    assert positions["persistence"].tolist() == (past > 0).astype(float).tolist()
    assert positions["model"].tolist() == [1.0] * len(windows)
    with pytest.raises(ValueError, match=r"reads 3 rows of the target up to each decision, and "
                                         r"the first, 2021-01-04, has 1; choose a later --start"):
        POSITIONS["forecaster"](model, everything, BacktestOptions())


def test_the_command_prints_the_hours_of_hourly_decisions(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    # it cut the decision times to 10 characters: 'decisions 2021-02-28 to 2021-02-28' for a
    # backtest of 10:00 to 14:00
    import rnnkit.pipelines.backtest as pipeline

    summary = {"target": "price", "first_decision": "2021-02-28T10:00:00.000000000",
               "last_decision": "2021-02-28T14:00:00.000000000", "in_sample": "",
               "options": {"mode": "long_flat", "cost_bps": 5.0, "slippage_bps": 5.0},
               "table": "strategy"}
    monkeypatch.setattr(pipeline, "backtest_bundle", lambda *args, **options: summary)
    assert rnnkit.cli.main(["backtest", "--model", str(tmp_path / "model.rnnkit")]) == 0
    assert "price: decisions 2021-02-28 10:00:00 to 2021-02-28 14:00:00, long_flat" in \
        capsys.readouterr().out
    summary.update(first_decision="2010-01-04T00:00:00.000000000",
                   last_decision="2010-12-31T00:00:00.000000000")
    assert rnnkit.cli.main(["backtest", "--model", str(tmp_path / "model.rnnkit")]) == 0
    assert "decisions 2010-01-04 to 2010-12-31, long_flat" in capsys.readouterr().out


def test_train_signal_refuses_returns_in_percent_before_training(tmp_path: Path,
                                                                 capsys) -> None:
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2015-01-01", periods=300)
    pd.DataFrame({"date": days, "spx_return": rng.normal(0.05, 1.2, len(days))}).to_csv(
        tmp_path / "percent.csv", index=False)
    args = ["train", "signal", "--set", f"data.source={tmp_path / 'percent.csv'}", "--set",
            "data.target=spx_return", "--set", "data.lookback=5", "--set", "data.horizon=1",
            "--out", str(tmp_path / "run")]
    assert rnnkit.cli.main(args) == 2
    assert "read as simple returns but holds" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()  # before anything was trained or written


def test_a_weather_model_is_not_backtested_as_a_price(tmp_path: Path, capsys) -> None:
    # a Seattle temp_max forecaster was backtested: its target, read as a price by its name,
    # was traded, with a 231% "volatility" in the report
    out = tmp_path / "seattle"
    assert rnnkit.cli.main(["train", "forecaster", "--set", "data.source=Seattle",
                            "--set", "train.epochs=1", "--set", "model.hidden_size=4",
                            "--set", "train.progress=false", "--out", str(out)]) == 0
    capsys.readouterr()
    assert rnnkit.cli.main(["backtest", "--model", str(out / "model.rnnkit")]) == 2
    err = capsys.readouterr().err
    assert "Seattle's 'temp_max' is weather, not a price: rnnkit backtest trades a price" in err
    assert not (out / "backtest").exists()
    # the other way round, a price model given a weather series, named as --data's
    from rnnkit.pipelines.backtest import check_not_weather

    with pytest.raises(ValueError, match=r"^--data seattle is a weather series, not prices: "):
        check_not_weather("AAPL", "AAPL_log_return", "seattle")
    check_not_weather("AAPL", "AAPL_log_return", "IBM")
