"""rnnkit.cells: a user's own RecurrentCell subclasses in rnnkit.Recurrent."""

from __future__ import annotations

import warnings

import pytest
import torch
from test_cells import (
    DTYPE,
    IN,
    B,
    H,
    _seed,  # noqa: F401  (autouse: torch.manual_seed(0) before each test)
)
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnnkit
from rnnkit.cells import RecurrentCell, State


# -- custom cells in Recurrent ---------------------------------------------------------------
class ConcatRNNCell(RecurrentCell):
    """A user's Elman cell: one Linear over [x_t, h_(t-1)]; no project_inputs/step overrides."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.linear = nn.Linear(input_size + hidden_size, hidden_size)

    def forward(self, x: Tensor, state: State) -> State:
        return (torch.tanh(self.linear(torch.cat([x, state[0]], dim=1))),)

    def load_torch(self, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> None:
        with torch.no_grad():
            self.linear.weight.copy_(torch.cat([w_ih, w_hh], dim=1))
            self.linear.bias.copy_(b_ih + b_hh)


class ConcatLSTMCell(RecurrentCell):
    """A user's LSTM with a two-tensor state, written from scratch (gate order i|f|g|o)."""

    state_size = 2

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.gates = nn.Linear(input_size + hidden_size, 4 * hidden_size)

    def forward(self, x: Tensor, state: State) -> State:
        h, c = state
        i, f, g, o = self.gates(torch.cat([x, h], dim=1)).chunk(4, dim=1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        return o.sigmoid() * c.tanh(), c

    def load_torch(self, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> None:
        with torch.no_grad():
            self.gates.weight.copy_(torch.cat([w_ih, w_hh], dim=1))
            self.gates.bias.copy_(b_ih + b_hh)


CUSTOM = {"rnn": (ConcatRNNCell, nn.RNN), "lstm": (ConcatLSTMCell, nn.LSTM)}


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", list(CUSTOM))
def test_custom_cell_in_recurrent_equals_torch(kind: str, batch_first: bool) -> None:
    """Stacking, both directions and variable lengths come for free, and are right."""
    cell_class, torch_class = CUSTOM[kind]
    T, layers, dirs = 7, 2, 2
    ref = torch_class(
        IN, H, num_layers=layers, bidirectional=True, batch_first=batch_first
    ).double()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rnnkit.layers.recurrent._WARNED.clear()
        layer = rnnkit.Recurrent(
            cell_class, IN, H, num_layers=layers, bidirectional=True, batch_first=batch_first
        ).double()
    assert any(f"the cell {cell_class.__name__} has no fused kernel" in str(w.message)
               for w in caught)
    assert layer.kernel == "loop"
    for index, cell in enumerate(layer.cells):
        assert isinstance(cell, cell_class)
        layer_index, direction = divmod(index, dirs)
        suffix = f"_l{layer_index}" + ("_reverse" if direction else "")
        cell.load_torch(*(getattr(ref, f"{n}{suffix}") for n in
                          ("weight_ih", "weight_hh", "bias_ih", "bias_hh")))

    lengths = torch.tensor([7, 3, 5, 1])
    shape = (B, T, IN) if batch_first else (T, B, IN)
    x = torch.randn(*shape, dtype=DTYPE, requires_grad=True)
    hx = tuple(torch.randn(layers * dirs, B, H, dtype=DTYPE) for _ in range(cell_class.state_size))
    ref_hx = hx if kind == "lstm" else hx[0]
    packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    out_ref, final_ref = ref(packed, ref_hx)
    out_ref, _ = pad_packed_sequence(out_ref, batch_first=batch_first, total_length=T)
    out, final = layer(x, ref_hx, lengths=lengths)
    torch.testing.assert_close(out, out_ref, rtol=0, atol=1e-10)
    finals = final if kind == "lstm" else (final,)
    finals_ref = final_ref if kind == "lstm" else (final_ref,)
    for a, b in zip(finals, finals_ref, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)
    g_ours = torch.autograd.grad(out.square().sum() + finals[0].sum(), x)[0]
    g_ref = torch.autograd.grad(out_ref.square().sum() + finals_ref[0].sum(), x)[0]
    torch.testing.assert_close(g_ours, g_ref, rtol=0, atol=1e-10)
    # torch-style names for the custom cell's weights, reachable as attributes too
    inner = "gates" if kind == "lstm" else "linear"
    assert list(layer.state_dict()) == [
        f"{inner}_{p}_l{k}{r}" for k in range(layers) for r in ("", "_reverse")
        for p in ("weight", "bias")
    ]
    assert getattr(layer, f"{inner}_weight_l1_reverse") is getattr(layer.cells[3], inner).weight


def test_custom_cell_must_return_a_tuple() -> None:
    class Bad(ConcatRNNCell):
        def forward(self, x: Tensor, state: State) -> State:
            return super().forward(x, state)[0]  # type: ignore[return-value]

    layer = rnnkit.Recurrent(Bad, IN, H, kernel="loop")
    with pytest.raises(ValueError, match=r"Bad.forward must return a tuple of 1 state tensor\(s\)"):
        layer(torch.randn(7, B, IN))


def test_recurrent_rejects_a_factory_that_builds_no_cell() -> None:
    with pytest.raises(ValueError, match=r"the cell factory must build RecurrentCell objects"):
        rnnkit.Recurrent(lambda i, h: nn.Linear(i, h), IN, H)  # type: ignore[arg-type,return-value]
