"""The Trainer's optimizer steps: one per truncated-BPTT window of a batch (one per batch
without), and the ``train.max_steps`` limit checked before each.

:class:`TrainerSteps` is the part of :class:`~rnnkit.training.trainer.Trainer` that takes them:
the model's loss on the window with the carried state detached, in a distributed run each
process's share weighted so that DistributedDataParallel's average of the gradients is the
global batch's, backward, the gradient norm measured before clipping, clipping by norm and/or
value, the optimizer step and the update of the weights' moving average. A loss or gradient
norm that is not finite stops the run with :func:`~rnnkit.training.monitor.divergence_error`.
The Trainer sets every attribute it names below.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from rnnkit.config import TrainConfig
from rnnkit.training.averaging import WeightAverage
from rnnkit.training.distributed import Workers
from rnnkit.training.interruption import InterruptFlag
from rnnkit.training.monitor import TrainResult, divergence_error
from rnnkit.training.optimizer import take_step
from rnnkit.training.task import StepOutput, TaskModel, detach_state


class TrainerSteps:
    """Training a batch step by step (a base class of the Trainer)."""

    config: TrainConfig
    workers: Workers
    model: TaskModel
    optimizer: torch.optim.Optimizer
    average: WeightAverage | None
    run_dir: Path | None
    result: TrainResult
    epoch: int
    window_in_batch: int
    carried: Any
    interrupt: InterruptFlag
    _step: Callable[..., StepOutput]

    def _at_step_limit(self) -> bool:
        limit = self.config.max_steps
        if limit and self.result.steps >= limit:
            self.result.stopped = "max_steps"
            return True
        return False

    def _train_batch(self, batch: Any) -> Iterator[tuple[StepOutput, float]]:
        """One optimizer step per window (the whole batch without truncated BPTT). Leaves
        ``window_in_batch`` at the next window when ``max_steps`` stops it inside the batch
        (and starts there when a resumed run left off inside it)."""
        steps = self.config.tbptt_steps
        pieces = self.model.windows(batch, steps) if steps > 0 else [batch]
        workers = self.workers
        for window, piece in enumerate(pieces):
            if window < self.window_in_batch:
                continue  # resumed inside this batch: trained before the stop
            if self._at_step_limit() or (window and self.interrupt.requested):  # (at a batch's
                return  # first window, checked before) window_in_batch: where a run goes on
            out = self._step(piece, detach_state(self.carried))
            loss = float(out.loss.detach())  # one device sync per step
            weight = 1.0
            reported = loss  # what the epoch's train_loss adds up, times out.count (or, a
            # class-weighted mean, out.denominator: see EpochSums.add)
            if workers.distributed:  # the global batch's mean loss, this share's weight in it
                share = out.count if out.denominator is None else out.denominator
                loss_sum, total = workers.sum([loss * share, share])
                self._check_finite(loss_sum, "loss")  # on every process at once
                # DDP averages gradients over processes; weighting each share's mean by what
                # it is a mean over (its items, or their class weights) makes that average
                # the gradient of the global batch's mean
                weight = share * workers.world_size / total if total > 0 else 0.0
                if out.denominator is not None and total > 0:  # a weighted mean: the shares'
                    reported = loss_sum / total  # own means, times their counts, do not add
                    # up to the global batch's mean times its count as one process adds it
            self._check_finite(loss, "loss")
            self.optimizer.zero_grad(set_to_none=True)
            (out.loss * weight if weight != 1.0 else out.loss).backward()
            self._clip_and_step()
            self.carried = detach_state(out.state)
            self.window_in_batch = window + 1
            yield out, reported
        self.window_in_batch = 0

    def _clip_and_step(self) -> None:
        config = self.config
        params = [p for p in self.model.parameters() if p.grad is not None]
        norm = float(torch.nn.utils.clip_grad_norm_(params, config.clip_norm or math.inf))
        self.result.grad_norms.append(norm)
        self._check_finite(norm, "gradient norm")
        if config.clip_value > 0:
            torch.nn.utils.clip_grad_value_(params, config.clip_value)
        take_step(self.optimizer, config)
        if self.average is not None:
            self.average.update(self.model)
        self.result.steps += 1

    def _check_finite(self, value: float, what: str) -> None:
        if not math.isfinite(value):
            kept = self.run_dir / "last.pt" if self.run_dir else None
            where = f"epoch {self.epoch + 1}, step {self.result.steps + 1}"
            raise divergence_error(what, value, where, self.config.clip_norm, kept)
