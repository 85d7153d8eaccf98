"""The one training loop every task uses.

Per batch (:mod:`rnnkit.training.trainer_steps`): the model's loss (over the whole sequence,
or window by window for truncated BPTT with the carried state detached between windows),
backward, the gradient norm measured before clipping, clipping by norm and/or value, an
optimizer step (and with ``train.ema_decay`` an update of the weights' moving average, which
validation and the best checkpoint then use).
Per epoch: validation, the best checkpoint, learning-rate reduction on plateau, early stopping
(the last three judged by :class:`~rnnkit.training.monitor.Monitor`). Checkpoints are atomic
and carry every RNG state and the running sums of the epoch in progress, so a resumed run ends
with the same weights and the same epoch records as an uninterrupted one. ``train.max_steps``
is checked before every optimizer step (each truncated-BPTT window included); a run stopped
by it mid-epoch leaves the epoch to the resumed run, as Ctrl-C does in a run of one process
(:mod:`rnnkit.training.interruption`: a checkpoint between two optimizer steps, then a stop;
during an epoch's validation, which may take minutes, the validation is dropped at its next
batch and the checkpoint is the point before it).

Started by ``torchrun`` the same loop trains data-parallel (:mod:`rnnkit.training.distributed`):
each process steps on its share of every global batch, DistributedDataParallel averages the
gradients, and rank 0 alone validates, logs and writes checkpoints.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from rnnkit.config import TrainConfig, check_train
from rnnkit.data.batching import SKIPPED, BatchSource
from rnnkit.training.averaging import WeightAverage
from rnnkit.training.checkpoint import rng_state, seed_everything, set_rng_state
from rnnkit.training.distributed import join
from rnnkit.training.environment import resolve_device
from rnnkit.training.epoch_sums import EpochSums
from rnnkit.training.interruption import (
    InterruptFlag,
    TrainingInterrupted,
    ValidationAbandoned,
    catch_interrupt,
)
from rnnkit.training.monitor import Monitor, TrainResult
from rnnkit.training.optimizer import make_optimizer
from rnnkit.training.same_settings import check_same_run, run_signature
from rnnkit.training.task import TaskModel, move_to
from rnnkit.training.trainer_checkpoints import TrainerCheckpoints
from rnnkit.training.trainer_steps import TrainerSteps


def _silent(line: str) -> None:
    """The log of every process but rank 0."""


class Trainer(TrainerSteps, TrainerCheckpoints):
    """Trains a :class:`TaskModel` on a :class:`BatchSource`.

    Args:
        model: the task model.
        config: the training options.
        run_dir: where ``last.pt``, ``best.pt`` and ``metrics.jsonl`` go; None keeps nothing.
        log: a function for one-line messages (``print`` by default).

    Example:
        >>> from rnnkit.config import ModelConfig
        >>> from rnnkit.data.batching import TensorBatches
        >>> from rnnkit.data.synthetic import make_split
        >>> from rnnkit.models.synthetic import SyntheticTaskModel
        >>> model = SyntheticTaskModel("adding", ModelConfig(cell="gru", hidden_size=8))
        >>> train = TensorBatches(make_split("adding", 64, 10, seed=0), batch_size=16)
        >>> config = TrainConfig(epochs=2, clip_norm=1.0, progress=False)
        >>> result = Trainer(model, config, log=lambda line: None).fit(train)
        >>> len(result.history), result.steps
        (2, 8)
    """

    def __init__(
        self,
        model: TaskModel,
        config: TrainConfig,
        run_dir: str | Path | None = None,
        log: Any = print,
    ) -> None:
        check_train(config)  # as the CLI checks it, for a TrainConfig built in Python too
        # (train.mode against train.monitor among them), before any process group, device or seed
        if config.threads > 0:
            torch.set_num_threads(config.threads)
        self.config = config
        self.workers = join(resolve_device(config.device))  # one process unless torchrun
        # each process draws its own dropout masks; rank 0 draws those of a one-process run
        seed_everything(config.seed + self.workers.rank)
        self.device = self.workers.device
        self.model = model.to(self.device)
        with self.workers.watch():  # DDP sends rank 0's weights: a peer lost is named here too
            check_same_run(self.workers, run_signature(config, self.model))  # or drift, or hang
            self._step = self.workers.wrap(self.model)  # model.step, through DDP if distributed
        self.optimizer = make_optimizer(model, config)
        self.average = WeightAverage(model, config.ema_decay) if config.ema_decay else None
        self.monitor = Monitor(config, self.optimizer)  # best epoch, LR plateau, early stop
        main = self.workers.is_main  # only rank 0 logs and writes files
        self.run_dir = Path(run_dir) if run_dir is not None and main else None
        self.log = log if main else _silent
        self.result = TrainResult()
        self.epoch = 0
        self.batch_in_epoch = 0  # batches of this epoch fully trained
        self.window_in_batch = 0  # truncated-BPTT windows of the next batch already trained
        self.sums = EpochSums()  # the epoch's running loss and metric sums
        self.carried: Any = None
        self._best_weights: dict[str, Any] | None = None
        self._observe: dict[str, BatchSource] = {}
        self.interrupt = InterruptFlag()  # raised by Ctrl-C while fit trains
        self._started = time.perf_counter()

    # -- the loop -------------------------------------------------------------------------
    def fit(
        self,
        train: BatchSource,
        val: BatchSource | None = None,
        observe: dict[str, BatchSource] | None = None,
    ) -> TrainResult:
        """Train until ``epochs``, ``max_steps`` or early stopping; return the run's record.

        ``observe`` names more sources (a test set, say) scored after every epoch for the
        record only (time-to-accuracy curves); they never steer selection or stopping.
        Ctrl-C in a run of one process raises :class:`TrainingInterrupted` between two
        optimizer steps, once ``last.pt`` holds that point (:meth:`resume` goes on from it).
        """
        config = self.config
        self.monitor.check(self.model, val is not None)
        clash = sorted({"train", "val"} & set(observe or {}))
        if clash:  # their scores would overwrite train_*/val_* and steer selection
            raise ValueError(f"observe names a source {clash[0]!r}, whose scores would replace"
                             f" the {clash[0]}_* ones; give it another name (test, say)")
        self._observe = observe or {}
        train = self.workers.shard(train)  # each process's share of every global batch
        self.result.earlier_seconds = self.result.seconds  # 0 unless resumed
        started = time.perf_counter() - self.result.seconds
        self._started = started
        saving = self.run_dir is not None
        with self.workers.watch(), catch_interrupt(not self.workers.distributed,
                                                   saving) as interrupt:
            self.interrupt = interrupt
            # a lost process: a clear error, not one from deep in torch; Ctrl-C: a flag
            check_same_run(self.workers, {"the training data's batches an epoch": len(train)})
            while (self.epoch < config.epochs and self.result.stopped == "completed"
                   and not interrupt.requested):
                stats = self._train_epoch(train)
                if stats is None or not self._end_epoch(stats, val):  # (it records the time)
                    break  # stopped mid-epoch or in its validation: a resumed run finishes it
            self.result.seconds = time.perf_counter() - started
            if self.batch_in_epoch or self.window_in_batch:  # stopped mid-epoch (an epoch's
                self.save()  # end saves itself): the resume point, the last weights not the best
            if interrupt.requested:  # after the checkpoint (an epoch's end: the epoch's own)
                raise TrainingInterrupted.at(self.result.steps, self.epoch, self.batch_in_epoch,
                                             self.window_in_batch, self.run_dir)
        self._restore_best()
        return self.result

    def _train_epoch(self, train: BatchSource) -> dict[str, float] | None:
        """The epoch's (rest of its) batches; its training means, or None when
        ``max_steps`` stopped it before its last batch."""
        config = self.config
        self.model.train()
        if self.batch_in_epoch == 0 and self.window_in_batch == 0:
            self.carried = None
            self.sums = EpochSums(first_step=len(self.result.grad_norms))
        sums = self.sums
        bar = tqdm(
            total=len(train),
            initial=self.batch_in_epoch,
            desc=f"epoch {self.epoch + 1}/{config.epochs}",
            disable=not config.progress or not self.workers.is_main,
            leave=False,
            unit="batch",
        )
        given = 0  # batches the source gave this epoch (those trained before a resume too)
        for index, batch in enumerate(train.batches(self.epoch)):
            given = index + 1
            if index < self.batch_in_epoch:
                continue  # resumed mid-epoch: these batches were already trained on
            if batch is SKIPPED and self.workers.distributed:  # a global batch too small to
                self.batch_in_epoch = index + 1  # share among the processes (its place kept,
                bar.update(1)  # so the count of global batches, where a resumed run goes on,
                continue  # is one process's)
            if self.interrupt.requested or self._at_step_limit():  # checked here, not after
                bar.close()  # the last batch: an epoch whose last batch took the last step
                return None  # still ends (and is validated)
            steps_before = self.result.steps
            if not self.model.carries_state and not self.window_in_batch:
                self.carried = None  # batches are independent: no state crosses between them
            for out, loss in self._train_batch(move_to(batch, self.device)):
                sums.add(out, loss)
            if self.window_in_batch:  # max_steps came between two windows of this batch
                bar.close()
                return None
            self.batch_in_epoch = index + 1
            bar.update(1)
            bar.set_postfix(loss=f"{sums.totals['loss'] / (sums.weight or 1):.4f}",
                            grad=f"{self.result.grad_norms[-1]:.3g}")
            every = config.checkpoint_every  # a batch of several TBPTT windows may pass a multiple
            if every and self.result.steps // every > steps_before // every:
                self.result.seconds = time.perf_counter() - self._started  # the resume's
                self.save()
        bar.close()
        if not given:  # its means would read 0: a perfect epoch, judged the best
            raise ValueError(f"the training data gave no batch in epoch {self.epoch + 1}, so "
                             "nothing trained; give it at least one batch (fewer items than "
                             "the batch size with drop_last give none)")
        if self.interrupt.requested:  # before validating: a resumed run validates the epoch
            return None
        self._at_step_limit()  # the epoch is over; the run stops after it if the limit is met
        names = sorted(sums.totals)  # summed over the processes: the means are global ones
        *summed_values, seen, weight = self.workers.sum(
            [sums.totals[name] for name in names] + [sums.count, sums.weight])
        summed = dict(zip(names, summed_values, strict=True))
        stats = {name: summed[name] / max(seen, 1) for name in names}
        stats["loss"] = summed["loss"] / weight if weight > 0 else 0.0  # over items or weights
        stats["grad_norm_max"] = max(self.result.grad_norms[sums.first_step:], default=0.0)
        return stats

    def _end_epoch(self, stats: dict[str, float], val: BatchSource | None) -> bool:
        """Validate, log and checkpoint the epoch just trained; False, the run's state as it
        was before validating (its random generators too), when Ctrl-C abandoned it."""
        record: dict[str, float] = {"epoch": self.epoch + 1, "steps": self.result.steps}
        record.update({f"train_{k}": v for k, v in stats.items()})
        generators = rng_state()  # a validation may draw: the resumed run's draws start here
        try:  # rank 0 scores, every process gets the scores: all take the same decisions below
            with self._averaged():
                record.update(self.workers.on_main(lambda: self._evaluate(val)))
        except ValidationAbandoned:  # the point before it is saved, a resumed run validates
            set_rng_state(generators)
            self.result.stopped = "completed"  # _train_epoch's max_steps check: done again
            return False
        record["lr"] = self.optimizer.param_groups[0]["lr"]
        self.result.seconds = time.perf_counter() - self._started  # saved with the checkpoint
        record["seconds"] = round(self.result.seconds, 2)
        score = self.monitor.score(record, val is not None)
        self.result.history.append(record)
        self.epoch += 1
        self.batch_in_epoch = 0
        improved = self.monitor.judge(self.result, score, self.epoch)
        self.save()  # before best.pt: a run killed between the two resumes from this epoch,
        if improved:  # whose weights rewrite best.pt (killed after a best.pt written first,
            self._keep_best()  # it went back to the epoch before, which best.pt was ahead of)
        self._write_metrics()
        shown = ", ".join(f"{k} {v:.4g}" for k, v in record.items() if k not in ("epoch",))
        self.log(f"epoch {record['epoch']}: {shown}")
        return True

    def _averaged(self) -> AbstractContextManager[None]:
        """The weights validation sees: the moving average if there is one."""
        return self.average.applied(self.model) if self.average else nullcontext()

    def _evaluate(self, val: BatchSource | None) -> dict[str, float]:
        """Validation scores (``val_*``) and those of every observed source; Ctrl-C stops it
        before its next batch (:class:`ValidationAbandoned`)."""
        record: dict[str, float] = {}
        sources = {"val": val} if val is not None else {}
        for name, source in {**sources, **self._observe}.items():
            metrics = self.model.evaluate(self._scored_batches(source))
            record.update({f"{name}_{k}": v for k, v in metrics.items()})
        return record

    def _scored_batches(self, source: BatchSource) -> Iterator[Any]:
        for batch in source.batches(0):
            if self.interrupt.requested:
                raise ValidationAbandoned
            yield move_to(batch, self.device)
