"""A finished seed of ``rnnkit train dqn`` on disk, so that ``--resume`` never trains it again.

A seed's outcome is everything the run's table, plots and ``results.json`` need of it: each
strategy's positions over the test period (its backtest and equity curve follow from them), the
agent's training record and the warnings about it. It is written atomically to
``seed-<k>/outcome.pt`` once the seed's agent and supervised models are all saved, and read back
with ``torch.load(weights_only=True)`` (tensors and plain values only): exactly the numbers the
seed produced (a NaN loss stays NaN), so a resumed run writes the same ``results.json`` as one
never stopped. A seed without the file trains again from its start.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnkit.training.checkpoint import CheckpointError, save_checkpoint

OUTCOME = "outcome.pt"  # in seed-<k>/


def save_outcome(folder: Path, seed: int, positions: dict[str, np.ndarray],
                 training: dict[str, Any], warnings: list[str]) -> Path:
    """Write one seed's outcome to ``folder/outcome.pt``, atomically."""
    state = {"seed": seed, "training": training, "warnings": list(warnings),
             "positions": {name: torch.from_numpy(np.ascontiguousarray(values).copy())
                           for name, values in positions.items()}}
    return save_checkpoint(state, folder / OUTCOME)


def clear_outcome(folder: Path) -> None:
    """Remove the outcome an earlier run saved in ``folder`` (and what a write killed
    half-way left there): a fresh run's ``--resume`` must never read it back as its own."""
    remove_partial_writes(folder)
    (folder / OUTCOME).unlink(missing_ok=True)


def remove_partial_writes(folder: Path) -> None:
    """Remove what a write of ``outcome.pt`` killed half-way left in ``folder``."""
    for leftover in folder.glob(f".{OUTCOME}.*.tmp"):
        leftover.unlink(missing_ok=True)


def load_outcome(folder: Path, seed: int, strategies: list[str], days: int
                 ) -> tuple[dict[str, np.ndarray], dict[str, Any], list[str]] | None:
    """The positions, training record and warnings a finished seed saved in ``folder``, or
    None where it did not finish (no ``outcome.pt``). ``strategies`` and ``days``: the
    positions this run needs, checked against the file's.

    Raises:
        CheckpointError: the file cannot be read, or holds another seed or period.
    """
    path = folder / OUTCOME
    remove_partial_writes(folder)
    if not path.is_file():
        return None
    again = f"delete {path} to train seed {seed} again, or start a new run without --resume"
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a bad file
        reason = (f"it is damaged: {str(error).strip().splitlines()[0][:200]}"
                  if zipfile.is_zipfile(path) else "it is truncated, or not a seed's outcome")
        raise CheckpointError(f"{path} cannot be read: {reason}; {again}") from None
    if not isinstance(state, dict) or state.get("seed") != seed:
        raise CheckpointError(f"{path} is not the outcome of seed {seed}; {again}")
    positions = {name: values.numpy() for name, values in state["positions"].items()}
    held = {name: len(values) for name, values in positions.items()}
    if sorted(held) != sorted(strategies) or set(held.values()) != {days}:
        raise CheckpointError(f"{path} holds the positions of {', '.join(sorted(held))} over "
                              f"{max(held.values(), default=0)} test days, but this run trades "
                              f"{', '.join(sorted(strategies))} over {days} (were the prices "
                              f"updated since?); {again}")
    return positions, state["training"], list(state["warnings"])
