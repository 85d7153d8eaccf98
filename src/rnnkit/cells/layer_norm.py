"""Layer-normalised LSTM and GRU cells (Ba, Kiros & Hinton 2016).

PyTorch has no fused kernel for these, so a layer built from them runs rnnkit's time loop.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnkit import functional as RF
from rnnkit.cells.base import RecurrentCell, State, check_step_input


def _gain_shift(norm: nn.LayerNorm) -> tuple[Tensor, Tensor]:
    return norm.weight, norm.bias


class _LayerNormCell(RecurrentCell):
    """Weights ``weight_ih [G*H, I]`` and ``weight_hh [G*H, H]`` plus the normalisations."""

    num_gates = 1

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
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

    def forward(self, x: Tensor, state: State) -> State:
        check_step_input(self, x, state)
        return self.step(self.project_inputs(x), state)

    def project_inputs(self, x: Tensor) -> Tensor:
        """``LN_ih(W_ih x_t)`` for all steps: ``[T, B, I] -> [T, B, G*H]``."""
        return RF.layer_norm(RF.linear(x, self.weight_ih, None), _gain_shift(self.ln_ih))


class LayerNormLSTMCell(_LayerNormCell):
    """LSTM cell with layer normalisation on both projections and on the cell state.

    ::

        gates = LN_ih(W_ih x_t) + LN_hh(W_hh h_(t-1))      (order i|f|g|o)
        c_t   = f_t * c_(t-1) + i_t * g_t
        h_t   = o_t * tanh(LN_c(c_t))

    Shape:
        x: ``[B, I]``; state: ``(h, c)``, each ``[B, H]``; returns ``(h_t, c_t)``.

    Example:
        >>> import torch
        >>> cell = LayerNormLSTMCell(4, 8)
        >>> h, c = cell(torch.randn(2, 4), cell.initial_state(2))
        >>> h.shape
        torch.Size([2, 8])
    """

    num_gates = 4
    state_size = 2

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.ln_cell = nn.LayerNorm(hidden_size)
        self.reset_parameters()

    def step(self, x_projected: Tensor, state: State) -> State:
        h, c = state
        return RF.layer_norm_lstm_step_projected(
            x_projected, h, c, self.weight_hh, _gain_shift(self.ln_hh), _gain_shift(self.ln_cell)
        )


class LayerNormGRUCell(_LayerNormCell):
    """GRU cell with layer normalisation on the input and hidden projections.

    ::

        r_t, z_t from   LN_ih(W_ih x_t) + LN_hh(W_hh h_(t-1))       (order r|z|n)
        n_t = tanh(LN_ih(W_in x_t) + r_t * LN_hh(W_hn h_(t-1)))
        h_t = (1 - z_t) * n_t + z_t * h_(t-1)

    Shape:
        x: ``[B, I]``; state: ``(h,)`` with h ``[B, H]``; returns ``(h_t,)``.
    """

    num_gates = 3

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.reset_parameters()

    def step(self, x_projected: Tensor, state: State) -> State:
        return (
            RF.layer_norm_gru_step_projected(
                x_projected, state[0], self.weight_hh, _gain_shift(self.ln_hh)
            ),
        )
