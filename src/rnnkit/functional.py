"""Pure step functions: one time step of each recurrent cell, one line per gate.

Every function takes the input at time t and the state at t-1 and returns the state at t.
Weights follow ``torch.nn`` exactly (shapes and gate order), so the same tensors run here and
in PyTorch's fused kernels:

- RNN:  ``weight_ih [H, I]``,  ``weight_hh [H, H]``
- LSTM: ``weight_ih [4H, I]``, ``weight_hh [4H, H]``, gates stacked ``i | f | g | o``
- GRU:  ``weight_ih [3H, I]``, ``weight_hh [3H, H]``, gates stacked ``r | z | n``

Shape:
    x: ``[B, I]`` (or already projected, ``[B, G*H]``, see ``*_step_projected``),
    h, c: ``[B, H]``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """``x @ weight.T + bias``."""
    return F.linear(x, weight, bias)


def rnn_step(
    x: Tensor,
    h: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> Tensor:
    """Elman RNN: ``h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)`` (or relu)."""
    return rnn_step_projected(linear(x, weight_ih, bias_ih), h, weight_hh, bias_hh, nonlinearity)


def rnn_step_projected(
    x_proj: Tensor, h: Tensor, weight_hh: Tensor, bias_hh: Tensor | None, nonlinearity: str
) -> Tensor:
    """RNN step whose input projection ``W_ih x_t + b_ih`` was computed beforehand."""
    if nonlinearity not in ("tanh", "relu"):  # anything else ran as relu, silently
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    pre = x_proj + linear(h, weight_hh, bias_hh)
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


def lstm_step(
    x: Tensor,
    h: Tensor,
    c: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Long short-term memory (Hochreiter & Schmidhuber 1997), with the forget gate of Gers,
    Schmidhuber & Cummins (2000).

    ::

        i_t = sigmoid(W_ii x_t + b_ii + W_hi h_(t-1) + b_hi)     input gate
        f_t = sigmoid(W_if x_t + b_if + W_hf h_(t-1) + b_hf)     forget gate
        g_t = tanh(W_ig x_t + b_ig + W_hg h_(t-1) + b_hg)        candidate
        o_t = sigmoid(W_io x_t + b_io + W_ho h_(t-1) + b_ho)     output gate
        c_t = f_t * c_(t-1) + i_t * g_t                          cell state
        h_t = o_t * tanh(c_t)
    """
    return lstm_step_projected(linear(x, weight_ih, bias_ih), h, c, weight_hh, bias_hh)


def lstm_step_projected(
    x_proj: Tensor, h: Tensor, c: Tensor, weight_hh: Tensor, bias_hh: Tensor | None
) -> tuple[Tensor, Tensor]:
    """LSTM step whose input projection ``W_ih x_t + b_ih`` was computed beforehand."""
    return lstm_gates_to_state(x_proj + linear(h, weight_hh, bias_hh), c)


