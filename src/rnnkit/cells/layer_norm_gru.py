"""The layer-normalised GRU cell."""

from __future__ import annotations

from torch import Tensor

from rnnkit import functional as RF
from rnnkit.cells.base import State
from rnnkit.cells.layer_norm import LayerNormCell, gain_shift


class LayerNormGRUCell(LayerNormCell):
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
        super().__init__(input_size, hidden_size)  # refuses hidden_size 1, input_size 1
        self.reset_parameters()

    def step(self, x_projected: Tensor, state: State) -> State:
        return (
            RF.layer_norm_gru_step_projected(
                x_projected, state[0], self.weight_hh, gain_shift(self.ln_hh)
            ),
        )

    def step_dropped(self, x_projected: Tensor, state: State, recurrent_mask: Tensor) -> State:
        """The mask on ``h`` in ``W_hh h`` only; the carry ``z_t * h_(t-1)`` keeps every unit."""
        return (RF.layer_norm_gru_step_projected(x_projected, state[0], self.weight_hh,
                                                 gain_shift(self.ln_hh), recurrent_mask),)
