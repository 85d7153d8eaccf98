"""Batch sources: every epoch's batches, fixed by the seed and the epoch number.

The trainer asks a source for ``batches(epoch)``. Because the order depends only on
``(seed, epoch)``, a run resumed in the middle of an epoch sees exactly the batches it would
have seen without the interruption.

For training on several processes, ``shard(rank, world_size)`` gives one process its share of
every global batch: the global batches are those one process would see (same seed, same
order), and process ``rank`` takes the items ``rank, rank + world_size, ...`` of each, so the
shares of one batch are about equal in size and, for length buckets, in length. A global batch
with fewer items than processes (one at most) is left out: TensorBatches' is the epoch's last;
BucketBatches' may come anywhere in the epoch, so its shards yield ``None`` in its place
(:data:`SKIPPED`): the trainer counts it, and its count of the epoch's global batches (where a
run resumed on another number of processes goes on) stays that of one process.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, TypeVar

import torch
from torch import Tensor

SKIPPED = None  # a shard's place-holder for a global batch too small to share


class BatchSource(Protocol):
    """Anything that yields an epoch's batches in a reproducible order."""

    def batches(self, epoch: int) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


SourceT = TypeVar("SourceT", "TensorBatches", "BucketBatches")


def _sharded(source: SourceT, rank: int, world_size: int, items: int) -> SourceT:
    """A copy of ``source`` (of ``items`` items) that yields process ``rank``'s share of every
    global batch."""
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"shard: rank must be in 0..{world_size - 1}, got rank {rank} of"
                         f" world_size {world_size}")
    if 0 < items < world_size:  # every global batch too small to share: nothing to train on
        raise ValueError(
            f"the training data has {items} item(s), fewer than the {world_size} processes"
            f" that share every batch, so none would train on anything; "
            + (f"use --nproc {items} or fewer, or more training data" if items > 1
               else "train in one process, or on more training data")
        )
    if source.batch_size < world_size:
        raise ValueError(
            f"the batch size ({source.batch_size}) is smaller than the number of processes"
            f" ({world_size}): each global batch is split among them; raise train.batch_size"
            " or use fewer processes"
        )
    shard = copy.copy(source)
    shard.rank, shard.world_size = rank, world_size
    return shard


def _global_batches(size: int, batch_size: int, drop_last: bool, world_size: int) -> int:
    """How many global batches ``size`` items make, leaving out one too small to share."""
    full, rest = divmod(size, batch_size)
    return full + (rest > 0 and not drop_last and rest >= world_size)


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
        self.rank, self.world_size = 0, 1

    def __len__(self) -> int:
        return _global_batches(self.size, self.batch_size, self.drop_last, self.world_size)

    def shard(self, rank: int, world_size: int) -> TensorBatches:
        """Process ``rank``'s share (rows ``rank::world_size``) of every global batch.

        Example:
            >>> import torch
            >>> source = TensorBatches((torch.arange(10),), batch_size=4, shuffle=False)
            >>> [x.tolist() for x, in source.shard(1, 2).batches(epoch=0)]
            [[1, 3], [5, 7], [9]]
        """
        return _sharded(self, rank, world_size, self.size)

    def batches(self, epoch: int) -> Iterator[tuple[Tensor, ...]]:
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            order = torch.randperm(self.size, generator=generator)
        else:
            order = torch.arange(self.size)
        for index in range(len(self)):
            rows = order[index * self.batch_size : (index + 1) * self.batch_size]
            rows = rows[self.rank :: self.world_size]
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


PADDED_TOKENS = 2**20  # an evaluation batch's rows times its longest item, at most


