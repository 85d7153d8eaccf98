"""The walk-forward stock pipeline: folds without leaks, causal features, end to end on AAPL."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnnkit.cli
import rnnkit.pipelines.stocks
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


@pytest.mark.parametrize(("setting", "message"), [
    ("trading.mode=longshort", "trading.mode must be one of long_flat, long_short"),
    ("trading.threshold=-0.01", "trading.threshold must be at least 0"),
    ("trading.cost_bps=-5", "trading.cost_bps must be at least 0"),
    ("trading.cost_bps=20000", "trading.cost_bps and trading.slippage_bps add up to 20005 "
     "basis points, more than 10000"),
    ("signal.thresholds=tertile", "signal.thresholds must be one of tertiles, fixed"),
    ("signal.class_weights=balance", "signal.class_weights must be one of balanced, none"),
    ("data.val_fraction=0", "data.val_fraction must be between 0 and 1"),
    ("data.ridge_alphas=1,x", "data.ridge_alphas must be numbers separated by commas"),
    ("data.ridge_alphas=nan", "data.ridge_alphas must be finite numbers"),  # NaN ridge
    ("data.refit_every=0", "data.refit_every must be at least 1"),
    ("signal.cost_bps=500", "rnnkit stocks does not read signal.cost_bps: its target is each"),
    ("signal.mode=long_short", "does not read signal.mode"),
    ("data.horizon=30", "data.lookback 20 is shorter than data.horizon 30"),
    ("signal.thresholds=fixed signal.up=-0.01 signal.down=0.01",
     "signal.down 0.01 must not be above signal.up -0.01"),
    ("signal.thresholds=fixed signal.up=0.9 signal.down=-0.9",
     "AAPL: every fitting window of the 2013 fold has the class hold"),
    ("data.val_fraction=0.0001", "AAPL: data.val_fraction 0.0001 leaves"),
    # with tertiles this said 'choose signal.up and signal.down nearer 0, or
    # signal.thresholds=tertiles', the thresholds the run already had
    ("data.val_fraction=0.9997", "the classifier has nothing to learn. Its 1 fitting "
     "window(s) are too few for tertiles: lower data.val_fraction (0.9997)"),
    ("data.symbols=AAPL,GOOG", "GOOG: "),  # with the first test year below: too early
    # was refused by the first fold's trainer, after the run folder's config.toml was written
    # (and, without --resume, an earlier run's folds removed)
    ("train.mode=max", "train.monitor 'val_loss' is better when lower, but train.mode is "
                       "'max'"),
    # was refused after the first fold's forecaster had trained an epoch
    ("train.monitor=val_acc", "train.monitor must be one of val_loss, val_mae, val_mae_last, "
                              "train_loss, train_mae, train_mae_last; got 'val_acc'"),
])
def test_bad_settings_are_refused_before_any_fold_trains(tmp_path: Path, capsys, setting: str,
                                                         message: str) -> None:
    out = tmp_path / "stocks"
    args = ["stocks", "--out", str(out)]
    for item in setting.split(" "):  # one setting, or several separated by spaces
        args += ["--set", item]
    first = "2005" if setting.startswith("data.symbols") else "2013"  # GOOG starts in 2004
    for item in (f"data.first_test_year={first}", "data.lookback=20", "model.hidden_size=4",
                 "train.epochs=1", "train.threads=1"):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.rglob("model.rnnkit"))
    assert not out.exists()  # refused before the run folder is made


def test_an_interrupted_walk_forward_resumes_to_the_same_results(tmp_path: Path) -> None:
    def run(out: Path, *extra: str) -> dict:
        args = ["stocks", "--symbols", "IBM", "--out", str(out), *extra]
        for item in ("data.first_test_year=2013", "data.lookback=20", "model.hidden_size=8",
                     "train.epochs=2", "train.threads=1"):
            args += ["--set", item]
        assert rnnkit.cli.main(args) == 0
        scores = json.loads((out / "IBM" / "results.json").read_text())
        return {key: value for key, value in scores.items() if key != "seconds"}

    straight = run(tmp_path / "straight")
    run(tmp_path / "resumed", "--set", "train.max_steps=5")  # each fold model stops at step 5
    # resumed, the run's own settings hold (max_steps=5) until --set lifts them
    assert run(tmp_path / "resumed", "--resume", "--set", "train.max_steps=0") == straight
    best = tmp_path / "straight" / "IBM" / "fold-2013" / "signal" / "best.pt"
    written = best.stat().st_mtime_ns
    assert run(tmp_path / "straight", "--resume") == straight
    assert best.stat().st_mtime_ns == written  # a finished fold is read back, not trained again


def test_ctrl_c_inside_a_fold_saves_its_model_and_the_walk_forward_resumes_to_the_same_results(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C (a real SIGINT) while fold 2013's forecaster trains its 2nd epoch: the trainer
    saves the fold model's last.pt after its batch 2 and the command stops (130); --resume
    reads fold 2012 back and goes on from that step."""
    import os
    import signal

    from rnnkit.training.checkpoint import load_checkpoint

    def run(out: Path, *extra: str, code: int = 0) -> dict:
        args = ["stocks", "--symbols", "IBM", "--out", str(out), *extra]
        for item in ("data.first_test_year=2012", "data.lookback=20", "model.hidden_size=4",
                     "train.epochs=2", "train.threads=1"):
            args += ["--set", item]
        assert rnnkit.cli.main(args) == code
        return json.loads((out / "IBM" / "results.json").read_text()) if not code else {}

    class CtrlC:  # sends SIGINT as the trainer asks for batch 2 of epoch 2
        def __init__(self, inner: object) -> None:
            self.inner = inner

        def batches(self, epoch: int):  # noqa: ANN202
            for index, batch in enumerate(self.inner.batches(epoch)):
                if (epoch, index) == (1, 2):
                    os.kill(os.getpid(), signal.SIGINT)
                yield batch

        def __len__(self) -> int:
            return len(self.inner)

    straight = run(tmp_path / "straight")
    train_in_run_dir = rnnkit.pipelines.stocks.train_in_run_dir

    def interrupted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if args[2].parts[-2:] == ("fold-2013", "forecaster"):
            args = (*args[:3], CtrlC(args[3]), *args[4:])
        return train_in_run_dir(*args, **kwargs)

    monkeypatch.setattr(rnnkit.pipelines.stocks, "train_in_run_dir", interrupted)
    out = tmp_path / "resumed"
    capsys.readouterr()
    run(out, code=130)
    checkpoint = out / "IBM" / "fold-2013" / "forecaster" / "last.pt"
    state = load_checkpoint(checkpoint)
    assert (state["epoch"], state["batch_in_epoch"]) == (1, 2)
    assert capsys.readouterr().err.endswith(f"(in epoch 2, after batch 2); saved {checkpoint};"
                                            " continue with --resume (the same command)\n")
    monkeypatch.setattr(rnnkit.pipelines.stocks, "train_in_run_dir", train_in_run_dir)
    resumed = run(out, "--resume")
    assert [resumed[key] for key in ("forecast", "backtest")] == [
        straight[key] for key in ("forecast", "backtest")]


