"""The ``rnnkit`` command line: parses, calls the library, prints. ``main(argv) -> exit code``.

Each subcommand lives in :mod:`rnnkit.commands` and registers itself here.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from rnnkit.config import ConfigError
from rnnkit.training.bundle import BundleError
from rnnkit.training.checkpoint import CheckpointError
from rnnkit.training.trainer import TrainingDiverged

COMMAND_MODULES = (
    "info", "datasets", "synthetic", "tagger", "forecaster", "signal", "evaluate", "forecast",
    "backtest", "stocks", "diagnose", "word2vec", "seq2seq", "language_model", "classifier",
)
USER_ERRORS = (ValueError, ConfigError, BundleError, CheckpointError, TrainingDiverged, OSError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnkit", description="Recurrent neural networks: train, evaluate, diagnose."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train = commands.add_parser("train", help="train a model; the run folder gets a bundle")
    train_tasks = train.add_subparsers(dest="task", required=True, metavar="TASK")
    for name in COMMAND_MODULES:
        importlib.import_module(f"rnnkit.commands.{name}").register(commands, train_tasks)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 0
    except USER_ERRORS as error:
        print(f"rnnkit: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rnnkit: interrupted; continue with --resume", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
