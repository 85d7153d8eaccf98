"""The time loop of the slow path: any :class:`~rnnkit.cells.RecurrentCell` run over a
padded batch one step at a time, padded steps carrying the state unchanged."""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.cells import RecurrentCell, State
from rnnkit.cells.base import check_step_input


def run_cell(
    cell: RecurrentCell,
    x: Tensor,
    state: State | None,
    mask: Tensor | None = None,
    recurrent_mask: Tensor | None = None,
) -> tuple[Tensor, State]:
    """Run one cell over time: the time loop of the slow path.

    Args:
        cell: any :class:`RecurrentCell`.
        x: inputs ``[T, B, I]``.
        state: the initial state, a tuple of ``[B, H]`` (None: zeros).
        mask: ``[T, B, 1]`` booleans, True on real steps; on padded steps the state is carried
            unchanged and the output is zero.
        recurrent_mask: ``[B, H]`` dropout mask applied to ``h_(t-1)`` where it meets the
            recurrent weights, at every step (variational dropout: the same mask for the whole
            sequence; see :meth:`RecurrentCell.step_dropped`).

    Returns:
        outputs ``[T, B, H]`` (``h_t`` for every t) and the final state.
    """
    if not isinstance(x, Tensor) or x.dim() != 3 or x.shape[2] != cell.input_size \
            or x.shape[0] == 0:
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        hint = " (one step: use the cell, cell(x, state))" if getattr(x, "ndim", 0) == 2 else ""
        raise ValueError(f"run_cell: expected x of shape [time, batch, {cell.input_size}], got"
                         f" {got}{hint}")
    widths = cell.state_widths()
    if not isinstance(state, tuple) or len(state) != len(widths) or not all(
            isinstance(s, Tensor) and s.shape == (x.shape[1], width)
            for s, width in zip(state, widths, strict=True)):
        state = check_step_input(cell, x[0], state)  # zeros for None, or a ValueError
    if mask is not None:  # padding never reaches the cell: a NaN there would make NaN gradients
        x = x.masked_fill(~mask, 0.0)
    projected = cell.project_inputs(x)  # [T, B, I] -> [T, B, *]
    outputs = []
    for t in range(x.shape[0]):
        if recurrent_mask is None:
            new_state = cell.step(projected[t], state)
        else:
            new_state = cell.step_dropped(projected[t], state, recurrent_mask)
        if t == 0:
            check_step_output(cell, new_state, state)
        if mask is not None:
            pairs = zip(new_state, state, strict=True)
            new_state = tuple(torch.where(mask[t], new, old) for new, old in pairs)
        state = new_state
        outputs.append(state[0])
    output = torch.stack(outputs)  # T x [B, H] -> [T, B, H]
    if mask is not None:
        output = output.masked_fill(~mask, 0.0)
    return output, state


def check_step_output(cell: RecurrentCell, new_state: object, state: State) -> None:
    """Name a cell whose first step returns no tuple of state tensors shaped as it was given
    (a wider state ran on silently, its output wider than the layer's hidden_size)."""
    method = "step" if type(cell).step is not RecurrentCell.step else "forward"
    name = f"{type(cell).__name__}.{method}"
    if not isinstance(new_state, tuple) or len(new_state) != len(state):
        raise ValueError(f"{name} must return a tuple of {len(state)} state tensor(s), got"
                         f" {type(new_state).__name__}")
    for new, old in zip(new_state, state, strict=True):
        if not isinstance(new, Tensor) or new.shape != old.shape:
            got = list(new.shape) if isinstance(new, Tensor) else type(new).__name__
            raise ValueError(f"{name} must return state tensors of the shape it is given,"
                             f" {list(old.shape)}; got {got}")
