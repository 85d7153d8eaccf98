"""The DQN pipeline (rnnkit.pipelines.dqn) and its command, rnnkit train dqn."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import rnnkit.cli
from rnnkit.pipelines.dqn import DQNData, split_periods
from rnnkit.rl.dqn import DQNOptions
from rnnkit.rl.env import random_positions
from rnnkit.rl.prices import price_windows


def test_random_agent_and_real_periods_do_not_overlap() -> None:
    assert set(np.unique(random_positions(500, "long_flat", seed=4))) == {0.0, 1.0}
    positions = random_positions(500, "long_short", seed=4)
    assert set(np.unique(positions[positions != 0])) == {-1.0, 1.0}
    assert not positions[np.flatnonzero(positions)[0]:].__contains__(0.0)  # no way back to flat
    from rnnkit.pipelines.stocks import StockData, symbol_windows
    from rnnkit.rl.prices import listed_prices
    from rnnkit.timeseries.datasets import stock_prices

    windows = price_windows(listed_prices(stock_prices(["GOOG"], returns=False)["GOOG"]), 30)
    same = symbol_windows("GOOG", StockData(lookback=30, horizon=1))
    np.testing.assert_array_equal(windows.inputs, same.inputs)  # the supervised models' days
    periods = split_periods(windows, DQNData(symbol="GOOG"))
    assert periods.fitting.target_times[-1, 0] <= periods.validation.input_end[0]
    assert periods.train.target_times[-1, 0] <= periods.test.input_end[0]
    assert str(periods.test.input_end[0])[:10] == "2009-12-31"
    with pytest.raises(ValueError, match=r"0 test windows \(at least 20 needed\): move "
                                         r"data.train_end \(2014-01-01\) earlier$"):
        split_periods(windows, DQNData(symbol="GOOG", train_end="2014-01-01"))


@pytest.mark.parametrize(("data", "message"), [
    # each said 'move data.train_end (2009-12-31) or data.test_end, or shorten data.lookback',
    # never the data.val_fraction that left too few fitting or validation windows
    (DQNData(val_fraction=0.99), r"^24 fitting windows \(at least 100 needed\): lower "
     r"data.val_fraction \(0.99\), move data.train_end \(2009-12-31\) later or shorten "
     r"data.lookback \(20\)$"),
    (DQNData(val_fraction=0.001), r"^2 validation windows \(at least 20 needed\): raise "
     r"data.val_fraction \(0.001\), move data.train_end"),
    (DQNData(test_end="2009-12-31"), r"^1 test windows \(at least 20 needed\): move "
     r"data.train_end \(2009-12-31\) earlier or data.test_end \(2009-12-31\) later$"),
])
def test_too_few_windows_name_the_setting_that_left_them(data: DQNData, message: str) -> None:
    from rnnkit.rl.prices import listed_prices
    from rnnkit.timeseries.datasets import stock_prices

    windows = price_windows(listed_prices(stock_prices(["AAPL"], returns=False)["AAPL"]), 20)
    with pytest.raises(ValueError, match=message):
        split_periods(windows, data)


def test_train_dqn_and_backtest_the_agent_bundle(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    settings = ["data.symbol=IBM", "data.train_end=2004-12-31", "data.test_end=2006-06-30",
                "agent.episodes=1", "agent.learning_starts=200", "model.hidden_size=8",
                "run.seeds=\"0,1\"", "trading.cost_bps=20"]
    assert rnnkit.cli.main(["train", "dqn", "--out", str(out),
                            *[arg for s in settings for arg in ("--set", s)]]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["seeds"] == [0, 1] and (out / "equity.png").is_file()
    assert set(results["summary"]) == {"dqn", "random", "buy_and_hold"}
    assert results["periods"]["test"]["first_decision"] == "2004-12-31"
    assert results["summary"]["dqn"]["total_return"]["runs"] == 2
    capsys.readouterr()
    assert rnnkit.cli.main(["backtest", "--model", str(out / "seed-1/dqn/model.rnnkit"),
                            "--start", "2004-12-31", "--end", "2006-06-30",
                            "--out", str(tmp_path / "bt")]) == 0
    assert "IBM_log_return: decisions 2004-12-31 to 2006-06-30" in capsys.readouterr().out
    backtested = json.loads((tmp_path / "bt/backtest.json").read_text())["reports"]
    expected = results["runs"][1]["reports"]
    assert backtested["model"]["total_return"] == pytest.approx(
        expected["dqn"]["total_return"], abs=1e-12)
    assert backtested["buy_and_hold"] == pytest.approx(expected["buy_and_hold"])
    # the random agent beside it was seed 0's for every bundle, not the one the run drew
    assert backtested["random"] == pytest.approx(expected["random"], abs=1e-12)
    assert rnnkit.cli.main(["backtest", "--model", str(out / "seed-1/dqn/model.rnnkit")]) == 0
    assert "decisions 2004-12-31 to 2006-06-30, long_flat, costs 20 + 5 bps" in \
        capsys.readouterr().out  # its test_end and its training run's costs
    assert rnnkit.cli.main(["backtest", "--model", str(out / "seed-1/dqn/model.rnnkit"),
                            "--mode", "long_short"]) == 2
    assert "trained to trade long_flat; backtest it with --mode long_flat" in \
        capsys.readouterr().err


@pytest.mark.filterwarnings(r"ignore:seed \d+. the agent:UserWarning")  # tiny agents
def test_the_agents_equity_is_drawn_from_1_on_the_day_each_return_is_earned(
        tmp_path: Path) -> None:
    # as rnnkit backtest draws it: no point before its return is known, and a start at 1
    from rnnkit.config import load_config
    from rnnkit.pipelines.dqn import DQNRunConfig, run_dqn

    config = load_config(DQNRunConfig, None, [
        "data.symbol=IBM", "data.train_end=2004-12-31", "data.test_end=2005-03-31",
        "agent.episodes=1", "agent.learning_starts=200", "model.hidden_size=8",
        "run.seeds=\"0\""])
    results = run_dqn(config, tmp_path, log=lambda line: None)
    times = results["times"]
    assert str(times[0])[:10] == "2004-12-31"  # the first decision: equity 1
    assert str(times[1])[:10] == "2005-01-03"  # its return is earned on the next trading day
    for name, runs in results["curves"].items():
        assert len(runs[0]) == len(times) and runs[0][0] == 1.0, name
        assert runs[0][-1] - 1.0 == pytest.approx(
            results["summary"][name]["total_return"]["mean"], abs=5e-5), name  # rounded


def test_train_dqn_refuses_bad_settings(capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert rnnkit.cli.main(["train", "dqn", "--resume"]) == 2  # runs/dqn-AAPL holds no run
    assert "--resume: runs/dqn-AAPL holds no run to resume (no config.toml)" in \
        capsys.readouterr().err
    assert rnnkit.cli.main(["train", "dqn", "--set", "agent.gamma=1.5"]) == 2
    assert "agent.gamma must be in [0, 1), not 1.5" in capsys.readouterr().err
    assert rnnkit.cli.main(["train", "dqn", "--set", "run.seeds=a,b"]) == 2
    assert "run.seeds must be whole numbers separated by commas" in capsys.readouterr().err
    assert rnnkit.cli.main(["train", "dqn", "--set", "run.seeds=\"0,4294967296\""]) == 2
    assert "run.seeds must be a whole number from 0 to 4294967295; got 4294967296" in \
        capsys.readouterr().err
    assert rnnkit.cli.main(["train", "dqn", "--print-config"]) == 0
    assert "agent.double" in capsys.readouterr().out
    assert rnnkit.cli.main(["train", "dqn", "--set", "agent.network=transformer"]) == 2
    assert "agent.network must be one of mlp, recurrent" in capsys.readouterr().err
    assert rnnkit.cli.main(["train", "dqn", "--set", "model.cell=lstm"]) == 2  # mlp by default
    assert "agent.network=mlp does not read model.cell (only model.hidden_size)" in \
        capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # refused before anything was written


@pytest.mark.parametrize(("setting", "message"), [
    ("trading.mode=long", "trading.mode must be one of long_flat, long_short; got 'long'"),
    ("trading.cost_bps=-1", "trading.cost_bps must be at least 0; got -1.0"),
    ("data.test_end=2014-13-01", "data.test_end must be a date such as 2009-12-31"),
    ('data.train_end=""', "data.train_end must be a date such as 2009-12-31"),
    ("data.lookback=0", "data.lookback must be at least 1; got 0"),
    ("data.symbol=XYZ", "data.symbol must be one of AAPL, FB, GOOG, IBM, MSFT; got 'XYZ'"),
    ("data.val_fraction=0", "data.val_fraction must be between 0 and 1"),
    ("model.hidden_size=0", "model.hidden_size must be at least 1; got 0"),  # mlp: ran on
    ("model.init=orthogonal", "model.init must be one of torch, recurrent; got 'orthogonal'"),
    ("run.threads=-1", "run.threads must be at least 0; got -1"),
    # torch said only 'Overflow when unpacking long', or started that many threads
    ("run.threads=99999999999", "run.threads 99999999999 is far more than this machine's"),
    # absurd but finite: torch's 'value cannot be converted to type float without overflow'
    # from inside Adam, an infinite loss from rewards past float32 (the run went on), an
    # out-of-memory error after the run folder was cleared
    ("agent.lr=1e300", "agent.lr must be > 0 and <= 1 (Adam's step size"),
    ("agent.reward_scale=1e300", "agent.reward_scale must be > 0 and <= 1e+06"),
    ("agent.buffer_size=1000000000000", "agent.buffer_size must be <= 10,000,000"),
])
def test_train_dqn_names_the_bad_setting_before_reading_prices(
        setting: str, message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert rnnkit.cli.main(["train", "dqn", "--out", str(out), "--set", setting]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()  # refused before the run folder, the prices or any training


def test_a_symbol_listed_after_the_training_period_is_named(tmp_path: Path, capsys) -> None:
    assert rnnkit.cli.main(["train", "dqn", "--set", "data.symbol=FB", "--out",
                            str(tmp_path / "fb")]) == 2
    assert "FB's prices start on 2012-05-18, after data.train_end 2009-12-31" in \
        capsys.readouterr().err


def test_repeated_seeds_are_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert rnnkit.cli.main(["train", "dqn", "--out", str(tmp_path / "run"),
                            "--set", "run.seeds=\"0,1,0\""]) == 2
    assert "run.seeds repeats 0" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_the_supervised_bundles_of_a_dqn_run_keep_its_test_period(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # rnnkit backtest of seed-k/forecaster traded to the end of the data (2013), not to the
    # run's data.test_end, so its numbers were not the ones results.json reports
    out = tmp_path / "run"
    settings = ["data.symbol=IBM", "data.train_end=2004-12-31", "data.test_end=2005-06-30",
                "agent.episodes=1", "agent.learning_starts=200", "model.hidden_size=8",
                "run.supervised=true"]
    assert rnnkit.cli.main(["train", "dqn", "--out", str(out),
                            *[arg for s in settings for arg in ("--set", s)]]) == 0
    expected = json.loads((out / "results.json").read_text())["runs"][0]["reports"]
    for name in ("forecaster", "signal"):
        capsys.readouterr()
        assert rnnkit.cli.main(["backtest", "--model", str(out / "seed-0" / name / "model.rnnkit"),
                                "--out", str(tmp_path / name)]) == 0
        assert "decisions 2004-12-31 to 2005-06-30" in capsys.readouterr().out, name
        backtested = json.loads((tmp_path / name / "backtest.json").read_text())["reports"]
        assert backtested["model"]["total_return"] == pytest.approx(
            expected[name]["total_return"], abs=1e-12), name


def test_a_fresh_dqn_run_clears_an_earlier_one_once_its_settings_pass(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a refused run overwrote config.toml beside the earlier results.json, and a run with
    # fewer seeds (or without run.supervised) left the earlier run's bundles beside its own
    out = tmp_path / "run"
    settings = ["data.symbol=IBM", "data.train_end=2004-12-31", "data.test_end=2005-03-31",
                "agent.episodes=1", "agent.learning_starts=200", "model.hidden_size=8"]

    def train(*extra: str) -> int:
        return rnnkit.cli.main(["train", "dqn", "--out", str(out),
                                *[arg for s in (*settings, *extra) for arg in ("--set", s)]])

    assert train('run.seeds="0,1"', "run.supervised=true") == 0
    (out / "seed-0" / "notes.txt").write_text("mine")
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    assert train("agent.learning_starts=1000000") == 2  # refused once the data is read
    assert "no update would ever run" in capsys.readouterr().err
    assert {path: path.read_bytes() for path in out.rglob("*") if path.is_file()} == before
    assert train('run.seeds="1"') == 0
    assert sorted(str(path.relative_to(out)) for path in out.rglob("*") if path.is_file()) == [
        "config.toml", "equity.png", "results.json", "seed-0/notes.txt",
        "seed-1/dqn/model.rnnkit", "seed-1/outcome.pt"]
    assert json.loads((out / "results.json").read_text())["seeds"] == [1]


def test_a_replay_buffer_larger_than_the_machine_is_refused_before_the_run_folder_is_touched(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # its arrays are allocated when training starts: an out-of-memory error came after an
    # earlier run in the folder was cleared
    from rnnkit.config import save_config
    from rnnkit.pipelines.dqn import DQNRunConfig

    out = tmp_path / "run"
    (out / "seed-0" / "dqn").mkdir(parents=True)
    save_config(DQNRunConfig(), out / "config.toml")  # an earlier run's files
    for name in ("results.json", "equity.png", "seed-0/dqn/model.rnnkit"):
        (out / name).write_text("earlier")
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    monkeypatch.setattr("rnnkit.rl.dqn_checks.machine_memory", lambda: 2**30)  # a 1 GiB machine
    assert rnnkit.cli.main(["train", "dqn", "--out", str(out), "--set", "agent.episodes=1",
                            "--set", "agent.buffer_size=2000000"]) == 2
    assert ("agent.buffer_size 2000000 asks for 1.5 GiB of replay memory (two windows of 20 "
            "days x 5 features per transition), more than this machine's 1.0 GiB; lower "
            "agent.buffer_size (at most 1303084 fit) or data.lookback") in capsys.readouterr().err
    assert {path: path.read_bytes() for path in out.rglob("*") if path.is_file()} == before


def test_a_test_end_before_the_training_end_is_refused_before_data_is_read(
        capsys: pytest.CaptureFixture[str]) -> None:
    """train dqn --print-config printed data.test_end=2015-01-01 with data.train_end=2016-12-31
    and exited 0; only training, after reading the prices, refused the empty test period."""
    settings = ["--set", "data.train_end=2016-12-31", "--set", "data.test_end=2015-01-01"]
    assert rnnkit.cli.main(["train", "dqn", *settings, "--print-config"]) == 2
    assert "data.test_end (2015-01-01) is before data.train_end (2016-12-31)" in \
        capsys.readouterr().err
    settings = ["--set", "data.train_end=2016-12", "--set", "data.test_end=2017"]
    assert rnnkit.cli.main(["train", "dqn", *settings, "--print-config"]) == 0


def test_the_bundles_of_a_dqn_run_on_fb_backtest_as_the_run_traded(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # train dqn accepts FB (bokeh-sampledata's, 2012-2013), but rnnkit backtest of its bundles
    # said "unknown data.source 'FB'"
    out = tmp_path / "run"
    settings = ["data.symbol=FB", "data.train_end=2013-01-31", "agent.episodes=1",
                "agent.learning_starts=20", "model.hidden_size=8", "run.supervised=true"]
    assert rnnkit.cli.main(["train", "dqn", "--out", str(out),
                            *[arg for s in settings for arg in ("--set", s)]]) == 0
    reports = json.loads((out / "results.json").read_text())["runs"][0]["reports"]
    for name in ("dqn", "forecaster", "signal"):
        capsys.readouterr()
        bundle = out / "seed-0" / name / "model.rnnkit"
        assert rnnkit.cli.main(["backtest", "--model", str(bundle), "--out",
                                str(tmp_path / name)]) == 0, capsys.readouterr().err
        backtested = json.loads((tmp_path / name / "backtest.json").read_text())["reports"]
        assert backtested["model"]["total_return"] == pytest.approx(
            reports[name]["total_return"], abs=1e-12)


def test_an_agent_s_test_decisions_up_to_a_cut_ignore_every_later_price(tmp_path: Path) -> None:
    """Rewrite AAPL's prices after a cut in the test period and train the agent again (same
    seed): its scaler and weights, and every test observation and greedy position at or before
    the cut, stay the same to the bit; the observations after it move."""
    from rnnkit.pipelines.dqn import DQNRunConfig, make_env, train_agent
    from rnnkit.rl.prices import listed_prices
    from rnnkit.timeseries.datasets import stock_prices

    prices = listed_prices(stock_prices(["AAPL"], returns=False)["AAPL"]).dropna()
    cut = pd.Timestamp("2011-06-30")
    changed = prices.copy()
    later = changed.index > cut
    changed[later] *= np.exp(np.cumsum(np.random.default_rng(5).normal(0.01, 0.06, later.sum())))
    config = DQNRunConfig(data=DQNData(lookback=10), agent=DQNOptions(
        episodes=1, learning_starts=200, buffer_size=2000))
    runs = []
    for name, series in (("a", prices), ("b", changed)):
        periods = split_periods(price_windows(series, 10), config.data)
        agent, _ = train_agent(periods, config, 0, tmp_path / name, log=lambda line: None)
        env = make_env(periods.test, periods.scaler, config.trading)
        runs.append((periods, agent, env.windows, agent.greedy_actions(periods.test)[1]))
    (first, agent, seen, held), (second, again, seen_again, held_again) = runs
    assert first.scaler.to_json() == second.scaler.to_json()
    for mine, theirs in zip(agent.state_dict().values(), again.state_dict().values(),
                            strict=True):
        assert torch.equal(mine, theirs)
    made = first.test.input_end <= np.datetime64(cut)
    assert 300 < made.sum() < len(made)
    np.testing.assert_array_equal(seen[made], seen_again[made])
    np.testing.assert_array_equal(held[made], held_again[made])
    assert not np.array_equal(seen[~made], seen_again[~made])  # the change does reach
