"""Buy/sell/hold labels from the future return over a horizon, with configurable thresholds.

**Labels use future data by definition**: the label at ``t`` is the class of the return from
``t`` to ``t + h``. They are targets only; never feed them, or anything computed from them,
to a model as an input. A label at ``t`` is known only at ``t + h``: a training label must
end before the first prediction it is used against (see
:func:`~rnnkit.timeseries.splits.split_by_time`, which splits on target times).

Classes: ``SELL = 0`` (return below ``down``), ``HOLD = 1``, ``BUY = 2`` (return above
``up``); ``MISSING = -1`` where the return is undefined (the last ``h`` rows, a gap).
``class - 1`` is the position ``-1 / 0 / +1``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnnkit.timeseries.windows import Windows, whole_count

SELL, HOLD, BUY, MISSING = 0, 1, 2, -1
CLASS_NAMES = ("sell", "hold", "buy")
RETURN_KINDS = ("price", "return", "log_return")


def classify_returns(returns: np.ndarray, up: float = 0.01, down: float = -0.01) -> np.ndarray:
    """Classes of returns: BUY above ``up``, SELL below ``down``, else HOLD; NaN is MISSING.

    Example:
        >>> classify_returns(np.array([0.02, 0.0, -0.03, np.nan])).tolist()
        [2, 1, 0, -1]
    """
    if not (np.isfinite(up) and np.isfinite(down)):  # NaN compared false: no BUY (or SELL)
        raise ValueError(f"the thresholds must be finite numbers; got up={up!r}, "
                         f"down={down!r}")
    if down > up:
        raise ValueError(f"the down threshold {down} must not be above the up threshold {up}")
    values = np.asarray(returns, dtype=float)
    classes = np.full(values.shape, HOLD, dtype=int)
    classes[values > up] = BUY
    classes[values < down] = SELL
    classes[np.isnan(values)] = MISSING
    return classes


def future_returns(prices: pd.Series, horizon: int = 1) -> pd.Series:
    """``p[t + horizon] / p[t] - 1`` at each ``t``: FUTURE data, for targets only.

    Example:
        >>> future_returns(pd.Series([100.0, 110.0, 121.0]), 1).round(3).tolist()
        [0.1, 0.1, nan]
    """
    steps = whole_count(horizon)
    if steps is None:
        raise ValueError(f"horizon must be a whole number of rows >= 1, not {horizon!r}")
    return prices.shift(-steps) / prices - 1.0


def buy_sell_hold(prices: pd.Series, horizon: int = 1, up: float = 0.01,
                  down: float = -0.01) -> pd.Series:
    """The class of each row's future return over ``horizon`` (targets only; MISSING at the end).

    Example:
        >>> buy_sell_hold(pd.Series([100.0, 102.0, 101.5, 99.0]), 1).tolist()
        [2, 1, 0, -1]
    """
    returns = future_returns(prices, horizon)
    return pd.Series(classify_returns(returns.to_numpy(), up, down), index=prices.index,
                     name="label")


def window_returns(windows: Windows, kind: str = "price") -> np.ndarray:
    """``[N]`` the return from each window's origin to its last target (``H`` steps): future.

    ``kind`` says what the target column holds: ``price`` (return ``y[t+H] / y[t] - 1``),
    ``return`` (simple returns, compounded) or ``log_return`` (summed, then made simple).
    """
    targets = windows.targets
    if kind == "price":
        return targets[:, -1] / windows.current - 1.0
    return compound_returns(targets, kind)


def window_labels(windows: Windows, up: float = 0.01, down: float = -0.01,
                  kind: str = "price") -> np.ndarray:
    """``[N]`` buy/sell/hold labels of windows, from :func:`window_returns` (targets only)."""
    return classify_returns(window_returns(windows, kind), up, down)


def past_returns(windows: Windows, kind: str = "price") -> np.ndarray:
    """``[N]`` the return over the ``H`` steps up to each origin: known at the origin.

    Raises:
        ValueError: a lookback too short to hold those ``H`` steps.
    """
    needed = past_return_rows(windows.horizon, kind)
    if windows.lookback < needed:
        raise ValueError(f"the past {windows.horizon}-step return of a {kind} target needs a "
                         f"lookback of at least {needed}, not {windows.lookback}")
    history = windows.target_history
    if kind == "price":
        return history[:, -1] / history[:, -1 - windows.horizon] - 1.0
    return compound_returns(history[:, -windows.horizon:], kind)


def past_return_rows(horizon: int, kind: str) -> int:
    """The lookback :func:`past_returns` needs: ``H + 1`` prices, or ``H`` returns.

    Example:
        >>> past_return_rows(5, "price"), past_return_rows(5, "log_return")
        (6, 5)
    """
    return horizon + (1 if kind == "price" else 0)


def compound_returns(returns: np.ndarray, kind: str) -> np.ndarray:
    """``[N]`` the simple return over ``[N, H]`` consecutive ``return`` or ``log_return``
    steps (compounded, or summed then made simple).

    A total within the rounding error of compounding several steps is 0: a price back where
    it was (100 -> 102.74 -> 95.4 -> 100) has no return, where the arithmetic leaves about
    1e-16 whose sign would count as a move (the persistence forecast's direction and its
    position at threshold 0, a label with thresholds at 0). One step is kept as it is.
    """
    if kind == "return":
        total = np.prod(1.0 + returns, axis=1) - 1.0
    elif kind == "log_return":
        total = np.expm1(returns.sum(axis=1))
    else:
        raise ValueError(f"kind must be one of {', '.join(RETURN_KINDS)}, not {kind!r}")
    steps = returns.shape[1]
    if steps < 2:
        return total
    # each step's return carries about one ulp of its price ratio, each sum or product one more
    rounding = 4 * steps * np.finfo(float).eps * (1.0 + np.abs(returns).sum(axis=1))
    return np.where(np.abs(total) <= rounding, 0.0, total)
