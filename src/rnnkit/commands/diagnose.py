"""``rnnkit diagnose``: vanishing and exploding gradients, measured and plotted."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rnnkit.commands.paths import FolderPath
from rnnkit.config import check_at_least, check_seed


def register(commands: Any, train_tasks: Any) -> None:
    parser = commands.add_parser(
        "diagnose", help="make vanishing/exploding gradients visible on a long-range task"
    )
    parser.add_argument("--task", default="adding", choices=("adding", "copy"),
                        help="the long-range task every cell trains on (default adding)")
    parser.add_argument("--cells", default="rnn,lstm,gru",
                        help="comma-separated cells, some of rnn, lstm, gru (default all three)")
    parser.add_argument("--length", type=int, default=100,
                        help="the adding task's sequence length (at least 2), or the copy "
                             "task's delay: the steps between its 10 symbols and their recall, "
                             "blanks and then the mark to repeat them (at least 1; its "
                             "sequences are 20 steps longer); default 100: vanishing "
                             "gradients show clearly from about 100 steps")
    parser.add_argument("--steps", type=int,
                        help="Adam steps each cell trains (default 1200): up to 50 exactly that "
                             "many, one point of the training curves at the end; above 50 "
                             "rounded up to a multiple of 50, one point every 50. Not the "
                             "exploding-gradient runs: each takes up to 600 SGD steps, the "
                             "unclipped one stopping where it diverges")
    parser.add_argument("--hidden-size", type=int, help="hidden units of every cell (default 64)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the weights and data (default 0; 0 to 4294967295)")
    parser.add_argument("--out", action=FolderPath, default=Path("runs/diagnose"),
                        help="folder for the plots, tables and summary.json (default "
                             "runs/diagnose)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rnnkit.pipelines.demonstration import run_demonstration

    cells = tuple(c.strip() for c in args.cells.split(","))  # an empty name is refused: a
    # typo (rnn,,lstm; rnn, ,gru) that was skipped
    check_flags(args, cells)
    options = {"steps": args.steps, "hidden_size": args.hidden_size}
    run_demonstration(
        task=args.task, cells=cells, length=args.length, seed=args.seed, out_dir=args.out,
        **{k: v for k, v in options.items() if v is not None},
    )
    print(f"plots, tables and summary.json in {args.out}")
    return 0


def check_flags(args: argparse.Namespace, cells: tuple[str, ...]) -> None:
    """Refuse the flags by their names before the first cell trains."""
    from rnnkit.pipelines.demonstration import check_cells

    check_cells(cells, "--cells")
    check_seed(args.seed, "--seed")  # a seed torch cannot take failed naming no flag
    check_at_least(args.length, "--length", 2 if args.task == "adding" else 1)
    if args.steps is not None:
        check_at_least(args.steps, "--steps", 1)
    if args.hidden_size is not None:
        check_at_least(args.hidden_size, "--hidden-size", 1)
