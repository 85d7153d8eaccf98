"""Returns that strategies and backtests need from windows and model outputs.

:func:`next_period_returns` is FUTURE data (what a position decided at the origin earns over the
next row): for the backtester only, never an input. :func:`forecast_returns` turns a
forecaster's ``[N, H]`` output into the return it predicts over its horizon, known at the
origin.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rnnkit.timeseries.labels import compound_returns
from rnnkit.timeseries.windows import Windows
from rnnkit.trading.backtest import BacktestResult, backtest, buy_and_hold


def next_period_returns(windows: Windows, kind: str) -> np.ndarray:
    """``[N]`` the asset's simple return from each origin's row to the next row (future).

    ``kind`` says what the target holds: ``price``, ``return`` or ``log_return``.

    Example:
        >>> import pandas as pd
        >>> from rnnkit.timeseries.windows import make_windows
        >>> frame = pd.DataFrame({"p": [100.0, 110.0, 99.0, 99.0]},
        ...                      index=pd.date_range("2020-01-01", periods=4))
        >>> next_period_returns(make_windows(frame, "p", lookback=1), "price").round(3).tolist()
        [0.1, -0.1, 0.0]
    """
    following = windows.targets[:, :1]  # [N, 1] the target at origin + 1
    if kind == "price":
        return following[:, 0] / windows.current - 1.0
    return compound_returns(following, kind)


def forecast_returns(mean: np.ndarray, windows: Windows, kind: str) -> np.ndarray:
    """``[N]`` the simple return over the horizon that ``[N, H]`` forecasts of the target
    predict, from each origin (known at the origin)."""
    mean = np.asarray(mean, dtype=float)
    if kind == "price":
        return mean[:, -1] / windows.current - 1.0
    return compound_returns(mean, kind)


def run_strategies(positions: Mapping[str, np.ndarray], next_returns: np.ndarray,
                   cost_bps: float, slippage_bps: float, periods_per_year: float = 252
                   ) -> dict[str, BacktestResult]:
    """Backtest every named position series on the same returns and costs, and buy-and-hold."""
    options = {"cost_bps": cost_bps, "slippage_bps": slippage_bps,
               "periods_per_year": periods_per_year}
    results = {name: backtest(held, next_returns, **options) for name, held in positions.items()}
    results["buy_and_hold"] = buy_and_hold(next_returns, **options)
    return results
