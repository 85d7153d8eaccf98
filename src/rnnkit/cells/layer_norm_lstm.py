"""The layer-normalised LSTM cell."""

from __future__ import annotations

from torch import Tensor, nn

from rnnkit import functional as RF
from rnnkit.cells.base import State
from rnnkit.cells.layer_norm import LayerNormCell, gain_shift


class LayerNormLSTMCell(LayerNormCell):
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
        super().__init__(input_size, hidden_size)  # refuses 1 input or 1 unit (for which
        # LN(c_t) would also be its shift alone: c_t would never reach h_t)
        self.ln_cell = nn.LayerNorm(hidden_size)
        self.reset_parameters()

    def step(self, x_projected: Tensor, state: State) -> State:
        h, c = state
        return RF.layer_norm_lstm_step_projected(
            x_projected, h, c, self.weight_hh, gain_shift(self.ln_hh), gain_shift(self.ln_cell)
        )
