"""The trading environment, replay buffer and DQN agent (rnnkit.rl, rnnkit.models.dqn_agent),
the DQN pipeline and its commands."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import gymnasium
import numpy as np
import pandas as pd
import pytest
import torch
from gymnasium.utils.env_checker import check_env
from torch import nn

import rnnkit.cli
from rnnkit.config import ModelConfig
from rnnkit.models.dqn_agent import DQNAgent
from rnnkit.pipelines.dqn import DQNData, split_periods
from rnnkit.rl.dqn import DQNOptions, greedy_return, td_targets, train_dqn
from rnnkit.rl.env import TradingEnv, random_positions
from rnnkit.rl.prices import check_prices, price_windows
from rnnkit.rl.replay import ReplayBuffer, Transitions
from rnnkit.timeseries.features import price_features
from rnnkit.timeseries.labels import BUY, HOLD, SELL
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.windows import make_windows
from rnnkit.trading.backtest import backtest
from rnnkit.trading.returns import next_period_returns
from rnnkit.trading.strategies import class_positions
from rnnkit.training.bundle import load_bundle, save_bundle

LOOKBACK = 5


def random_walk(rows: int = 160, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2020-01-01", periods=rows, freq="B")
    return pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.02, rows))), index=index, name="P")


def env_of(prices: pd.Series, **options: object) -> TradingEnv:
    windows = price_windows(prices, LOOKBACK)
    return TradingEnv(windows, next_period_returns(windows, "log_return"), **options)  # type: ignore[arg-type]


def observations(env: TradingEnv) -> list[np.ndarray]:
    """Every decision's window, holding throughout."""
    seen = [env.reset(seed=0)[0]["window"]]
    truncated = False
    while not truncated:
        observation, _, terminated, truncated, _ = env.step(HOLD)
        assert not terminated  # trading has no natural end; the data has
        seen.append(observation["window"])
    return seen[:-1]  # the last one repeats the final window


def test_the_observation_at_t_holds_nothing_after_t() -> None:
    prices = random_walk()
    env = env_of(prices)
    windows = price_windows(prices, LOOKBACK)
    seen = observations(env)
    assert len(seen) == len(windows)
    rng = np.random.default_rng(1)
    for i in (0, 17, 60, len(seen) - 1):
        day = pd.Timestamp(windows.input_end[i])
        known = price_features(prices.loc[:day]).dropna().to_numpy()[-LOOKBACK:]
        np.testing.assert_allclose(seen[i], known, rtol=1e-5, atol=1e-7)
        changed = prices.copy()  # rewrite the whole future: the observation must not move
        later = changed.index > day
        changed[later] *= np.exp(rng.normal(0, 0.3, later.sum()))
        np.testing.assert_array_equal(observations(env_of(changed))[i], seen[i])


@pytest.mark.parametrize("mode", ["long_flat", "long_short"])
def test_costs_are_charged_on_every_change_of_position(mode: str) -> None:
    flat_prices = pd.Series(50.0, index=random_walk().index, name="P")  # every return is 0
    env = env_of(flat_prices, mode=mode, cost_bps=7.0, slippage_bps=3.0)
    actions = np.random.default_rng(2).integers(0, 3, len(env))
    env.reset(seed=0)
    previous, changes = 0.0, 0
    for action in actions:
        _, reward, _, _, info = env.step(int(action))
        changed = abs(info["position"] - previous)
        assert reward == pytest.approx(-changed * 10 / 10_000, abs=1e-15)
        assert (info["cost"] > 0) == (changed > 0)
        changes += changed > 0
        previous = info["position"]
    assert changes > 10
    assert info["portfolio_value"] < 1.0


