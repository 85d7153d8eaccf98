"""What the layer-normalised cells share (Ba, Kiros & Hinton 2016).

PyTorch has no fused kernel for these cells, so a layer built from them runs rnnkit's time loop.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnkit import functional as RF
from rnnkit.cells.base import RecurrentCell, State, check_step_input


def gain_shift(norm: nn.LayerNorm) -> tuple[Tensor, Tensor]:
    return norm.weight, norm.bias


class LayerNormCell(RecurrentCell):
    """Weights ``weight_ih [G*H, I]`` and ``weight_hh [G*H, H]`` plus the normalisations."""

    num_gates = 1

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        if input_size < 2:  # LN(x w) = sign(x) LN(w) but where |x| is near 0: the value is lost
            raise ValueError(f"{type(self).__name__}: input_size must be at least 2, got "
                             f"{input_size}: layer norm of W_ih x over a single input feature "
                             "keeps only the sign of x, never its size; add input features, "
                             "or drop layer norm (layer_norm=False, model.layer_norm=false)")
        if hidden_size < 2:  # LN(h w) = sign(h) LN(w): the gates would see h_(t-1)'s sign alone
            raise ValueError(f"{type(self).__name__}: hidden_size must be at least 2, got "
                             f"{hidden_size}: layer norm of W_hh h over a single unit keeps "
                             "only the sign of h_(t-1), so the gates never see its size")
        rows = self.num_gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size))
        self.ln_ih = nn.LayerNorm(rows)
        self.ln_hh = nn.LayerNorm(rows)

    def reset_parameters(self) -> None:
        """Weights uniform in ``[-1/sqrt(H), 1/sqrt(H)]``; gains 1, shifts 0."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        nn.init.uniform_(self.weight_ih, -bound, bound)
        nn.init.uniform_(self.weight_hh, -bound, bound)
        for module in self.modules():
            if isinstance(module, nn.LayerNorm):
                module.reset_parameters()

    def forward(self, x: Tensor, state: State | None = None) -> State:
        """One step; ``state`` None starts from zeros."""
        state = check_step_input(self, x, state)
        return self.step(self.project_inputs(x), state)

    def project_inputs(self, x: Tensor) -> Tensor:
        """``LN_ih(W_ih x_t)`` for all steps: ``[T, B, I] -> [T, B, G*H]``."""
        return RF.layer_norm(RF.linear(x, self.weight_ih, None), gain_shift(self.ln_ih))
