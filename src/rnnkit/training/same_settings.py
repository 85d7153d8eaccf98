"""The processes of a distributed run must train with the same settings, model and data.

torchrun starts each process (on each machine) with its own command line, configuration file
and data files. Processes that differ took their own steps (another ``train.lr``: replicas
that silently drift apart, rank 0's weights saved as the model) or waited on each other
forever (another ``train.batch_size``: epochs of other lengths). :func:`check_same_run` compares
them once, before training, and stops every process with one error that names what differs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rnnkit.config import TrainConfig
from rnnkit.training.distributed import Workers
from rnnkit.training.task import TaskModel

# settings each process may choose for itself: they change nothing that is computed
OWN_SETTINGS = ("threads", "progress")


def run_signature(config: TrainConfig, model: TaskModel) -> dict[str, Any]:
    """What every process must agree on: the train settings and the model's parameters'
    shapes (which follow from the model settings and the data's vocabularies)."""
    settings = {f"train.{name}": value for name, value in dataclasses.asdict(config).items()
                if name not in OWN_SETTINGS}
    shapes = {f"the shape of the model's {name}": tuple(parameter.shape)
              for name, parameter in model.named_parameters()}
    return {**settings, "the model's parameters": len(shapes), **shapes}


def check_same_run(workers: Workers, what: dict[str, Any]) -> None:
    """Raise the same ValueError on every process when their ``what`` differ; a no-op for
    one process."""
    if not workers.distributed:
        return
    every = workers.gather(what)
    workers.on_main(lambda: _compare(every or []))


def _compare(every: list[dict[str, Any]]) -> None:
    first = every[0]
    for rank, values in enumerate(every[1:], start=1):
        differ = [key for key in [*first, *(k for k in values if k not in first)]
                  if first.get(key, "unset") != values.get(key, "unset")]
        if differ:
            key = differ[0]
            more = f" (and {len(differ) - 1} more)" if len(differ) > 1 else ""
            raise ValueError(
                f"the training processes differ: {key} is {first.get(key, 'unset')!r} in"
                f" process 0 but {values.get(key, 'unset')!r} in process {rank}{more}; every"
                f" process must run the same command with the same settings and data (on"
                f" several machines: the same files on each)")
