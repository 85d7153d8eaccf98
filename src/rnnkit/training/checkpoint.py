"""Checkpoints: written atomically, read without executing code, with every RNG state.

A checkpoint is a ``torch.save`` file of tensors and plain values only, read back with
``torch.load(weights_only=True)``. It is first written to a temporary file in the same folder,
flushed to disk, then renamed over the old one: a crash mid-write leaves the previous
checkpoint intact, never a broken file.
"""

from __future__ import annotations

import errno
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
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it into place.

    An existing path that is not a regular file (``/dev/null``, a named pipe) is written in
    place: renaming over it would replace the device or pipe with a file."""
    path = Path(path)
    if path.exists() and not path.is_file():
        with open(path, "wb") as file:
            write(file)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                             dir=path.parent)
    except OSError as error:  # name the file asked for, not the temporary one
        raise type(error)(error.errno, error.strerror, str(path)) from None
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp makes 0600: keep the mode of the file replaced, else honour the umask
        os.chmod(temporary, path.stat().st_mode & 0o7777 if path.is_file() else 0o666 & ~_umask())
        os.replace(temporary, path)
    except OSError as error:  # a full disk mid-write names no file: name the one asked for
        Path(temporary).unlink(missing_ok=True)
        if error.errno is None or error.filename is not None:
            raise
        raise type(error)(error.errno, error.strerror, str(path)) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` as UTF-8 atomically (:func:`atomic_write_bytes`)."""
    data = text.encode("utf-8")
    return atomic_write_bytes(path, lambda file: file.write(data))


def write_output(path: str | Path, write: Any) -> Path:
    """Write a user's output file (predictions, a forecast, scores, a plot) with
    ``write(file)``, atomically where the file can be replaced (:func:`atomic_write_bytes`):
    a crash or Ctrl-C mid-write leaves the old file or the new one, never part of one. A
    symbolic link's target is replaced (the link kept). An existing file is written in place
    where it cannot be replaced: a file of one's own in a folder of others', and
    ``/dev/stdout`` or ``/proc/self/fd/N``, or a link to one (replacing the file behind
    them would cut the open descriptor off). A file one may not write (``chmod a-w``) is
    refused, as writing it in place was, not replaced."""
    given = Path(path)
    target = Path(os.path.realpath(given))  # a link's target is the file to replace
    special = (("dev",), ("proc",))  # the path given, or where it leads (a link to
    # /dev/stdout, a path through ..): a pipe's is /proc/PID/fd/pipe:[N], which is no file
    if given.exists() and (given.absolute().parts[1:2] in special
                           or target.parts[1:2] in special
                           or not os.access(target.parent, os.W_OK | os.X_OK)):
        with open(given, "wb") as file:
            write(file)
    else:
        if target.is_file() and not os.access(target, os.W_OK):  # the rename would ignore it
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(given))
        atomic_write_bytes(target, write)
    return given


def write_output_text(path: str | Path, text: str) -> Path:
    """Write ``text`` as UTF-8 to a user's output file (:func:`write_output`)."""
    data = text.encode("utf-8")
    return write_output(path, lambda file: file.write(data))


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
