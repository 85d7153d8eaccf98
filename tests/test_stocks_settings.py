"""``rnnkit stocks``'s settings and flags refused before any fold trains: trading, signal and data
settings, lookback and horizon, and the symbols."""

from __future__ import annotations

from pathlib import Path

import pytest

import rnnkit.cli


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