def test_an_episode_matches_the_backtest_of_its_positions() -> None:
    windows = price_windows(random_walk(), LOOKBACK)
    returns = next_period_returns(windows, "log_return")
    env = TradingEnv(windows, returns, mode="long_short", cost_bps=5, slippage_bps=5)
    actions = np.random.default_rng(3).integers(0, 3, len(env))
    env.reset(seed=0)
    steps = [env.step(int(action)) for action in actions]
    positions = np.array([info["position"] for *_, info in steps])
    np.testing.assert_array_equal(positions, class_positions(actions, "long_short"))
    expected = backtest(positions, returns, cost_bps=5, slippage_bps=5)
    np.testing.assert_allclose([reward for _, reward, *_ in steps], expected.net_returns)
    assert steps[-1][-1]["portfolio_value"] == pytest.approx(expected.equity[-1], rel=1e-12)
    assert [ended for _, _, ended, _, _ in steps] == [False] * len(env)  # never terminated
    assert [cut for _, _, _, cut, _ in steps] == [False] * (len(env) - 1) + [True]


def test_an_episode_whose_equity_is_wiped_out_terminates_as_the_backtest_ends() -> None:
    # a short over a day the asset gained 150%: the value went to -0.5 and the episode went
    # on (the next fall of 50% "grew" it to -0.75), while the backtest stays at 0
    windows = price_windows(random_walk(), LOOKBACK)
    returns = next_period_returns(windows, "log_return")
    returns[3], returns[4] = 1.5, -0.5
    env = TradingEnv(windows, returns, mode="long_short", cost_bps=5, slippage_bps=5)
    env.reset(seed=0)
    steps = [env.step(SELL) for _ in range(4)]
    _, reward, terminated, truncated, info = steps[-1]
    assert (reward, terminated, truncated, info["portfolio_value"]) == (-1.0, True, False, 0.0)
    assert [ended for _, _, ended, _, _ in steps[:3]] == [False] * 3
    expected = backtest(np.full(len(env), -1.0), returns, cost_bps=5, slippage_bps=5)
    assert expected.equity[3] == info["portfolio_value"]
    np.testing.assert_allclose([r for _, r, *_ in steps], expected.net_returns[:4])
    with pytest.raises(RuntimeError, match=r"wiped out; call reset\(\)"):
        env.step(HOLD)
    env.reset()
    assert env.step(HOLD)[-1]["portfolio_value"] == 1.0


def test_the_last_step_shows_the_window_after_when_given_it() -> None:
    windows = price_windows(random_walk(), LOOKBACK)
    returns = next_period_returns(windows, "log_return")
    scaler = StandardScaler(list(windows.feature_names)).fit(windows.period_rows())
    first, rest = windows.subset(slice(0, 100)), windows.subset(slice(100, None))
    env = TradingEnv(first, returns[:100], scaler=scaler, after=rest)
    env.reset(seed=0)
    for _ in range(len(env)):
        observation, _, terminated, truncated, info = env.step(HOLD)
        assert info["next_known"] and not terminated
    assert truncated
    np.testing.assert_allclose(observation["window"], rest.scaled(scaler).inputs[0], rtol=1e-6)
    blind = TradingEnv(first, returns[:100], scaler=scaler)
    blind.reset(seed=0)
    steps = [blind.step(HOLD) for _ in range(len(blind))]
    assert [info["next_known"] for *_, info in steps] == [True] * 99 + [False]
    with pytest.raises(ValueError, match="the window right after the last one"):
        TradingEnv(first, returns[:100], after=windows.subset(slice(101, None)))


