"""Warnings about an agent that learnt nothing (rnnkit.rl.collapse) and where a DQN run says
them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import rnnkit.cli
from rnnkit.config import ModelConfig
from rnnkit.models.dqn_agent import DQNAgent
from rnnkit.rl.collapse import (
    collapse_warnings,
    largest_q_value,
    one_position,
    q_value_warning,
)
from rnnkit.rl.dqn import DQNOptions, train_dqn
from rnnkit.rl.env import TradingEnv
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.windows import make_windows
from rnnkit.trading.returns import next_period_returns


def alternating_env(rows: int = 90) -> TradingEnv:
    """+1%, -1%, +1%, ...: a pattern an agent learns to time (long before each rise)."""
    simple = np.where(np.arange(rows) % 2 == 0, 0.01, -0.01)
    frame = pd.DataFrame({"r": np.log1p(simple)}, index=pd.date_range("2020-01-01",
                                                                       periods=rows))
    windows = make_windows(frame, "r", lookback=3)
    scaler = StandardScaler(["r"]).fit(windows.period_rows())
    return TradingEnv(windows, next_period_returns(windows, "log_return"), scaler=scaler)


def agent_of(env: TradingEnv) -> DQNAgent:
    torch.manual_seed(0)
    return DQNAgent("mlp", ModelConfig(cell="gru", hidden_size=16), ["r"], "r", 3,
                    StandardScaler(["r"]).fit(np.zeros((2, 1))), env.mode)


def test_q_values_beyond_any_discounted_reward_are_called_diverged() -> None:
    env = alternating_env()
    options = DQNOptions(gamma=0.9, reward_scale=100, lr=1.0)
    agent = agent_of(env)
    last = agent.head[-1]
    assert isinstance(last, nn.Linear)
    # largest reward: 1% return + 10 bps = 1.1 (percent); no policy's value exceeds 1.1 / 0.1
    nn.init.zeros_(last.weight)
    last.bias.data = torch.tensor([0.0, 10.9, 0.0])
    assert largest_q_value(agent, env) == pytest.approx(10.9)
    assert q_value_warning(agent, env, options) == ""
    last.bias.data = torch.tensor([0.0, -2500.0, 3000.0])
    assert q_value_warning(agent, env, options) == (
        "the agent's Q-values reach 3,000 over its training period, beyond the 11 any policy "
        "could earn there (its largest reward, 1.1, / (1 - agent.gamma)), so they estimate no "
        "policy's return: the learning diverged (lower agent.lr, now 1) or has not fitted "
        "rewards this small (raise agent.reward_scale, now 100)")


@pytest.mark.parametrize(("held", "message"), [
    (1.0, "the agent was long on all 4 test days (bought on the first and never sold): its "
          "test numbers are buy-and-hold's, with no decision of its own"),
    (0.0, "the agent was flat on all 4 test days (never bought): its test numbers are those "
          "of holding cash, with no decision of its own"),
    (-1.0, "the agent was short on all 4 test days (sold short on the first and never "
           "bought): its test numbers are a constant short's, with no decision of its own"),
])
def test_one_position_on_every_day_is_named(held: float, message: str) -> None:
    assert one_position(np.full(4, held)) == message
    assert one_position(np.array([held, held, held, 1.0 - abs(held)])) == ""


def test_an_agent_that_learnt_to_time_the_market_gets_no_warning() -> None:
    env = alternating_env()
    agent = agent_of(env)
    options = DQNOptions(episodes=6, learning_starts=100, train_every=1, target_update=50,
                         buffer_size=2000, lr=3e-3, batch_size=32)
    train_dqn(agent, env, options, seed=0, log=lambda _: None)
    _, positions = agent.greedy_from_inputs(env.windows)
    assert 0 < positions.mean() < 1  # it trades
    assert largest_q_value(agent, env) < 11  # 1.1 / (1 - 0.9)
    assert collapse_warnings(agent, env, options, positions) == []


def test_a_dqn_run_whose_agents_learnt_nothing_says_so_after_its_table(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # agent.lr=1: seed 0 bought on the first test day and never sold, seed 1 never bought;
    # the run reported their buy-and-hold and cash numbers as the agent's without a word
    settings = ["data.symbol=IBM", "data.train_end=2004-12-31", "data.test_end=2005-06-30",
                "agent.episodes=1", "agent.learning_starts=200", "model.hidden_size=8",
                "agent.lr=1", "run.seeds=\"0,1\""]
    out = tmp_path / "run"
    assert rnnkit.cli.main(["train", "dqn", "--out", str(out),
                            *[arg for s in settings for arg in ("--set", s)]]) == 0
    results = json.loads((out / "results.json").read_text())
    long_days = ("the agent was long on all 126 test days (bought on the first and never "
                 "sold): its test numbers are buy-and-hold's, with no decision of its own")
    flat_days = ("the agent was flat on all 126 test days (never bought): its test numbers "
                 "are those of holding cash, with no decision of its own")
    assert [run["warnings"] for run in results["runs"]] == [[long_days], [flat_days]]
    reports = results["runs"][0]["reports"]
    assert reports["dqn"]["total_return"] == reports["buy_and_hold"]["total_return"]
    assert results["runs"][1]["reports"]["dqn"]["total_return"] == 0.0
    err = capsys.readouterr().err
    assert f"rnnkit: warning: seed 0: {long_days}\n" in err
    assert f"rnnkit: warning: seed 1: {flat_days}\n" in err
