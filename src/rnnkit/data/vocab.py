"""Vocabularies: symbols <-> integer ids, built from training data, saved as JSON in bundles."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

PAD = "<pad>"
UNK = "<unk>"


class Vocab:
    """An ordered list of symbols with ``PAD`` at 0 and (optionally) ``UNK`` at 1.

    Example:
        >>> vocab = Vocab.build([["a", "b", "a"], ["c"]], min_count=2)
        >>> vocab.symbols, vocab.encode(["a", "z"])
        (['<pad>', '<unk>', 'a'], [2, 1])
    """

    def __init__(self, symbols: Sequence[str], unknown: bool = True) -> None:
        specials = [PAD, UNK] if unknown else [PAD]
        self.symbols = list(specials) + [s for s in symbols if s not in specials]
        self.index = {symbol: i for i, symbol in enumerate(self.symbols)}
        if len(self.index) != len(self.symbols):
            repeated = next(s for s, n in Counter(self.symbols).items() if n > 1)
            raise ValueError(f"Vocab: symbols must be unique, but {repeated!r} is given twice")
        self.unknown = unknown
        self.counts: dict[str, int] = {}

    @classmethod
    def build(
        cls,
        sequences: Iterable[Iterable[str]],
        min_count: int = 1,
        max_size: int | None = None,
        unknown: bool = True,
    ) -> Vocab:
        """Symbols seen at least ``min_count`` times, most frequent first (ties by first sight);
        at most ``max_size`` of them, ``PAD`` and ``UNK`` not counted (a literal ``<unk>`` in
        the data is the unknown symbol, not one of the ``max_size``)."""
        if max_size is not None and max_size < 1:  # 0 was no limit, -1 dropped the last
            raise ValueError(f"Vocab: max_size must be at least 1 (or None: no limit), got "
                             f"{max_size}")
        counts: Counter[str] = Counter()
        for sequence in sequences:
            counts.update(sequence)
        specials = (PAD, UNK) if unknown else (PAD,)
        kept = [s for s, n in counts.most_common() if n >= min_count and s not in specials]
        vocab = cls(kept[:max_size], unknown=unknown)
        vocab.counts = dict(counts)
        return vocab

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, symbol: str) -> bool:
        return symbol in self.index

    @property
    def unk_id(self) -> int:
        if not self.unknown:
            raise ValueError("this vocabulary has no unknown symbol")
        return 1

    def encode(self, symbols: Iterable[str]) -> list[int]:
        """Ids of the symbols; unknown ones map to ``UNK`` (an error if there is none). A
        literal ``PAD`` in the input is an unknown symbol too, never padding (id 0).

        Example:
            >>> Vocab(["cat"]).encode(["cat", "dog", "<pad>"])
            [2, 1, 1]
        """
        if self.unknown:
            return [self.index.get(s, 1) if s != PAD else 1 for s in symbols]
        ids = []
        for s in symbols:
            if s not in self.index or s == PAD:
                known = ", ".join(self.symbols[1:21])
                raise ValueError(f"unknown symbol {s!r}; known: {known}"
                                 + (" ..." if len(self.symbols) > 21 else ""))
            ids.append(self.index[s])
        return ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.symbols[i] for i in ids]

    def to_json(self) -> dict[str, Any]:
        return {"symbols": self.symbols, "unknown": self.unknown}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Vocab:
        return cls(data["symbols"], unknown=bool(data["unknown"]))
