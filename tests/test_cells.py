"""rnnkit.cells: equality with torch.nn cells, names, initialisation, errors, custom cells."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
import torch
from torch import Tensor, nn
from torch.autograd import gradcheck
from torch.func import functional_call
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnnkit
from rnnkit import functional as RF
from rnnkit.cells import (
    GRUCell,
    LayerNormGRUCell,
    LayerNormLSTMCell,
    LSTMCell,
    RecurrentCell,
    RNNCell,
    State,
    init_recurrent_,
)

B, IN, H = 4, 3, 5
DTYPE = torch.float64
ATOL = 1e-12


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


# (our class, torch class, extra constructor kwargs)
STANDARD = {
    "rnn_tanh": (RNNCell, nn.RNNCell, {"nonlinearity": "tanh"}),
    "rnn_relu": (RNNCell, nn.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (LSTMCell, nn.LSTMCell, {}),
    "gru": (GRUCell, nn.GRUCell, {}),
}


def torch_step(cell: nn.Module, x: Tensor, state: State) -> State:
    """Call a torch.nn cell with rnnkit's state convention (a tuple)."""
    if isinstance(cell, nn.LSTMCell):
        return tuple(cell(x, state))
    return (cell(x, state[0]),)


def random_state(cell: RecurrentCell, batch: int = B) -> State:
    return tuple(
        torch.randn(batch, cell.hidden_size, dtype=DTYPE, requires_grad=True)
        for _ in range(cell.state_size)
    )


# -- equality with torch.nn ------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", list(STANDARD))
def test_cell_equals_torch_cell(kind: str, bias: bool) -> None:
    ours_class, torch_class, extra = STANDARD[kind]
    ref = torch_class(IN, H, bias=bias, **extra).double()
    ours = ours_class.from_torch(ref)
    assert isinstance(ours, ours_class)
    assert ours.weight_ih.dtype == DTYPE
    x = torch.randn(B, IN, dtype=DTYPE, requires_grad=True)
    state = random_state(ours)
    weights = [torch.randn(B, H, dtype=DTYPE) for _ in state]

    out_ref = torch_step(ref, x, state)
    out_ours = ours(x, state)
    assert isinstance(out_ours, tuple) and len(out_ours) == len(state)
    for a, b in zip(out_ours, out_ref, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=ATOL)

    def grads(module: nn.Module, outputs: State) -> tuple[Tensor, ...]:
        loss = sum((o * w).sum() for o, w in zip(outputs, weights, strict=True))
        inputs = [x, *state, *(p for _, p in module.named_parameters())]
        return torch.autograd.grad(loss, inputs)

    for a, b in zip(grads(ours, out_ours), grads(ref, out_ref), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=ATOL)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", list(STANDARD))
def test_parameter_names_and_shapes_match_torch(kind: str, bias: bool) -> None:
    ours_class, torch_class, extra = STANDARD[kind]
    ours = ours_class(IN, H, bias=bias, **extra)
    ref = torch_class(IN, H, bias=bias, **extra)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, p.shape) for n, p in ref.named_parameters()
    ]
    expected = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if bias else [])
    assert [n for n, _ in ours.named_parameters()] == expected
    assert list(ours.state_dict()) == list(ref.state_dict())
    ref.load_state_dict(ours.state_dict())
    ours.load_state_dict(ref.state_dict())
    if not bias:
        assert ours.bias_ih is None and ours.bias_hh is None


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", list(STANDARD))
def test_to_torch_round_trip(kind: str, bias: bool) -> None:
    ours_class, torch_class, extra = STANDARD[kind]
    ours = ours_class(IN, H, bias=bias, **extra).double()
    theirs = ours.to_torch()
    assert type(theirs) is torch_class
    assert theirs.bias == bias
    if kind.startswith("rnn"):
        assert theirs.nonlinearity == extra["nonlinearity"]
    for name, param in ours.named_parameters():
        assert torch.equal(getattr(theirs, name), param)
        assert getattr(theirs, name).data_ptr() != param.data_ptr()  # a copy
    back = ours_class.from_torch(theirs)
    for (name, a), (_, b) in zip(ours.named_parameters(), back.named_parameters(), strict=True):
        assert torch.equal(a, b), name
    x, state = torch.randn(B, IN, dtype=DTYPE), random_state(ours)
    for a, b in zip(ours(x, state), torch_step(theirs, x, state), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=ATOL)