def test_a_fresh_run_killed_early_resumes_without_an_older_run_s_folds(tmp_path: Path,
                                                                      monkeypatch) -> None:
    def run(out: Path, *extra: str, code: int = 0) -> dict:
        args = ["stocks", "--symbols", "IBM", "--out", str(out), *extra]
        for item in ("data.first_test_year=2012", "data.lookback=20", "model.hidden_size=4",
                     "train.threads=1"):
            args += ["--set", item]
        assert rnnkit.cli.main(args) == code
        return json.loads((out / "IBM" / "results.json").read_text()) if not code else {}

    straight = run(tmp_path / "straight", "--set", "train.epochs=1")
    out = tmp_path / "again"
    run(out, "--set", "train.epochs=3")  # an earlier run in the folder, with other settings
    fit_fold = rnnkit.pipelines.stocks.fit_fold

    def killed_in_the_second_fold(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if args[2].name == "fold-2013":
            raise KeyboardInterrupt
        return fit_fold(*args, **kwargs)

    monkeypatch.setattr(rnnkit.pipelines.stocks, "fit_fold", killed_in_the_second_fold)
    run(out, "--set", "train.epochs=1", code=130)  # a fresh run, stopped before fold 2013
    monkeypatch.setattr(rnnkit.pipelines.stocks, "fit_fold", fit_fold)
    resumed = run(out, "--resume")  # fold 2013 trains now: the older run's is not read back
    assert [resumed[key] for key in ("forecast", "backtest")] == [
        straight[key] for key in ("forecast", "backtest")]


def test_a_fresh_run_clears_only_the_fold_runs_rnnkit_trains(tmp_path: Path) -> None:
    from rnnkit.pipelines.stocks_job import clear_folds

    files = {"fold-2019/forecaster/config.toml": True, "fold-2019/forecaster/best.pt": True,
             "fold-2019/forecaster/.last.pt.x1.tmp": True, "fold-2020/signal/config.toml": True,
             "fold-2020/signal/notes.txt": False,  # a file of one's own in a fold run stays
             "fold-2019/mine/config.toml": False, "fold-2019/mine/results.json": False,
             "fold-2019/mine/model.rnnkit": False,  # a folder of one's own: not rnnkit's run
             "results.json": False}
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    clear_folds(tmp_path)
    assert {name: not (tmp_path / name).exists() for name in files} == files
    assert not (tmp_path / "fold-2019" / "forecaster").exists()  # emptied, so removed


def test_a_fold_bundle_backtests_its_own_year_as_its_run_traded(tmp_path: Path,
                                                                capsys) -> None:
    args = ["stocks", "--symbols", "IBM", "--out", str(tmp_path)]
    for item in ("data.first_test_year=2012", "data.lookback=20", "model.hidden_size=8",
                 "train.epochs=1", "train.threads=1", "trading.mode=long_short"):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    capsys.readouterr()
    bundle = tmp_path / "IBM" / "fold-2012" / "forecaster" / "model.rnnkit"
    assert rnnkit.cli.main(["backtest", "--model", str(bundle), "--out",
                            str(tmp_path / "bt")]) == 0
    summary = json.loads((tmp_path / "bt" / "backtest.json").read_text())
    assert summary["first_decision"][:4] == summary["last_decision"][:4] == "2012"
    assert summary["options"]["mode"] == "long_short" and not summary["in_sample"]


def test_a_fold_bundle_is_evaluated_on_the_days_its_run_traded(tmp_path: Path,
                                                              capsys) -> None:
    """rnnkit evaluate of a fold's bundle scored every day from its fold to the data's end
    (2012 and 2013 here, where the 2013 fold's models decided 2013), while rnnkit backtest of
    the same bundle traded its fold's days only: the two disagreed on the model's test
    period. Both now read the bundle's test_end."""
    args = ["stocks", "--symbols", "IBM", "--out", str(tmp_path / "run")]
    for item in ("data.first_test_year=2012", "data.lookback=20", "model.hidden_size=8",
                 "train.epochs=1", "train.threads=1", "trading.mode=long_short"):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    scores = json.loads((tmp_path / "run" / "IBM" / "results.json").read_text())
    days_2012 = scores["folds"][0]["test"]
    assert scores["folds"][0]["year"] == 2012 and days_2012 < scores["test_days"]
    fold = tmp_path / "run" / "IBM" / "fold-2012"
    assert rnnkit.cli.main(["backtest", "--model", str(fold / "signal" / "model.rnnkit"),
                            "--out", str(tmp_path / "bt")]) == 0
    traded = json.loads((tmp_path / "bt" / "backtest.json").read_text())
    for name in ("signal", "forecaster"):
        assert rnnkit.cli.main(["evaluate", "--model", str(fold / name / "model.rnnkit"),
                                "--out", str(tmp_path / f"eval-{name}")]) == 0
        scored = json.loads((tmp_path / f"eval-{name}" / "results.json").read_text())
        assert (scored["first_decision"][:10], scored["last_decision"][:10]) == (
            traded["first_decision"][:10], traded["last_decision"][:10]), name
    capsys.readouterr()
    signal = json.loads((tmp_path / "eval-signal" / "results.json").read_text())
    assert sum(signal["label_counts"]) == days_2012
    assert signal["backtest"]["model"] == pytest.approx(traded["reports"]["model"], rel=1e-12)


@pytest.mark.parametrize(("setting", "message"), [
    # --print-config printed horizon = 0 and exited 0; lookback -5 with horizon -2 was told
    # to 'use a lookback of at least -2'
    ("data.horizon=0", "data.horizon must be at least 1; got 0"),
    ("data.lookback=-5 data.horizon=-2", "data.lookback must be at least 1; got -5"),
])
def test_a_lookback_or_horizon_below_1_is_refused_by_print_config(capsys, setting: str,
                                                                  message: str) -> None:
    args = ["stocks", "--print-config"]
    for item in setting.split(" "):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 2
    assert f"rnnkit: error: {message}\n" == capsys.readouterr().err


def test_a_first_test_year_after_the_data_names_the_last_day_and_the_setting() -> None:
    # said 'the data ends 2014-06-30T00:00:00.000000', numpy's text, and named no setting
    index = pd.bdate_range("2010-01-01", "2014-06-30")
    windows = make_windows(pd.DataFrame({"r": np.sin(np.arange(len(index)))}, index=index), "r",
                           lookback=20)
    with pytest.raises(ValueError, match=r"^no decisions in or after 2015; the last decision "
                                         r"day is 2014-06-27: choose an earlier "
                                         r"data.first_test_year$"):
        yearly_folds(windows, 2015)


@pytest.mark.parametrize(("flags", "message"), [
    (["--symbols", ""], "--symbols '' names no symbol; give one or more of AAPL, IBM"),  # ran AAPL
    (["--symbols", " , "], "--symbols ' , ' names no symbol"),
    (["--set", 'data.symbols=""'], "data.symbols names no symbol; give one or more of AAPL"),
])
def test_symbols_naming_no_symbol_are_refused(
        tmp_path: Path, capsys, flags: list[str], message: str) -> None:
    args = ["stocks", *flags, "--out", str(tmp_path / "stocks"), "--print-config"]
    assert rnnkit.cli.main(args) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "message"), [  # the --set won, silently
    (["--symbols", "IBM", "--set", "data.symbols=MSFT"],
     "--symbols IBM and --set data.symbols=MSFT name different symbols; give them once"),
    (["--set", "data.symbols=MSFT", "--symbols", "IBM,MSFT"],
     "--symbols IBM,MSFT and --set data.symbols=MSFT name different symbols"),
])
def test_symbols_flag_a_setting_contradicts_is_refused(
        tmp_path: Path, capsys, flags: list[str], message: str) -> None:
    args = ["stocks", *flags, "--out", str(tmp_path / "stocks"), "--print-config"]
    assert rnnkit.cli.main(args) == 2
    assert message in capsys.readouterr().err


