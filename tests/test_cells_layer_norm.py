"""rnnkit.cells: the layer-normalised LSTM and GRU cells."""

from __future__ import annotations

import pytest
import torch
from test_cells import (
    ATOL,
    DTYPE,
    IN,
    B,
    H,
    _seed,  # noqa: F401  (autouse: torch.manual_seed(0) before each test)
    random_state,
)
from torch import Tensor, nn
from torch.autograd import gradcheck
from torch.func import functional_call

import rnnkit
from rnnkit import functional as RF
from rnnkit.cells import LayerNormGRUCell, LayerNormLSTMCell, RecurrentCell, State


# -- layer-normalised cells ------------------------------------------------------------------
def _perturb_norms(cell: nn.Module) -> None:
    """Gains away from 1 and shifts away from 0, so every parameter matters."""
    with torch.no_grad():
        for module in cell.modules():
            if isinstance(module, nn.LayerNorm):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)


@pytest.mark.parametrize("cell_class", [LayerNormLSTMCell, LayerNormGRUCell])
def test_layer_norm_cell_runs_and_gradchecks(cell_class: type[RecurrentCell]) -> None:
    cell = cell_class(IN, H).double()
    _perturb_norms(cell)
    x = torch.randn(B, IN, dtype=DTYPE, requires_grad=True)
    state = random_state(cell)
    out = cell(x, state)
    assert len(out) == cell.state_size
    assert all(o.shape == (B, H) and o.dtype == DTYPE for o in out)
    # the step on a projected input is the same as forward
    for a, b in zip(cell.step(cell.project_inputs(x), state), out, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=ATOL)

    names = [n for n, _ in cell.named_parameters()]
    params = [p.detach().clone().requires_grad_() for _, p in cell.named_parameters()]
    n_state = len(state)

    def fn(x: Tensor, *rest: Tensor) -> State:
        st, ps = rest[:n_state], rest[n_state:]
        return functional_call(cell, dict(zip(names, ps, strict=True)), (x, st))

    assert gradcheck(fn, (x, *state, *params), eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("cell_class", [LayerNormLSTMCell, LayerNormGRUCell])
def test_layer_norm_cells_refuse_a_single_input_feature(cell_class: type[RecurrentCell]) -> None:
    """LN(W_ih x) over one feature is sign(x) LN(w) but where |x| is near 0: a univariate
    series went in as little more than its signs (a layer's output on standardised Beijing
    temperatures was within 1.2% of its output on their signs), silently."""
    with pytest.raises(ValueError, match=rf"{cell_class.__name__}: input_size must be at least"
                                         r" 2, got 1: .* keeps only the sign of x"):
        cell_class(1, H)
    layer_class = rnnkit.LSTM if cell_class is LayerNormLSTMCell else rnnkit.GRU
    with pytest.raises(ValueError, match=r"input_size must be at least 2, got 1"):
        layer_class(1, H, layer_norm=True)
    assert cell_class(2, H)(torch.randn(B, 2))[0].shape == (B, H)


def test_layer_norm_gru_refuses_a_single_unit() -> None:
    """LN(W_hh h) over one unit is sign(h) LN(w_hh): the gates and candidate of a
    LayerNormGRUCell(3, 1) were the same for h_(t-1) = 0.2 and 0.9, silently. A stacked one
    (GRU(3, 1, num_layers=2)) is refused for this, not for its second layer's input of 1."""
    with pytest.raises(ValueError, match=r"LayerNormGRUCell: hidden_size must be at least 2,"
                                         r" got 1: .* keeps only the sign of h_\(t-1\)"):
        LayerNormGRUCell(IN, 1)
    with pytest.raises(ValueError, match=r"LayerNormGRUCell: hidden_size must be at least 2"):
        rnnkit.GRU(IN, 1, num_layers=2, layer_norm=True)
    assert LayerNormGRUCell(IN, 2)(torch.randn(B, IN))[0].shape == (B, 2)


def test_layer_norm_cells_compute_the_functional_steps() -> None:
    """The cells run the step functions that test_functional checks against the equations."""
    lstm, gru = LayerNormLSTMCell(IN, H).double(), LayerNormGRUCell(IN, H).double()
    _perturb_norms(lstm)
    _perturb_norms(gru)
    x = torch.randn(B, IN, dtype=DTYPE)
    h, c = torch.randn(B, H, dtype=DTYPE), torch.randn(B, H, dtype=DTYPE)
    pairs = [(n.weight, n.bias) for n in (lstm.ln_ih, lstm.ln_hh, lstm.ln_cell)]
    expected = RF.layer_norm_lstm_step(x, h, c, lstm.weight_ih, lstm.weight_hh, *pairs)
    for a, b in zip(lstm(x, (h, c)), expected, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=ATOL)
    pairs = [(n.weight, n.bias) for n in (gru.ln_ih, gru.ln_hh)]
    expected_h = RF.layer_norm_gru_step(x, h, gru.weight_ih, gru.weight_hh, *pairs)
    torch.testing.assert_close(gru(x, (h,))[0], expected_h, rtol=0, atol=ATOL)


def test_layer_norm_cell_parameters() -> None:
    lstm, gru = LayerNormLSTMCell(IN, H), LayerNormGRUCell(IN, H)
    assert dict((n, tuple(p.shape)) for n, p in lstm.named_parameters()) == {
        "weight_ih": (4 * H, IN), "weight_hh": (4 * H, H),
        "ln_ih.weight": (4 * H,), "ln_ih.bias": (4 * H,),
        "ln_hh.weight": (4 * H,), "ln_hh.bias": (4 * H,),
        "ln_cell.weight": (H,), "ln_cell.bias": (H,),
    }
    assert {n for n, _ in gru.named_parameters()} == {
        "weight_ih", "weight_hh", "ln_ih.weight", "ln_ih.bias", "ln_hh.weight", "ln_hh.bias",
    }
    assert lstm.state_size == 2 and gru.state_size == 1
    assert lstm.fused_mode is None and gru.fused_mode is None
