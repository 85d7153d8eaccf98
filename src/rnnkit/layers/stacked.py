"""The loop path over a whole stack: every layer's cells run over time, the backward direction
on each sequence reversed within its own length, dropout between layers, packed input in and out.

:class:`~rnnkit.layers.Recurrent` calls :func:`run_stacked` when it does not run the fused kernel
(``kernel == "loop"``); :func:`~rnnkit.layers.loop.run_cell` runs each cell.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.cells import RecurrentCell, State
from rnnkit.layers.lengths import reverse_index, reverse_padded, step_mask
from rnnkit.layers.loop import run_cell


def run_stacked(
    cells: Sequence[RecurrentCell],
    input: Tensor | PackedSequence,
    states: tuple[Tensor, ...],
    lengths: Tensor | None,
    *,
    num_directions: int,
    batch_first: bool,
    dropout: float,
    recurrent_dropout: float,
    training: bool,
) -> tuple[Tensor | PackedSequence, tuple[Tensor, ...]]:
    """Run ``cells`` (one per layer and direction, layer 0 forward first) over ``input``.

    Args:
        cells: ``num_layers * num_directions`` cells; cell ``i`` is layer ``i // D``,
            direction ``i % D``.
        input: ``[T, B, I]`` (``[B, T, I]`` if batch_first) or a ``PackedSequence``.
        states: the initial state, one ``[L*D, B, width]`` tensor per state tensor of a cell
            (``h`` first: its width is the recurrent dropout mask's).
        lengths: ``[B]`` true lengths of a padded batch, or None (all full; ignored for a
            ``PackedSequence``, which carries its own).
        dropout: dropout on each layer's output except the last's.
        recurrent_dropout: variational dropout on ``h_(t-1)``: a fresh mask per layer and
            direction, reused at every step.
        training: whether dropout acts.

    Shape:
        output: ``[T, B, D*H]`` (``[B, T, D*H]`` if batch_first), zero on padded steps, or a
            ``PackedSequence`` for one.
        final states: shaped as ``states``.
    """
    num_layers, width = len(cells) // num_directions, states[0].shape[-1]
    packed = input if isinstance(input, PackedSequence) else None
    if packed is not None:
        x, lengths = pad_packed_sequence(packed)  # [T, B, I], in the caller's order
    else:
        assert isinstance(input, Tensor)
        x = input.transpose(0, 1) if batch_first else input  # -> [T, B, I]
    time_steps, batch = x.shape[:2]
    mask = step_mask(lengths, time_steps, x.device) if lengths is not None else None
    reverse = None
    if num_directions == 2 and lengths is not None:
        reverse = reverse_index(lengths, time_steps, x.device)
    finals: list[State] = []
    layer_input = x
    for layer in range(num_layers):
        outputs = []
        for direction in range(num_directions):
            index = layer * num_directions + direction
            cell = cells[index]
            seq = layer_input
            if direction == 1:
                seq = reverse_padded(seq, reverse) if reverse is not None else seq.flip(0)
            dropped = recurrent_dropout_mask(batch, width, recurrent_dropout, training, x)
            out, final = run_cell(cell, seq, tuple(s[index] for s in states), mask, dropped)
            if direction == 1:
                out = reverse_padded(out, reverse) if reverse is not None else out.flip(0)
            outputs.append(out)
            finals.append(final)
        layer_input = torch.cat(outputs, dim=2) if len(outputs) > 1 else outputs[0]
        if dropout > 0 and layer < num_layers - 1:
            layer_input = F.dropout(layer_input, dropout, training)
    final_states = tuple(torch.stack([f[k] for f in finals]) for k in range(len(states)))
    if packed is not None:
        assert lengths is not None
        order = packed.sorted_indices
        ordered = layer_input if order is None else layer_input.index_select(1, order)
        ordered_lengths = lengths if order is None else lengths[order.cpu()]
        data = pack_padded_sequence(ordered, ordered_lengths).data
        return (
            PackedSequence(data, packed.batch_sizes, order, packed.unsorted_indices),
            final_states,
        )
    output = layer_input.transpose(0, 1) if batch_first else layer_input
    return output, final_states


def recurrent_dropout_mask(
    batch: int, hidden_size: int, recurrent_dropout: float, training: bool, like: Tensor
) -> Tensor | None:
    """A ``[B, H]`` variational dropout mask (kept entries scaled by ``1/(1-p)``), or None when
    not training or ``recurrent_dropout`` is 0."""
    if not training or recurrent_dropout == 0:
        return None
    keep = 1.0 - recurrent_dropout
    shape = (batch, hidden_size)
    return torch.bernoulli(like.new_full(shape, keep)) / keep
