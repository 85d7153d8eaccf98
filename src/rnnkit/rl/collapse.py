"""Signs that a trained agent learnt nothing, said beside its numbers instead of left for the
reader to find.

A run whose learning diverges with a finite loss (``agent.lr`` near its upper limit) still
trains, keeps the episode that did best on validation and backtests it: on AAPL with
``agent.lr=1`` the agent of one seed had Q-values near 3,000 and bought on the first test day
and never sold (buy-and-hold's numbers, reported as the agent's), that of another Q-values near
9,600 and never bought (0%). Two checks, each a fact about the agent, not a guess:

* its Q-values over the training period exceed what any policy could earn there, the largest
  reward over ``1 - gamma`` (:func:`q_value_bound`): no sum of discounted rewards reaches it, so
  they estimate nothing: the learning diverged, or the rewards are too small for the network
  to have fitted them (``agent.reward_scale=1e-6``: its initial Q-values are beyond them);
* it held one position on every day of the test period: no decision of its own after the
  first day, so its numbers are buy-and-hold's (long), cash's (flat) or a constant short's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rnnkit.rl.env import TradingEnv

if TYPE_CHECKING:
    from rnnkit.models.dqn_agent import DQNAgent
    from rnnkit.rl.dqn import DQNOptions


def largest_reward(env: TradingEnv, reward_scale: float) -> float:
    """The largest ``|reward|`` the learner can get in ``env`` (as trained: times
    ``reward_scale``): its largest ``|return|`` plus the cost of the largest change of
    position (2 units long to short, else 1)."""
    change = 2.0 if env.mode == "long_short" else 1.0
    return float((np.abs(env.next_returns).max() + change * env.cost) * reward_scale)


def q_value_bound(env: TradingEnv, options: DQNOptions) -> float:
    """The largest ``|Q-value|`` any policy has in ``env``: a discounted sum of rewards is at
    most the largest reward over ``1 - gamma``.

    Example:
        >>> import pandas as pd
        >>> from rnnkit.rl.dqn import DQNOptions
        >>> from rnnkit.timeseries.windows import make_windows
        >>> frame = pd.DataFrame({"r": [0.0, 0.01, -0.02, 0.03]},
        ...                      index=pd.date_range("2020-01-01", periods=4))
        >>> env = TradingEnv(make_windows(frame, "r", lookback=2), np.array([-0.02, 0.03]))
        >>> round(q_value_bound(env, DQNOptions(gamma=0.9, reward_scale=100)), 6)  # 3.1 / 0.1
        31.0
    """
    return largest_reward(env, options.reward_scale) / (1.0 - options.gamma)


def largest_q_value(agent: DQNAgent, env: TradingEnv) -> float:
    """The agent's largest ``|Q-value|`` over the environment's windows, at every position it
    can hold."""
    return float(max(np.abs(q).max() for q in agent.held_q_values(env.windows).values()))


def q_value_warning(agent: DQNAgent, env: TradingEnv, options: DQNOptions) -> str:
    """A warning when the agent's Q-values over ``env`` (its training period) are beyond
    :func:`q_value_bound`; "" when they are not."""
    largest, bound = largest_q_value(agent, env), q_value_bound(env, options)
    if largest <= bound:
        return ""
    return (f"the agent's Q-values reach {largest:,.4g} over its training period, beyond the "
            f"{bound:,.4g} any policy could earn there (its largest reward, "
            f"{largest_reward(env, options.reward_scale):.4g}, / (1 - agent.gamma)), so they "
            "estimate no policy's return: the learning diverged (lower agent.lr, now "
            f"{options.lr:g}) or has not fitted rewards this small (raise "
            f"agent.reward_scale, now {options.reward_scale:g})")


def one_position(positions: np.ndarray, period: str = "test") -> str:
    """A warning when ``positions`` hold one value on every day; "" when they change.

    Example:
        >>> one_position(np.ones(3)).split(": ")[0]
        'the agent was long on all 3 test days (bought on the first and never sold)'
        >>> one_position(np.array([0.0, 1.0, 1.0]))
        ''
    """
    held = np.unique(positions)
    if len(held) != 1:
        return ""
    what = {1.0: ("long", "bought on the first and never sold", "buy-and-hold's"),
            0.0: ("flat", "never bought", "those of holding cash"),
            -1.0: ("short", "sold short on the first and never bought", "a constant short's")}
    side, story, numbers = what[float(held[0])]
    return (f"the agent was {side} on all {len(positions)} {period} days ({story}): its "
            f"{period} numbers are {numbers}, with no decision of its own")


def collapse_warnings(agent: DQNAgent, env: TradingEnv, options: DQNOptions,
                      test_positions: np.ndarray) -> list[str]:
    """What :func:`q_value_warning` (over the training environment ``env``) and
    :func:`one_position` (over the test positions) find, in that order."""
    return [text for text in (q_value_warning(agent, env, options),
                              one_position(test_positions)) if text]
