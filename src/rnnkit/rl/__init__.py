"""Reinforcement learning for trading: an environment with the Gymnasium API over a price
series, a replay buffer, and Deep Q-learning (the agent itself, a bundle-able task model, is
:class:`rnnkit.models.dqn_agent.DQNAgent`).

Flow: prices (checked) -> windows of causal features (:mod:`rnnkit.rl.prices`) -> the trading
environment (:mod:`rnnkit.rl.env`) -> transitions in a replay buffer (:mod:`rnnkit.rl.replay`)
-> Q-learning updates of the agent (:mod:`rnnkit.rl.dqn`).
"""

from rnnkit.rl.dqn import DQNOptions, DQNResult, epsilon_at, train_dqn
from rnnkit.rl.env import TradingEnv, random_positions
from rnnkit.rl.prices import check_prices, listed_prices, price_windows
from rnnkit.rl.replay import ReplayBuffer
from rnnkit.trading.strategies import next_position

__all__ = ["DQNOptions", "DQNResult", "ReplayBuffer", "TradingEnv", "check_prices",
           "epsilon_at", "listed_prices", "next_position", "price_windows", "random_positions",
           "train_dqn"]
