"""What every training pipeline does around the trainer: run folder, config, bundle, results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rnnkit.config import save_config
from rnnkit.data.batching import BatchSource
from rnnkit.training.bundle import save_bundle
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
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not resume:  # a fresh run: nothing of an earlier run in this folder may leak into it
        for name in ("metrics.jsonl", "last.pt", "best.pt"):
            (out / name).unlink(missing_ok=True)
    save_config(config, out / "config.toml")
    trainer = Trainer(model, config.train, run_dir=out, log=log)
    if resume and not trainer.resume():
        log(f"no checkpoint in {out}; starting from scratch")
    result = trainer.fit(train, val, observe)
    bundle = save_bundle(model, out / "model.rnnkit")
    log(f"saved {bundle}")
    return result


def write_results(results: dict[str, Any], path: str | Path) -> Path:
    """Write a run's final numbers as JSON."""
    path = Path(path)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return path