def test_from_torch_rejects_the_wrong_class() -> None:
    with pytest.raises(
        ValueError, match=r"LSTMCell.from_torch expects a torch.nn.LSTMCell, got GRUCell"
    ):
        LSTMCell.from_torch(nn.GRUCell(IN, H))


def test_rnn_cell_rejects_unknown_nonlinearity() -> None:
    with pytest.raises(ValueError, match=r"nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"):
        RNNCell(IN, H, nonlinearity="sigmoid")


@pytest.mark.parametrize("size", [0, -1, 2.5, True])
def test_cell_rejects_bad_sizes(size: object) -> None:
    with pytest.raises(ValueError, match=rf"hidden_size must be a positive int, got {size!r}"):
        LSTMCell(IN, size)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [0, -1, 2.5, "5", np.int64(5)])
def test_a_bad_hidden_size_is_named_with_proj_size_given(size: object) -> None:
    """With proj_size given, the proj_size check ran first: a bad hidden_size was reported as
    'proj_size must be an int from 0 (none) to hidden_size - 1 = -1 ... got 2' (hidden_size
    0), and a string hidden_size failed with 'unsupported operand type(s) for -'."""
    with pytest.raises(ValueError, match=rf"LSTMCell: hidden_size must be a positive int, got"
                                         rf" {re.escape(repr(size))}$"):
        LSTMCell(IN, size, proj_size=2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"LSTMCell: hidden_size must be a positive int"):
        rnnkit.LSTM(IN, size, proj_size=2)  # type: ignore[arg-type]


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


# -- initialisation -------------------------------------------------------------------------
def _assert_orthogonal_blocks(weight_hh: Tensor, num_gates: int, hidden: int) -> None:
    eye = torch.eye(hidden, dtype=weight_hh.dtype)
    for gate in range(num_gates):
        block = weight_hh[gate * hidden:(gate + 1) * hidden].detach()
        torch.testing.assert_close(block @ block.T, eye, rtol=0, atol=1e-5)
        torch.testing.assert_close(block.T @ block, eye, rtol=0, atol=1e-5)


@pytest.mark.parametrize("kind", list(STANDARD))
def test_init_recurrent_standard_cells(kind: str) -> None:
    ours_class, _, extra = STANDARD[kind]
    cell = ours_class(IN, H, **extra)
    assert init_recurrent_(cell) is cell
    _assert_orthogonal_blocks(cell.weight_hh, cell.num_gates, H)
    bias_sum = cell.bias_ih + cell.bias_hh
    if kind == "lstm":
        assert torch.equal(bias_sum[H:2 * H], torch.ones(H))
        bias_sum = torch.cat([bias_sum[:H], bias_sum[2 * H:]])
        assert torch.equal(cell.bias_hh, torch.zeros(4 * H))
    assert torch.equal(bias_sum, torch.zeros_like(bias_sum))
    assert cell.weight_ih.abs().sum() > 0  # re-initialised, not zeroed


def test_init_recurrent_forget_bias_value_and_no_bias() -> None:
    cell = init_recurrent_(LSTMCell(IN, H), forget_bias=2.5)
    assert torch.equal((cell.bias_ih + cell.bias_hh)[H:2 * H], torch.full((H,), 2.5))
    no_bias = init_recurrent_(LSTMCell(IN, H, bias=False))
    _assert_orthogonal_blocks(no_bias.weight_hh, 4, H)


