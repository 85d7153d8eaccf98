"""``rnnkit train signal``: a buy/sell/hold classifier, and evaluation of its bundles."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rnnkit.commands.common import (
    EVALUATORS,
    add_config_options,
    add_data_flags,
    check_series_evaluate_flags,
    check_source,
    print_json,
    resolve_config,
)
from rnnkit.commands.inputs import check_series_input


def register(commands: Any, train_tasks: Any) -> None:
    parser = train_tasks.add_parser(
        "signal",
        help="classify each time step as buy, sell or hold from the coming return (a stock "
             "symbol or a CSV), and backtest it",
    )
    add_config_options(parser)
    parser.add_argument("--data-dir", dest="mirror", metavar="DIR",
                        help="local mirror of the datasets (or set RNNKIT_DATA); the same as "
                             "--set data.mirror=DIR")
    parser.set_defaults(handler=train)
    EVALUATORS["signal"] = evaluate


def train(args: argparse.Namespace) -> int:
    from rnnkit.pipelines.signal import SignalRunConfig, check_run, train_signal

    add_data_flags(args, ("mirror",))  # --data-dir
    config = resolve_config(SignalRunConfig, args, check_run, check_series_input)
    if config is None:
        return 0
    out = args.out or Path("runs") / f"signal-{Path(config.data.source).stem}"
    results = train_signal(config, out, resume=args.resume)
    print_json({"classification": {name: {k: v for k, v in scores.items()
                                          if k != "confusion"}
                                   for name, scores in
                                   results["test"]["classification"].items()},
                "backtest": results["test"].get("backtest", {}),
                **({"notes": results["test"]["notes"]} if "notes" in results["test"]
                   else {})}, indent=2)
    return 0


def evaluate(args: argparse.Namespace) -> int:
    from rnnkit.pipelines.signal import evaluate_signal

    check_series_evaluate_flags(args)
    check_source(args.data, "--data")
    results = evaluate_signal(args.model, args.data, args.out, args.date_column,
                              args.data_dir or "")
    print_json(results, indent=2)
    return 0
