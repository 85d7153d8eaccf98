"""``rnnkit backtest``: a saved model's (or agent's) decisions as positions, after costs, beside
buy-and-hold and the persistence-driven strategy."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rnnkit.commands.common import check_date_column, check_source
from rnnkit.commands.paths import FolderPath
from rnnkit.config import check_at_least, check_date


def register(commands: Any, train_tasks: Any) -> None:
    parser = commands.add_parser(
        "backtest", help="trade a saved forecaster, buy/sell/hold model or DQN agent")
    parser.add_argument("--model", type=Path, required=True, help="a .rnnkit bundle")
    parser.add_argument("--data", default="", help="another source than the model's own")
    parser.add_argument("--data-dir", default="",
                        help="local mirror of the datasets (or set RNNKIT_DATA)")
    parser.add_argument("--date-column", default="", help="date column of a --data file "
                        "(default: the model's data.date_column, else date)")
    parser.add_argument("--mode", choices=("long_flat", "long_short"),
                        help="default: as the model's training run traded, else long_flat")
    parser.add_argument("--threshold", type=float,
                        help="forecaster: trade when the predicted return passes +-threshold "
                             "(default: the training run's, else 0)")
    parser.add_argument("--cost-bps", type=float,
                        help="cost per unit of turnover in basis points (default: the "
                             "training run's, else 5)")
    parser.add_argument("--slippage-bps", type=float, help="default: the training run's, else 5")
    parser.add_argument("--start", default="", help="first decision date (default: the "
                                                    "model's test period)")
    parser.add_argument("--end", default="", help="last decision date (a month or year: "
                        "to its end)")
    parser.add_argument("--out", action=FolderPath, help="folder for backtest.json, equity.png and "
                                                 "drawdown.png")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rnnkit.pipelines.backtest import BacktestOptions, backtest_bundle
    from rnnkit.trading.returns import day_text

    check_flags(args)
    given = {"mode": args.mode, "threshold": args.threshold, "cost_bps": args.cost_bps,
             "slippage_bps": args.slippage_bps}
    options = BacktestOptions(start=args.start, end=args.end, source=args.data,
                              date_column=args.date_column, mirror=args.data_dir)
    summary = backtest_bundle(args.model, options, args.out,
                              {key: value for key, value in given.items() if value is not None})
    used = summary["options"]
    print(f"{summary['target']}: decisions {day_text(summary['first_decision'])} to "
          f"{day_text(summary['last_decision'])}, {used['mode']}, costs {used['cost_bps']:g} + "
          f"{used['slippage_bps']:g} bps")
    if summary["in_sample"]:
        print(f"rnnkit: warning: {summary['in_sample']}", file=sys.stderr)  # as every warning
    print(summary["table"])
    if args.out:
        print(f"wrote {args.out}/backtest.json, equity.png, drawdown.png")
    return 0


def check_flags(args: argparse.Namespace) -> None:
    """Refuse costs, threshold, dates, source and a --date-column without --data by their
    flags, before the model runs."""
    # here, not at the top: rnnkit.trading imports pandas, which every command paid for at
    # start (the parser imports this module), a tagger's predict too
    from rnnkit.trading.strategies import check_costs

    for flag, value in (("--cost-bps", args.cost_bps), ("--slippage-bps", args.slippage_bps),
                        ("--threshold", args.threshold)):
        if value is not None:
            check_at_least(value, flag, 0)
    check_costs(args.cost_bps or 0, args.slippage_bps or 0, "--cost-bps and --slippage-bps")
    for flag, day in (("--start", args.start), ("--end", args.end)):
        if day:
            check_date(day, flag)
    if args.start and args.end:
        import numpy as np
        import pandas as pd

        from rnnkit.timeseries.splits import period_end

        if np.datetime64(pd.Timestamp(args.start)) > period_end(args.end):
            raise ValueError(f"--start {args.start} comes after --end {args.end}: no day lies "
                             "between them; swap them (--end is the last decision date)")
    check_source(args.data, "--data")
    check_date_column(args)
