"""Variable-length batches: checking lengths, masks, and reversing each sequence in place."""

from __future__ import annotations

import torch
from torch import Tensor


def check_lengths(
    lengths: Tensor | list[int], time_steps: int, batch_size: int, batch_first: bool = False
) -> Tensor:
    """Return lengths as a CPU int64 tensor ``[B]``; raise ``ValueError`` when they cannot be."""
    if not isinstance(lengths, Tensor) and hasattr(lengths, "to_numpy"):
        lengths = lengths.to_numpy(copy=True)  # a pandas Series: torch would index it by its labels
    try:
        lengths = torch.as_tensor(lengths).detach().to("cpu")
    except (TypeError, RuntimeError, ValueError) as error:
        raise ValueError(
            "lengths must be a 1-D tensor or list of ints, one per sequence, got"
            f" {lengths!r} ({error})"
        ) from None
    if lengths.dim() != 1 or lengths.shape[0] != batch_size:
        hint = ""
        if lengths.dim() == 1 and lengths.shape[0] == time_steps != batch_size:
            hint = (
                f" (the input was read as {'[B, T, I]' if batch_first else '[T, B, I]'}: is"
                f" batch_first={not batch_first} what you meant?)"
            )
        raise ValueError(
            f"lengths must be a 1-D tensor with one entry per sequence ({batch_size}),"
            f" got shape {tuple(lengths.shape)}{hint}"
        )
    if lengths.is_floating_point() or lengths.dtype == torch.bool:
        raise ValueError(f"lengths must hold integers, got dtype {lengths.dtype}"
                         " (convert them: lengths.long(), or .astype(int) for numpy/pandas)")
    lengths = lengths.long()
    if batch_size and int(lengths.min()) < 1:
        bad = int(torch.nonzero(lengths < 1)[0])
        raise ValueError(
            f"lengths[{bad}] = {int(lengths[bad])}: every sequence needs at least one step"
            " (drop empty sequences before batching)"
        )
    if batch_size and int(lengths.max()) > time_steps:
        bad = int(torch.nonzero(lengths > time_steps)[0])
        raise ValueError(
            f"lengths[{bad}] = {int(lengths[bad])} is longer than the input's {time_steps} time"
            " steps (pad the input to the longest sequence)"
        )
    return lengths


def step_mask(lengths: Tensor, time_steps: int, device: torch.device) -> Tensor:
    """``[T, B, 1]`` boolean: True where step t is a real step of sequence b."""
    steps = torch.arange(time_steps).unsqueeze(1)  # [T, 1]
    return (steps < lengths.unsqueeze(0)).unsqueeze(2).to(device)


def padding_mask(lengths: Tensor, time_steps: int, device: torch.device) -> Tensor:
    """``[B, T]`` boolean: True where step t is a real step of sequence b (batch-first)."""
    steps = torch.arange(time_steps, device=device)  # [T]
    return steps[None, :] < lengths.to(device)[:, None]  # [1, T] < [B, 1]


def reverse_index(lengths: Tensor, time_steps: int, device: torch.device) -> Tensor:
    """``[T, B]`` time index that reverses each sequence within its own length.

    Padded steps map to themselves, so reversing twice is the identity and padding never moves
    in front of real steps.
    """
    steps = torch.arange(time_steps).unsqueeze(1)  # [T, 1]
    flipped = lengths.unsqueeze(0) - 1 - steps  # [T, B]
    return torch.where(steps < lengths.unsqueeze(0), flipped, steps.expand_as(flipped)).to(device)


def reverse_padded(x: Tensor, index: Tensor) -> Tensor:
    """Reverse ``x [T, B, F]`` along time with a :func:`reverse_index`."""
    return x.gather(0, index.unsqueeze(2).expand_as(x))
