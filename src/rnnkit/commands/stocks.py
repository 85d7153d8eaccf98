"""``rnnkit stocks``: walk-forward forecaster + buy/sell/hold classifier + backtest on daily
stock prices (bokeh-sampledata: AAPL, IBM, MSFT, GOOG). The README's main job."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rnnkit.commands.common import add_config_options, resolve_config


def register(commands: Any, train_tasks: Any) -> None:
    parser = commands.add_parser(
        "stocks", help="walk-forward forecast, buy/sell/hold and backtest on daily prices")
    parser.add_argument("--symbols", help="comma-separated, e.g. AAPL,IBM (default AAPL)")
    add_config_options(parser, resume_help="continue the run in --out fold by fold (a "
                       "finished fold is read back, an interrupted one goes on from its last.pt)",
                       out_default="runs/stocks, a folder per symbol in it")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rnnkit.config import toml_text
    from rnnkit.pipelines.stocks import StocksRunConfig
    from rnnkit.pipelines.stocks_job import check_run, run_stocks

    if args.symbols is not None:
        check_symbols_flag(args.symbols, args.overrides)
        args.overrides = [f"data.symbols={toml_text(args.symbols)}", *args.overrides]
    config = resolve_config(StocksRunConfig, args, check_run)
    if config is None:
        return 0
    run_stocks(config, args.out or Path("runs") / "stocks", resume=args.resume)
    return 0


def check_symbols_flag(symbols: str, overrides: list[str]) -> None:
    """Refuse a ``--symbols`` that names no symbol (an empty one ran the default, AAPL), and
    one a ``--set data.symbols=`` contradicts (the ``--set`` won, silently)."""
    from rnnkit.config import ConfigError, load_config
    from rnnkit.pipelines.stocks import StocksRunConfig
    from rnnkit.pipelines.stocks_job import symbol_list
    from rnnkit.timeseries.datasets import STOCK_SYMBOLS

    if not symbol_list(symbols):
        raise ConfigError(f"--symbols {symbols!r} names no symbol; give one or more of "
                          f"{', '.join(STOCK_SYMBOLS)}, comma-separated (e.g. --symbols "
                          "AAPL,IBM), or leave the flag out for data.symbols (AAPL by default)")
    for override in overrides:
        if override.partition("=")[0].strip() == "data.symbols":
            setting = load_config(StocksRunConfig, None, [override]).data.symbols
            if symbol_list(setting) != symbol_list(symbols):
                raise ConfigError(f"--symbols {symbols} and --set data.symbols={setting} name "
                                  "different symbols; give them once, with one of the two")