def test_init_recurrent_makes_an_lstm_projection_orthogonal() -> None:
    """init_recurrent_ left an LSTM's weight_hr (proj_size) as it was: a trained projection
    survived the re-initialisation, and init='recurrent' kept PyTorch's uniform one, whose
    singular values (0.3 to 0.8 at H=64, P=16) shrank the recurrent map at every step."""
    cell = LSTMCell(IN, H, proj_size=2)
    with torch.no_grad():
        cell.weight_hr.fill_(7.0)  # as trained
    init_recurrent_(cell)
    for block in cell.weight_hh.detach().split(H):  # [H, P]: orthonormal columns
        torch.testing.assert_close(block.T @ block, torch.eye(2), rtol=0, atol=1e-5)
    weight_hr = cell.weight_hr.detach()
    torch.testing.assert_close(weight_hr @ weight_hr.T, torch.eye(2), rtol=0, atol=1e-5)
    layer = rnnkit.LSTM(IN, 64, proj_size=16, init="recurrent")
    recurrent_map = layer.weight_hh_l0[:64] @ layer.weight_hr_l0  # h_(t-1) -> the input gate
    singular = torch.linalg.svdvals(recurrent_map.detach())[:16]
    torch.testing.assert_close(singular, torch.ones(16), rtol=0, atol=1e-5)


@pytest.mark.parametrize("kind", list(STANDARD))
def test_init_recurrent_sets_a_weight_normed_weight(kind: str) -> None:
    """Under weight_norm a weight is computed from (g, v) at every use: init_recurrent_ wrote
    its orthogonal blocks into that computed copy and left the cell's weight_hh as it was (a
    layer with init='recurrent' built of such cells too). It is now set through the
    parametrization; one that cannot hold it (orthogonal over all gates) is refused."""
    ours_class, _, extra = STANDARD[kind]
    cell = ours_class(IN, H, **extra)
    for name in ("weight_hh", "weight_ih"):
        nn.utils.parametrizations.weight_norm(cell, name)
    init_recurrent_(cell)
    _assert_orthogonal_blocks(cell.weight_hh, cell.num_gates, H)
    bound = math.sqrt(6 / (IN + H))  # xavier_uniform_ per gate block [H, IN]
    assert float(cell.weight_ih.detach().abs().max()) <= bound + 1e-6
    layer = rnnkit.Recurrent(
        lambda i, h: nn.utils.parametrizations.weight_norm(ours_class(i, h, **extra),
                                                           "weight_hh"), IN, H, init="recurrent")
    _assert_orthogonal_blocks(layer.cell(0).weight_hh, cell.num_gates, H)
    if cell.num_gates > 1:
        square = nn.utils.parametrizations.orthogonal(ours_class(IN, H, **extra), "weight_hh")
        with pytest.raises(ValueError, match=r"init_recurrent_: Parametrized\w+Cell.weight_hh is"
                           r" parametrized \(_Orthogonal\), which cannot take .* initialise"
                           r" the cell first"):
            init_recurrent_(square)


class _Double(nn.Module):
    def forward(self, value: torch.Tensor) -> torch.Tensor:
        return value * 2

    def right_inverse(self, value: torch.Tensor) -> torch.Tensor:
        return value / 2


@pytest.mark.parametrize("kind", list(STANDARD))
def test_init_recurrent_sets_a_parametrized_bias(kind: str) -> None:
    """A parametrized bias is named parametrizations.bias_ih.original: init_recurrent_ left it
    unzeroed and wrote the forget gate's 1 into the computed copy, so the cell kept its random
    biases. Both biases are now set through the parametrization, as the weights are."""
    ours_class, _, extra = STANDARD[kind]
    cell = ours_class(IN, H, **extra)
    for name in ("bias_ih", "bias_hh"):
        nn.utils.parametrize.register_parametrization(cell, name, _Double())
    init_recurrent_(cell, forget_bias=1.5)
    expected = torch.zeros(cell.num_gates * H)
    if cell.state_size == 2:
        expected[H:2 * H] = 1.5
    assert torch.equal(cell.bias_ih.detach(), expected)
    assert torch.equal(cell.bias_hh.detach(), torch.zeros(cell.num_gates * H))


