"""``rnnkit diagnose``: vanishing and exploding gradients, measured and plotted."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(commands: Any, train_tasks: Any) -> None:
    parser = commands.add_parser(
        "diagnose", help="make vanishing/exploding gradients visible on a long-range task"
    )
    parser.add_argument("--task", default="adding", choices=("adding", "copy"))
    parser.add_argument("--cells", default="rnn,lstm,gru", help="comma-separated cells")
    parser.add_argument("--length", type=int, default=100, help="sequence length (>= 100)")
    parser.add_argument("--steps", type=int, help="training budget in optimizer steps per cell")
    parser.add_argument("--hidden-size", type=int, help="hidden units of every cell")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/diagnose"))
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rnnkit.training.demonstration import run_demonstration

    cells = tuple(c.strip() for c in args.cells.split(",") if c.strip())
    options = {"steps": args.steps, "hidden_size": args.hidden_size}
    run_demonstration(
        task=args.task, cells=cells, length=args.length, seed=args.seed, out_dir=args.out,
        **{k: v for k, v in options.items() if v is not None},
    )
    print(f"plots, tables and summary.json in {args.out}")
    return 0
