"""The long short-term memory cell."""

from __future__ import annotations

from torch import Tensor, nn

from rnnkit import functional as RF
from rnnkit.cells.base import State
from rnnkit.cells.standard import StandardCell


class LSTMCell(StandardCell):
    """LSTM cell with forget gate; gates stacked ``i | f | g | o`` as in ``torch.nn.LSTMCell``.

    ::

        i_t = sigmoid(W_ii x_t + b_ii + W_hi h_(t-1) + b_hi)     input gate
        f_t = sigmoid(W_if x_t + b_if + W_hf h_(t-1) + b_hf)     forget gate
        g_t = tanh(W_ig x_t + b_ig + W_hg h_(t-1) + b_hg)        candidate
        o_t = sigmoid(W_io x_t + b_io + W_ho h_(t-1) + b_ho)     output gate
        c_t = f_t * c_(t-1) + i_t * g_t
        h_t = o_t * tanh(c_t)

    Shape:
        x: ``[B, I]``; state: ``(h, c)``, each ``[B, H]``; returns ``(h_t, c_t)``.

    Example:
        >>> import torch
        >>> cell = LSTMCell(4, 8)
        >>> h, c = cell(torch.randn(2, 4), cell.initial_state(2))
        >>> h.shape, c.shape
        (torch.Size([2, 8]), torch.Size([2, 8]))
    """

    num_gates = 4
    state_size = 2
    fused_mode = "LSTM"
    torch_class = nn.LSTMCell

    def step(self, x_projected: Tensor, state: State) -> State:
        h, c = state
        return RF.lstm_step_projected(x_projected, h, c, self.weight_hh, self.bias_hh)
