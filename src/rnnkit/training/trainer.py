"""The one training loop every task uses.

Per batch: the model's loss (over the whole sequence, or window by window for truncated BPTT
with the carried state detached between windows), backward, the gradient norm measured before
clipping, clipping by norm and/or value, an optimizer step (and with ``train.ema_decay`` an
update of the weights' moving average, which validation and the best checkpoint then use).
Per epoch: validation, the best checkpoint, learning-rate reduction on plateau, early stopping
(the last three judged by :class:`~rnnkit.training.monitor.Monitor`). Checkpoints are atomic
and carry every RNG state and the running sums of the epoch in progress, so a resumed run ends
with the same weights and the same epoch records as an uninterrupted one. ``train.max_steps``
is checked before every optimizer step (each truncated-BPTT window included); a run stopped
by it mid-epoch leaves the epoch to the resumed run.

Started by ``torchrun`` the same loop trains data-parallel (:mod:`rnnkit.training.distributed`):
each process steps on its share of every global batch, DistributedDataParallel averages the
gradients, and rank 0 alone validates, logs and writes checkpoints.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from rnnkit.config import TrainConfig, check_train
from rnnkit.data.batching import SKIPPED, BatchSource
from rnnkit.training.averaging import WeightAverage
from rnnkit.training.checkpoint import (
    CheckpointError,
    atomic_write_text,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    seed_everything,
)
from rnnkit.training.diagnostics import json_safe
from rnnkit.training.distributed import join, resolve_device
from rnnkit.training.epoch_sums import EpochSums
from rnnkit.training.monitor import Monitor, TrainResult
from rnnkit.training.resume import built_from, check_built_from, restore_rank, stop_after_resume
from rnnkit.training.task import StepOutput, TaskModel, detach_state, move_to

_CPU = torch.device("cpu")


def _silent(line: str) -> None:
    """The log of every process but rank 0."""


class TrainingDiverged(RuntimeError):
    """The loss or the gradient became NaN or infinite."""


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    raise ValueError(f"optimizer must be adam, adamw or sgd, got {config.optimizer!r}")


class Trainer:
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
        self._started = time.perf_counter()

    # -- checkpoints ----------------------------------------------------------------------
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
        self.carried, self.sums = restore_rank(state, path, self.workers, self.config,
                                               self.result, carried_on, self.device, self.log)
        self.log(f"resumed from {path}: epoch {self.epoch + 1}, batch {self.batch_in_epoch}")
        return True

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
        """
        config = self.config
        self.monitor.check(self.model, val is not None)
        self._observe = observe or {}
        train = self.workers.shard(train)  # each process's share of every global batch
        started = time.perf_counter() - self.result.seconds
        self._started = started
        with self.workers.watch():  # a lost process: a clear error, not one from deep in torch
            while self.epoch < config.epochs and self.result.stopped == "completed":
                stats = self._train_epoch(train)
                if stats is None:
                    break  # stopped mid-epoch: the epoch is not over, a resumed run finishes it
                self._end_epoch(stats, val)  # also records the time, for the checkpoint
            self.result.seconds = time.perf_counter() - started
            if self.batch_in_epoch or self.window_in_batch:  # stopped mid-epoch (an epoch's
                self.save()  # end saves itself): the resume point, the last weights not the best
        best_file = self.run_dir / "best.pt" if self.run_dir is not None else None
        if best_file is not None and best_file.exists() and self.result.best_epoch > 0:
            self._load_model(load_checkpoint(best_file)["model"], best_file)
        elif self._best_weights is not None:
            self.model.load_state_dict(self._best_weights)
        elif self.average is not None:  # stopped before an epoch ended: the average so far
            self.model.load_state_dict(self.average.shadow)
        return self.result

    def _at_step_limit(self) -> bool:
        limit = self.config.max_steps
        if limit and self.result.steps >= limit:
            self.result.stopped = "max_steps"
            return True
        return False

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
            if self._at_step_limit():  # checked here, not after the last batch: an epoch whose
                bar.close()  # last batch took the last step still ends (and is validated)
                return None
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
                self.save()
        bar.close()
        if not given:  # its means would read 0: a perfect epoch, judged the best
            raise ValueError(f"the training data gave no batch in epoch {self.epoch + 1}, so "
                             "nothing trained; give it at least one batch (fewer items than "
                             "the batch size with drop_last give none)")
        self._at_step_limit()  # the epoch is over; the run stops after it if the limit is met
        names = sorted(sums.totals)  # summed over the processes: the means are global ones
        *summed_values, seen, weight = self.workers.sum(
            [sums.totals[name] for name in names] + [sums.count, sums.weight])
        summed = dict(zip(names, summed_values, strict=True))
        stats = {name: summed[name] / max(seen, 1) for name in names}
        stats["loss"] = summed["loss"] / weight if weight > 0 else 0.0  # over items or weights
        stats["grad_norm_max"] = max(self.result.grad_norms[sums.first_step:], default=0.0)
        return stats

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
            if self._at_step_limit():  # (never at a batch's first window: checked before)
                return  # window_in_batch: where a resumed run goes on
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
        self.optimizer.step()
        if self.average is not None:
            self.average.update(self.model)
        self.result.steps += 1

    def _check_finite(self, value: float, what: str) -> None:
        if math.isfinite(value):
            return
        kept = self.run_dir / "last.pt" if self.run_dir else None
        where = f"epoch {self.epoch + 1}, step {self.result.steps + 1}"
        clip = self.config.clip_norm
        hint = (f"lower train.lr or train.clip_norm (now {clip:g})" if clip
                else "lower train.lr or set train.clip_norm")
        kept_text = (f"; the last good checkpoint is kept at {kept} (--resume would repeat these"
                     " steps: it keeps train.lr and train.clip_norm)"
                     if kept and kept.exists() else "")
        raise TrainingDiverged(f"{what} became {value} at {where}; {hint}{kept_text}")

    def _end_epoch(self, stats: dict[str, float], val: BatchSource | None) -> None:
        record: dict[str, float] = {"epoch": self.epoch + 1, "steps": self.result.steps}
        record.update({f"train_{k}": v for k, v in stats.items()})
        # rank 0 scores, every process gets the scores: all take the same decisions below
        with self._averaged():
            record.update(self.workers.on_main(lambda: self._evaluate(val)))
        record["lr"] = self.optimizer.param_groups[0]["lr"]
        self.result.seconds = time.perf_counter() - self._started  # saved with the checkpoint
        record["seconds"] = round(self.result.seconds, 2)
        score = self.monitor.score(record, val is not None)
        self.result.history.append(record)
        self.epoch += 1
        self.batch_in_epoch = 0
        if self.monitor.judge(self.result, score, self.epoch):
            weights = self.average.shadow if self.average else self.model.state_dict()
            if self.run_dir is not None:  # only the weights: best.pt is never resumed from
                save_checkpoint({"model": weights}, self.run_dir / "best.pt")
            else:
                self._best_weights = {k: v.detach().clone() for k, v in weights.items()}
        self.save()
        self._write_metrics()
        shown = ", ".join(f"{k} {v:.4g}" for k, v in record.items() if k not in ("epoch",))
        self.log(f"epoch {record['epoch']}: {shown}")

    def _averaged(self) -> AbstractContextManager[None]:
        """The weights validation sees: the moving average if there is one."""
        return self.average.applied(self.model) if self.average else nullcontext()

    def _evaluate(self, val: BatchSource | None) -> dict[str, float]:
        """Validation scores (``val_*``) and those of every observed source."""
        record: dict[str, float] = {}
        sources = {"val": val} if val is not None else {}
        for name, source in {**sources, **self._observe}.items():
            metrics = self.model.evaluate(move_to(b, self.device) for b in source.batches(0))
            record.update({f"{name}_{k}": v for k, v in metrics.items()})
        return record

    def _write_metrics(self) -> None:
        """``metrics.jsonl``: one line per epoch of this run's history, rewritten atomically
        (appended to, it kept the lines of an earlier run in the same folder, and a crash
        mid-write left half a line); strict JSON, a NaN or infinite score written as null."""
        if self.run_dir is None:
            return
        atomic_write_text(self.run_dir / "metrics.jsonl", "".join(
            json.dumps(json_safe(record), allow_nan=False) + "\n"  # NaN: null
            for record in self.result.history))
