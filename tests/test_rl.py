"""The replay buffer and the DQN agent (rnnkit.rl, rnnkit.models.dqn_agent) and its training.

The other tests/test_rl_*.py files test the trading environment, the DQN pipeline and its
commands, and its report; tests/test_cuda.py and tests/test_dqn_resume.py import the agent
helpers from here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from rnnkit.config import ModelConfig
from rnnkit.models.dqn_agent import DQNAgent
from rnnkit.rl.dqn import DQNOptions, greedy_return, td_targets, train_dqn
from rnnkit.rl.env import TradingEnv
from rnnkit.rl.replay import ReplayBuffer, Transitions
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.windows import make_windows
from rnnkit.trading.backtest import backtest
from rnnkit.trading.returns import next_period_returns
from rnnkit.trading.strategies import class_positions
from rnnkit.training.bundle import load_bundle, save_bundle


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
