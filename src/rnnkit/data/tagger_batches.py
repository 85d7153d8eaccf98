"""Sentences -> id tensors for the tagger: words, characters per word, and tags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from rnnkit.data.vocab import Vocab

MAX_WORD_CHARS = 30  # longer words keep their first 30 characters (URLs, hashtags)


class TaggerBatch(NamedTuple):
    """A padded batch of sentences.

    Shape:
        words ``[B, T]`` (0 = padding), chars ``[B, T, L]``, lengths ``[B]``, tags ``[B, T]``.
    """

    words: Tensor
    chars: Tensor
    lengths: Tensor
    tags: Tensor


@dataclass(frozen=True)
class EncodedSentence:
    words: np.ndarray  # [n]
    chars: np.ndarray  # [n, longest word]
    tags: np.ndarray  # [n]

    def __len__(self) -> int:
        return len(self.words)


def word_form(token: str, lowercase: bool) -> str:
    """The key of a token in the word vocabulary."""
    return token.lower() if lowercase else token


def encode(
    tokens: Sequence[str],
    tags: Sequence[str] | None,
    words: Vocab,
    chars: Vocab,
    tag_vocab: Vocab,
    lowercase: bool,
) -> EncodedSentence:
    """One sentence as ids; without tags (prediction) the tag ids are padding."""
    if not tokens:
        raise ValueError("cannot tag an empty sentence")
    spelled = [chars.encode(t[:MAX_WORD_CHARS]) for t in tokens]
    char_ids = np.zeros((len(tokens), max(1, max(len(c) for c in spelled))), dtype=np.int64)
    for t, ids in enumerate(spelled):
        char_ids[t, : len(ids)] = ids
    return EncodedSentence(
        words=np.array(words.encode(word_form(t, lowercase) for t in tokens), dtype=np.int64),
        chars=char_ids,
        tags=np.array(tag_vocab.encode(tags) if tags is not None else [0] * len(tokens),
                      dtype=np.int64),
    )


def collate(sentences: Sequence[EncodedSentence]) -> TaggerBatch:
    """Pad a list of encoded sentences into one batch."""
    batch = len(sentences)
    steps = max(len(s) for s in sentences)
    letters = max(s.chars.shape[1] for s in sentences)
    words = np.zeros((batch, steps), dtype=np.int64)
    tags = np.zeros((batch, steps), dtype=np.int64)
    chars = np.zeros((batch, steps, letters), dtype=np.int64)
    for b, sentence in enumerate(sentences):
        n, width = sentence.chars.shape
        words[b, :n] = sentence.words
        tags[b, :n] = sentence.tags
        chars[b, :n, :width] = sentence.chars
    lengths = torch.tensor([len(s) for s in sentences])
    return TaggerBatch(torch.from_numpy(words), torch.from_numpy(chars), lengths,
                       torch.from_numpy(tags))
