"""The vanilla (Elman) recurrent cell."""

from __future__ import annotations

from torch import Tensor, nn

from rnnkit import functional as RF
from rnnkit.cells.base import State
from rnnkit.cells.standard import StandardCell


class RNNCell(StandardCell):
    """Elman RNN cell.

    ``h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)``, or ``relu`` with
    ``nonlinearity="relu"``.

    Shape:
        x: ``[B, I]``; state: ``(h,)`` with h ``[B, H]``; returns ``(h_t,)``.

    Example:
        >>> import torch
        >>> cell = RNNCell(4, 8)
        >>> (h,) = cell(torch.randn(2, 4), cell.initial_state(2))
        >>> h.shape
        torch.Size([2, 8])
    """

    num_gates = 1
    torch_class = nn.RNNCell

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}"
            )
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias)
        self.fused_mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"

    def step(self, x_projected: Tensor, state: State) -> State:
        return (
            RF.rnn_step_projected(
                x_projected, state[0], self.weight_hh, self.bias_hh, self.nonlinearity
            ),
        )

    def torch_kwargs(self) -> dict[str, object]:
        return {**super().torch_kwargs(), "nonlinearity": self.nonlinearity}

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, nonlinearity={self.nonlinearity!r}"
