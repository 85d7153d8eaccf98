"""``rnnkit train forecaster`` and evaluation of its bundles (time-series forecasting)."""

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
        "forecaster",
        help="forecast a series H steps ahead (beijing, seattle, a stock symbol or a CSV)",
    )
    add_config_options(parser)
    parser.add_argument("--data-dir", dest="mirror", metavar="DIR",
                        help="local mirror of the datasets (or set RNNKIT_DATA); the same as "
                             "--set data.mirror=DIR")
    parser.set_defaults(handler=train)
    EVALUATORS["forecaster"] = evaluate


def train(args: argparse.Namespace) -> int:
    from rnnkit.pipelines.forecaster import ForecastRunConfig, check_run, train_forecaster

    add_data_flags(args, ("mirror",))  # --data-dir
    config = resolve_config(ForecastRunConfig, args, check_run, check_series_input)
    if config is None:
        return 0
    out = args.out or Path("runs") / f"forecaster-{Path(config.data.source).stem}"
    results = train_forecaster(config, out, resume=args.resume)
    print_json(results["test"][f"step_{config.data.horizon}"], indent=2)
    return 0


def evaluate(args: argparse.Namespace) -> int:
    from rnnkit.pipelines.forecaster import evaluate_forecaster

    check_series_evaluate_flags(args)
    check_source(args.data, "--data")
    results = evaluate_forecaster(args.model, args.data, args.out, args.date_column,
                                  args.data_dir or "")
    print_json(results, indent=2)
    return 0
