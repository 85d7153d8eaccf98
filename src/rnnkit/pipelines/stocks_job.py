"""``rnnkit stocks``: the walk-forward stock pipeline for one or more symbols, end to end.

Train (a forecaster and a buy/sell/hold classifier per walk-forward year), forecast, classify,
backtest, then write per symbol ``results.json``, ``predictions.csv`` (one row per test
decision: every number the scores are made of) and the plots, and for the run
``summary.md`` (one row per symbol) and ``summary.json``. Every refit fold's bundles stay in
``<out>/<SYMBOL>/fold-<year>/{forecaster,signal}/model.rnnkit`` for ``rnnkit forecast``,
``rnnkit evaluate`` and ``rnnkit backtest``. Settings, symbols and each symbol's folds are
checked before anything trains.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rnnkit.config import save_config
from rnnkit.pipelines.run import RUN_FILES, check_resumable, clear_run, write_results
from rnnkit.pipelines.stocks import FOLD_RUNS, symbol_folds, walk_forward_symbol
from rnnkit.pipelines.stocks_config import StocksRunConfig, check_config
from rnnkit.pipelines.stocks_report import (
    LEAK_ALARM,
    constant_direction,
    plot_symbol,
    predictions_table,
    score_symbol,
    summary_table,
)
from rnnkit.timeseries.datasets import STOCK_SYMBOLS
from rnnkit.training.checkpoint import atomic_write_text

FILE_SUFFIXES = (".csv", ".tsv", ".gz", ".parquet", ".txt")


def symbol_list(text: str) -> list[str]:
    """The comma-separated symbols of ``text``, upper-cased, each once in the order given."""
    return list(dict.fromkeys(name.strip().upper() for name in text.split(",") if name.strip()))


def stock_symbols(config: StocksRunConfig) -> list[str]:
    """The symbols of ``data.symbols``, each once in the order given; unknown ones refused."""
    symbols = symbol_list(config.data.symbols)
    unknown = [name for name in symbols if name not in STOCK_SYMBOLS]
    if not symbols:
        raise ValueError(f"data.symbols names no symbol; give one or more of "
                         f"{', '.join(STOCK_SYMBOLS)}, comma-separated")
    files = [name.strip() for name in config.data.symbols.split(",")
             if "/" in name or Path(name.strip()).suffix.lower() in FILE_SUFFIXES]
    if files:  # was "unknown ['/HOME/ME/PRICES.CSV']": the path upper-cased as a symbol
        raise ValueError(f"data.symbols names the file {files[0]}, but rnnkit stocks reads "
                         f"only the built-in daily prices of {', '.join(STOCK_SYMBOLS)}; for "
                         "prices of your own, use rnnkit train forecaster or rnnkit train "
                         "signal with --set data.source=FILE")
    if unknown:
        raise ValueError(f"data.symbols: unknown {unknown}; choose from "
                         f"{', '.join(STOCK_SYMBOLS)}")
    return symbols


def check_run(config: StocksRunConfig) -> None:
    """The settings checked before any data is read (also by ``--print-config``)."""
    stock_symbols(config)
    check_config(config)


def clear_folds(folder: Path) -> None:
    """A fresh run: remove the fold runs an earlier run left in a symbol's ``folder``, so that
    a later ``--resume`` of this run never reads one back as its own (a fold it had not
    reached yet) and no bundle of other settings is left beside this run's. Only the runs
    rnnkit trains in a fold (:data:`~rnnkit.pipelines.stocks.FOLD_RUNS`) are cleared, and only
    the files it writes there: a folder of one's own in ``fold-YEAR/`` stays as it is."""
    for fold in sorted(folder.glob("fold-*")):
        for name in FOLD_RUNS:
            run = fold / name
            if (run / "config.toml").is_file():
                clear_run(run, (*RUN_FILES, "config.toml"))
                if not any(run.iterdir()):
                    run.rmdir()
        if fold.is_dir() and not any(fold.iterdir()):
            fold.rmdir()


def run_stocks(config: StocksRunConfig, out_dir: str | Path, log: Any = print,
               resume: bool = False) -> dict[str, Any]:
    """Run every configured symbol; return ``{"symbols": [scores...], "table": markdown}``.
    ``resume``: each fold's models continue from their ``last.pt`` (a finished fold is read
    back, an interrupted one goes on, one never started trains)."""
    symbols = stock_symbols(config)
    check_config(config)
    cuts = {symbol: symbol_folds(symbol, config)  # every symbol's folds, checked before
            for symbol in symbols}  # any of them trains
    out = Path(out_dir)
    if resume:
        check_resumable(config, out)
    else:
        for symbol in symbols:
            clear_folds(out / symbol)
    out.mkdir(parents=True, exist_ok=True)
    save_config(config, out / "config.toml")
    started = time.perf_counter()
    rows = []
    for symbol in symbols:
        folder = out / symbol
        result = walk_forward_symbol(symbol, config, folder, log, resume, cuts[symbol])
        scores, backtests = score_symbol(symbol, result, config)
        plot_symbol(symbol, result, scores, backtests, folder)
        write_results(scores, folder / "results.json")
        atomic_write_text(folder / "predictions.csv",
                          predictions_table(result, backtests).to_csv(index=False))
        model = scores["forecast"]["model"]
        direction = model["directional_accuracy"]
        up = scores["forecast"]["always_up"]["directional_accuracy"]
        log(f"{symbol}: price RMSE {model['price_rmse_ratio_to_persistence']:.4f}"
            f"x persistence, direction {direction:.1%} (up every day: {up:.1%}), signal macro-F1 "
            f"{scores['classification']['model']['macro_f1']:.3f}")
        log(scores["backtest_table"])
        if scores["leak_alarm"]:
            log(f"WARNING {symbol}: directional accuracy {direction:.1%} is above "
                f"{LEAK_ALARM:.0%} and above the {constant_direction(up):.1%} of a forecast "
                f"of {'up' if up >= 0.5 else 'down'} on every day; daily stock moves are "
                "close to unpredictable, so check for a leak before trusting it")
        rows.append(scores)
    table = summary_table(rows)
    summary = {"symbols": rows, "table": table, "seconds": round(time.perf_counter() - started, 1)}
    atomic_write_text(out / "summary.md", table + "\n")
    write_results(summary, out / "summary.json")
    log(table)
    log(f"wrote {out}/summary.md and per symbol results.json, predictions.csv, forecast.png, "
        f"equity.png, drawdown.png, confusion.png ({summary['seconds']:.0f} s)")
    return summary
