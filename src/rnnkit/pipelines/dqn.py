"""A Deep Q-learning agent on one stock, beside the supervised models, in the same backtester.

Flow: the symbol's adjusted close (checked: no gaps, no zeros) -> windows of causal price
features (:func:`rnnkit.rl.prices.price_windows`) -> split by time: the training period (every
target up to ``data.train_end``; its latest ``val_fraction`` of windows for validation, as in
the stock pipeline) and the test period after it -> a scaler fitted on the fitting rows ->
for each seed: a DQN agent trained on the fitting period (the episode kept is the one that
earned most on validation), a random agent, and with ``run.supervised`` the stock pipeline's
forecaster and buy/sell/hold classifier trained on the same training period -> each one's
positions over the test period, backtested once after costs beside buy-and-hold -> mean and
spread over seeds (:mod:`rnnkit.pipelines.dqn_report`), ``results.json``, ``equity.png`` with
every curve, and a bundle per model and seed (``seed-<k>/dqn/model.rnnkit``, which
``rnnkit backtest`` reads). An agent that learnt nothing (Q-values beyond any reward, one
position on every test day: :mod:`rnnkit.rl.collapse`) is warned of after the table and in
``results.json`` (each run's ``warnings``). Each seed's outcome is saved as soon as it
finishes (:mod:`rnnkit.pipelines.dqn_seeds`): ``resume`` reads the finished seeds back and
trains the others. The settings and their checks: :mod:`rnnkit.pipelines.dqn_config`.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnkit.config import ConfigError, check_fraction, config_to_dict, save_config
from rnnkit.models.dqn_agent import DQNAgent
from rnnkit.pipelines.dqn_config import (
    DQNData,
    DQNRunConfig,
    DQNTrading,
    check_config,
    parse_seeds,
)
from rnnkit.pipelines.dqn_report import summarize, summary_table
from rnnkit.pipelines.dqn_seeds import OUTCOME, clear_outcome, load_outcome, save_outcome
from rnnkit.pipelines.run import RUN_FILES, check_resumable, clear_run, drawing, write_results
from rnnkit.pipelines.sources import ForecastDataConfig
from rnnkit.rl.collapse import collapse_warnings
from rnnkit.rl.dqn import train_dqn
from rnnkit.rl.dqn_checks import check_buffer_memory, check_updates
from rnnkit.rl.env import TradingEnv, random_positions
from rnnkit.rl.prices import listed_prices, price_windows
from rnnkit.timeseries.datasets import stock_prices
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.splits import period_end, split_by_time
from rnnkit.timeseries.windows import Windows, decision_span
from rnnkit.trading.returns import (
    equity_times,
    forecast_returns,
    next_period_returns,
    run_strategies,
)
from rnnkit.trading.strategies import class_positions, threshold_positions, trading_settings
from rnnkit.training.bundle import save_bundle
from rnnkit.training.checkpoint import seed_everything


@dataclass(frozen=True)
class Periods:
    """The windows of each period, and the scaler fitted on the fitting one."""

    train: Windows  # fitting + validation: what the supervised models get
    fitting: Windows
    validation: Windows
    test: Windows
    scaler: StandardScaler


def split_periods(windows: Windows, data: DQNData) -> Periods:
    """Training, validation and test windows (see the module docstring); no training reward
    lies after the first test decision (checked)."""
    from rnnkit.pipelines.stocks import split_validation

    split = split_by_time(windows, data.train_end)
    train, test = split.train, split.test
    if data.test_end:
        test = test.subset(test.input_end <= period_end(data.test_end))
    check_fraction(data.val_fraction, "data.val_fraction")  # as check_config, for API callers
    fitting, validation = split_validation(train, data.val_fraction)
    later = (f"move data.train_end ({data.train_end}) later or shorten data.lookback "
             f"({data.lookback})")
    hints = {"fitting": f"lower data.val_fraction ({data.val_fraction:g}), {later}",
             "validation": f"raise data.val_fraction ({data.val_fraction:g}), {later}",
             "test": f"move data.train_end ({data.train_end}) earlier"
                     + (f" or data.test_end ({data.test_end}) later" if data.test_end else "")}
    for name, part, least in (("fitting", fitting, 100), ("validation", validation, 20),
                              ("test", test, 20)):
        if len(part) < least:
            raise ValueError(f"{len(part)} {name} windows (at least {least} needed): "
                             f"{hints[name]}")
    if train.target_times[:, -1].max() > test.input_end.min():
        raise AssertionError("a training reward lies after the first test decision")
    scaler = StandardScaler(list(windows.feature_names)).fit(fitting.period_rows())
    return Periods(train, fitting, validation, test, scaler)


def make_env(windows: Windows, scaler: StandardScaler, trading: DQNTrading,
             after: Windows | None = None) -> TradingEnv:
    """The environment over ``windows``; ``after`` starts with the window that follows them
    (the state the last decision leads to, for the learner to bootstrap from)."""
    return TradingEnv(windows, next_period_returns(windows, "log_return"), scaler=scaler,
                      mode=trading.mode, cost_bps=trading.cost_bps,
                      slippage_bps=trading.slippage_bps, after=after)


def train_agent(periods: Periods, config: DQNRunConfig, seed: int, out: Path,
                log: Any = print, resume: bool = False) -> tuple[DQNAgent, dict[str, Any]]:
    """One seed's agent, trained on the fitting period, saved to ``out/model.rnnkit``; the
    state after each episode goes to ``out/last.pt``, which ``resume`` goes on from."""
    fitting = periods.fitting
    trained_on = {**asdict(ForecastDataConfig(  # so `rnnkit backtest` finds the same period
        source=config.data.symbol.upper(), lookback=fitting.lookback, horizon=1, calendar="",
        train_end=str(fitting.target_times[-1, -1]),
        val_end=str(periods.train.target_times[-1, -1]))), "test_end": config.data.test_end,
        "trading": trading_settings(config.trading), "seed": seed}  # the random agent's too
    seed_everything(seed)
    agent = DQNAgent(config.agent.network, config.model, fitting.feature_names,
                     fitting.target_name, fitting.lookback, periods.scaler, config.trading.mode,
                     trained_on)
    env = make_env(fitting, periods.scaler, config.trading, after=periods.validation)
    result = train_dqn(agent, env, config.agent,
                       make_env(periods.validation, periods.scaler, config.trading), seed, log,
                       out / "last.pt", resume)
    save_bundle(agent, out / "model.rnnkit")
    return agent, {"history": result.history, "best_episode": result.best_episode,
                   "updates": result.updates, "seconds": round(result.seconds, 1)}


def supervised_positions(periods: Periods, config: DQNRunConfig, seed: int, out: Path,
                         resume: bool = False) -> dict[str, np.ndarray]:
    """The stock pipeline's forecaster (threshold 0) and classifier, trained on the same
    training period with the seed, as test positions; their bundles keep ``data.test_end``,
    so ``rnnkit backtest`` trades them over the same test period as the agent. ``resume``:
    each goes on from its ``last.pt`` (a finished one is read back, not trained again)."""
    from rnnkit.pipelines.stocks import fit_fold
    from rnnkit.pipelines.stocks_config import StockData, StocksRunConfig, StockTrading

    defaults = StocksRunConfig()
    stocks = StocksRunConfig(
        data=StockData(symbols=config.data.symbol, lookback=config.data.lookback, horizon=1,
                       val_fraction=config.data.val_fraction),
        train=replace(defaults.train, seed=seed, threads=config.run.threads, progress=False),
        trading=StockTrading(mode=config.trading.mode, cost_bps=config.trading.cost_bps,
                             slippage_bps=config.trading.slippage_bps))
    forecaster, signal, _ = fit_fold(periods.train, stocks, out, lambda _: None, resume,
                                     test_end=config.data.test_end)
    test, mode = periods.test, config.trading.mode
    predicted = forecast_returns(forecaster.predict_windows(test)["mean"], test, "log_return")
    return {"forecaster": threshold_positions(predicted, 0.0, mode),
            "signal": class_positions(signal.predict_windows(test).argmax(axis=1), mode)}


def train_seed(periods: Periods, config: DQNRunConfig, seed: int, folder: Path,
               fitting: TradingEnv, resume: bool = False, log: Any = print
               ) -> tuple[dict[str, np.ndarray], dict[str, Any], list[str]]:
    """One seed: its agent, random agent and (``run.supervised``) supervised models' test
    positions, the agent's training record and the warnings about it (from the ``fitting``
    environment), saved to ``folder/outcome.pt`` once all are done. ``resume``: the agent
    goes on after its last finished episode, the supervised models from their ``last.pt``
    (a finished one is read back)."""
    agent, training = train_agent(periods, config, seed, folder / "dqn",
                                  lambda line: log(f"seed {seed} {line}"), resume)
    test = periods.test
    positions = {"dqn": agent.greedy_actions(test)[1],
                 "random": random_positions(len(test), config.trading.mode, seed)}
    if config.run.supervised:
        positions.update(supervised_positions(periods, config, seed, folder, resume))
    cautions = collapse_warnings(agent, fitting, config.agent, positions["dqn"])
    save_outcome(folder, seed, positions, training, cautions)
    (folder / "dqn" / "last.pt").unlink(missing_ok=True)  # the seed is done: its replay buffer
    return positions, training, cautions  # is not needed again


def clear_seeds(out: Path) -> None:
    """A fresh run: remove what an earlier run left in ``out`` (``results.json``,
    ``equity.png`` and each ``seed-<k>/``'s agent and supervised runs), so that no bundle or
    number of other settings (a seed this run does not train, the supervised models of a run
    with ``run.supervised``) lies beside this run's. Only the files rnnkit writes there are
    removed: a file of one's own stays, and so does its folder."""
    from rnnkit.pipelines.stocks import FOLD_RUNS  # the supervised runs of a seed

    for name in ("results.json", "equity.png"):
        (out / name).unlink(missing_ok=True)
    for folder in sorted(out.glob("seed-*")):
        clear_outcome(folder)  # a finished seed of the earlier run
        for name in ("dqn", *FOLD_RUNS):
            run = folder / name
            if run.is_dir():
                clear_run(run, (*RUN_FILES, "config.toml"))
                if not any(run.iterdir()):
                    run.rmdir()
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def run_dqn(config: DQNRunConfig, out_dir: str | Path, log: Any = print,
            resume: bool = False) -> dict[str, Any]:
    """Train and compare on one symbol (see the module docstring); writes ``results.json``
    and ``equity.png`` under ``out_dir`` and returns the results. ``out_dir`` is left as it
    was until every setting has passed its checks (the data's too), then an earlier run there
    is cleared (:func:`clear_seeds`). ``resume``: go on with the run in ``out_dir`` (the same
    settings): each finished seed is read back (:mod:`rnnkit.pipelines.dqn_seeds`), the others
    train, an interrupted one after its agent's last finished episode (its supervised models
    from their ``last.pt``), and the results are those of a run never stopped."""
    from rnnkit.viz.seed_equity import plot_seed_equity

    started = time.perf_counter()
    seeds = parse_seeds(config.run.seeds)
    check_config(config)
    if resume:  # a run of the same settings, before any data is read
        check_resumable(config, Path(out_dir))
    if config.run.threads > 0:
        torch.set_num_threads(config.run.threads)
    symbol = config.data.symbol.upper()
    prices = listed_prices(stock_prices([symbol], returns=False)[symbol])
    if prices.index[0] >= period_end(config.data.train_end):
        raise ConfigError(f"{symbol}'s prices start on {prices.index[0]:%Y-%m-%d}, after "
                          f"data.train_end {config.data.train_end}: move data.train_end (and "
                          f"data.test_end) into {symbol}'s history, which ends on "
                          f"{prices.index[-1]:%Y-%m-%d}")
    periods = split_periods(price_windows(prices, config.data.lookback), config.data)
    check_updates(config.agent, len(periods.fitting))
    check_buffer_memory(config.agent, (periods.fitting.lookback,
                                       len(periods.fitting.feature_names)))
    out = Path(out_dir)  # every check passed: an earlier run in the folder gives way
    if not resume:
        clear_seeds(out)
    out.mkdir(parents=True, exist_ok=True)
    save_config(config, out / "config.toml")
    test = periods.test
    log(f"{symbol}: fitting {_span(periods.fitting)} ({len(periods.fitting)} days), "
        f"validation {_span(periods.validation)}, test {_span(test)} ({len(test)} days)")
    runs: list[dict[str, Any]] = []
    curves: dict[str, list[np.ndarray]] = {}
    fitting = make_env(periods.fitting, periods.scaler, config.trading)  # collapse checks'
    strategies = ["dqn", "random", *(("forecaster", "signal") if config.run.supervised else ())]
    for seed in seeds:
        folder = out / f"seed-{seed}"
        finished = load_outcome(folder, seed, strategies, len(test)) if resume else None
        if finished is not None:
            log(f"seed {seed}: finished in an earlier run, read back from {folder / OUTCOME}")
            positions, training, cautions = finished
        else:
            positions, training, cautions = train_seed(periods, config, seed, folder, fitting,
                                                       resume, log)
        results = run_strategies(positions, test, "log_return", config.trading.cost_bps,
                                 config.trading.slippage_bps)
        for name, result in results.items():
            if name != "buy_and_hold" or not curves.get(name):
                curves.setdefault(name, []).append(np.r_[1.0, result.equity])
        runs.append({"seed": seed, "dqn_training": training,
                     "reports": {name: r.report.as_dict() for name, r in results.items()},
                     "warnings": cautions})
        log(f"seed {seed}: " + ", ".join(f"{name} {r.report.total_return:+.1%}"
                                         for name, r in results.items()))
    reports = [run["reports"] for run in runs]
    summary = summarize(reports)  # rounded for results.json; the table from every digit
    table = summary_table(summarize(reports, digits=None))
    results_json = {
        "symbol": symbol, "seeds": seeds, "settings": config_to_dict(config),
        "periods": {name: {**decision_span(part), "days": len(part)}
                    for name, part in (("fitting", periods.fitting),
                                       ("validation", periods.validation), ("test", test))},
        "summary": summary, "table": table, "runs": runs,
        "seconds": round(time.perf_counter() - started, 1)}
    write_results(results_json, out / "results.json")
    with drawing(out / "equity.png"):
        plot_seed_equity(curves, out / "equity.png", times=equity_times(test),
                         title=f"{symbol}: equity after {config.trading.cost_bps:g} + "
                               f"{config.trading.slippage_bps:g} bps, test period")
    results_json["curves"] = curves  # for callers that plot several symbols; not in the file
    results_json["times"] = equity_times(test)
    log(table)
    for run in runs:  # after the table, where they are read with it
        for text in run["warnings"]:
            warnings.warn(f"seed {run['seed']}: {text}", stacklevel=2)
    return results_json


def _span(windows: Windows) -> str:
    return f"{str(windows.input_end[0])[:10]} to {str(windows.input_end[-1])[:10]}"
