"""rnnkit.cells.init_recurrent_: the recurrent initialisation and its refusals."""

from __future__ import annotations

import math

import pytest
import torch
from test_cells import (
    IN,
    STANDARD,
    H,
    _seed,  # noqa: F401  (autouse: torch.manual_seed(0) before each test)
)
from test_cells_custom import ConcatLSTMCell
from test_cells_layer_norm import _perturb_norms
from torch import Tensor, nn

import rnnkit
from rnnkit.cells import (
    LayerNormGRUCell,
    LayerNormLSTMCell,
    LSTMCell,
    RecurrentCell,
    init_recurrent_,
)


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


@pytest.mark.parametrize("module", [nn.LSTMCell(3, 4), nn.GRU(3, 4)])
def test_init_recurrent_names_a_torch_module(module: nn.Module) -> None:
    name = type(module).__name__
    with pytest.raises(ValueError, match=f"got torch.nn.{name}: convert it first, e.g. "
                                         f"rnnkit.{name}.from_torch"):
        rnnkit.init_recurrent_(module)  # type: ignore[arg-type]
