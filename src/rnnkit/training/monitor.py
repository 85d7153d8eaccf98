"""The monitored metric: which epoch is best, when the learning rate drops, when training stops
(and :func:`divergence_error`, the error of a run whose loss or gradient became NaN or inf).

``train.monitor`` names a metric of the epoch's record (``val_loss`` by default, ``train_loss``
when there is no validation data); ``train.mode`` says whether lower or higher is better, and
is refused when it is the opposite of what one of rnnkit's own metrics needs (a loss, MAE or
perplexity with ``max``, an accuracy, F1 or BLEU with ``min``); a metric of one's own is not
judged by its name. Any strict improvement counts, for early stopping and for the
learning rate alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rnnkit.config import TrainConfig
from rnnkit.config.sections import check_mode  # train.mode against train.monitor
from rnnkit.training.task import TaskModel


class TrainingDiverged(RuntimeError):
    """The loss or the gradient became NaN or infinite."""


def divergence_error(what: str, value: float, where: str, clip_norm: float,
                     kept: Path | None) -> TrainingDiverged:
    """The error of a run whose ``what`` (the loss, the gradient norm) became ``value`` at
    ``where``: what to lower, and the last good checkpoint when ``kept`` exists."""
    hint = (f"lower train.lr or train.clip_norm (now {clip_norm:g})" if clip_norm
            else "lower train.lr or set train.clip_norm")
    kept_text = (f"; the last good checkpoint is kept at {kept} (--resume would repeat these"
                 " steps: it keeps train.lr and train.clip_norm)"
                 if kept and kept.exists() else "")
    return TrainingDiverged(f"{what} became {value} at {where}; {hint}{kept_text}")


@dataclass
class TrainResult:
    """What a run did: per-epoch history, per-step gradient norms, the best score, why it ended."""

    history: list[dict[str, float]] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    best: float | None = None
    best_epoch: int = -1
    steps: int = 0
    stopped: str = "completed"
    seconds: float = 0.0
    earlier_seconds: float = 0.0  # of ``seconds``, trained by the processes before a resume


class Monitor:
    """Judges each epoch by ``train.monitor``; owns the plateau scheduler and the patience count.

    Example:
        >>> monitor = Monitor(TrainConfig(patience=2, monitor="val_loss"), optimizer=None)
        >>> result = TrainResult()
        >>> [monitor.judge(result, monitor.score({"val_loss": v}, True), epoch)
        ...  for epoch, v in enumerate([3.0, 2.0, 2.5, 2.1], start=1)]
        [True, True, False, False]
        >>> result.best, result.best_epoch, result.stopped
        (2.0, 2, 'early_stopping')
    """

    def __init__(self, config: TrainConfig, optimizer: torch.optim.Optimizer | None) -> None:
        check_mode(config)
        self.config = config
        self.bad_epochs = 0
        self.scheduler = None
        if config.lr_patience > 0 and optimizer is not None:
            self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer,
                mode="min" if config.mode == "min" else "max",
                factor=config.lr_factor,
                patience=config.lr_patience - 1,
                threshold=0.0,  # any strict improvement counts, as for early stopping
                min_lr=config.min_lr,
            )

    def check(self, model: TaskModel, has_val: bool) -> None:
        """Fail before training when the monitor names a metric validation never gives."""
        monitor = self.config.monitor
        if not monitor.startswith(("val_", "train_")):  # no such metric: refused after epoch 1
            shown = ", ".join(f"val_{name}" for name in model.metric_names() or ["loss"])
            raise ValueError(f"train.monitor {monitor!r} is not a metric: name a validation "
                             f"metric ({shown}) or a training one (train_loss)")
        if not monitor.startswith("val_") or (not has_val and monitor == "val_loss"):
            return
        if not has_val:
            raise ValueError(f"train.monitor {monitor!r} needs validation data; there is none")
        names = model.metric_names()
        if names is not None and monitor.removeprefix("val_") not in names:
            shown = ", ".join(f"val_{name}" for name in names)
            raise ValueError(f"train.monitor {monitor!r} is not a validation metric of"
                             f" {type(model).__name__}; choose one of {shown}, train_loss")

    def score(self, record: dict[str, float], has_val: bool) -> float:
        """The monitored value in an epoch's record (the training loss without validation)."""
        monitor = self.config.monitor
        if monitor not in record:
            if monitor != "val_loss" or has_val:
                shown = ", ".join(k for k in record if k not in ("epoch", "steps", "lr", "seconds"))
                raise ValueError(
                    f"train.monitor {monitor!r} is not a recorded metric; choose one of {shown}"
                )
            monitor = "train_loss"  # no validation data: the default falls back to training loss
        return record[monitor]

    def judge(self, result: TrainResult, score: float, epoch: int) -> bool:
        """Record epoch ``epoch``'s score; True when it is the best so far. Steps the learning
        rate schedule and sets ``result.stopped`` when patience runs out."""
        best = result.best  # a NaN score is no improvement, nor a best that none could beat
        improved = not math.isnan(score) and (
            best is None or (score < best if self.config.mode == "min" else score > best))
        if improved:
            result.best, result.best_epoch, self.bad_epochs = score, epoch, 0
        else:
            self.bad_epochs += 1
        if self.scheduler is not None:
            self.scheduler.step(score)
        if self.config.patience and self.bad_epochs >= self.config.patience:
            result.stopped = "early_stopping"
        return improved

    def state_dict(self) -> dict[str, Any]:
        """The checkpoint's ``scheduler`` and ``bad_epochs`` entries."""
        return {"scheduler": self.scheduler.state_dict() if self.scheduler else {},
                "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict[str, Any], result: TrainResult | None = None
                        ) -> None:
        """Restore the counters (best score, epochs without improvement, the current LR's
        history); the settings (``lr_patience``, ``lr_factor``, ``min_lr``) stay this run's,
        so a resumed run may change them. A run resumed with ``lr_patience`` where the earlier
        one had none judges the learning rate against the run's best score (``result``) and
        its epochs without improvement so far, as early stopping does, not from scratch."""
        self.bad_epochs = int(state["bad_epochs"])
        if self.scheduler and state["scheduler"]:
            saved = dict(state["scheduler"])
            for key in ("factor", "patience", "min_lrs", "default_min_lr"):
                if key in saved:
                    saved[key] = getattr(self.scheduler, key)
            self.scheduler.load_state_dict(saved)
        elif self.scheduler and result is not None and result.best is not None:
            self.scheduler.best = result.best
            self.scheduler.num_bad_epochs = self.bad_epochs
            self.scheduler.last_epoch = len(result.history)