def test_symbols_flag_and_setting_that_agree_are_taken(tmp_path: Path, capsys) -> None:
    args = ["stocks", "--symbols", "ibm,MSFT", "--set", 'data.symbols="IBM, msft"', "--out",
            str(tmp_path / "stocks"), "--print-config"]
    assert rnnkit.cli.main(args) == 0
    assert 'symbols = "IBM, msft"' in capsys.readouterr().out


@pytest.mark.parametrize("days, part", [
    (3, "the last 3 of 9 test days (2020-01-08 to 2020-01-10)"),
    (250, "test (2020-01-02 to 2020-01-10)"),
])
def test_the_forecast_plot_says_which_test_days_it_shows(
        days: int, part: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """forecast.png shows the last 250 test days and was titled '(test)', beside an
    equity.png of every test year; each point sits on its target day, the model's price
    implied from the price at its decision."""
    from rnnkit.pipelines import stocks_report

    drawn: dict[str, object] = {}
    monkeypatch.setattr("rnnkit.viz.timeseries.plot_forecast",
                        lambda actual, predicted, path, **options: drawn.update(
                            actual=actual, predicted=predicted, **options))
    monkeypatch.setattr("rnnkit.pipelines.backtest.plot_backtests", lambda *args: None)
    monkeypatch.setattr("rnnkit.viz.confusion.plot_confusion", lambda *args, **kw: None)
    index = pd.date_range("2020-01-01", periods=10, freq="D")
    price = pd.Series(100.0 + np.arange(10.0), index=index, name="AAPL")
    frame = pd.DataFrame({"AAPL_log_return": np.log(price).diff().fillna(0.0)}, index=index)
    windows = make_windows(frame, "AAPL_log_return", lookback=1, horizon=1)
    assert len(windows) == 9  # decisions 2020-01-01 .. 2020-01-09
    result = {"windows": windows, "price": price, "forecast": np.full((9, 1), np.log(1.01))}
    scores = {"classification": {"model": {"confusion": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}}}
    stocks_report.plot_symbol("AAPL", result, scores, {}, tmp_path, days=days)
    assert drawn["title"] == f"AAPL: adjusted close 1 day(s) ahead, {part}"
    shown = min(days, 9)
    np.testing.assert_array_equal(drawn["times"], windows.target_times[-shown:, -1])
    np.testing.assert_allclose(drawn["actual"], price.to_numpy()[-shown:])
    predicted = drawn["predicted"]
    assert isinstance(predicted, dict)
    np.testing.assert_allclose(predicted["persistence"], price.to_numpy()[-shown - 1:-1])
    np.testing.assert_allclose(predicted["model"], 1.01 * price.to_numpy()[-shown - 1:-1])


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


@pytest.mark.parametrize(("rises", "right", "alarm"), [
    (0.60, 0.58, False),  # below the drift: a forecast of up every day gets 60%
    (0.60, 0.62, True),  # above the drift and above 55%
    (0.50, 0.56, True),  # a coin flip's drift: above 55% is flagged as before
    (0.35, 0.60, False),  # a falling price: down every day gets 65%
    (0.50, 0.54, False),
])
def test_the_leak_alarm_flags_a_direction_the_drift_does_not_explain(
        rises: float, right: float, alarm: bool) -> None:
    """The alarm flagged any direction above 55%, a model that learnt the drift alone too:
    AAPL 2009-2013 five days ahead scored 58.6% where up every day got 58.9%, and the run
    said to check for a leak."""
    from rnnkit.pipelines.stocks import StocksRunConfig
    from rnnkit.pipelines.stocks_report import score_symbol

    days = 400
    rng = np.random.default_rng(3)
    up = rng.permutation(np.arange(days) < round(rises * days))  # the day after each decision
    moves = np.where(up, 0.01, -0.01)
    prices = pd.Series(100 * np.exp(np.cumsum(np.r_[rng.normal(0, 0.01, 30), moves])), name="X",
                       index=pd.bdate_range("2010-01-01", periods=days + 30))
    frame = pd.concat([prices, price_features(prices)], axis=1).dropna()
    windows = make_windows(frame, "X_log_return", [c for c in frame if c != "X"], 10, 1)
    assert len(windows) == days
    wrong = rng.permutation(np.arange(days) < round((1 - right) * days))
    forecast = np.where(up != wrong, 0.001, -0.001)[:, None]  # right on `right` of the days
    classes = np.ones(days, dtype=int)
    result = {"windows": windows, "forecast": forecast, "ridge": forecast, "price": prices,
              "probabilities": np.eye(3)[classes], "labels": classes, "majority": classes,
              "persistence_signal": classes, "folds": []}
    scores, _ = score_symbol("X", result, StocksRunConfig())
    assert scores["forecast"]["model"]["directional_accuracy"] == pytest.approx(right)
    assert scores["forecast"]["always_up"]["directional_accuracy"] == pytest.approx(rises)
    assert scores["leak_alarm"] is alarm
