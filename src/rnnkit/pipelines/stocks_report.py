"""Score the walk-forward predictions of one stock and write its plots; the summary table.

Forecasts are scored as the price they imply ``H`` days ahead against persistence (the price
now: a random walk), and as returns against the zero return and ridge; directional accuracy
is the share of days whose sign of return was predicted right (a day without a move left
out), beside the share a forecast of "up" on every day gets (``always_up``: a model that
learnt only the drift scores it, or ``1 - always_up`` for a falling price: only a direction
above the better of the two is skill; above 55% too, it raises the leak alarm). Classes are scored
by macro-F1 beside the majority class and the persistence signal, and the classifier's
probabilities by their calibration (the predicted class's probability against how often it is
right).
Strategies are backtested over the test years after costs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.pipelines.run import drawing
from rnnkit.pipelines.signal import classification_report
from rnnkit.pipelines.stocks_config import StocksRunConfig
from rnnkit.timeseries.baselines import persistence_return
from rnnkit.timeseries.labels import CLASS_NAMES, window_returns
from rnnkit.timeseries.metrics import directional_accuracy, forecast_report, ratio, rmse
from rnnkit.timeseries.windows import Windows, decision_span
from rnnkit.trading.backtest import BacktestResult, report_table
from rnnkit.trading.returns import forecast_returns, next_period_returns, run_strategies
from rnnkit.trading.strategies import class_positions, threshold_positions
from rnnkit.training.calibration import class_calibration

KIND = "log_return"
LEAK_ALARM = 0.55  # directional accuracy above this, and above what a forecast of up (or of
# down) on every day gets (the drift alone), is investigated before it is reported


def score_symbol(symbol: str, result: dict[str, Any], config: StocksRunConfig
                 ) -> tuple[dict[str, Any], dict[str, BacktestResult]]:
    windows = result["windows"]
    actual = window_returns(windows, KIND)  # simple return over the horizon
    predicted = {"model": forecast_returns(result["forecast"], windows, KIND),
                 "ridge": forecast_returns(result["ridge"], windows, KIND),
                 "persistence_return": persistence_return(windows, KIND),
                 "zero": np.zeros(len(windows))}
    price = result["price"]
    forecasts = {name: {"return_rmse": rmse(actual, guess)} for name, guess in predicted.items()}
    for name, report in price_reports(price, windows, predicted).items():
        forecasts.setdefault(name, {}).update(report)
    classes = {"model": result["probabilities"].argmax(axis=1),
               "majority": result["majority"], "persistence": result["persistence_signal"]}
    trading = config.trading
    positions = {
        "forecaster": threshold_positions(predicted["model"], trading.threshold, trading.mode),
        "signal": class_positions(classes["model"], trading.mode),
        "ridge": threshold_positions(predicted["ridge"], trading.threshold, trading.mode),
        "persistence_forecast": threshold_positions(predicted["persistence_return"],
                                                    trading.threshold, trading.mode),
        "persistence_signal": class_positions(classes["persistence"], trading.mode)}
    backtests = run_strategies(positions, windows, KIND, trading.cost_bps, trading.slippage_bps)
    direction = forecasts["model"]["directional_accuracy"]
    drift = constant_direction(forecasts["always_up"]["directional_accuracy"])
    scores = {
        "symbol": symbol, "test_days": len(windows),
        **decision_span(windows),
        "forecast": forecasts, "classification": classification_report(result["labels"],
                                                                       classes),
        "calibration": class_calibration(result["probabilities"], result["labels"]),
        "label_counts": np.bincount(result["labels"], minlength=3).tolist(),
        "backtest": {name: test.report.as_dict() for name, test in backtests.items()},
        "backtest_table": report_table(backtests), "folds": result["folds"],
        "leak_alarm": bool(direction > max(LEAK_ALARM, drift)),
    }
    return scores, backtests


def constant_direction(up_share: float) -> float:
    """The directional accuracy of the better constant forecast, up on every day or down on
    every day (``1 - up_share``: days without a move are left out of both): what a model that
    learnt the drift alone scores.

    Example:
        >>> constant_direction(0.589), constant_direction(0.35)
        (0.589, 0.65)
    """
    return max(up_share, 1.0 - up_share)


def predictions_table(result: dict[str, Any], backtests: dict[str, BacktestResult]
                      ) -> pd.DataFrame:
    """One row per test decision, every number the scores are made of: its fold (the year) and
    the folder of the models that decided it (``fold-2009`` for 2010 too when
    ``data.refit_every`` is 2), the price then
    and ``H`` days later, the next day's return (what a position earns), the returns the
    forecaster, ridge and persistence predict over the horizon, the class probabilities, the
    classes (model, label, majority, persistence signal) and each strategy's position."""
    windows = result["windows"]
    price = result["price"]
    counts = [fold["test"] for fold in result["folds"]]
    years = np.repeat([fold["year"] for fold in result["folds"]], counts)
    folders = np.repeat([fold["models"] for fold in result["folds"]], counts)
    names = np.array(CLASS_NAMES)
    table = pd.DataFrame({
        "decision": windows.input_end, "fold": years, "models": folders,
        "target_date": windows.target_times[:, -1],
        "price": price.reindex(windows.input_end).to_numpy(),
        "target_price": price.reindex(windows.target_times[:, -1]).to_numpy(),
        "next_return": next_period_returns(windows, KIND),
        "forecast_return": forecast_returns(result["forecast"], windows, KIND),
        "ridge_return": forecast_returns(result["ridge"], windows, KIND),
        "persistence_return": persistence_return(windows, KIND),
        **{f"p_{name}": result["probabilities"][:, k] for k, name in enumerate(CLASS_NAMES)},
        "signal": names[result["probabilities"].argmax(axis=1)],
        "label": names[result["labels"]], "majority": names[result["majority"]],
        "persistence_signal": names[result["persistence_signal"]]})
    for name, test in backtests.items():
        table[f"position_{name}"] = test.positions
    return table


