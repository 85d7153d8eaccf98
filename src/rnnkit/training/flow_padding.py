"""The padded steps of a batch that :func:`~rnnkit.training.diagnostics.gradient_flow` leaves
out: the lengths a recurrent layer ran with (given to it, in a packed sequence, or declared by
its model: :meth:`~rnnkit.training.task.TaskModel.layer_lengths`), and each direction's
gradients put in the input's time order with the padded steps masked out.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from rnnkit.layers.lengths import check_lengths, reverse_index, reverse_padded, step_mask
from rnnkit.training.task import TaskModel


def lengths_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor | None:
    """The sequence lengths a :class:`~rnnkit.layers.recurrent.Recurrent` layer was called with
    (``args`` and ``kwargs`` of its forward; None: all full)."""
    given = args[0] if args else kwargs.get("input")
    if isinstance(given, PackedSequence):
        return pad_packed_sequence(given)[1]
    lengths = args[2] if len(args) > 2 else kwargs.get("lengths")
    return None if lengths is None else torch.as_tensor(lengths).long().cpu()


def one_series(runs: list[tuple[Tensor | None, bool]], directions: int, where: str
               ) -> Tensor | None:
    """The lengths of the layer's run; the steps of several runs join into one series only
    where each carries on from the state the previous one returned (a decoder fed one step at a
    time), in one direction over full sequences."""
    if not runs:
        raise ValueError(f"gradient_flow: {where} did not run in step(batch); name the layer "
                         "that computes the loss with layer=...")
    if len(runs) == 1:
        return runs[0][0]
    full = all(lengths is None for lengths, _ in runs)
    if directions == 1 and full and all(carried for _, carried in runs[1:]):
        return None
    raise ValueError(f"gradient_flow: {where} ran {len(runs)} times in one step(batch), and its "
                     "steps make one series only when every run carries on from the state the "
                     "previous one returned, in one direction and without lengths")


def model_lengths(model: TaskModel, batch: Any, layer: str, where: str, steps: int,
                  size: int) -> Tensor | None:
    """The real lengths the model declares for a layer that ran without any
    (:meth:`TaskModel.layer_lengths`: a decoder over padded targets), checked against the
    ``steps`` x ``size`` sequences the layer ran."""
    declared = model.layer_lengths(batch, layer)
    if declared is None:
        return None
    try:
        return check_lengths(declared, steps, size)
    except ValueError as error:
        raise ValueError(f"gradient_flow: {type(model).__name__}.layer_lengths(batch, "
                         f"{layer!r}) does not fit the {steps} steps of {size} sequences "
                         f"{where} ran: {error}") from None


def real_steps(grads: Tensor, given: Tensor | None, lengths: Tensor | None, backward: bool
               ) -> tuple[Tensor, Tensor | None]:
    """One direction's gradients in the input's time order, and which steps are real.

    Args:
        grads: the gradients of the direction's states, in the order its loop ran.
        given: the lengths the layer was given (None: it ran every sequence in full).
        lengths: the real lengths: ``given``, or those the model declares (None: all real).
        backward: the direction is the backward one.

    Returns:
        the gradients in the input's time order (a backward direction given lengths mapped
        back within each sequence's own), the padded steps zeroed and the steps after the
        longest sequence's last left out; and the real steps in the order the loop ran, as
        the gates were kept (None: every step is real).

    Shape:
        grads: ``[T, B, H]``; returned: ``[T', B, H]`` (``T'``: the longest length; T without) and
        ``[T, B, 1]``.
    """
    steps, real = grads.shape[0], None
    if given is not None and backward:  # the loop ran each sequence reversed in its length
        grads = reverse_padded(grads, reverse_index(given, steps, grads.device))
    elif backward:  # the loop ran the backward direction flipped
        grads = grads.flip(0)
    if lengths is not None:
        real = step_mask(lengths, steps, grads.device)  # in the input's time order
        grads = grads.masked_fill(~real, 0.0)
        if given is None and backward:
            real = real.flip(0)  # the gates are kept in the order the loop ran
        grads = grads[: int(lengths.max())]  # the steps after the longest: no one's
    return grads, real