def lstm_gates_to_state(gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """The LSTM update from the summed gate pre-activations ``[B, 4H]`` (order i|f|g|o)."""
    i, f, g, o = gates.chunk(4, dim=1)
    i = torch.sigmoid(i)
    f = torch.sigmoid(f)
    g = torch.tanh(g)
    o = torch.sigmoid(o)
    c_next = f * c + i * g
    h_next = o * torch.tanh(c_next)
    return h_next, c_next


def gru_step(
    x: Tensor,
    h: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
) -> Tensor:
    """Gated recurrent unit (Cho et al. 2014), in PyTorch's form.

    ::

        r_t = sigmoid(W_ir x_t + b_ir + W_hr h_(t-1) + b_hr)          reset gate
        z_t = sigmoid(W_iz x_t + b_iz + W_hz h_(t-1) + b_hz)          update gate
        n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_(t-1) + b_hn))     candidate
        h_t = (1 - z_t) * n_t + z_t * h_(t-1)
    """
    return gru_step_projected(linear(x, weight_ih, bias_ih), h, weight_hh, bias_hh)


def gru_step_projected(
    x_proj: Tensor, h: Tensor, weight_hh: Tensor, bias_hh: Tensor | None,
    recurrent_mask: Tensor | None = None,
) -> Tensor:
    """GRU step whose input projection ``W_ih x_t + b_ih`` was computed beforehand; a
    ``recurrent_mask`` drops units of ``h`` in ``W_hh h`` only, never in the carry
    ``z_t * h_(t-1)``."""
    dropped = h if recurrent_mask is None else h * recurrent_mask
    return gru_gates_to_state(x_proj, linear(dropped, weight_hh, bias_hh), h)


def gru_gates_to_state(x_proj: Tensor, h_proj: Tensor, h: Tensor) -> Tensor:
    """The GRU update from the input and hidden projections, each ``[B, 3H]`` (order r|z|n)."""
    x_r, x_z, x_n = x_proj.chunk(3, dim=1)
    h_r, h_z, h_n = h_proj.chunk(3, dim=1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h


def layer_norm_lstm_step(
    x: Tensor,
    h: Tensor,
    c: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    ln_ih: tuple[Tensor, Tensor],
    ln_hh: tuple[Tensor, Tensor],
    ln_cell: tuple[Tensor, Tensor],
) -> tuple[Tensor, Tensor]:
    """Layer-normalised LSTM (Ba, Kiros & Hinton 2016).

    ::

        gates = LN_ih(W_ih x_t) + LN_hh(W_hh h_(t-1))           (order i|f|g|o)
        c_t   = f_t * c_(t-1) + i_t * g_t
        h_t   = o_t * tanh(LN_c(c_t))

    Each ``ln_*`` is a ``(gain, shift)`` pair; the shifts play the role of the biases.
    """
    x_proj = layer_norm(linear(x, weight_ih, None), ln_ih)
    return layer_norm_lstm_step_projected(x_proj, h, c, weight_hh, ln_hh, ln_cell)


def layer_norm_lstm_step_projected(
    x_proj: Tensor,
    h: Tensor,
    c: Tensor,
    weight_hh: Tensor,
    ln_hh: tuple[Tensor, Tensor],
    ln_cell: tuple[Tensor, Tensor],
) -> tuple[Tensor, Tensor]:
    """Layer-normalised LSTM step whose ``LN_ih(W_ih x_t)`` was computed beforehand."""
    gates = x_proj + layer_norm(linear(h, weight_hh, None), ln_hh)
    i, f, g, o = gates.chunk(4, dim=1)
    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_next = torch.sigmoid(o) * torch.tanh(layer_norm(c_next, ln_cell))
    return h_next, c_next


def layer_norm_gru_step(
    x: Tensor,
    h: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    ln_ih: tuple[Tensor, Tensor],
    ln_hh: tuple[Tensor, Tensor],
) -> Tensor:
    """Layer-normalised GRU: the GRU equations with ``LN_ih(W_ih x_t)`` and ``LN_hh(W_hh h)``.

    The shifts of the two normalisations play the role of ``b_ih`` and ``b_hh``.
    """
    x_proj = layer_norm(linear(x, weight_ih, None), ln_ih)
    return layer_norm_gru_step_projected(x_proj, h, weight_hh, ln_hh)


def layer_norm_gru_step_projected(
    x_proj: Tensor, h: Tensor, weight_hh: Tensor, ln_hh: tuple[Tensor, Tensor],
    recurrent_mask: Tensor | None = None,
) -> Tensor:
    """Layer-normalised GRU step whose ``LN_ih(W_ih x_t)`` was computed beforehand (a
    ``recurrent_mask`` as in :func:`gru_step_projected`)."""
    dropped = h if recurrent_mask is None else h * recurrent_mask
    return gru_gates_to_state(x_proj, layer_norm(linear(dropped, weight_hh, None), ln_hh), h)


def layer_norm(x: Tensor, gain_shift: tuple[Tensor, Tensor], eps: float = 1e-5) -> Tensor:
    """Layer normalisation over the last dimension with a learned gain and shift."""
    gain, shift = gain_shift
    return F.layer_norm(x, (x.shape[-1],), gain, shift, eps)
