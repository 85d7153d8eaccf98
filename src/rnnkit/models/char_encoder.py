"""Character-level word features: every word, seen or not, gets a vector from its spelling.

A bidirectional LSTM over the characters of each word (Lample et al. 2016), or a convolution
with max-pooling over them (Ma & Hovy 2016). Only the real words of a batch are encoded, packed
by word length, so no compute goes to padding.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from rnnkit.layers import LSTM

CHAR_ENCODERS = ("lstm", "cnn")


class CharEncoder(nn.Module):
    """Characters of each word -> one vector per word.

    Args:
        num_chars: size of the character vocabulary (0 = padding).
        char_dim: character embedding size.
        hidden_size: per direction for ``lstm`` (output ``2H``); filters for ``cnn`` (output ``H``).
        kind: ``lstm`` or ``cnn``.

    Shape:
        chars: ``[B, T, L]`` character ids (0 = padding); word_mask: ``[B, T]`` True on real words;
        output: ``[B, T, output_size]``, zero on padded words.
    """

    def __init__(self, num_chars: int, char_dim: int, hidden_size: int, kind: str = "lstm") -> None:
        super().__init__()
        if kind not in CHAR_ENCODERS:
            raise ValueError(f"char encoder must be one of {CHAR_ENCODERS}, got {kind!r}")
        self.kind = kind
        self.embedding = nn.Embedding(num_chars, char_dim, padding_idx=0)
        self.lstm: LSTM | None = None
        self.conv: nn.Conv1d | None = None
        if kind == "lstm":
            self.lstm = LSTM(char_dim, hidden_size, bidirectional=True, batch_first=True)
            self.output_size = 2 * hidden_size
        else:
            self.conv = nn.Conv1d(char_dim, hidden_size, kernel_size=3, padding=1)
            self.output_size = hidden_size

    def forward(self, chars: Tensor, word_mask: Tensor) -> Tensor:
        batch, steps, _ = chars.shape
        words = chars[word_mask]  # [B, T, L] -> [N, L], the real words only
        lengths = (words != 0).sum(1).clamp(min=1)
        embedded = self.embedding(words)  # [N, L, C]
        if self.lstm is not None:
            # packed here, as the layer packs a padded batch and its (CPU) lengths, so that the
            # outputs come back packed: padded out to [N, L, 2H], which nothing reads (h_n
            # alone is), they took a fifth of a tagger's forward
            packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True,
                                          enforce_sorted=False)
            _, (h_n, _) = self.lstm(packed)  # h_n: [2, N, H]
            features = torch.cat([h_n[0], h_n[1]], dim=1)  # [N, 2H]
        else:
            assert self.conv is not None
            convolved = self.conv(embedded.transpose(1, 2))  # [N, C, L] -> [N, F, L]
            pad = (words == 0).unsqueeze(1)  # [N, 1, L]
            features = convolved.masked_fill(pad, float("-inf")).amax(dim=2)  # [N, F]
            features = torch.tanh(features)
        output = features.new_zeros(batch, steps, self.output_size)
        output[word_mask] = features  # [N, D] -> [B, T, D]
        return output
