"""``rnnkit train synthetic`` and evaluation of its bundles (adding problem, copy task)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rnnkit.commands.common import EVALUATORS, add_config_options, print_json, resolve_config
from rnnkit.config import check_at_least


def register(commands: Any, train_tasks: Any) -> None:
    parser = train_tasks.add_parser(
        "synthetic", help="the adding problem or the copy task (generated data, no download)"
    )
    add_config_options(parser)
    parser.set_defaults(handler=train)
    EVALUATORS["synthetic"] = evaluate


def train(args: argparse.Namespace) -> int:
    from rnnkit.pipelines.synthetic import SyntheticRunConfig, check_run, train_synthetic

    config = resolve_config(SyntheticRunConfig, args, check_run)
    if config is None:
        return 0
    out = args.out or Path("runs") / config.data.task
    results = train_synthetic(config, out, resume=args.resume)
    print_json(results["test"], indent=2)
    return 0


def evaluate(args: argparse.Namespace) -> int:
    from rnnkit.pipelines.synthetic import evaluate_synthetic

    size = 2000 if args.size is None else args.size
    check_at_least(size, "--size", 1)  # 0 would score the training run's test size
    if args.length is not None:
        check_at_least(args.length, "--length", 1)  # 0 would score the training length
    given = [flag for flag, value in (("--data", args.data), ("--format", args.format))
             if value] + (["--split"] if args.split != "test" else [])
    if given:
        raise ValueError(f"a synthetic model is scored on fresh sequences of its task: "
                         f"{', '.join(given)} {'does' if len(given) == 1 else 'do'} not "
                         "apply; use --size and --length")
    results = evaluate_synthetic(args.model, size, args.length)
    print_json(results, indent=2)
    if args.out is not None:
        from rnnkit.pipelines.run import write_results

        Path(args.out).mkdir(parents=True, exist_ok=True)
        print(f"wrote {write_results(results, Path(args.out) / 'results.json')}", file=sys.stderr)
    return 0