@pytest.mark.parametrize("cell_class", [LayerNormLSTMCell, LayerNormGRUCell])
def test_init_recurrent_layer_norm_cells(cell_class: type[RecurrentCell]) -> None:
    cell = cell_class(IN, H)
    _perturb_norms(cell)
    init_recurrent_(cell)
    _assert_orthogonal_blocks(cell.weight_hh, cell.num_gates, H)
    shifts = {n: p for n, p in cell.named_parameters() if n.endswith(".bias")}
    if cell_class is LayerNormLSTMCell:
        assert torch.equal(shifts.pop("ln_ih.bias")[H:2 * H], torch.ones(H))
        assert torch.equal(cell.ln_ih.bias[:H], torch.zeros(H))
        assert torch.equal(cell.ln_ih.bias[2 * H:], torch.zeros(2 * H))
    for name, shift in shifts.items():
        assert torch.equal(shift, torch.zeros_like(shift)), name
    gains = {n: p for n, p in cell.named_parameters() if n.endswith(".weight")}
    assert gains  # the perturbed gains are back at 1, as a fresh cell's
    for name, gain in gains.items():
        assert torch.equal(gain, torch.ones_like(gain)), name


def test_init_recurrent_rejects_a_cell_without_weights() -> None:
    with pytest.raises(ValueError, match=r"init_recurrent_ needs .* ConcatLSTMCell has none"):
        init_recurrent_(ConcatLSTMCell(IN, H))


# -- bad input --------------------------------------------------------------------------------
ALL_CELLS = {
    **{k: (c, e) for k, (c, _, e) in STANDARD.items()},
    "ln_lstm": (LayerNormLSTMCell, {}),
    "ln_gru": (LayerNormGRUCell, {}),
}


@pytest.mark.parametrize("kind", list(ALL_CELLS))
def test_cell_rejects_bad_input(kind: str) -> None:
    cell_class, extra = ALL_CELLS[kind]
    cell = cell_class(IN, H, **extra)
    name = cell_class.__name__
    state = cell.initial_state(B)
    with pytest.raises(
        ValueError, match=rf"{name}: expected x of shape \[batch, 3\], got \(4, 6\)"
    ):
        cell(torch.randn(B, 6), state)
    with pytest.raises(ValueError, match=r"expected x of shape \[batch, 3\], got \(3,\)"):
        cell(torch.randn(IN), state)
    bad_shape = tuple(torch.zeros(B, H + 1) for _ in state)
    with pytest.raises(
        ValueError, match=rf"{name}: expected each state tensor of shape \[4, 5\], got \(4, 6\)"
    ):
        cell(torch.randn(B, IN), bad_shape)
    wrong_batch = tuple(torch.zeros(B - 1, H) for _ in state)
    with pytest.raises(ValueError, match=r"shape \[4, 5\], got \(3, 5\)"):
        cell(torch.randn(B, IN), wrong_batch)
    too_many = (*state, torch.zeros(B, H))
    with pytest.raises(
        ValueError,
        match=rf"{name}: expected a state of {cell.state_size} tensor\(s\), got {len(too_many)}",
    ):
        cell(torch.randn(B, IN), too_many)
    if cell.state_size == 2:
        with pytest.raises(ValueError, match=r"expected a state of 2 tensor\(s\), got 1"):
            cell(torch.randn(B, IN), state[:1])
    with pytest.raises(ValueError, match=rf"{name}: expected x as a Tensor \[batch, 3\], got list"):
        cell([[0.0] * IN] * B, state)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"expected each state tensor of shape \[4, 5\], got None"):
        cell(torch.randn(B, IN), (*state[:-1], None))  # type: ignore[arg-type]


def test_initial_state_follows_the_weights() -> None:
    cell = LSTMCell(IN, H).double()
    h, c = cell.initial_state(B)
    assert h.shape == c.shape == (B, H)
    assert h.dtype == DTYPE and not h.any() and not c.any()


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


@pytest.mark.parametrize("state", [5, "h"])
def test_a_state_that_is_no_tuple_is_named(state: object) -> None:
    cell = rnnkit.LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"expected the state as a tuple of 2 tensor\(s\) "
                                         r"\(\(h, c\)\) or None for zeros"):
        cell(torch.randn(2, 3), state)  # type: ignore[arg-type]


