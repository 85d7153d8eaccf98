"""Batches for sequence classification: padded token ids or feature rows, lengths, targets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor


class ClassBatch(NamedTuple):
    """A padded batch of sequences.

    Attributes:
        inputs: ``[B, T]`` token ids (0 pads) or ``[B, T, F]`` numeric features (0 pads).
        lengths: ``[B]`` real lengths (at least 1).
        targets: ``[B]`` class ids (softmax, binary sigmoid), ``[B, K]`` 0/1 (multi-label) or
            ``[B, K]`` values (regression); an empty tensor when there are no targets.
    """

    inputs: Tensor
    lengths: Tensor
    targets: Tensor


class Encoded(NamedTuple):
    """One example: ids ``[T]`` or features ``[T, F]``, and its target (or None)."""

    inputs: Tensor
    target: Tensor | None


def collate(examples: Sequence[Encoded]) -> ClassBatch:
    """Pad a list of examples into one batch (the longest sets ``T``)."""
    lengths = torch.tensor([len(e.inputs) for e in examples], dtype=torch.long)
    if int(lengths.min()) < 1:
        raise ValueError("a sequence is empty; every example needs at least one step")
    first = examples[0].inputs
    shape = (len(examples), int(lengths.max()), *first.shape[1:])
    inputs = first.new_zeros(shape)
    for row, example in enumerate(examples):
        inputs[row, : len(example.inputs)] = example.inputs
    if examples[0].target is None:
        targets = torch.empty(0)
    else:
        targets = torch.stack([e.target for e in examples if e.target is not None])
    return ClassBatch(inputs, lengths, targets)
