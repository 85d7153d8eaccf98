"""One long text as a stream of token ids, batched into ``[T, B]`` columns for language models.

The stream is cut into ``B`` equal columns (the tail that does not fill a column is dropped), as
in pytorch/examples ``word_language_model``. Column ``b`` continues from one window to the next,
so a model can carry its state across windows (truncated BPTT).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import NamedTuple

import torch
from torch import Tensor

from rnnkit.data.vocab import Vocab
from rnnkit.plural import plural

LEVELS = ("char", "word")
EOS = "<eos>"  # word level: the end of a line


class StreamBatch(NamedTuple):
    """One window of a batched stream.

    Attributes:
        inputs: ``[T, B]`` token ids.
        targets: ``[T, B]`` the next token of each input.
    """

    inputs: Tensor
    targets: Tensor


def tokenize(text: str, level: str) -> list[str]:
    """Characters, or whitespace-separated words with ``<eos>`` at each line end.

    Example:
        >>> tokenize("to be\\nor", "word")
        ['to', 'be', '<eos>', 'or']
    """
    if level == "char":
        return list(text)
    if level == "word":
        tokens: list[str] = []
        lines = text.split("\n")
        for index, line in enumerate(lines):
            tokens.extend(line.split())
            if index < len(lines) - 1:  # a line break follows this line
                tokens.append(EOS)
        return tokens
    raise ValueError(f"lm.level must be one of {', '.join(LEVELS)}, got {level!r}")


def detokenize(tokens: list[str], level: str) -> str:
    """The inverse of :func:`tokenize` (word level: single spaces between words).

    Example:
        >>> detokenize(["a", "<eos>", "<eos>", "<eos>", "b"], "word")
        'a\\n\\n\\nb'
    """
    if level == "char":
        return "".join(tokens)
    lines: list[list[str]] = [[]]
    for token in tokens:
        if token == EOS:
            lines.append([])
        else:
            lines[-1].append(token)
    return "\n".join(" ".join(words) for words in lines)


def split_text(text: str, validation_fraction: float, level: str = "char") -> tuple[str, str]:
    """The first ``1 - fraction`` of the text for training, the rest for validation; at word
    level the cut moves back to the start of the word it falls in, so no word is split in two.

    Example:
        >>> split_text("to be or not", 0.1), split_text("to be or not", 0.1, "word")
        (('to be or n', 'ot'), ('to be or ', 'not'))
    """
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"data.validation_fraction must be in (0, 1), got {validation_fraction}")
    cut = int(len(text) * (1.0 - validation_fraction))
    if level == "word" and cut < len(text):  # (a fraction below 1e-16 rounds it to the end)
        start = cut
        while start > 0 and not text[start - 1].isspace() and not text[start].isspace():
            start -= 1
        cut = start or cut  # one long word: cut it where the fraction says
    return text[:cut], text[cut:]


def batchify(ids: list[int], batch_size: int, setting: str = "train.batch_size") -> Tensor:
    """The stream as ``[N, B]`` columns: column ``b`` holds ids ``b*N .. (b+1)*N - 1``
    (``setting``: the key that chose ``batch_size``, for the error of a text too short).

    Shape:
        ids: ``[L]`` -> ``[N, B]`` with ``N = L // B``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    columns = len(ids) // batch_size
    if columns < 2:
        raise ValueError(
            f"a text of {plural(len(ids), 'token')} is too short for "
            f"{plural(batch_size, 'column')} of at least 2"
            f" tokens; use more text or a smaller {setting}"
        )
    data = torch.tensor(ids[: columns * batch_size], dtype=torch.long)
    return data.view(batch_size, columns).t().contiguous()  # [B, N] -> [N, B]


class StreamBatches:
    """Consecutive windows of ``steps`` time steps over a batched stream, in order.

    Every epoch starts at a random offset below ``steps`` (from the seed and the epoch; none
    without ``shuffle``), so window boundaries differ between epochs.

    Example:
        >>> source = StreamBatches(list(range(20)), batch_size=2, steps=4, shuffle=False)
        >>> [tuple(b.inputs.shape) for b in source.batches(0)]
        [(4, 2), (4, 2), (1, 2)]
    """

    def __init__(self, ids: list[int], batch_size: int, steps: int, shuffle: bool = True,
                 seed: int = 0, setting: str = "train.batch_size") -> None:
        if steps < 1:
            raise ValueError(f"steps must be >= 1 (data.steps), got {steps}")
        self.data = batchify(ids, batch_size, setting)  # [N, B]
        self.steps = steps
        self.shuffle = shuffle
        self.seed = seed

    def __len__(self) -> int:
        """Windows per epoch (an epoch whose offset splits the last window has one more)."""
        return -(-(self.data.shape[0] - 1) // self.steps)

    def shard(self, rank: int, world_size: int) -> StreamBatches:
        """Process ``rank``'s columns of the same stream, for distributed training: one
        contiguous part of the text (the columns
        :func:`~rnnkit.data.batching.shard_stream` gives it), with the same windows and
        offsets as every other process, so the carried states are those of one process.

        Example:
            >>> source = StreamBatches(list(range(12)), batch_size=4, steps=2, shuffle=False)
            >>> next(source.shard(1, 2).batches(0)).inputs.t().tolist()
            [[6, 7], [9, 10]]
        """
        columns = self.data.shape[1]
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"rank must be in 0..{world_size - 1}, got {rank}")
        if columns % world_size:
            raise ValueError(f"the stream's {columns} columns (train.batch_size) cannot be "
                             f"shared equally by {world_size} processes; choose a batch size "
                             "divisible by the process count")
        share = columns // world_size
        part = copy.copy(self)
        part.data = self.data[:, rank * share:(rank + 1) * share]
        return part

    def batches(self, epoch: int) -> Iterator[StreamBatch]:
        offset = 0
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            offset = int(torch.randint(0, self.steps, (1,), generator=generator))
        last = self.data.shape[0] - 1  # the last position that still has a target
        # the first window is shorter by the offset
        starts = [0, *range(self.steps - offset if offset else self.steps, last, self.steps)]
        for start, end in zip(starts, [*starts[1:], last], strict=True):
            yield StreamBatch(self.data[start:end], self.data[start + 1 : end + 1])

    def tokens(self) -> int:
        """How many tokens one epoch predicts."""
        return (self.data.shape[0] - 1) * self.data.shape[1]

    def predicted(self, token_id: int) -> int:
        """How many of the tokens one epoch predicts are ``token_id`` (a column's first token
        is given, never predicted; the tail that fills no column is not read)."""
        return int((self.data[1:] == token_id).sum())


def build_stream_vocab(tokens: list[str], level: str, min_count: int = 1) -> Vocab:
    """Characters: every training character, no ``<unk>``; words: ``<unk>`` for rare words.

    A word vocabulary must keep a word: with ``<unk>`` (and ``<eos>``) alone, a model has
    nothing to generate and its perplexity measures nothing.
    """
    if level == "char":
        return Vocab.build([tokens], unknown=False)
    vocab = Vocab.build([tokens], min_count=min_count, unknown=True)
    if len(vocab) - 2 - (EOS in vocab) > 0:  # beyond <pad>, <unk> and <eos>
        return vocab
    words = {word: count for word, count in vocab.counts.items() if word != EOS}
    if not words:
        raise ValueError("the training text holds no word, only line breaks; use more text or"
                         " a smaller data.validation_fraction")
    top = max(words, key=lambda word: words[word])
    raise ValueError(f"data.min_count={min_count} keeps no word of the training text (the most "
                     f"frequent, {top!r}, seen {words[top]} times); lower data.min_count")
