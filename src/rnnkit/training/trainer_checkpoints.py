"""The Trainer's run folder: ``last.pt`` (written and resumed from), ``best.pt`` and
``metrics.jsonl``.

:class:`TrainerCheckpoints` is the part of :class:`~rnnkit.training.trainer.Trainer` that
reads and writes them; the Trainer sets every attribute it names below. ``last.pt`` carries
every RNG state and the running sums of the epoch in progress, so a resumed run ends with the
same weights and the same epoch records as an uninterrupted one; ``best.pt`` holds only the
weights of the best epoch and its number (without a run folder, a copy kept in memory),
written after ``last.pt``: a run killed between the two resumes from that epoch and writes
``best.pt`` again.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from rnnkit.config import TrainConfig
from rnnkit.plural import plural
from rnnkit.training.averaging import WeightAverage
from rnnkit.training.checkpoint import (
    CheckpointError,
    atomic_write_text,
    load_checkpoint,
    rng_state,
    save_checkpoint,
)
from rnnkit.training.diagnostics import json_safe
from rnnkit.training.distributed import Workers
from rnnkit.training.epoch_sums import EpochSums
from rnnkit.training.monitor import Monitor, TrainResult
from rnnkit.training.resume import built_from, check_built_from, restore_rank, stop_after_resume
from rnnkit.training.task import TaskModel, detach_state, move_to

_CPU = torch.device("cpu")


class TrainerCheckpoints:
    """Saving and resuming a :class:`~rnnkit.training.trainer.Trainer`'s run (its base class)."""

    config: TrainConfig
    workers: Workers
    device: torch.device
    model: TaskModel
    optimizer: torch.optim.Optimizer
    average: WeightAverage | None
    monitor: Monitor
    run_dir: Path | None
    log: Any
    result: TrainResult
    epoch: int
    batch_in_epoch: int
    window_in_batch: int
    sums: EpochSums
    carried: Any
    _best_weights: dict[str, Any] | None

    def _checkpoint_state(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "average": self.average.shadow if self.average else {},
            "optimizer": self.optimizer.state_dict(),
            **self.monitor.state_dict(),  # "scheduler", "bad_epochs"
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "window_in_batch": self.window_in_batch,
            "tbptt_steps": self.config.tbptt_steps,  # the windows window_in_batch counts
            "carried": detach_state(self.carried),
            "sums": self.sums.to_json(),
            "result": json.dumps(asdict(self.result)),
            "rng": rng_state(),
            "built_from": built_from(self.model),
        }

    def save(self, name: str = "last.pt") -> Path | None:
        """Checkpoint everything needed to continue exactly (atomic write).

        Distributed, every process must call it: rank 0 writes, with each process's RNG and
        carried state under ``ranks``."""
        ranks = self.workers.gather(self._rank_state()) if self.workers.distributed else None
        if self.run_dir is None:
            return None
        state = self._checkpoint_state()
        if ranks is not None:
            state["ranks"] = ranks
        return save_checkpoint(state, self.run_dir / name)

    def _rank_state(self) -> dict[str, Any]:
        return {"rng": rng_state(), "carried": move_to(detach_state(self.carried), _CPU),
                "sums": self.sums.to_json()}

    def resume(self, path: str | Path | None = None) -> bool:
        """Continue from ``path`` (default ``run_dir/last.pt``); False when there is none.

        Distributed, rank 0 reads the file and sends it to the others (which need no copy)."""
        with self.workers.watch():  # rank 0 failed before sending it: a clear error, not gloo's
            found = self.workers.on_main(lambda: self._read_checkpoint(path))
        if found is None:
            return False
        path, state = found
        window = int(state.get("window_in_batch", 0))
        windows = state.get("tbptt_steps", self.config.tbptt_steps)  # older: not kept
        if window and windows != self.config.tbptt_steps:
            raise CheckpointError(
                f"{path} stopped inside a batch, after window {window} of its"
                f" train.tbptt_steps={windows} windows; resume with train.tbptt_steps={windows}"
                f" (not {self.config.tbptt_steps}), or drop --resume or use a new --out")
        check_built_from(state.get("built_from"), built_from(self.model), path)
        self._load_model(state["model"], path)
        if self.average is not None:  # an older run without one: the average starts here
            self.average.load(state.get("average") or self.model.state_dict(), self.model)
        try:
            self.optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as error:
            raise CheckpointError(f"{path}: the optimizer state does not fit ({error}); drop"
                                  " --resume or use a new --out") from None
        self.epoch = int(state["epoch"])
        self.batch_in_epoch = int(state["batch_in_epoch"])
        self.window_in_batch = int(state.get("window_in_batch", 0))
        self.result = TrainResult(**json.loads(state["result"]))
        self.monitor.load_state_dict(state, self.result)
        self._write_metrics()  # the log as of the checkpoint: a line written after it is not
        # repeated, none is lost
        mid_epoch = bool(self.batch_in_epoch or self.window_in_batch)
        self.result.stopped = stop_after_resume(self.result, self.config,
                                                self.monitor.bad_epochs, mid_epoch)
        # the saved state goes on only into the next window, or into the next batch of a
        # model that carries it across batches (the others start every batch afresh)
        carried_on = bool(self.window_in_batch) or (mid_epoch and self.model.carries_state)
        if not mid_epoch and self.result.best_epoch == self.epoch > 0:
            self._check_best()  # killed after last.pt, before best.pt: written here
        self.carried, self.sums = restore_rank(state, path, self.workers, self.config,
                                               self.result, carried_on, self.device, self.log)
        finished = self._finished(mid_epoch)
        if finished:  # "epoch 4, batch 0" of a 3-epoch run read as if it went on training
            self.log(f"resumed from {path}: {finished}")
        else:
            self.log(f"resumed from {path}: epoch {self.epoch + 1}, batch {self.batch_in_epoch}")
        if self.result.stopped == "max_steps":  # it stopped again at once, without a word
            self.log(f"train.max_steps={self.config.max_steps} is reached already "
                     f"({plural(self.result.steps, 'step')}), so nothing more is trained; to "
                     "train on, resume with --set train.max_steps=N (more steps) or 0 (no limit)")
        return True

    def _finished(self, mid_epoch: bool) -> str:
        """What says that the resumed run has no epoch left to train (all its epochs, or
        early stopping), and how to train on; empty when it goes on training."""
        if mid_epoch:
            return ""
        done = self.epoch
        if done >= self.config.epochs:
            return (f"the run is finished already (it trained {done} of train.epochs="
                    f"{plural(self.config.epochs, 'epoch')}), so nothing more is trained; to "
                    f"train on, resume with --set train.epochs=N (more than {done})")
        if self.result.stopped == "early_stopping":
            return (f"the run is finished already (early stopping ended it after epoch {done}:"
                    f" {plural(self.monitor.bad_epochs, 'epoch')} without improvement, "
                    f"train.patience={self.config.patience}), so nothing more is trained; to "
                    "train on, resume with --set train.patience=N (more than "
                    f"{self.monitor.bad_epochs}) or 0 (none)")
        return ""

    def _read_checkpoint(self, path: str | Path | None) -> tuple[str, dict[str, Any]] | None:
        if path is None:
            if self.run_dir is None or not (self.run_dir / "last.pt").exists():
                return None
            path = self.run_dir / "last.pt"
        return str(path), load_checkpoint(path)

    def _load_model(self, weights: dict[str, Any], path: str | Path) -> None:
        try:
            self.model.load_state_dict(weights)
        except (RuntimeError, ValueError, KeyError) as error:
            raise CheckpointError(
                f"{path} was written by a different model configuration ({error}); drop"
                " --resume or use a new --out"
            ) from None

    def _keep_best(self) -> None:
        """The weights of the epoch just judged the best: ``best.pt``, or a copy in memory."""
        weights = self.average.shadow if self.average else self.model.state_dict()
        if self.run_dir is not None:  # only the weights (and their epoch): never resumed from
            save_checkpoint({"model": weights, "epoch": self.epoch}, self.run_dir / "best.pt")
        else:
            self._best_weights = {k: v.detach().clone() for k, v in weights.items()}

    def _check_best(self) -> None:
        """Write ``best.pt`` again from the checkpoint of the epoch judged the best, just
        resumed from, when it holds another epoch (or is missing): the run was killed after
        ``last.pt`` was written, before ``best.pt``. A ``best.pt`` of an older version, which
        names no epoch, is left as it is."""
        best_file = self.run_dir / "best.pt" if self.run_dir is not None else None
        if best_file is None:
            return
        try:
            kept = load_checkpoint(best_file).get("epoch", self.epoch)
        except CheckpointError:  # missing, or (never written atomically) unreadable
            kept = None
        if kept != self.epoch:
            self._keep_best()

    def _restore_best(self) -> None:
        """Leave the model with the best epoch's weights (else the average, else the last)."""
        best_file = self.run_dir / "best.pt" if self.run_dir is not None else None
        if best_file is not None and best_file.exists() and self.result.best_epoch > 0:
            self._load_model(load_checkpoint(best_file)["model"], best_file)
        elif self._best_weights is not None:
            self.model.load_state_dict(self._best_weights)
        elif self.average is not None:  # stopped before an epoch ended: the average so far
            self.model.load_state_dict(self.average.shadow)

    def _write_metrics(self) -> None:
        """``metrics.jsonl``: one line per epoch of this run's history, rewritten atomically
        (appended to, it kept the lines of an earlier run in the same folder, and a crash
        mid-write left half a line); strict JSON, a NaN or infinite score written as null."""
        if self.run_dir is None:
            return
        atomic_write_text(self.run_dir / "metrics.jsonl", "".join(
            json.dumps(json_safe(record), allow_nan=False) + "\n"  # NaN: null
            for record in self.result.history))
