"""The long short-term memory cell."""

from __future__ import annotations

import numbers

import torch
from torch import Tensor, nn

from rnnkit import functional as RF
from rnnkit.cells.base import State, check_sizes
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

    With ``proj_size`` P > 0 (Sak et al. 2014, ``torch.nn.LSTM``'s ``proj_size``), ``h_t`` is
    projected down to P features by ``weight_hr [P, H]``: ``h_t = W_hr (o_t * tanh(c_t))``, and
    ``weight_hh`` is ``[4H, P]``.

    Shape:
        x: ``[B, I]``; state: ``(h, c)``, ``h`` ``[B, P or H]``, ``c`` ``[B, H]``; returns
        ``(h_t, c_t)``.

    Example:
        >>> import torch
        >>> cell = LSTMCell(4, 8)
        >>> h, c = cell(torch.randn(2, 4), cell.initial_state(2))
        >>> h.shape, c.shape
        (torch.Size([2, 8]), torch.Size([2, 8]))
        >>> h, c = LSTMCell(4, 8, proj_size=3)(torch.randn(2, 4))
        >>> h.shape, c.shape
        (torch.Size([2, 3]), torch.Size([2, 8]))
    """

    num_gates = 4
    state_size = 2
    fused_mode = "LSTM"
    torch_class = nn.LSTMCell

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 proj_size: int = 0) -> None:
        check_sizes(type(self).__name__, input_size, hidden_size)  # before proj_size reads H
        size: object = proj_size  # numpy ints are ints; True is not
        if size != 0 and (not isinstance(size, numbers.Integral) or isinstance(size, bool)
                          or not 0 < int(size) < hidden_size):
            raise ValueError(f"LSTMCell: proj_size must be an int from 0 (none) to hidden_size"
                             f" - 1 = {hidden_size - 1}, as in torch.nn.LSTM; got {proj_size!r}")
        self.proj_size = int(size)  # (a plain int: nn.Module takes it before its __init__)
        super().__init__(input_size, hidden_size, bias)  # weight_hh reads the projected h
        if self.proj_size:  # weight_hr comes last, as in torch.nn
            self.weight_hr = nn.Parameter(torch.empty(self.proj_size, hidden_size))
            self.reset_parameters()

    def state_widths(self) -> tuple[int, ...]:
        return (self.proj_size or self.hidden_size, self.hidden_size)

    def step(self, x_projected: Tensor, state: State) -> State:
        h, c = state
        h, c = RF.lstm_step_projected(x_projected, h, c, self.weight_hh, self.bias_hh)
        if self.proj_size:
            h = RF.linear(h, self.weight_hr, None)
        return h, c

    def to_torch(self) -> nn.Module:
        if self.proj_size:
            raise ValueError("LSTMCell.to_torch: torch.nn.LSTMCell has no proj_size; a layer"
                             " has: rnnkit.LSTM(..., proj_size=P).to_torch() gives a"
                             " torch.nn.LSTM")
        return super().to_torch()

    def extra_repr(self) -> str:
        return super().extra_repr() + (f", proj_size={self.proj_size}" if self.proj_size else "")
