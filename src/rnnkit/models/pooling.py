"""Pooling over time: one vector per sequence from the encoder's outputs, padding excluded.

``last``: the final state (for a bidirectional encoder, the forward state after the last real
step and the backward state after the first); ``max`` and ``mean`` over the real steps;
``attention``: a learned weighted mean, ``a_t = softmax_t(v . tanh(W o_t))`` (Yang et al. 2016).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

POOLINGS = ("last", "max", "mean", "attention")


def last_state(final: Tensor | tuple[Tensor, ...], directions: int) -> Tensor:
    """The top layer's final hidden state, directions concatenated.

    Shape:
        final: ``h_n [L*D, B, H]`` (or ``(h_n, c_n)``) -> ``[B, D*H]``.
    """
    h_n = final[0] if isinstance(final, tuple) else final
    top = h_n[-directions:]  # [D, B, H]
    return top.transpose(0, 1).reshape(top.shape[1], -1)  # [D, B, H] -> [B, D*H]


READOUTS = ("final_state", "last_output")


def window_state(outputs: Tensor, final: Tensor | tuple[Tensor, ...], directions: int,
                 readout: str = "final_state") -> Tensor:
    """``[B, D*H]``: what a head reads of a window an encoder ran over.

    ``final_state``: each direction's state after the whole window (:func:`last_state`).
    ``last_output``: the outputs at the last step, where a backward direction has read only the
    last input: the readout of window models saved before rnnkit 0.1's final-state fix, kept so
    that their bundles predict as they did (for one direction the two are the same).
    """
    if readout == "last_output":
        return outputs[:, -1]
    if readout != "final_state":
        raise ValueError(f"readout must be one of {', '.join(READOUTS)}, not {readout!r}")
    return last_state(final, directions)


class Pooling(nn.Module):
    """Pool ``[B, T, F]`` encoder outputs into ``[B, F]``.

    Args:
        kind: one of ``last``, ``max``, ``mean``, ``attention``.
        size: the feature size ``F`` (used by attention).
        directions: 1 or 2 (used by ``last``).

    Example:
        >>> pool = Pooling("mean", 2, 1)
        >>> outputs = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [9.0, 9.0]]])
        >>> pool(outputs, torch.tensor([[True, True, False]]), None).tolist()
        [[2.0, 3.0]]
    """

    def __init__(self, kind: str, size: int, directions: int) -> None:
        super().__init__()
        if kind not in POOLINGS:
            raise ValueError(f"classifier.pooling must be one of {', '.join(POOLINGS)},"
                             f" got {kind!r}")
        self.kind, self.directions = kind, directions
        self.attention: nn.Sequential | None = None
        if kind == "attention":
            self.attention = nn.Sequential(nn.Linear(size, size), nn.Tanh(),
                                           nn.Linear(size, 1, bias=False))

    def forward(self, outputs: Tensor, mask: Tensor,
                final: Tensor | tuple[Tensor, ...] | None) -> Tensor:
        """Shape: outputs ``[B, T, F]``, mask ``[B, T]`` (True on real steps) -> ``[B, F]``."""
        if self.kind == "last":
            if final is None:
                raise ValueError("last-state pooling needs the encoder's final state")
            return last_state(final, self.directions)
        if self.kind == "max":
            return outputs.masked_fill(~mask.unsqueeze(2), float("-inf")).amax(dim=1)
        if self.kind == "mean":
            summed = (outputs * mask.unsqueeze(2)).sum(dim=1)  # [B, T, F] -> [B, F]
            return summed / mask.sum(dim=1, keepdim=True).clamp(min=1)
        assert self.attention is not None
        scores = self.attention(outputs).squeeze(2)  # [B, T, F] -> [B, T]
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
        return torch.bmm(weights.unsqueeze(1), outputs).squeeze(1)  # [B, 1, T] @ [B, T, F]
