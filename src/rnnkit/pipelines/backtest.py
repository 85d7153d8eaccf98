"""Backtest a saved model: its predictions turned into positions, after costs, beside
buy-and-hold and the same strategy driven by the persistence forecast.

A forecaster's positions come from the return it predicts over its horizon (a threshold
strategy); a buy/sell/hold classifier's from its classes. The windows are the model's own
test period (after its validation period) unless a start and end date are given. Positions are
decided at each window's origin and earn the next row's return
(:mod:`rnnkit.trading.backtest`). ``POSITIONS`` maps a bundle kind to the function that turns
it into positions, so other kinds of model (an RL agent) can join.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.models.signal import target_kind
from rnnkit.pipelines.run import drawing, write_results
from rnnkit.pipelines.saved_source import model_test_period, prepare_for
from rnnkit.pipelines.source_config import registry_name
from rnnkit.pipelines.sources import same_source
from rnnkit.plural import plural
from rnnkit.timeseries.baselines import persistence_return, persistence_signal
from rnnkit.timeseries.labels import past_return_rows
from rnnkit.timeseries.splits import period_end
from rnnkit.timeseries.windows import Windows, decision_span, make_windows
from rnnkit.trading.backtest import BacktestResult, report_table
from rnnkit.trading.returns import (
    check_tradable,
    day_text,
    equity_times,
    forecast_returns,
    run_strategies,
)
from rnnkit.trading.strategies import (
    TRADING_KEYS,
    check_costs,
    class_positions,
    threshold_positions,
)
from rnnkit.training.bundle import load_bundle
from rnnkit.training.task import TaskModel


@dataclass(frozen=True)
class BacktestOptions:
    mode: str = "long_flat"  # long_flat | long_short
    threshold: float = 0.0  # forecaster: act when |predicted return| is above this
    cost_bps: float = 5.0
    slippage_bps: float = 5.0
    start: str = ""  # first decision date ("" = the model's test period)
    end: str = ""  # last decision date
    source: str = ""  # another source than the one the model was trained on
    date_column: str = ""  # that source's date column ("" = the model's data.date_column)
    mirror: str = ""  # a local dataset mirror for a registry source (--data-dir)


Positions = Callable[[TaskModel, Windows, BacktestOptions], dict[str, np.ndarray]]
POSITIONS: dict[str, Positions] = {}


def returns_kind(model: Any) -> str:
    """What the model's target holds: the kind it was trained with (a signal bundle keeps it),
    else read from the target's name."""
    return str(getattr(model, "return_kind", "") or target_kind(model.target))


def _forecaster_positions(model: Any, windows: Windows, options: BacktestOptions
                          ) -> dict[str, np.ndarray]:
    kind = returns_kind(model)
    predicted = forecast_returns(model.predict_windows(windows)["mean"], windows, kind)
    past = persistence_return(reaching_back(windows, past_return_rows(windows.horizon, kind)),
                              kind)
    return {"model": threshold_positions(predicted, options.threshold, options.mode),
            "persistence": threshold_positions(past, options.threshold, options.mode)}


def reaching_back(windows: Windows, rows: int) -> Windows:
    """The windows with a lookback of at least ``rows``: the persistence return reads the past
    ``H``-step return (``H + 1`` prices), which a model's shorter lookback need not hold; the
    rows before a window are the frame's own."""
    if windows.lookback >= rows:
        return windows
    if windows.origins[0] < rows - 1:  # the first windows of the frame: no rows before them
        raise ValueError(f"the persistence baseline reads {rows} rows of the target up to "
                         "each decision, and the first, "
                         f"{day_text(windows.input_end[0])}, has {windows.origins[0] + 1}; "
                         "choose a later --start")
    return replace(windows, lookback=rows)


def _signal_positions(model: Any, windows: Windows, options: BacktestOptions
                      ) -> dict[str, np.ndarray]:
    classes = model.predict_windows(windows).argmax(axis=1)
    past = persistence_signal(windows, model.up, model.down, model.return_kind)
    return {"model": class_positions(classes, options.mode),
            "persistence": class_positions(past, options.mode)}


def _agent_positions(model: Any, windows: Windows, options: BacktestOptions
                     ) -> dict[str, np.ndarray]:
    """A DQN agent's greedy policy over the windows in order (its position fed back), and a
    random agent trading the same days, drawn with the training run's seed, as the run's own
    random agent was (0 for a bundle that does not keep it)."""
    if options.mode != model.mode:
        raise ValueError(f"the agent was trained to trade {model.mode}; backtest it with "
                         f"--mode {model.mode}")
    from rnnkit.rl.env import random_positions

    return {"model": model.greedy_actions(windows)[1],
            "random": random_positions(len(windows), options.mode,
                                       seed=int(model.trained_on.get("seed", 0)))}


POSITIONS.update(forecaster=_forecaster_positions, signal=_signal_positions,
                 dqn=_agent_positions)


