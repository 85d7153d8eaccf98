"""Train and evaluate recurrent models on the adding problem or the copy task."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rnnkit.config import ModelConfig, TrainConfig, check_at_least, check_choice, check_model
from rnnkit.data.batching import TensorBatches
from rnnkit.data.synthetic import TASKS, make_split
from rnnkit.models.synthetic import SyntheticTaskModel
from rnnkit.pipelines.run import total_seconds, train_in_run_dir, write_results
from rnnkit.training.bundle import load_model
from rnnkit.training.checkpoint import seed_everything

SPLIT_SEEDS = {"train": 0, "val": 1, "test": 2}


@dataclass(frozen=True)
class SyntheticDataConfig:
    task: str = "adding"  # adding | copy
    length: int = 100  # sequence length (copy: blanks between the symbols and their recall)
    train_size: int = 10000
    val_size: int = 1000
    test_size: int = 2000
    seed: int = 1  # data seed; splits use seed*10 + 0/1/2


@dataclass(frozen=True)
class SyntheticRunConfig:
    data: SyntheticDataConfig = field(default_factory=SyntheticDataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def check_data(data: SyntheticDataConfig) -> None:
    """Refuse a ``data`` section no task can be generated from, naming the key."""
    check_choice(data.task, "data.task", TASKS)
    check_at_least(data.length, "data.length", 2 if data.task == "adding" else 1)
    for name in SPLIT_SEEDS:  # the test split is made only after training
        check_at_least(getattr(data, f"{name}_size"), f"data.{name}_size", 1)


def check_run(config: SyntheticRunConfig) -> None:
    """The settings checked before any data is made (also by ``--print-config``)."""
    check_data(config.data)
    check_model(config.model)


def split(data: SyntheticDataConfig, name: str, batch_size: int, size: int | None = None
          ) -> TensorBatches:
    """A batch source over one split of the task."""
    count = size or int(getattr(data, f"{name}_size"))
    tensors = make_split(data.task, count, data.length, data.seed * 10 + SPLIT_SEEDS[name])
    return TensorBatches(tensors, batch_size, shuffle=name == "train", seed=data.seed)


def score(model: SyntheticTaskModel, batches: TensorBatches) -> dict[str, Any]:
    """Test loss (and accuracy for copy) beside the trivial baseline."""
    metrics = model.evaluate(batches.batches(0))
    task = model.task
    return {
        "task": task.name,
        "loss": metrics["loss"],
        "loss_name": "mse" if task.name == "adding" else "cross_entropy",
        **({"accuracy": metrics["accuracy"]} if "accuracy" in metrics else {}),
        "baseline_loss": task.baseline,
        "baseline": task.baseline_name,
        "ratio_to_baseline": metrics["loss"] / task.baseline,
    }


def train_synthetic(
    config: SyntheticRunConfig, out_dir: str | Path, resume: bool = False, log: Any = print
) -> dict[str, Any]:
    """Train on the configured task, save the bundle and ``results.json``; return the results."""
    check_run(config)
    started = time.perf_counter()
    seed_everything(config.train.seed)  # the initial weights follow the seed too
    model = SyntheticTaskModel(config.data.task, config.model, trained_on=asdict(config.data))
    batch = config.train.batch_size
    result = train_in_run_dir(
        model, config, out_dir,
        split(config.data, "train", batch), split(config.data, "val", 500), resume, log,
    )
    test = score(model.to("cpu"), split(config.data, "test", 500))
    results = {
        "test": test,
        "kernel": model.encoder.kernel,
        "steps": result.steps,
        "epochs": len(result.history),
        "stopped": result.stopped,
        "best_epoch": result.best_epoch,
        "train_seconds": round(result.seconds, 1),
        "seconds": round(result.seconds, 1),  # = train_seconds, read by benchmarks
    }
    results["total_seconds"] = total_seconds(started, result)
    write_results(results, Path(out_dir) / "results.json")
    log(f"test {test['loss_name']} {test['loss']:.4f} vs baseline {test['baseline_loss']:.4f}"
        f" ({test['ratio_to_baseline']:.3f}x)")
    return results


def evaluate_synthetic(bundle: str | Path, size: int = 2000, length: int | None = None
                       ) -> dict[str, Any]:
    """Score a saved synthetic-task model on a fresh test split (the training length by default)."""
    model = load_model(bundle, SyntheticTaskModel)
    trained = SyntheticDataConfig(**model.trained_on) if model.trained_on else SyntheticDataConfig(
        task=model.task.name
    )
    data = SyntheticDataConfig(**{**asdict(trained), "length": length or trained.length})
    return {"length": data.length, **score(model, split(data, "test", 500, size))}
