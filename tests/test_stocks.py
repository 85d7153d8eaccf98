"""The walk-forward stock pipeline: folds without leaks, causal features, end to end on AAPL.

The settings refused up front, run folders (resumed runs, fold bundles) and the report (the
forecast plot, the leak alarm) are tested in tests/test_stocks_*.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnnkit.cli
from rnnkit.pipelines.stocks import StockData, split_validation, symbol_windows, yearly_folds
from rnnkit.timeseries.features import price_features
from rnnkit.timeseries.windows import make_windows


def test_price_features_are_causal() -> None:
    rng = np.random.default_rng(0)
    prices = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 300))), name="P")
    features = price_features(prices)
    changed = prices.copy()
    changed.iloc[200:] *= rng.uniform(0.5, 2.0, 100)  # rewrite the future after row 199
    again = price_features(changed)
    pd.testing.assert_frame_equal(features.iloc[:200], again.iloc[:200])
    assert not features.iloc[200:].equals(again.iloc[200:])
    assert list(features.columns) == ["P_log_return", "P_momentum_5", "P_volatility_5",
                                      "P_momentum_20", "P_volatility_20"]
    assert features["P_momentum_5"].iloc[50] == pytest.approx(np.log(prices[50] / prices[45]))


def test_yearly_folds_train_only_on_the_past() -> None:
    index = pd.bdate_range("2010-01-01", "2014-06-30")
    frame = pd.DataFrame({"r": np.sin(np.arange(len(index)))}, index=index)
    windows = make_windows(frame, "r", lookback=20, horizon=3)
    folds = yearly_folds(windows, 2012, refit_every=2)
    assert [fold.year for fold in folds] == [2012, 2013, 2014]
    assert [fold.refit for fold in folds] == [True, False, True]
    for fold in folds:
        test_years = pd.DatetimeIndex(windows.input_end[fold.test]).year
        assert set(test_years) == {fold.year}
        first_decision = windows.input_end[fold.test[0]]
        assert windows.target_times[fold.train, -1].max() <= first_decision
    assert np.array_equal(folds[1].train, folds[0].train)  # reused, not refitted
    fitting, validation = split_validation(windows.subset(folds[0].train), 0.2)
    assert fitting.target_times[:, -1].max() <= validation.input_end.min()
    with pytest.raises(ValueError, match="too few"):
        yearly_folds(windows, 2010)


def test_stock_windows_leave_the_price_level_out() -> None:
    windows = symbol_windows("IBM", StockData(lookback=20))
    assert "IBM" not in windows.feature_names
    assert windows.target_name == "IBM_log_return"
    assert windows.index[0] >= pd.Timestamp("2000-01-01")


def test_main_job_end_to_end_on_aapl(tmp_path: Path) -> None:
    out = tmp_path / "stocks"
    args = ["stocks", "--symbols", "AAPL", "--out", str(out)]
    for item in ("data.first_test_year=2012", "data.lookback=20", "model.hidden_size=8",
                 "train.epochs=1", "train.threads=1"):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    scores = json.loads((out / "AAPL" / "results.json").read_text())
    assert scores["first_decision"].startswith("2012")
    assert [fold["year"] for fold in scores["folds"]] == [2012, 2013]
    forecast = scores["forecast"]
    assert forecast["persistence"]["price_rmse_ratio_to_persistence"] == pytest.approx(1.0)
    assert forecast["persistence"]["price_mae_ratio_to_persistence"] == pytest.approx(1.0)
    for name in ("model", "ridge", "seasonal_naive_5", "moving_average_20"):
        assert set(forecast[name]) >= {"price_mae", "price_rmse", "price_smape", "price_mase",
                                       "directional_accuracy"}
    assert 0.3 < forecast["model"]["directional_accuracy"] < 0.7
    assert set(scores["backtest"]) == {"forecaster", "signal", "ridge", "persistence_forecast",
                                       "persistence_signal", "buy_and_hold"}
    hold = scores["backtest"]["buy_and_hold"]
    assert hold["trades"] == 1 and hold["periods"] == scores["test_days"]
    for name in ("forecast.png", "equity.png", "drawdown.png", "confusion.png"):
        assert (out / "AAPL" / name).stat().st_size > 0
    assert "| AAPL |" in (out / "summary.md").read_text()
    # the direction's yardstick: the share of the test days whose price went up, by hand
    from rnnkit.timeseries.datasets import stock_prices
    price = stock_prices("AAPL")["AAPL"]
    days = price.loc[scores["first_decision"]:scores["last_decision"]].index
    moves = price.shift(-1).reindex(days) - price.reindex(days)
    moves = moves[moves != 0]
    assert forecast["always_up"]["directional_accuracy"] == pytest.approx((moves > 0).mean())
    assert f"{forecast['always_up']['directional_accuracy']:.1%}" in \
        (out / "summary.md").read_text().splitlines()[2]
    check_predictions_file(out / "AAPL" / "predictions.csv", scores)
    bundle = out / "AAPL" / "fold-2013" / "forecaster" / "model.rnnkit"
    assert rnnkit.cli.main(["backtest", "--model", str(bundle)]) == 0
    assert rnnkit.cli.main(["stocks", "--symbols", "TSLA", "--out", str(out)]) == 2


def check_predictions_file(path: Path, scores: dict) -> None:
    """The run's scores again, by hand, from its predictions.csv alone (it wrote none: its
    numbers could not be checked without rerunning the folds in Python)."""
    from rnnkit.trading.backtest import backtest

    table = pd.read_csv(path, parse_dates=["decision", "target_date"])
    assert len(table) == scores["test_days"]
    assert str(table["decision"].iloc[0])[:10] == scores["first_decision"]
    assert table.groupby("fold").size().to_dict() == {
        fold["year"]: fold["test"] for fold in scores["folds"]}
    assert table.groupby("fold")["models"].unique().map(list).to_dict() == {
        fold["year"]: [fold["models"]] for fold in scores["folds"]}
    price, later = table["price"], table["target_price"]
    implied = price * (1 + table["forecast_return"])
    ratio = np.sqrt(((later - implied) ** 2).mean() / ((later - price) ** 2).mean())
    forecast = scores["forecast"]
    assert ratio == pytest.approx(forecast["model"]["price_rmse_ratio_to_persistence"], rel=1e-9)
    moved = later != price
    assert (later > price)[moved].mean() == pytest.approx(
        forecast["always_up"]["directional_accuracy"])
    names = ["sell", "hold", "buy"]
    confusion = pd.crosstab(table["label"], table["signal"]).reindex(
        index=names, columns=names, fill_value=0)
    assert confusion.to_numpy().tolist() == scores["classification"]["model"]["confusion"]
    for name, report in scores["backtest"].items():
        run = backtest(table[f"position_{name}"].to_numpy(), table["next_return"].to_numpy(),
                       cost_bps=5.0, slippage_bps=5.0)
        assert run.report.total_return == pytest.approx(report["total_return"], rel=1e-9,
                                                        abs=1e-12), name
        assert run.report.sharpe == pytest.approx(report["sharpe"], rel=1e-9), name


def test_pip_datasets_are_listed(capsys) -> None:
    assert rnnkit.cli.main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    assert "stocks    forecasting  bokeh_sampledata  yes" in out
    assert "seattle   forecasting  vega_datasets     yes" in out


def test_a_first_test_year_after_the_data_names_the_last_day_and_the_setting() -> None:
    # said 'the data ends 2014-06-30T00:00:00.000000', numpy's text, and named no setting
    index = pd.bdate_range("2010-01-01", "2014-06-30")
    windows = make_windows(pd.DataFrame({"r": np.sin(np.arange(len(index)))}, index=index), "r",
                           lookback=20)
    with pytest.raises(ValueError, match=r"^no decisions in or after 2015; the last decision "
                                         r"day is 2014-06-27: choose an earlier "
                                         r"data.first_test_year$"):
        yearly_folds(windows, 2015)


@pytest.mark.parametrize("refit_every", [1, 2])
def test_walk_forward_outputs_up_to_a_cut_ignore_every_later_price(tmp_path: Path,
                                                                   refit_every: int) -> None:
    """Rewrite AAPL's prices after a cut inside a test year and run the whole walk-forward again
    (every fold's scaler, thresholds, models and ridge refitted, same seed): each prediction,
    class, position and backtested return decided at or before the cut stays the same to the
    bit; those after it move. With refit_every=2 the cut's year reuses the models of the year
    before (2011's, trained up to its first day); the labels known by the cut stay too."""
    from rnnkit.config import ModelConfig, TrainConfig
    from rnnkit.pipelines.sources import stock_frame
    from rnnkit.pipelines.stocks import StocksRunConfig, walk_forward_symbol
    from rnnkit.pipelines.stocks_report import score_symbol

    config = StocksRunConfig(
        data=StockData(lookback=20, horizon=2, first_test_year=2013 - refit_every,
                       refit_every=refit_every),
        model=ModelConfig(cell="gru", hidden_size=4),
        train=TrainConfig(epochs=1, batch_size=128, lr=2e-3, clip_norm=1.0, patience=3,
                          optimizer="adamw", progress=False, threads=1))
    prices = stock_frame("AAPL")["AAPL"]
    cut = pd.Timestamp("2012-06-29")
    changed = prices.copy()
    later = changed.index > cut
    changed[later] *= np.exp(np.cumsum(np.random.default_rng(4).normal(0.01, 0.06, later.sum())))
    runs = []
    for name, series in (("a", prices), ("b", changed)):
        frame = pd.concat([series, price_features(series)], axis=1).dropna()
        windows = symbol_windows("AAPL", config.data, frame)
        folds = yearly_folds(windows, config.data.first_test_year, refit_every)
        assert [fold.refit for fold in folds if fold.year == 2012] == [refit_every == 1]
        result = walk_forward_symbol("AAPL", config, tmp_path / name, lambda line: None,
                                     cut=(frame, windows, folds))
        runs.append((result, score_symbol("AAPL", result, config)[1]))
    (first, first_tests), (second, second_tests) = runs
    windows = first["windows"]
    made = windows.input_end <= np.datetime64(cut)  # decided at or before the cut
    earned = windows.target_times[:, 0] <= np.datetime64(cut)  # and its return known by then
    assert 100 < made.sum() < len(windows)
    for name in ("forecast", "ridge", "probabilities", "persistence_signal", "majority"):
        np.testing.assert_array_equal(first[name][made], second[name][made], err_msg=name)
    decided = [fold for fold in first["folds"] if fold["year"] <= 2012]  # thresholds, sizes
    # each fold names the folder of the models it decided with (2012 reuses 2011's, refit 2)
    assert {fold["year"]: fold["models"] for fold in first["folds"]} == (
        {2012: "fold-2012", 2013: "fold-2013"} if refit_every == 1 else
        {2011: "fold-2011", 2012: "fold-2011", 2013: "fold-2013"})
    assert all((tmp_path / "a" / fold["models"]).is_dir() for fold in first["folds"])
    assert decided == second["folds"][:len(decided)]
    known = windows.target_times[:, -1] <= np.datetime64(cut)  # labels known by the cut
    assert known.sum() > 100
    np.testing.assert_array_equal(first["labels"][known], second["labels"][known])
    for name, test in first_tests.items():
        np.testing.assert_array_equal(test.positions[made], second_tests[name].positions[made],
                                      err_msg=name)
        np.testing.assert_array_equal(test.net_returns[earned],
                                      second_tests[name].net_returns[earned], err_msg=name)
    for name in ("forecast", "ridge", "probabilities"):  # the test has teeth
        assert not np.array_equal(first[name][~made], second[name][~made]), name