def backtest_windows(model: Any, options: BacktestOptions) -> tuple[Windows, str, Any]:
    """The windows the model is backtested on (its features, its source or another); by
    default its test period (up to its ``test_end`` if it was trained with one). With them, a
    warning when decisions on the model's own data fall before its test period ("" if none),
    and that period's first decision day then (None: none, or no test period in the data)."""
    prepared = prepare_for(model, options.source, options.date_column, options.mirror)
    test = prepared.split.test
    if not (options.start or options.end):
        return model_test_period(model, prepared.split).test, "", None
    windows = make_windows(prepared.frame, prepared.target, model.feature_names,
                           model.lookback, model.horizon)
    times = windows.input_end
    keep = np.ones(len(windows), dtype=bool)
    if options.start:
        keep &= times >= np.datetime64(pd.Timestamp(options.start))
    if options.end:
        keep &= times <= period_end(options.end)  # "2009": to the end of 2009
    if not keep.any():
        raise ValueError(f"no decision dates between {options.start or 'the start'} and "
                         f"{options.end or 'the end'}; the decision dates run from "
                         f"{day_text(windows.input_end[0])} to {day_text(windows.input_end[-1])}"
                         f" (a decision reads the {plural(model.lookback, 'row')} up to it and "
                         f"is scored {plural(model.horizon, 'row')} after it, so the data's "
                         "first and last rows are none)")
    chosen = windows.subset(keep)
    seen = (chosen.input_end < test.input_end[0]).sum() if len(test) else len(chosen)
    if not seen or (options.source and not same_source(options.source,
                                                       model.trained_on.get("source", ""))):
        return chosen, "", None  # another series: no day of it was trained on
    first = test.input_end[0] if len(test) else None
    start = day_text(first) if first is not None else "after the data"
    return chosen, (f"{seen} of the {len(chosen)} decision days lie before the model's test "
                    f"period (from {start}): it trained or was selected on them, so these "
                    "numbers are in-sample, not a test"), first


def check_not_weather(trained_on: str, target: str, data: str) -> None:
    """Refuse a backtest of a weather series (``beijing``, ``seattle``), the model's own or
    ``--data``: its target was read as a price, and a Seattle ``temp_max`` model traded
    temperatures, reporting a 231% volatility."""
    trades = ("rnnkit backtest trades a price or its returns (a stock symbol such as AAPL, or a "
              "CSV of prices: --data FILE with a model trained on that file)")
    if registry_name(trained_on) is not None:
        raise ValueError(f"{trained_on}'s {target!r} is weather, not a price: {trades}")
    if registry_name(data) is not None:
        raise ValueError(f"--data {data} is a weather series, not prices: {trades}")


def backtest_bundle(path: str | Path, options: BacktestOptions,
                    out_dir: str | Path | None = None,
                    chosen: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Backtest the bundle at ``path``; with ``out_dir`` write ``backtest.json`` and plots.

    ``chosen`` sets ``mode``, ``threshold``, ``cost_bps``, ``slippage_bps``; those it leaves
    out are the model's training run's (kept in its bundle), else ``options``'."""
    model: Any = load_bundle(path)
    kind = str(getattr(model, "kind", ""))
    positions_of = POSITIONS.get(kind)
    if positions_of is None:
        raise ValueError(f"rnnkit backtest handles {', '.join(sorted(POSITIONS))} bundles, "
                         f"not {kind!r}")
    trained = dict(model.trained_on.get("trading") or {})
    if kind == "dqn":
        trained["mode"] = model.mode
    if kind != "forecaster" and "threshold" in (chosen or {}):
        raise ValueError(f"--threshold is read for forecaster bundles only; a {kind} bundle "
                         "trades its classes (leave --threshold out)")
    options = replace(options, **{key: value for key, value in {**trained, **(chosen or {})}
                                  .items() if key in TRADING_KEYS})
    check_costs(options.cost_bps, options.slippage_bps, "the costs (--cost-bps and "
                "--slippage-bps, else the model's training run's)")
    check_not_weather(str(model.trained_on.get("source", "")), model.target, options.source)
    windows, in_sample, test_start = backtest_windows(model, options)
    returns = returns_kind(model)
    check_tradable(windows, returns)
    positions = positions_of(model, windows, options)
    results = run_strategies(positions, windows, returns, options.cost_bps,
                             options.slippage_bps)
    summary = {"model": str(path), "target": model.target, "options": asdict(options),
               **decision_span(windows),
               "in_sample": in_sample,
               "reports": {name: result.report.as_dict() for name, result in results.items()},
               "table": report_table(results)}
    if out_dir is not None:
        write_backtest(results, windows, Path(out_dir), summary, test_start)
    return summary


def write_backtest(results: dict[str, BacktestResult], windows: Windows, out: Path,
                   summary: dict[str, Any], test_start: Any = None) -> None:
    """``equity.png``, ``drawdown.png`` and ``backtest.json``; decisions on days the model
    trained or was selected on (``summary["in_sample"]``) are said so on both plots, which
    mark the day its test period starts (``test_start``)."""
    out.mkdir(parents=True, exist_ok=True)
    note = ""
    if summary["in_sample"]:
        note = (f" (in-sample before {day_text(test_start)})" if test_start is not None
                else " (in-sample)")
    plot_backtests(results, out, windows, f"{summary['target']}: equity after costs{note}",
                   f"{summary['target']}: drawdown{note}", test_start)
    write_results(summary, out / "backtest.json")


def plot_backtests(results: Mapping[str, BacktestResult], out: Path, windows: Windows,
                   title: str, drawdown_title: str = "drawdown", test_start: Any = None) -> None:
    """``equity.png`` and ``drawdown.png`` in ``out``: one curve per strategy, starting at 1
    on the first decision day; each later point on the day its return is earned (the row
    after its decision). ``test_start``: a dashed line where the model's test period starts
    (the days before it in-sample)."""
    from rnnkit.viz.timeseries import plot_drawdown, plot_equity

    times = equity_times(windows)
    equity = {name: np.r_[1.0, result.equity] for name, result in results.items()}
    mark = None if test_start is None else (test_start, "test period starts")
    with drawing(out / "equity.png"):
        plot_equity(equity, out / "equity.png", times=times, title=title, mark=mark)
    with drawing(out / "drawdown.png"):
        plot_drawdown(equity, out / "drawdown.png", times=times, title=drawdown_title, mark=mark)
