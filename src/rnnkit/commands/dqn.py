"""``rnnkit train dqn``: a Deep Q-learning agent that learns to buy, sell or hold a stock by
itself, tested beside a random agent, buy-and-hold and (``run.supervised``) the supervised
forecaster and buy/sell/hold classifier, over one or several seeds."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rnnkit.commands.common import add_config_options, resolve_config


def register(commands: Any, train_tasks: Any) -> None:
    parser = train_tasks.add_parser(
        "dqn",
        help="a DQN agent trading a stock (AAPL, IBM, MSFT, GOOG), compared after costs with "
             "a random agent, buy-and-hold and optionally the supervised models",
    )
    add_config_options(parser, resume_help="continue the run in --out seed by seed (a finished "
                       "seed is read back; the one interrupted goes on after its last finished "
                       "episode, its supervised models from their last.pt)",
                       example="agent.lr=0.0003")  # no train section: its own loop
    parser.set_defaults(handler=train)


def train(args: argparse.Namespace) -> int:
    from rnnkit.pipelines.dqn import DQNRunConfig, check_config, run_dqn

    config = resolve_config(DQNRunConfig, args, check_config)
    if config is None:
        return 0
    out = args.out or Path("runs") / f"dqn-{config.data.symbol.upper()}"
    run_dqn(config, out, resume=args.resume)
    print(f"wrote {out}/results.json, {out}/equity.png and an agent bundle per seed "
          f"({out}/seed-<k>/dqn/model.rnnkit)")
    return 0