def price_reports(price: pd.Series, windows: Windows, predicted: dict[str, np.ndarray],
                  season: int = 5, average: int = 20) -> dict[str, dict[str, float]]:
    """Every forecast metric of the price ``H`` days ahead implied by each predicted return,
    beside persistence (the price now), seasonal naive (the price ``season`` trading days
    before the target: same day last week) and the mean of the last ``average`` prices; MASE
    is scaled by the one-day naive error before the first test decision."""
    positions = price.index.get_indexer(windows.input_end)
    values = price.to_numpy()
    now, later = values[positions], values[positions + windows.horizon]
    earlier = positions + windows.horizon - season * int(np.ceil(windows.horizon / season))
    guesses = {name: now * (1 + guess) for name, guess in predicted.items() if name != "zero"}
    guesses |= {"persistence": now, f"seasonal_naive_{season}": values[earlier],
                f"moving_average_{average}": price.rolling(average).mean().to_numpy()[positions]}
    training = values[:positions[0] + 1]
    reports = {name: {f"price_{key}": value for key, value in forecast_report(
        later, guess, now, training, 1, now).items()} for name, guess in guesses.items()}
    for report in reports.values():
        report["price_rmse_ratio_to_persistence"] = ratio(report["price_rmse"],
                                                          reports["persistence"]["price_rmse"])
        report["directional_accuracy"] = report.pop("price_directional_accuracy")
    # the share of the same days that went up: a forecast of "up" every day (the drift alone)
    reports["always_up"] = {"directional_accuracy": directional_accuracy(later, now + 1.0, now)}
    return reports


def plot_symbol(symbol: str, result: dict[str, Any], scores: dict[str, Any],
                backtests: dict[str, BacktestResult], out: Path, days: int = 250) -> None:
    """``forecast.png`` (the last ``days`` test days' price, actual and implied by the
    model; its title says which days when they are not all), ``equity.png``, ``drawdown.png``
    and ``confusion.png``."""
    from rnnkit.pipelines.backtest import plot_backtests
    from rnnkit.trading.returns import span_text
    from rnnkit.viz.confusion import plot_confusion
    from rnnkit.viz.timeseries import plot_forecast

    windows = result["windows"]
    price = result["price"]
    rows = slice(max(0, len(windows) - days), None)
    now = price.reindex(windows.input_end[rows]).to_numpy()
    implied = now * (1 + forecast_returns(result["forecast"][rows], windows.subset(rows), KIND))
    targets = windows.target_times[rows, -1]
    later = price.reindex(targets).to_numpy()
    shown = len(later)  # the equity beside it covers every test year: say when this does not
    part = "test" if shown == len(windows) else f"the last {shown} of {len(windows)} test days"
    with drawing(out / "forecast.png"):
        plot_forecast(later, {"model": implied, "persistence": now}, out / "forecast.png",
                      times=targets, unit="USD (adjusted)",
                      title=f"{symbol}: adjusted close {windows.horizon} day(s) ahead, {part} "
                            f"({span_text(targets[0], targets[-1])})")
    plot_backtests(backtests, out, windows,
                   f"{symbol}: equity after costs, walk-forward test years", f"{symbol}: drawdown")
    with drawing(out / "confusion.png"):
        plot_confusion(list(CLASS_NAMES), scores["classification"]["model"]["confusion"],
                       out / "confusion.png", title=f"{symbol}: buy/sell/hold (test years)")


def summary_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table: one row per symbol."""
    header = ("symbol", "test days", "price RMSE / persistence", "ridge", "direction acc.",
              "always up", "macro-F1 signal", "majority", "persistence signal", "forecaster Sharpe",
              "signal Sharpe", "buy&hold Sharpe", "forecaster total", "signal total",
              "buy&hold total")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        forecast, classes, tests = row["forecast"], row["classification"], row["backtest"]
        cells = [row["symbol"], str(row["test_days"]),
                 f"{forecast['model']['price_rmse_ratio_to_persistence']:.4f}",
                 f"{forecast['ridge']['price_rmse_ratio_to_persistence']:.4f}",
                 f"{forecast['model']['directional_accuracy']:.1%}",
                 f"{forecast['always_up']['directional_accuracy']:.1%}",
                 f"{classes['model']['macro_f1']:.3f}", f"{classes['majority']['macro_f1']:.3f}",
                 f"{classes['persistence']['macro_f1']:.3f}",
                 f"{tests['forecaster']['sharpe']:.2f}", f"{tests['signal']['sharpe']:.2f}",
                 f"{tests['buy_and_hold']['sharpe']:.2f}",
                 f"{tests['forecaster']['total_return']:.0%}",
                 f"{tests['signal']['total_return']:.0%}",
                 f"{tests['buy_and_hold']['total_return']:.0%}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