@pytest.mark.parametrize("batch_size", [None, -1, 2.0, True])
def test_initial_state_names_a_bad_batch_size(batch_size: object) -> None:
    with pytest.raises(ValueError, match="initial_state: batch_size must be an int >= 0"):
        rnnkit.GRUCell(3, 4).initial_state(batch_size)  # type: ignore[arg-type]


def test_initial_state_takes_numpy_ints_and_an_empty_batch() -> None:
    import numpy as np

    assert rnnkit.GRUCell(3, 4).initial_state(np.int64(2))[0].shape == (2, 4)  # type: ignore[arg-type]
    assert rnnkit.GRUCell(3, 4)(torch.randn(0, 3))[0].shape == (0, 4)


def test_init_recurrent_names_a_layer_and_a_bad_forget_bias() -> None:
    with pytest.raises(ValueError, match="init_recurrent_ takes one cell, got the layer LSTM: "
                                         "build the layer with init='recurrent'"):
        rnnkit.init_recurrent_(rnnkit.LSTM(3, 4))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="forget_bias must be a finite number .*, got '1'"):
        rnnkit.init_recurrent_(rnnkit.LSTMCell(3, 4), forget_bias="1")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_init_recurrent_refuses_a_forget_bias_that_is_not_finite(value: float) -> None:
    # a NaN bias made every output of the cell NaN, with no error anywhere
    with pytest.raises(ValueError, match=r"forget_bias must be a finite number \(1.0 by "
                                         r"default\), got (nan|inf|-inf)"):
        rnnkit.init_recurrent_(rnnkit.LSTMCell(3, 4), forget_bias=value)


def test_a_one_d_or_three_d_step_input_says_what_to_do() -> None:
    cell = rnnkit.LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"got \(3,\) \(one example: add the batch dimension "
                                         r"with x.unsqueeze\(0\)\)"):
        cell(torch.randn(3))
    with pytest.raises(ValueError, match=r"got \(5, 2, 3\) \(a cell takes one time step: call it "
                                         r"on x\[t\]"):
        cell(torch.randn(5, 2, 3))


@pytest.mark.parametrize("module", [nn.LSTMCell(3, 4), nn.GRU(3, 4)])
def test_init_recurrent_names_a_torch_module(module: nn.Module) -> None:
    name = type(module).__name__
    with pytest.raises(ValueError, match=f"got torch.nn.{name}: convert it first, e.g. "
                                         f"rnnkit.{name}.from_torch"):
        rnnkit.init_recurrent_(module)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", list(STANDARD))
def test_autocast_takes_a_bfloat16_step_as_torch_nn_cells_do(name: str) -> None:
    """Under torch.autocast a float32 cell takes a bfloat16 x (a Linear's output) and state,
    as torch.nn's cells do; rnnkit's refused them as a dtype mismatch."""
    ours_class, torch_class, extra = STANDARD[name]
    theirs = torch_class(IN, H, **extra)
    ours = ours_class(IN, H, **extra)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(B, IN).bfloat16()
    state = tuple(torch.randn(B, H).bfloat16() for _ in range(ours.state_size))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        for given in (None, state):
            expected = torch_step(theirs, x, given if given is not None else tuple(
                torch.zeros(B, H, dtype=torch.bfloat16) for _ in range(ours.state_size)))
            got = ours(x, given)
            assert got[0].dtype == expected[0].dtype == torch.bfloat16
            for a, b in zip(got, expected, strict=True):
                torch.testing.assert_close(a, b, atol=2e-2, rtol=2e-2)
        for cell_class in (LayerNormLSTMCell, LayerNormGRUCell):
            assert cell_class(IN, H)(x)[0].shape == (B, H)
    with pytest.raises(ValueError, match="x is torch.bfloat16 on cpu, the weights torch.float32"):
        ours(x)  # outside autocast the dtypes must still match
