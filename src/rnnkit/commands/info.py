"""``rnnkit info``: versions, device, fused kernels."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any, train_tasks: Any) -> None:
    parser = commands.add_parser("info", help="versions, device, and which fused kernels run")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rnnkit.info import collect_info

    for key, value in collect_info().items():
        print(f"{key:<22} {value}")
    return 0