@pytest.mark.parametrize("after", [True, False])
def test_training_bootstraps_at_the_end_of_the_data(after: bool,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The end of the data is a truncation: no stored transition is marked done; the last one
    is stored with the real window after it, or not at all."""
    frame = pd.DataFrame({"r": np.log1p(np.where(np.arange(60) % 2 == 0, 0.01, -0.01))},
                         index=pd.date_range("2020-01-01", periods=60))
    windows = make_windows(frame, "r", lookback=3)
    returns = next_period_returns(windows, "log_return")
    scaler = StandardScaler(["r"]).fit(windows.period_rows())
    n = len(windows) - 1
    env = TradingEnv(windows.subset(slice(0, n)), returns[:n], scaler=scaler,
                     after=windows.subset(slice(n, None)) if after else None)
    stored: list[tuple[np.ndarray, bool]] = []
    add = ReplayBuffer.add

    def spy(self: ReplayBuffer, window: np.ndarray, position: float, action: int,
            reward: float, next_window: np.ndarray, next_position: float, done: bool) -> None:
        stored.append((next_window.copy(), done))
        add(self, window, position, action, reward, next_window, next_position, done)

    monkeypatch.setattr(ReplayBuffer, "add", spy)
    torch.manual_seed(0)
    train_dqn(tiny_agent(), env, DQNOptions(episodes=2, learning_starts=10, batch_size=8),
              log=lambda _: None)
    assert not any(done for _, done in stored)
    assert len(stored) == 2 * (len(env) if after else len(env) - 1)
    if after:
        np.testing.assert_array_equal(stored[len(env) - 1][0], env.final)


def test_the_agent_acts_with_dropout_off() -> None:
    names = ["f0"]
    scaler = StandardScaler(names).fit(np.random.default_rng(0).normal(size=(50, 1)))
    agent = DQNAgent("recurrent", ModelConfig(cell="gru", hidden_size=16, num_layers=2,
                                              dropout=0.5), names, "f0", 3, scaler,
                     "long_flat").train()
    observation = {"window": np.ones((3, 1), np.float32), "position": np.zeros(1, np.float32)}
    modes: list[bool] = []
    agent.register_forward_pre_hook(lambda module, inputs: modes.append(module.training))
    agent.act(observation)
    assert modes == [False]  # no dropout while choosing
    assert agent.training  # its mode is given back


def test_the_environment_passes_gymnasiums_checker() -> None:
    env = env_of(random_walk(80))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env, skip_render_check=True)
    assert env.action_space == gymnasium.spaces.Discrete(3)
    assert env.observation_space["window"].shape == (LOOKBACK, 5)


def test_bad_actions_and_steps_outside_an_episode_are_refused() -> None:
    env = env_of(random_walk(40))
    with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
        env.step(BUY)
    env.reset(seed=0)
    for action in (3, -1, 1.0, "buy", True):
        with pytest.raises(ValueError, match=r"outside the action space Discrete\(3\): use 0"):
            env.step(action)
    env.step(np.int64(BUY))  # numpy integers are fine
    while env.step(HOLD)[3] is False:
        pass
    with pytest.raises(RuntimeError, match=r"the episode ended .*call reset\(\)"):
        env.step(SELL)
    env.reset()
    env.step(SELL)


def test_prices_with_gaps_zeros_or_bad_windows_are_refused() -> None:
    prices = random_walk(60)
    gap = prices.copy()
    gap.iloc[30] = np.nan
    with pytest.raises(ValueError, match=r"1 missing price\(s\) \(gaps\), the first on "
                                         r"2020-02-12; fill them"):
        price_windows(gap, LOOKBACK)
    zero = prices.copy()
    zero.iloc[[10, 20]] = [0.0, -1.0]
    with pytest.raises(ValueError, match=r"2 price\(s\) at or below zero, the first 0 on "
                                         r"2020-01-15"):
        check_prices(zero)
    words = prices.astype(object)
    words.iloc[3] = "n/a"  # numpy's 'could not convert string to float' named no date
    with pytest.raises(ValueError, match=r"P holds 'n/a' on 2020-01-0\d, not a price"):
        check_prices(words)
    with pytest.raises(ValueError, match="the dates of P must be ascending, each once"):
        check_prices(prices.iloc[::-1])
    windows = price_windows(prices, LOOKBACK)
    returns = next_period_returns(windows, "log_return")
    skipped = np.r_[0:10, 12:len(windows)]
    with pytest.raises(ValueError, match="skip rows after .*check the prices for gaps"):
        TradingEnv(windows.subset(skipped), returns[skipped])
    with pytest.raises(ValueError, match="give one return per window"):
        TradingEnv(windows, returns[:-1])
    with pytest.raises(ValueError, match="above -100%"):
        TradingEnv(windows, np.where(np.arange(len(returns)) == 3, -1.0, returns))
    with pytest.raises(ValueError, match="mode must be one of long_flat, long_short"):
        TradingEnv(windows, returns, mode="short_only")
    for costs in ({"cost_bps": float("nan")}, {"slippage_bps": float("inf")}):
        with pytest.raises(ValueError, match="must be finite numbers >= 0"):  # NaN rewards
            TradingEnv(windows, returns, **costs)


def test_too_few_prices_for_the_features_and_a_window_say_how_many_are_needed() -> None:
    # 25 prices and a lookback of 5 read "5 rows are too few for lookback 5 + horizon 1;
    # need at least 6": 20 prices go to the 20-day features before the first window
    with pytest.raises(ValueError, match=r"P holds 25 prices; the 20-day features and a "
                                         r"lookback of 5 need at least 26 \(20 \+ 5 \+ 1"):
        price_windows(random_walk(25), 5)
    assert len(price_windows(random_walk(26), 5)) == 1


def test_the_replay_buffer_keeps_the_latest_transitions() -> None:
    buffer = ReplayBuffer(4, (2, 1))
    with pytest.raises(ValueError, match="empty; add transitions"):
        buffer.sample(2, np.random.default_rng(0))
    for step in range(6):
        window = np.full((2, 1), step, dtype=np.float32)
        buffer.add(window, 0.0, step % 3, float(step), window + 1, 1.0, step == 5)
    assert len(buffer) == 4 and sorted(buffer.reward.tolist()) == [2.0, 3.0, 4.0, 5.0]
    batch = buffer.sample(32, np.random.default_rng(0))
    assert batch.window.shape == (32, 2, 1) and batch.action.dtype == torch.int64
    np.testing.assert_array_equal(batch.next_window.numpy(), batch.window.numpy() + 1)
    np.testing.assert_array_equal(batch.done.numpy(), (batch.reward.numpy() == 5.0) * 1.0)
    with pytest.raises(ValueError, match=r"this buffer holds \(2, 1\)"):
        buffer.add(np.zeros((3, 1), np.float32), 0.0, 0, 0.0, np.zeros((3, 1), np.float32),
                   0.0, False)


def tiny_agent(network: str = "mlp", mode: str = "long_flat", features: int = 1,
               lookback: int = 3) -> DQNAgent:
    names = [f"f{i}" for i in range(features)]
    scaler = StandardScaler(names).fit(np.random.default_rng(0).normal(size=(50, features)))
    return DQNAgent(network, ModelConfig(cell="gru", hidden_size=16), names, names[0], lookback,
                    scaler, mode)


def test_double_dqn_values_the_online_networks_choice_with_the_target_network() -> None:
    online, target = tiny_agent(), tiny_agent()
    for agent, bias in ((online, [0.0, 1.0, 0.0]), (target, [5.0, 2.0, 3.0])):
        last = agent.head[-1]
        assert isinstance(last, nn.Linear)
        nn.init.zeros_(last.weight)
        last.bias.data = torch.tensor(bias)
    window = torch.zeros(2, 3, 1)
    batch = Transitions(window, torch.zeros(2, 1), torch.tensor([0, 2]), torch.tensor([1.0, 1.0]),
                        window, torch.zeros(2, 1), torch.tensor([0.0, 1.0]))
    double = td_targets(online, target, batch, gamma=0.5, double=True)
    plain = td_targets(online, target, batch, gamma=0.5, double=False)
    assert double.tolist() == [1.0 + 0.5 * 2.0, 1.0]  # online picks hold; target says 2
    assert plain.tolist() == [1.0 + 0.5 * 5.0, 1.0]  # the target's own max; none after done


def alternating_env(rows: int = 90, mode: str = "long_flat") -> tuple[TradingEnv, np.ndarray]:
    """Returns of +1%, -1%, +1%, ...: after a fall comes a rise. The optimal long/flat policy
    after 10 bps of costs is long exactly before each rise."""
    simple = np.where(np.arange(rows) % 2 == 0, 0.01, -0.01)
    frame = pd.DataFrame({"r": np.log1p(simple)}, index=pd.date_range("2020-01-01",
                                                                       periods=rows))
    windows = make_windows(frame, "r", lookback=3)
    returns = next_period_returns(windows, "log_return")
    scaler = StandardScaler(["r"]).fit(windows.period_rows())
    return TradingEnv(windows, returns, scaler=scaler, mode=mode), returns


@pytest.mark.parametrize("network", ["mlp", "recurrent"])
def test_the_agent_learns_the_known_optimal_policy(network: str) -> None:
    env, returns = alternating_env()
    torch.manual_seed(0)
    agent = tiny_agent(network)
    options = DQNOptions(network=network, episodes=6, learning_starts=100, train_every=1,
                         target_update=50, buffer_size=2000, lr=3e-3, batch_size=32)
    result = train_dqn(agent, env, options, seed=0, log=lambda _: None)
    _, positions = agent.greedy_from_inputs(env.windows)
    optimal = (returns > 0).astype(float)
    np.testing.assert_array_equal(positions, optimal)
    assert len(result.history) == 6 and result.updates > 300
    best = backtest(optimal, returns, cost_bps=5, slippage_bps=5).report.total_return
    assert greedy_return(agent, env) == pytest.approx(best, rel=1e-12)


def test_greedy_trading_over_windows_equals_acting_in_the_environment() -> None:
    env, _ = alternating_env(60, mode="long_short")
    torch.manual_seed(3)
    agent = tiny_agent("recurrent", mode="long_short")
    train_dqn(agent, env, DQNOptions(episodes=2, learning_starts=50, train_every=1, lr=3e-3,
                                     batch_size=16, buffer_size=500), log=lambda _: None)
    observation, _ = env.reset(seed=0)
    stepped, done = [], False
    while not done:
        observation, _, terminated, truncated, info = env.step(agent.act(observation))
        done = terminated or truncated
        stepped.append(info["position"])
    actions, positions = agent.greedy_from_inputs(env.windows)
    np.testing.assert_array_equal(positions, stepped)
    assert set(np.unique(positions)) == {-1.0, 1.0}  # it trades both ways
    np.testing.assert_array_equal(class_positions(actions, "long_short"), positions)


def test_the_agent_bundle_round_trips(tmp_path: Path) -> None:
    agent = tiny_agent("recurrent", mode="long_short", features=2)
    inputs = np.random.default_rng(0).normal(size=(30, 3, 2)).astype(np.float32)
    path = save_bundle(agent, tmp_path / "agent.rnnkit")
    loaded = load_bundle(path, expected_kind="dqn")
    assert isinstance(loaded, DQNAgent) and loaded.mode == "long_short"
    np.testing.assert_array_equal(loaded.greedy_from_inputs(inputs)[1],
                                  agent.greedy_from_inputs(inputs)[1])
    with pytest.raises(ValueError, match="agent.network must be one of mlp, recurrent"):
        tiny_agent("transformer")


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


def test_act_follows_the_weights_dtype() -> None:
    import copy

    agent = tiny_agent(network="recurrent")
    observation = {"window": np.zeros((3, 1), dtype=np.float32),
                   "position": np.zeros(1, dtype=np.float32)}
    assert copy.deepcopy(agent).double().act(observation) == agent.act(observation)


def test_an_agent_trains_in_the_dtype_of_its_weights() -> None:
    # replay batches were float32 on the CPU whatever the network: a float64 agent failed at
    # its first update with 'mat1 and mat2 must have the same dtype' (a GPU one likewise)
    import copy

    env, returns = alternating_env()
    torch.manual_seed(0)
    agent = copy.deepcopy(tiny_agent()).double()
    options = DQNOptions(episodes=4, learning_starts=100, train_every=1, target_update=50,
                         buffer_size=2000, lr=3e-3, batch_size=32)
    result = train_dqn(agent, env, options, seed=0, log=lambda _: None)
    assert result.updates > 200
    assert {parameter.dtype for parameter in agent.parameters()} == {torch.float64}
    np.testing.assert_array_equal(agent.greedy_from_inputs(env.windows)[1],
                                  (returns > 0).astype(float))  # it learnt the optimum
    batch = ReplayBuffer(4, (3, 1))
    batch.add(np.zeros((3, 1), np.float32), 0.0, 2, 0.5, np.ones((3, 1), np.float32), 1.0,
              False)
    sampled = batch.sample(2, np.random.default_rng(0), dtype=torch.float64)
    assert sampled.window.dtype == sampled.reward.dtype == torch.float64
    assert sampled.action.dtype == torch.int64


def test_a_loss_that_becomes_nan_stops_the_training_by_name() -> None:
    # the agent trained on with NaN weights, acted flat and reported its results: nothing said
    env, _ = alternating_env()
    agent = tiny_agent()
    with torch.no_grad():
        next(agent.parameters()).view(-1)[0] = float("nan")
    options = DQNOptions(episodes=2, learning_starts=10, train_every=1, batch_size=4)
    with pytest.raises(ValueError, match=r"the agent's loss became nan in episode 1, update 1: "
                                         r"its Q-values diverged; lower agent.lr \(now"):
        train_dqn(agent, env, options, log=lambda _: None)


def test_training_that_would_never_update_is_refused() -> None:
    env, _ = alternating_env(rows=40)
    steps = len(env)  # one episode
    for starts, every in ((steps + 1, 1), (1, steps + 1)):  # past the end either way
        with pytest.raises(ValueError, match="no update would ever run: agent.learning_starts"):
            train_dqn(tiny_agent(), env, DQNOptions(episodes=1, learning_starts=starts,
                                                    train_every=every, batch_size=4),
                      log=lambda _: None)
    result = train_dqn(tiny_agent(), env, DQNOptions(episodes=1, learning_starts=steps,
                                                     train_every=1, batch_size=4),
                       log=lambda _: None)
    assert result.updates == 1  # the last step, exactly


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


def run_dqn_benchmark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      *overrides: str) -> dict[str, object]:
    """benchmarks/dqn_trading.py on IBM, one seed, a short period and tiny agents; its
    result file."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "dqn_trading.py"
    spec = importlib.util.spec_from_file_location("dqn_trading_benchmark", path)
    assert spec is not None and spec.loader is not None
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    settings = ["data.train_end=2004-12-31", "data.test_end=2005-03-31", "agent.episodes=1",
                "agent.learning_starts=200", "model.hidden_size=8", *overrides]
    monkeypatch.setattr("sys.argv", ["dqn_trading.py", "--symbols", "IBM", "--seeds", "0",
                                     "--out", str(tmp_path / "dqn_trading.json"),
                                     *[arg for s in settings for arg in ("--set", s)]])
    assert benchmark.main() == 0
    return dict(json.loads((tmp_path / "dqn_trading.json").read_text()))


@pytest.mark.filterwarnings(r"ignore:seed \d+. the agent:UserWarning")  # tiny agents
def test_the_dqn_benchmark_survives_an_agent_never_in_the_market(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # an agent that never left flat has no Sharpe ratio: the benchmark's headline mean failed
    # with KeyError 'sharpe' after every run had trained, and wrote nothing
    monkeypatch.setattr(DQNAgent, "greedy_actions",
                        lambda self, windows: (np.ones(len(windows), np.int64),
                                               np.zeros(len(windows))))  # hold, flat
    result = run_dqn_benchmark(tmp_path, monkeypatch)
    assert result["value"] is None
    extra = result["extra"]
    assert isinstance(extra, dict) and extra["dqn_gru_sharpe"] is None
    assert extra["sharpe_runs"] == {"dqn_mlp": "0 of 1 runs", "dqn_gru": "0 of 1 runs",
                                    "buy_and_hold": "1 of 1 runs"}


@pytest.mark.filterwarnings(r"ignore:seed \d+. the agent:UserWarning")  # tiny agents
def test_the_dqn_benchmark_records_the_costs_it_charged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # with --set trading.cost_bps=20 it wrote '5 bps cost + 5 bps slippage' and titled every
    # panel 'after 10 bps'
    titles: list[str] = []
    monkeypatch.setattr("rnnkit.viz.seed_equity.plot_seed_equity_grid",
                        lambda panels, path: titles.extend(panels) or path)
    result = run_dqn_benchmark(tmp_path, monkeypatch, "trading.cost_bps=20")
    extra = result["extra"]
    assert isinstance(extra, dict)
    assert extra["costs"] == "20 bps cost + 5 bps slippage per unit of position changed"
    assert titles == ["IBM: test 2004-12-31 to 2005-03-31, after 25 bps"]


def test_an_environment_that_is_not_the_agents_is_refused() -> None:
    # through the Python API a long_short environment trained a long_flat agent (its 'sell'
    # learnt as short), and windows of another lookback failed inside torch or trained silently
    env, _ = alternating_env(rows=40)
    options = DQNOptions(episodes=1, learning_starts=1, batch_size=4)
    with pytest.raises(ValueError, match="trades long_flat but the agent was built for "
                                         "long_short"):
        train_dqn(tiny_agent(mode="long_short"), env, options, log=lambda _: None)
    with pytest.raises(ValueError, match=r"windows are \(3, 1\).*agent reads \(5, 1\)"):
        train_dqn(tiny_agent(lookback=5), env, options, log=lambda _: None)
    with pytest.raises(ValueError, match=r"agent reads \(3, 2\)"):
        train_dqn(tiny_agent(features=2), env, options, log=lambda _: None)


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


def test_the_seed_tables_round_each_number_once() -> None:
    """The tables were formatted from the summary rounded to 4 decimals for results.json:
    a return of 0.164549 became 0.1645, then '+16.4%', where every seed's line said +16.5%."""
    from rnnkit.pipelines.dqn_report import format_cell, summarize, summary_table

    reports = [{"hold": {"total_return": 0.164549, "sharpe": 0.59, "max_drawdown": 0.01045,
                         "turnover": 0.012}}] * 2
    assert summarize(reports)["hold"]["total_return"]["mean"] == 0.1645  # the file's, as was
    exact = summarize(reports, digits=None)
    assert format_cell(exact["hold"], "total_return", "+.1%") == "+16.5% ± 0.0%"
    assert summary_table(exact).splitlines()[1].split() == [
        "hold", "+16.5%", "±", "0.0%", "0.59", "±", "0.00", "1.0%", "±", "0.0%", "0.012"]


def test_the_recorded_dqn_tables_match_the_per_seed_numbers_they_summarize() -> None:
    """benchmarks/results/dqn_trading.json (and the README, which report.py prints from it)
    showed five cells 0.1 point off, e.g. GOOG forecaster max drawdown 33.1% for 33.05%."""
    import sys

    from rnnkit.pipelines.dqn_report import format_cell, summarize, summary_table

    folder = Path(__file__).resolve().parent.parent / "benchmarks"
    sys.path.insert(0, str(folder))
    try:
        from common import markdown_table
    finally:
        sys.path.remove(str(folder))
    result = json.loads((folder / "results" / "dqn_trading.json").read_text())
    rows, texts = [], []
    for row in result["rows"]:
        assert summarize(row["per_seed"]) == row["summary"]
        exact = summarize(row["per_seed"], digits=None)
        texts.append(f"{row['symbol']}\n{summary_table(exact)}")
        rows += [[row["symbol"], name, *(format_cell(numbers, metric, style) for metric, style
                                         in (("total_return", "+.1%"), ("sharpe", ".2f"),
                                             ("max_drawdown", ".1%")))]
                 for name, numbers in exact.items()]
    head = ["symbol", "strategy", "total return", "Sharpe", "max drawdown"]
    assert result["extra"]["table"] == markdown_table(head, rows)
    assert result["extra"]["text_tables"] == texts


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


def test_a_bfloat16_agent_gives_the_float32_agents_greedy_actions() -> None:
    """greedy_from_inputs (behind greedy_actions and the backtest) turned bfloat16 Q-values
    into NumPy, which has no bfloat16: a TypeError from inside torch."""
    names = ["f0"]
    scaler = StandardScaler(names).fit(np.random.default_rng(0).normal(size=(50, 1)))
    torch.manual_seed(0)
    agent = DQNAgent("recurrent", ModelConfig(cell="gru", hidden_size=8), names, "f0", 3,
                     scaler, "long_short")
    inputs = np.random.default_rng(1).normal(size=(40, 3, 1)).astype(np.float32)
    with torch.no_grad():
        for parameter in agent.parameters():  # bfloat16 values: both agents score alike
            parameter.copy_(parameter.bfloat16().float())
    # bfloat16 Q-values round what float32 keeps apart, so compare only clear choices
    expected, _ = agent.greedy_from_inputs(inputs)
    actions, positions = agent.to(torch.bfloat16).greedy_from_inputs(inputs)
    assert actions.shape == positions.shape == (40,) and set(actions) <= {0, 1, 2}
    assert np.mean(actions == expected) > 0.8
