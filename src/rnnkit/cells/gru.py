"""The gated recurrent unit cell."""

from __future__ import annotations

from torch import Tensor, nn

from rnnkit import functional as RF
from rnnkit.cells.base import State
from rnnkit.cells.standard import StandardCell


class GRUCell(StandardCell):
    """GRU cell; gates stacked ``r | z | n`` as in ``torch.nn.GRUCell``.

    ::

        r_t = sigmoid(W_ir x_t + b_ir + W_hr h_(t-1) + b_hr)          reset gate
        z_t = sigmoid(W_iz x_t + b_iz + W_hz h_(t-1) + b_hz)          update gate
        n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_(t-1) + b_hn))     candidate
        h_t = (1 - z_t) * n_t + z_t * h_(t-1)

    The reset gate scales ``W_hn h_(t-1) + b_hn``, as PyTorch and cuDNN do (so the fused kernel
    computes the same cell); Cho et al. (2014) apply it to ``h_(t-1)`` before ``W_hn``, which is
    another function of the same weights.

    Shape:
        x: ``[B, I]``; state: ``(h,)`` with h ``[B, H]``; returns ``(h_t,)``.

    Example:
        >>> import torch
        >>> cell = GRUCell(4, 8)
        >>> (h,) = cell(torch.randn(2, 4), cell.initial_state(2))
        >>> h.shape
        torch.Size([2, 8])
    """

    num_gates = 3
    fused_mode = "GRU"
    torch_class = nn.GRUCell

    def step(self, x_projected: Tensor, state: State) -> State:
        return (RF.gru_step_projected(x_projected, state[0], self.weight_hh, self.bias_hh),)

    def step_dropped(self, x_projected: Tensor, state: State, recurrent_mask: Tensor) -> State:
        """The mask on ``h`` in ``W_hh h`` only; the carry ``z_t * h_(t-1)`` keeps every unit."""
        return (RF.gru_step_projected(x_projected, state[0], self.weight_hh, self.bias_hh,
                                      recurrent_mask),)
