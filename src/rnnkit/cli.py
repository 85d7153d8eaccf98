"""The ``rnnkit`` command line: parses, calls the library, prints. ``main(argv) -> exit code``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rnnkit.config import ConfigError, config_to_dict, load_config, to_toml, valid_keys
from rnnkit.training.bundle import BundleError
from rnnkit.training.checkpoint import CheckpointError
from rnnkit.training.trainer import TrainingDiverged

USER_ERRORS = (ValueError, ConfigError, BundleError, CheckpointError, TrainingDiverged, OSError)


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="a TOML file with [data], [model], [train]")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
        help="override one setting, e.g. --set train.lr=0.003 (repeatable)",
    )
    parser.add_argument("--out", type=Path, help="run folder (default runs/<task>)")
    parser.add_argument("--resume", action="store_true", help="continue from the run's last.pt")
    parser.add_argument(
        "--print-config", action="store_true",
        help="print the resolved configuration and every valid key, then exit",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnkit", description="Recurrent neural networks: train, evaluate, diagnose."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("info", help="versions, device, and which fused kernels are available")

    train = commands.add_parser("train", help="train a model; the run folder gets a bundle")
    tasks = train.add_subparsers(dest="task", required=True, metavar="TASK")
    synthetic = tasks.add_parser(
        "synthetic", help="the adding problem or the copy task (data generated, no download)"
    )
    _add_config_options(synthetic)

    evaluate = commands.add_parser("evaluate", help="score a saved model bundle")
    evaluate.add_argument("--model", type=Path, required=True, help="a .rnnkit bundle")
    evaluate.add_argument("--size", type=int, default=2000, help="synthetic: test sequences")
    evaluate.add_argument("--length", type=int, help="synthetic: sequence length to test on")

    diagnose = commands.add_parser(
        "diagnose", help="make vanishing/exploding gradients visible on a long-range task"
    )
    diagnose.add_argument("--task", default="adding", choices=("adding", "copy"))
    diagnose.add_argument("--cells", default="rnn,lstm,gru", help="comma-separated cells")
    diagnose.add_argument("--length", type=int, default=100, help="sequence length (>= 100)")
    diagnose.add_argument("--steps", type=int, help="training budget in optimizer steps per cell")
    diagnose.add_argument("--hidden-size", type=int, help="hidden units of every cell")
    diagnose.add_argument("--seed", type=int, default=0)
    diagnose.add_argument("--out", type=Path, default=Path("runs/diagnose"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "info":
            return _info()
        if args.command == "train":
            return _train(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "diagnose":
            return _diagnose(args)
    except USER_ERRORS as error:
        print(f"rnnkit: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rnnkit: interrupted; resume with --resume", file=sys.stderr)
        return 130
    return 1


def _info() -> int:
    from rnnkit.info import collect_info

    for key, value in collect_info().items():
        print(f"{key:<22} {value}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from rnnkit.pipelines.synthetic import SyntheticRunConfig, train_synthetic

    config = load_config(SyntheticRunConfig, args.config, args.overrides)
    if args.print_config:
        print(to_toml(config_to_dict(config)))
        print("# valid keys: " + ", ".join(valid_keys(SyntheticRunConfig)))
        return 0
    out = args.out or Path("runs") / config.data.task
    results = train_synthetic(config, out, resume=args.resume)
    print(json.dumps(results["test"], indent=2))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from rnnkit.pipelines.synthetic import evaluate_synthetic

    print(json.dumps(evaluate_synthetic(args.model, args.size, args.length), indent=2))
    return 0


def _diagnose(args: argparse.Namespace) -> int:
    from rnnkit.training.demonstration import run_demonstration

    cells = tuple(c.strip() for c in args.cells.split(",") if c.strip())
    options = {"steps": args.steps, "hidden_size": args.hidden_size}
    run_demonstration(
        task=args.task, cells=cells, length=args.length, seed=args.seed, out_dir=args.out,
        **{k: v for k, v in options.items() if v is not None},
    )
    print(f"plots, tables and summary.json in {args.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
