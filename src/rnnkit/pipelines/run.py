"""What every training pipeline does around the trainer: run folder, config, bundle, results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rnnkit.config import save_config
from rnnkit.data.batching import BatchSource
from rnnkit.training.bundle import save_bundle
from rnnkit.training.diagnostics import json_safe as finite  # NaN/inf -> None, recursively
from rnnkit.training.distributed import WorkerFinished, environment_rank
from rnnkit.training.task import TaskModel
from rnnkit.training.trainer import Trainer, TrainResult


def train_in_run_dir(
    model: TaskModel,
    config: Any,
    out_dir: str | Path,
    train: BatchSource,
    val: BatchSource | None,
    resume: bool = False,
    log: Any = print,
    observe: dict[str, BatchSource] | None = None,
) -> TrainResult:
    """Save the resolved config, train (resuming from ``last.pt`` if asked), save the bundle.

    The run folder then holds ``config.toml``, ``metrics.jsonl``, ``last.pt``, ``best.pt`` and
    ``model.rnnkit``.

    Started by torchrun, every process trains and rank 0 alone writes; once training is over
    the others raise :class:`~rnnkit.training.distributed.WorkerFinished` (a clean exit), so
    only rank 0 goes on to evaluate and write results.
    """
    out = Path(out_dir)
    main = environment_rank() == 0
    if main:
        out.mkdir(parents=True, exist_ok=True)
        if not resume:  # a fresh run: nothing of an earlier run in this folder may leak into it
            for name in ("metrics.jsonl", "last.pt", "best.pt"):
                (out / name).unlink(missing_ok=True)
        save_config(config, out / "config.toml")
    trainer = Trainer(model, config.train, run_dir=out, log=log)
    if resume and not trainer.resume():
        trainer.log(f"no checkpoint in {out}; starting from scratch")
    result = trainer.fit(train, val, observe)
    trainer.workers.close()
    if not main:
        raise WorkerFinished(trainer.workers.rank)
    bundle = save_bundle(model, out / "model.rnnkit")
    log(f"saved {bundle}")
    return result


def write_results(results: dict[str, Any], path: str | Path) -> Path:
    """Write a run's final numbers as strict JSON (a NaN or infinity is written as null)."""
    path = Path(path)
    path.write_text(json.dumps(finite(results), indent=2, allow_nan=False) + "\n",
                    encoding="utf-8")
    return path
