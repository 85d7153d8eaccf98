"""Attention over a source sentence's encoder states, for an encoder-decoder.

Scores between a decoder state ``q`` and each encoder state ``k_s``:

* ``dot`` (Luong et al. 2015): ``q . k_s`` (needs equal sizes);
* ``general`` (Luong et al. 2015): ``q . (W k_s)``;
* ``additive`` (Bahdanau et al. 2015): ``v . tanh(W_q q + W_k k_s)``.

Padded source positions get weight exactly 0. The parts that depend on the source only
(``W k_s``) are computed once per sentence by :meth:`Attention.keys` and reused at every step.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

SCORES = ("dot", "general", "additive")


class Attention(nn.Module):
    """Weights over source positions and the weighted sum (context) of encoder states.

    Args:
        query_size: size of the decoder state ``q``.
        memory_size: size of each encoder state (``2H`` for a bidirectional encoder).
        score: ``dot``, ``general`` or ``additive``.

    Shape:
        - memory: ``[B, S, M]``, mask: ``[B, S]`` (True at real tokens), query: ``[B, Q]``
        - output: context ``[B, M]``, weights ``[B, S]`` (each row sums to 1)

    Example:
        >>> attention = Attention(4, 6, "additive")
        >>> memory, mask = torch.randn(2, 5, 6), torch.ones(2, 5, dtype=torch.bool)
        >>> context, weights = attention(torch.randn(2, 4), memory, attention.keys(memory), mask)
        >>> tuple(context.shape), tuple(weights.shape)
        ((2, 6), (2, 5))
    """

    def __init__(self, query_size: int, memory_size: int, score: str = "general") -> None:
        super().__init__()
        if score not in SCORES:
            raise ValueError(f"attention score must be one of {', '.join(SCORES)}, got {score!r}")
        if score == "dot" and query_size != memory_size:
            raise ValueError(
                f"dot attention needs equal decoder ({query_size}) and encoder ({memory_size})"
                " state sizes; use general or additive attention (a bidirectional encoder's"
                " states are twice the hidden size)"
            )
        self.score = score
        self.key_projection: nn.Linear | None = None
        self.query_projection: nn.Linear | None = None
        self.energy: nn.Linear | None = None
        if score == "general":
            self.key_projection = nn.Linear(memory_size, query_size, bias=False)
        elif score == "additive":
            self.key_projection = nn.Linear(memory_size, query_size, bias=True)
            self.query_projection = nn.Linear(query_size, query_size, bias=False)
            self.energy = nn.Linear(query_size, 1, bias=False)

    def keys(self, memory: Tensor) -> Tensor:
        """The source-only part of the scores, once per sentence: ``[B, S, M] -> [B, S, Q]``."""
        return memory if self.key_projection is None else self.key_projection(memory)

    def forward(self, query: Tensor, memory: Tensor, keys: Tensor, mask: Tensor
                ) -> tuple[Tensor, Tensor]:
        if self.energy is not None and self.query_projection is not None:
            hidden = torch.tanh(keys + self.query_projection(query).unsqueeze(1))  # [B, S, Q]
            scores = self.energy(hidden).squeeze(2)  # [B, S, 1] -> [B, S]
        else:
            scores = torch.bmm(keys, query.unsqueeze(2)).squeeze(2)  # [B, S, Q] @ [B, Q, 1]
        scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=1)  # [B, S]
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)  # [B, 1, S] @ [B, S, M]
        return context, weights

    def attend_all(self, queries: Tensor, memory: Tensor, keys: Tensor, mask: Tensor
                   ) -> tuple[Tensor, Tensor]:
        """Every decoder step at once (no input feeding): queries ``[B, T, Q]`` -> contexts
        ``[B, T, M]`` and weights ``[B, T, S]``."""
        if self.energy is not None and self.query_projection is not None:
            projected = self.query_projection(queries)  # [B, T, Q]
            hidden = torch.tanh(keys.unsqueeze(1) + projected.unsqueeze(2))  # [B, T, S, Q]
            scores = self.energy(hidden).squeeze(3)  # [B, T, S, 1] -> [B, T, S]
        else:
            scores = torch.bmm(queries, keys.transpose(1, 2))  # [B, T, Q] @ [B, Q, S]
        scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = torch.softmax(scores, dim=2)  # [B, T, S]
        return torch.bmm(weights, memory), weights  # [B, T, S] @ [B, S, M] -> [B, T, M]
