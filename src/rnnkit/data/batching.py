"""Batch sources: every epoch's batches, fixed by the seed and the epoch number.

The trainer asks a source for ``batches(epoch)``. Because the order depends only on
``(seed, epoch)``, a run resumed in the middle of an epoch sees exactly the batches it would
have seen without the interruption.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import torch
from torch import Tensor


class BatchSource(Protocol):
    """Anything that yields an epoch's batches in a reproducible order."""

    def batches(self, epoch: int) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


class TensorBatches:
    """Mini-batches of aligned tensors, cut along dimension 0, shuffled per epoch.

    Example:
        >>> import torch
        >>> source = TensorBatches((torch.arange(10), torch.arange(10) * 2), batch_size=4)
        >>> [len(x) for x, _ in source.batches(epoch=0)]
        [4, 4, 2]
    """

    def __init__(
        self,
        tensors: Sequence[Tensor],
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if not tensors:
            raise ValueError("TensorBatches needs at least one tensor")
        size = tensors[0].shape[0]
        if any(t.shape[0] != size for t in tensors):
            shapes = [tuple(t.shape) for t in tensors]
            raise ValueError(f"TensorBatches: tensors differ in their first dimension: {shapes}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.tensors = tuple(tensors)
        self.size = size
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last

    def __len__(self) -> int:
        if self.drop_last:
            return self.size // self.batch_size
        return -(-self.size // self.batch_size)

    def batches(self, epoch: int) -> Iterator[tuple[Tensor, ...]]:
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            order = torch.randperm(self.size, generator=generator)
        else:
            order = torch.arange(self.size)
        for index in range(len(self)):
            rows = order[index * self.batch_size : (index + 1) * self.batch_size]
            yield tuple(t[rows] for t in self.tensors)


def bucket_order(lengths: Sequence[int], batch_size: int, generator: torch.Generator | None
                 ) -> list[list[int]]:
    """Indices grouped into batches of similar length.

    With a generator: equal lengths in random order, and the batches shuffled; without one:
    sorted by length (for evaluation, where the order does not matter but padding does).
    """
    size = len(lengths)
    keys = torch.tensor(lengths, dtype=torch.float64)
    if generator is not None:
        keys = keys + torch.rand(size, generator=generator, dtype=torch.float64)
    order = torch.argsort(keys, stable=True).tolist()
    chunks = [order[i : i + batch_size] for i in range(0, size, batch_size)]
    if generator is not None:
        chunks = [chunks[i] for i in torch.randperm(len(chunks), generator=generator).tolist()]
    return chunks


class BucketBatches:
    """Batches of items of similar length, so little compute goes to padding.

    Args:
        items: the examples.
        collate: turns a list of items into one batch.
        lengths: each item's length.
        batch_size: items per batch.
        shuffle: new buckets and batch order every epoch (from ``seed`` and the epoch).
        seed: the shuffling seed.
    """

    def __init__(
        self,
        items: Sequence[Any],
        collate: Any,
        lengths: Sequence[int],
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if len(items) != len(lengths):
            raise ValueError("BucketBatches: one length per item is needed")
        self.items = items
        self.collate = collate
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed

    def __len__(self) -> int:
        return -(-len(self.items) // self.batch_size)

    def batches(self, epoch: int) -> Iterator[Any]:
        generator = None
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        for chunk in bucket_order(self.lengths, self.batch_size, generator):
            yield self.collate([self.items[i] for i in chunk])
