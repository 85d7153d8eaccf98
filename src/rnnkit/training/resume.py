"""What a resumed run takes from its checkpoint beside the weights and the optimizer.

Three decisions :meth:`~rnnkit.training.trainer.Trainer.resume` leaves to this file: whether
the checkpoint's model was built from the same data (:func:`check_built_from`), why the run
stops now that this run's limits apply (:func:`stop_after_resume`), and each process's RNG
state, carried recurrent state and epoch sums, from a checkpoint written by as many processes
or by another number (:func:`restore_rank`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from rnnkit.config import TrainConfig
from rnnkit.training.checkpoint import CheckpointError, seed_everything, set_rng_state
from rnnkit.training.distributed import Workers
from rnnkit.training.epoch_sums import EpochSums
from rnnkit.training.monitor import TrainResult
from rnnkit.training.task import move_to


def built_from(model: Any) -> str | None:
    """The model's bundle configuration (its vocabularies and scalers, which the run built
    from its data) as JSON; None for a model that cannot be bundled, or whose configuration
    is no JSON (a set, a NumPy integer: its checkpoints are written, unchecked, as before)."""
    try:
        return json.dumps(model.bundle_config(), sort_keys=True)
    except (NotImplementedError, TypeError, ValueError):
        return None


def check_built_from(saved: str | None, now: str | None, path: str | Path) -> None:
    """Refuse a checkpoint whose model was built from other data (a vocabulary or scaler of
    the same size but other contents would load its weights onto the wrong ids). A saved
    ``classifier`` section's ``calibrate`` is left out: the checkpoints of 810a046's rnnkit kept
    it there, where a bundle no longer does (it acts after training only, so no weights depend
    on it)."""
    if saved is None or now is None or saved == now:
        return
    earlier, current = json.loads(saved), json.loads(now)
    if isinstance(earlier.get("classifier"), dict):
        earlier["classifier"].pop("calibrate", None)
    if earlier == current:
        return
    keys = sorted(key for key in {*earlier, *current} if earlier.get(key) != current.get(key))
    raise CheckpointError(
        f"{path} was written by a model built from other data or settings (these parts of "
        f"its configuration differ from this run's: {', '.join(keys)}); was the data file "
        "changed since? Resume with the data the run started with, or drop --resume or "
        "use a new --out")


def stop_after_resume(result: TrainResult, config: TrainConfig, bad_epochs: int,
                      mid_epoch: bool) -> str:
    """The resumed run's stop reason: the earlier run's step limit and patience do not bind
    this one. A larger ``max_steps`` or a longer patience goes on training; a shorter patience
    already used up stops it at once (as it would have at that epoch's end)."""
    stopped = result.stopped
    limit = config.max_steps
    if stopped == "max_steps" and not (limit and result.steps >= limit):
        stopped = "completed"
    patience = config.patience
    out_of_patience = bool(patience and bad_epochs >= patience)
    if stopped == "early_stopping" and not out_of_patience:
        stopped = "completed"
    elif stopped == "completed" and out_of_patience and not mid_epoch:
        stopped = "early_stopping"
    return stopped


def restore_rank(state: dict[str, Any], path: str | Path, workers: Workers,
                 config: TrainConfig, result: TrainResult, carried_on: bool,
                 device: torch.device, log: Callable[[str], None]) -> tuple[Any, EpochSums]:
    """Set this process's RNG state from the checkpoint; return its carried recurrent state
    and its sums of the epoch in progress.

    A checkpoint of another number of processes resumes with the same data order but other
    dropout draws; one whose carried recurrent state goes on into the next window, or the
    next batch of a model that carries state from batch to batch (``carried_on``), needs the
    same number (that state belongs to each process's share of the batch)."""
    ranks = state.get("ranks") or [
        {"rng": state["rng"], "carried": state["carried"], "sums": state.get("sums")}]
    rank, world_size = workers.rank, workers.world_size
    if len(ranks) == world_size:
        set_rng_state(ranks[rank]["rng"])
        return (move_to(ranks[rank]["carried"], device),
                EpochSums.from_json(ranks[rank].get("sums"), result))
    carried = any(saved.get("carried") is not None for saved in ranks)
    if carried and carried_on:
        raise CheckpointError(
            f"{path} was written by {len(ranks)} process(es) in the middle of an epoch "
            f"and carries each one's recurrent state into the next batch or window; "
            f"resume it with --nproc {len(ranks)}, or from a checkpoint at the end of "
            f"an epoch")
    log(f"{path} was written by {len(ranks)} process(es), this run has"
        f" {world_size}: the data order is the same, dropout draws differ")
    # the epoch's running sums all go to rank 0 (the epoch means are their sum)
    merged = EpochSums.merged([saved.get("sums") for saved in ranks], result)
    if rank == 0:
        set_rng_state(ranks[0]["rng"])
        return None, merged
    seed_everything(config.seed + rank + 1_000_003 * result.steps)  # fresh draws, not its
    # earlier ones; the others' sums start at zero, with rank 0's names: the epoch's end sums
    # them by name
    return None, EpochSums(dict.fromkeys(merged.totals, 0.0), 0, merged.first_step)
