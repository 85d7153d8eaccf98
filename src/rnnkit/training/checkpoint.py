"""Checkpoints: written atomically, read without executing code, with every RNG state.

A checkpoint is a ``torch.save`` file of tensors and plain values only, read back with
``torch.load(weights_only=True)``. It is first written to a temporary file in the same folder,
flushed to disk, then renamed over the old one: a crash mid-write leaves the previous
checkpoint intact, never a broken file.
"""

from __future__ import annotations

import os
import random
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read, with the file and the reason."""


def atomic_write_bytes(path: str | Path, write: Any) -> Path:
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; honour the umask
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` as UTF-8 atomically (:func:`atomic_write_bytes`)."""
    data = text.encode("utf-8")
    return atomic_write_bytes(path, lambda file: file.write(data))


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def save_checkpoint(state: dict[str, Any], path: str | Path) -> Path:
    """Write a checkpoint dictionary atomically."""
    return atomic_write_bytes(path, lambda file: torch.save(state, file))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint; never unpickles code. Raises :class:`CheckpointError` if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a bad file
        if not zipfile.is_zipfile(path):
            reason = "it is truncated, or not a checkpoint at all"
        elif "weights_only" in str(error):  # torch's advice (weights_only=False) is not ours
            reason = "it holds objects other than tensors and plain values, which could run code"
        else:
            reason = f"it is damaged: {str(error).strip().splitlines()[0][:200]}"
        raise CheckpointError(f"checkpoint {path} cannot be read: {reason}. Delete it to train "
                              "from scratch, or give another --out") from None
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"checkpoint {path} is not an rnnkit training checkpoint")
    return state


def rng_state() -> dict[str, Any]:
    """Every random generator the training loop touches, in a weights_only-safe form."""
    name, keys, *rest = np.random.get_state(legacy=True)
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": [name, torch.from_numpy(np.asarray(keys).copy()), *rest],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` captured."""
    random.setstate(_as_tuple(state["python"]))
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, keys.numpy(), *rest))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():  # a run saved with more GPUs in view
        torch.cuda.set_rng_state_all(state["cuda"][: torch.cuda.device_count()])


def _as_tuple(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_as_tuple(v) for v in value)
    return value


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
