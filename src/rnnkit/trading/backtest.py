"""A vectorised backtester with transaction costs and slippage, and its comparisons.

Timing: ``positions[t]`` is decided at time ``t`` from what is known at ``t`` and is held
over the NEXT period, earning ``next_returns[t]``, the asset's simple return from ``t`` to
``t + 1``. Both arrays are indexed by decision time; the caller never shifts anything.

Costs: moving from ``positions[t-1]`` to ``positions[t]`` (flat before the first period)
trades ``|positions[t] - positions[t-1]|`` units of equity, and costs
``(cost_bps + slippage_bps) / 10,000`` per unit, taken from that period's return. The last
position is not closed at the end.

Ruin: a period whose net return is -100% or worse (a short whose asset more than doubled, or
costs beyond the equity) ends the run: equity stays at 0, and later positions, trades, costs
and returns are 0 (they count in no turnover, trade or hit rate), so the maximum drawdown is
at most 100% and the total return at least -100%.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from rnnkit.trading.strategies import check_cost_values


@dataclass(frozen=True)
class BacktestReport:
    """The summary of one backtest.

    Attributes:
        total_return: final equity / initial equity - 1.
        annualized_return: compounded: ``equity ** (periods_per_year / periods) - 1``
            (inf where that is beyond a float).
        annualized_volatility: sample standard deviation (``ddof=1``) of net period returns *
            sqrt(periods/year).
        sharpe: mean / standard deviation of net period returns * sqrt(periods/year), with a
            zero risk-free rate; NaN for a strategy whose returns never vary.
        max_drawdown: the largest fall from a peak of equity, as a positive fraction.
        turnover: mean ``|change of position|`` per period.
        hit_rate: share of periods in the market (position not 0) that made money before
            costs; NaN if never in the market.
        trades: periods in which the position changed.
        periods: number of periods.
    """

    total_return: float
    annualized_return: float
    annualized_volatility: float
    sharpe: float
    max_drawdown: float
    turnover: float
    hit_rate: float
    trades: int
    periods: int

    def as_dict(self) -> dict[str, float]:
        """The fields as a plain dict (for JSON)."""
        return {name: float(value) for name, value in asdict(self).items()}


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """Per-period arrays (``[N]``, indexed by decision time) and the report."""

    positions: np.ndarray
    gross_returns: np.ndarray
    costs: np.ndarray
    net_returns: np.ndarray
    equity: np.ndarray
    drawdown: np.ndarray
    report: BacktestReport


def backtest(positions: np.ndarray, next_returns: np.ndarray, *, cost_bps: float = 0.0,
             slippage_bps: float = 0.0, periods_per_year: float = 252) -> BacktestResult:
    """Run positions against the next period's returns (see the module docstring for timing).

    Args:
        positions: ``[N]`` the position decided at each time.
        next_returns: ``[N]`` the asset's simple return over the period after each decision.
        cost_bps, slippage_bps: basis points per unit of turnover (charged together).
        periods_per_year: 252 for daily trading days, ``24 * 365`` for hours.

    Example:
        >>> result = backtest(np.array([1.0, 1.0]), np.array([0.10, -0.10]), cost_bps=10)
        >>> result.equity.round(6).tolist(), result.report.trades
        ([1.099, 0.9891], 1)
    """
    positions = np.asarray(positions, dtype=float)
    returns = np.asarray(next_returns, dtype=float)
    if positions.shape != returns.shape or positions.ndim != 1 or not len(positions):
        raise ValueError(f"positions {positions.shape} and next_returns {returns.shape} must "
                         "be equal, non-empty 1-D arrays, both indexed by decision time")
    for name, values in (("positions", positions), ("next_returns", returns)):
        if not np.isfinite(values).all():
            bad = int(np.flatnonzero(~np.isfinite(values))[0])
            raise ValueError(f"{name} holds {values[bad]} at {bad}; drop periods without a "
                             "return or position")
    check_cost_values(cost_bps, slippage_bps)
    if not (np.isfinite(periods_per_year) and periods_per_year > 0):
        raise ValueError(f"periods_per_year must be a finite number > 0; got {periods_per_year}")
    traded = np.abs(np.diff(positions, prepend=0.0))
    costs = traded * (cost_bps + slippage_bps) / 10_000.0
    gross = positions * returns
    net = gross - costs
    ruined = np.flatnonzero(net <= -1.0)
    if len(ruined):  # equity gone: nothing is left to trade, and a product of negative
        net[ruined[0]] = -1.0  # factors would flip back above 0 (a short gaining on a loss)
        after = slice(ruined[0] + 1, None)  # no position, trade or cost after the ruin
        positions = positions.copy()  # the caller's array stays as it was
        for values in (positions, traded, costs, gross, net):
            values[after] = 0.0
    equity = np.cumprod(1.0 + net)
    peaks = np.maximum.accumulate(np.maximum(equity, 1.0))
    drawdown = equity / peaks - 1.0
    count = len(net)
    if count < 2:
        spread = float("nan")
    else:  # returns that never vary but for rounding (a price rising 1% a period, its returns
        spread = float(np.std(net, ddof=1))  # p[t+1] / p[t] - 1 a few 1e-16 apart) have a
        if spread <= 1e-12 * float(np.abs(net).max()):  # spread of 1e-17 and no Sharpe of
            spread = 0.0  # 1e15: their spread is 0
    final = float(equity[-1])
    in_market = positions != 0
    report = BacktestReport(
        total_return=final - 1.0,
        annualized_return=_annualized(final, periods_per_year / count),
        annualized_volatility=spread * np.sqrt(periods_per_year),
        sharpe=(float(np.mean(net)) / spread * np.sqrt(periods_per_year)
                if spread > 0 else float("nan")),
        max_drawdown=max(0.0, float(-drawdown.min())),
        turnover=float(traded.mean()),
        hit_rate=float(np.mean(gross[in_market] > 0)) if in_market.any() else float("nan"),
        trades=int((traded > 0).sum()),
        periods=count,
    )
    return BacktestResult(positions, gross, costs, net, equity, drawdown, report)


def _annualized(final: float, exponent: float) -> float:
    """``final ** exponent - 1`` (-1 for equity at or below 0); infinite where a short run's
    gain compounded over a year is beyond a float (hourly bars gaining 8.5% an hour)."""
    if final <= 0:
        return -1.0
    with np.errstate(over="ignore"):
        return float(np.float64(final) ** exponent) - 1.0


def buy_and_hold(next_returns: np.ndarray, **options: float) -> BacktestResult:
    """Long one unit throughout (one trade, at the start); options as :func:`backtest`."""
    return backtest(np.ones(len(next_returns)), next_returns, **options)


def compare(positions: np.ndarray, next_returns: np.ndarray,
            persistence_positions: np.ndarray | None = None,
            **options: float) -> dict[str, BacktestResult]:
    """The strategy beside buy-and-hold and, if given, the same strategy driven by the
    persistence forecast, all on the same returns and costs.

    Returns:
        ``{"strategy": ..., "persistence": ..., "buy_and_hold": ...}`` (no ``persistence``
        without ``persistence_positions``).
    """
    results = {"strategy": backtest(positions, next_returns, **options)}
    if persistence_positions is not None:
        results["persistence"] = backtest(persistence_positions, next_returns, **options)
    results["buy_and_hold"] = buy_and_hold(next_returns, **options)
    return results


def report_table(results: Mapping[str, BacktestResult]) -> str:
    """A plain-text table, one row per strategy.

    Example:
        >>> returns = np.array([0.01, -0.02, 0.015, 0.005])
        >>> print(report_table({"hold": buy_and_hold(returns)}))
        strategy  total  annual  vol     sharpe  max_dd  turnover  hit     trades
        hold      0.97%  83.36%  24.68%  2.55    2.00%   0.250     75.00%  1
    """
    header = ("strategy", "total", "annual", "vol", "sharpe", "max_dd", "turnover", "hit",
              "trades")
    rows = [header]
    for name, result in results.items():
        r = result.report
        rows.append((name, _percent(r.total_return), _percent(r.annualized_return),
                     _percent(r.annualized_volatility), f"{r.sharpe:.2f}",
                     _percent(r.max_drawdown), f"{r.turnover:.3f}", _percent(r.hit_rate),
                     str(r.trades)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                     .rstrip() for row in rows)


def _percent(value: float) -> str:
    """``12.34%``; ``nan`` alone for a number that is not there (a hit rate never in the
    market, the volatility of one period), as the Sharpe ratio prints it; ``inf`` for an
    annual return beyond a float."""
    return f"{value:.2%}" if np.isfinite(value) else "nan" if np.isnan(value) else f"{value}"
