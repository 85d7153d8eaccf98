"""Trading on forecasts: strategies that turn predictions into positions, and the backtester."""

from rnnkit.trading.backtest import (
    BacktestReport,
    BacktestResult,
    backtest,
    buy_and_hold,
    compare,
    report_table,
)
from rnnkit.trading.strategies import class_positions, size_by_confidence, threshold_positions

__all__ = [
    "BacktestReport",
    "BacktestResult",
    "backtest",
    "buy_and_hold",
    "class_positions",
    "compare",
    "report_table",
    "size_by_confidence",
    "threshold_positions",
]
