"""A one-asset trading environment with the Gymnasium API.

At decision ``i`` (the window whose last row is day ``t``) the observation is a dict:
``window``, the ``[L, F]`` features of days ``t-L+1 .. t`` (scaled with the training scaler;
nothing after ``t``), and ``position``, ``[1]`` what is held now. The action is a class of
:mod:`rnnkit.timeseries.labels`: ``0`` sell, ``1`` hold, ``2`` buy. Buy goes long (``+1``),
sell goes short (``-1``, ``long_short``) or flat (``0``, ``long_flat``), hold keeps the
position: the rule of :func:`rnnkit.trading.strategies.class_positions`. So with
``long_short`` the agent moves between long and short and is flat only before its first trade,
like the buy/sell/hold classifier's strategy.

The new position earns the asset's simple return from ``t`` to ``t + 1`` (``next_returns[i]``)
and pays ``(cost_bps + slippage_bps) / 10,000`` per unit of position changed: the timing and
costs of :func:`rnnkit.trading.backtest.backtest`, so an episode's portfolio value equals the
backtest of its positions.

Reward: the change in portfolio value over the period after costs, per unit of value before it,
``position * return - |change of position| * cost`` (the period's net return; the value itself,
compounded from 1, is ``info["portfolio_value"]``). An episode starts flat at the first window
and is *truncated* (not terminated) after the last one: trading has no natural end, the data
does, so a learner should still bootstrap from the state reached. It is *terminated* only when
a period's net return is -100% or worse (a short over a price that more than doubled, or costs
beyond the value): the reward is then -1, the value 0, and there is nothing left to trade, as
in the backtest. That state is the window
after the last decision when the environment is given it (``after``); otherwise the last window
is shown again and ``info["next_known"]`` is False, so a learner can leave that transition out.
Another step is an error until :meth:`reset`.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from rnnkit.timeseries.labels import CLASS_NAMES
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.windows import Windows
from rnnkit.trading.strategies import MODES, check_cost_values, class_positions, next_position

Observation = dict[str, Any]  # {"window": [L, F] float32, "position": [1] float32}


def random_positions(count: int, mode: str, seed: int) -> np.ndarray:
    """The positions ``[count]`` of a random agent: sell, hold or buy with equal chance each
    day, from flat.

    Example:
        >>> random_positions(5, "long_flat", seed=0).tolist()
        [1.0, 1.0, 1.0, 0.0, 0.0]
    """
    actions = np.random.default_rng(seed).integers(0, len(CLASS_NAMES), size=count)
    return class_positions(actions, mode)


class TradingEnv(gymnasium.Env[Observation, Any]):
    """Trade one asset over windows in time order (see the module docstring).

    Args:
        windows: consecutive windows (one per trading day), unscaled.
        next_returns: ``[N]`` the asset's simple return after each window's last day (future:
            used for rewards only, never observed).
        scaler: fitted on the training period; None when the windows are already scaled.
        mode: ``long_flat`` or ``long_short``.
        cost_bps, slippage_bps: charged per unit of position changed.
        after: windows whose first is the one right after the last decision (its inputs end
            on the day the last reward is earned), the observation that ends the episode.

    Shape:
        observation ``{"window": [L, F], "position": [1]}`` float32; action a scalar in
        ``{0, 1, 2}``.

    Example:
        >>> import pandas as pd
        >>> from rnnkit.timeseries.windows import make_windows
        >>> frame = pd.DataFrame({"r": [0.0, 0.01, -0.02, 0.03]},
        ...                      index=pd.date_range("2020-01-01", periods=4))
        >>> env = TradingEnv(make_windows(frame, "r", lookback=2), np.array([-0.02, 0.03]))
        >>> observation, info = env.reset(seed=0)
        >>> observation["window"].shape, observation["position"].tolist()
        ((2, 1), [0.0])
        >>> _, reward, terminated, _, info = env.step(2)  # buy: long over a -2% day, 10 bps
        >>> round(reward, 4), terminated, info["position"]
        (-0.021, False, 1.0)
        >>> _, _, terminated, truncated, info = env.step(1)  # the data ends: truncated
        >>> terminated, truncated, info["next_known"]
        (False, True, False)
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, windows: Windows, next_returns: np.ndarray, *,
                 scaler: StandardScaler | None = None, mode: str = "long_flat",
                 cost_bps: float = 5.0, slippage_bps: float = 5.0,
                 after: Windows | None = None) -> None:
        returns = np.asarray(next_returns, dtype=float)
        if not len(windows) or returns.shape != (len(windows),):
            raise ValueError(f"{len(windows)} windows and next_returns of shape "
                             f"{returns.shape}: give one return per window, at least one")
        gaps = np.flatnonzero(np.diff(windows.origins) != 1)
        if len(gaps):
            raise ValueError(f"the windows skip rows after {windows.input_end[gaps[0]]}: a "
                             "trading environment needs one window per consecutive row; "
                             "check the prices for gaps (rnnkit.rl.prices.check_prices)")
        if not np.isfinite(returns).all() or (returns <= -1).any():
            bad = int(np.flatnonzero(~np.isfinite(returns) | (returns <= -1))[0])
            raise ValueError(f"next return {returns[bad]} at {windows.input_end[bad]}: returns "
                             "must be finite and above -100% (prices positive, no gaps)")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        check_cost_values(cost_bps, slippage_bps)  # NaN was taken: every reward was NaN
        scaled = windows.scaled(scaler) if scaler is not None else windows
        self.windows = scaled.inputs_at(slice(None), dtype=np.float32)  # [N, L, F]
        if not np.isfinite(self.windows).all():
            raise ValueError("the windows hold missing or infinite features; drop those rows")
        self.final = self._window_after(windows, after, scaler)  # [L, F] or None
        self.times = windows.input_end
        self.next_returns = returns
        self.mode = mode
        self.cost = (cost_bps + slippage_bps) / 10_000.0
        lowest = -1.0 if mode == "long_short" else 0.0
        self.observation_space = spaces.Dict({
            "window": spaces.Box(-np.inf, np.inf, self.windows.shape[1:], np.float32),
            "position": spaces.Box(lowest, 1.0, (1,), np.float32)})
        self.action_space = spaces.Discrete(len(CLASS_NAMES))
        self.index = -1  # -1: not reset yet
        self.position = 0.0
        self.value = 1.0

    @staticmethod
    def _window_after(windows: Windows, after: Windows | None,
                      scaler: StandardScaler | None) -> np.ndarray | None:
        """The scaled inputs of the window that follows ``windows`` (None without ``after``).

        Raises:
            ValueError: ``after`` does not start right after ``windows`` in the same series.
        """
        if after is None or not len(after):
            return None
        if (list(after.feature_names) != list(windows.feature_names)
                or after.lookback != windows.lookback
                or after.origins[0] != windows.origins[-1] + 1):
            raise ValueError("after must hold the window right after the last one, from the "
                             "same series and lookback")
        first = after.subset(slice(0, 1))
        inputs = (first.scaled(scaler) if scaler is not None else first).inputs[0]
        return inputs.astype(np.float32)

    def __len__(self) -> int:
        """The number of decisions in an episode."""
        return len(self.next_returns)

    def observation_at(self, index: int, position: float) -> Observation:
        """The observation of decision ``index`` while holding ``position``."""
        return {"window": self.windows[index].copy(),
                "position": np.array([position], dtype=np.float32)}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[Observation, dict[str, Any]]:
        """Start flat at the first window, portfolio value 1."""
        super().reset(seed=seed)
        self.index, self.position, self.value = 0, 0.0, 1.0
        return self.observation_at(0, 0.0), {"time": self.times[0], "portfolio_value": 1.0}

    def step(self, action: Any) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        """Act at the current window; the reward is the next period's net return.

        Raises:
            RuntimeError: a step before :meth:`reset` or after the episode ended.
            ValueError: an action outside the action space.
        """
        if self.index < 0:
            raise RuntimeError("call reset() before step()")
        if self.value <= 0:
            raise RuntimeError("the episode ended when the portfolio was wiped out; call "
                               "reset() to start another")
        if self.index >= len(self):
            raise RuntimeError(f"the episode ended after its last decision "
                               f"({self.times[-1]}); call reset() to start another")
        if isinstance(action, bool | float) or not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is outside the action space "
                             f"{self.action_space}: use 0 (sell), 1 (hold) or 2 (buy)")
        position = next_position(int(action), self.position, self.mode)
        cost = abs(position - self.position) * self.cost
        period_return = float(self.next_returns[self.index])
        reward = position * period_return - cost
        terminated = reward <= -1.0  # wiped out: nothing is left to trade (as the backtest)
        reward = max(reward, -1.0)
        self.value = 0.0 if terminated else self.value * (1.0 + reward)
        info = {"time": self.times[self.index], "position": position, "cost": cost,
                "next_return": period_return, "portfolio_value": self.value}
        self.index += 1
        self.position = position
        truncated = self.index == len(self) and not terminated  # the data ends, not trading
        info["next_known"] = not truncated or self.final is not None
        if truncated and self.final is not None:
            observation = {"window": self.final.copy(),
                           "position": np.array([position], dtype=np.float32)}
        else:  # without the window after, the last one is shown again
            observation = self.observation_at(min(self.index, len(self) - 1), position)
        return observation, reward, terminated, truncated, info