def within_budget(chunks: list[list[int]], lengths: Sequence[int],
                  padded_tokens: int = PADDED_TOKENS) -> list[list[int]]:
    """Split :func:`bucket_order`'s sorted chunks (no generator) so that no batch holds more
    than ``padded_tokens`` once padded: its rows times its longest item, but for an item
    longer than that alone, which is a batch by itself. Each batch is padded to its longest
    item, so a text of 360,000 words sorted among 50 short ones (a quote left open in a CSV)
    made a batch of 51 rows of 360,000 steps: 17.8 GB. Batches of IMDB's reviews (256 rows of
    at most about 2,800 words) stay whole.

    Example:
        >>> within_budget([[0, 1, 2]], [1, 2, 8], padded_tokens=8)
        [[0, 1], [2]]
    """
    batches = []
    for chunk in chunks:
        batch: list[int] = []
        for index in chunk:  # shortest first: the item added is the batch's longest
            if batch and (len(batch) + 1) * lengths[index] > padded_tokens:
                batches.append(batch)
                batch = []
            batch.append(index)
        batches.append(batch)
    return batches


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
        self.rank, self.world_size = 0, 1

    def __len__(self) -> int:
        """The global batches of an epoch, one too small to share included (a shard yields
        :data:`SKIPPED` for it)."""
        return _global_batches(len(self.items), self.batch_size, False, 1)

    def shard(self, rank: int, world_size: int) -> BucketBatches:
        """Process ``rank``'s share of every global batch: every ``world_size``-th item of a
        length bucket, so each process still pads little, and all get similar lengths. The
        global batch with fewer items than processes (the remainder of the last, longest
        bucket; it comes anywhere in the shuffled order) is left out: :data:`SKIPPED` (None)
        takes its place, so the shard's batches keep the whole source's numbering."""
        return _sharded(self, rank, world_size, len(self.items))

    def batches(self, epoch: int) -> Iterator[Any]:
        generator = None
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        for chunk in bucket_order(self.lengths, self.batch_size, generator):
            if len(chunk) < self.world_size:  # too small to share: left out, but counted
                yield SKIPPED
            else:
                yield self.collate([self.items[i] for i in chunk[self.rank :: self.world_size]])


def stream_columns(stream: Tensor, columns: int) -> Tensor:
    """A stream cut into ``columns`` contiguous columns, time-major, as truncated BPTT reads it.

    Column ``j`` holds the ``j``-th of ``columns`` equal consecutive parts of the stream; the
    tail that does not fill a row is dropped.

    Shape:
        stream: ``[N, *]`` -> ``[N // columns, columns, *]``

    Example:
        >>> stream_columns(torch.arange(7), 2).tolist()
        [[0, 3], [1, 4], [2, 5]]
    """
    if columns < 1:
        raise ValueError(f"columns must be >= 1, got {columns}")
    rows = stream.shape[0] // columns
    parts = stream[: rows * columns].reshape(columns, rows, *stream.shape[1:])  # [C, R, *]
    return parts.transpose(0, 1)  # [C, R, *] -> [R, C, *]


def shard_stream(stream: Tensor, rank: int, world_size: int, columns: int) -> Tensor:
    """Process ``rank``'s contiguous part of a stream, cut into its share of the columns.

    A stream model trained on ``world_size`` processes with ``columns`` columns in all gives
    each process ``columns // world_size`` of them: process ``rank`` reads one contiguous part
    of the stream, and its columns are exactly the columns ``stream_columns(stream, columns)``
    gives one process, at ``rank * columns // world_size ...`` So the carried states, the
    windows and the gradients are those of a one-process run.

    Shape:
        stream: ``[N, *]`` -> ``[N // columns, columns // world_size, *]``

    Example:
        >>> shard_stream(torch.arange(9), rank=1, world_size=2, columns=4).tolist()
        [[4, 6], [5, 7]]
    """
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"shard_stream: rank must be in 0..{world_size - 1}, got {rank}")
    if columns % world_size:
        raise ValueError(f"the stream's {columns} columns cannot be shared equally by"
                         f" {world_size} processes; choose a batch size divisible by it")
    rows = stream.shape[0] // columns
    share = columns // world_size
    part = stream[rank * share * rows : (rank + 1) * share * rows]  # one contiguous part
    return stream_columns(part, share)
