"""The time loop of the slow path: any :class:`~rnnkit.cells.RecurrentCell` run over a
padded batch one step at a time, padded steps carrying the state unchanged."""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.cells import RecurrentCell, State


def run_cell(
    cell: RecurrentCell,
    x: Tensor,
    state: State,
    mask: Tensor | None = None,
    recurrent_mask: Tensor | None = None,
) -> tuple[Tensor, State]:
    """Run one cell over time: the time loop of the slow path.

    Args:
        cell: any :class:`RecurrentCell`.
        x: inputs ``[T, B, I]``.
        state: the initial state, a tuple of ``[B, H]``.
        mask: ``[T, B, 1]`` booleans, True on real steps; on padded steps the state is carried
            unchanged and the output is zero.
        recurrent_mask: ``[B, H]`` dropout mask applied to ``h_(t-1)`` where it meets the
            recurrent weights, at every step (variational dropout: the same mask for the whole
            sequence; see :meth:`RecurrentCell.step_dropped`).

    Returns:
        outputs ``[T, B, H]`` (``h_t`` for every t) and the final state.
    """
    if mask is not None:  # padding never reaches the cell: a NaN there would make NaN gradients
        x = x.masked_fill(~mask, 0.0)
    projected = cell.project_inputs(x)  # [T, B, I] -> [T, B, *]
    outputs = []
    for t in range(x.shape[0]):
        if recurrent_mask is None:
            new_state = cell.step(projected[t], state)
        else:
            new_state = cell.step_dropped(projected[t], state, recurrent_mask)
        if t == 0 and (not isinstance(new_state, tuple) or len(new_state) != len(state)):
            raise ValueError(
                f"{type(cell).__name__}.step must return a tuple of {len(state)} state tensor(s),"
                f" got {type(new_state).__name__}"
            )
        if mask is not None:
            pairs = zip(new_state, state, strict=True)
            new_state = tuple(torch.where(mask[t], new, old) for new, old in pairs)
        state = new_state
        outputs.append(state[0])
    output = torch.stack(outputs)  # T x [B, H] -> [T, B, H]
    if mask is not None:
        output = output.masked_fill(~mask, 0.0)
    return output, state
