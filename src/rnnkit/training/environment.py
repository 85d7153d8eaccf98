"""Where this process runs: its rank and world size as torchrun set them, and its device.

The environment variables ``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK`` (set by ``torchrun``, or by
``rnnkit train <task> --nproc N``, which starts it) and the ``train.device`` setting, read
with clear errors. :mod:`rnnkit.training.distributed` joins the process group from them.
"""

from __future__ import annotations

import os

import torch

from rnnkit.config import check_device


def environment_number(name: str, default: int) -> int:
    """The whole number in the environment variable ``name`` (``default`` when unset)."""
    raw = os.environ.get(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"the environment variable {name} must be a whole number, got "
                         f"{raw!r}; unset it unless a launcher such as torchrun set it"
                         ) from None


def environment_world_size() -> int:
    """How many processes torchrun started (1 when it did not start this one)."""
    return environment_number("WORLD_SIZE", 1)


def environment_rank() -> int:
    """This process's rank as torchrun set it (0 when torchrun did not start this one)."""
    return environment_number("RANK", 0) if environment_world_size() > 1 else 0


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present; ``cuda`` without a GPU is a clear error."""
    check_device(name)  # the same words as the configuration's check
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu:0":  # the same device, named as the model's tensors will name it
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"train.device {name!r}: no CUDA GPU is available here; use cpu or "
                         "auto")
    device = torch.device(name)
    if device.type == "cuda" and device.index is not None and \
            device.index >= torch.cuda.device_count():
        count = torch.cuda.device_count()
        raise ValueError(f"train.device {name!r}: this machine has {count} GPU(s), numbered "
                         f"0 to {count - 1}; use one of them, or cuda")
    return device
