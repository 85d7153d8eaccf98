"""rnnkit.cells: equality with torch.nn cells and their parameter names, under autocast too.

Layer-normalised cells, initialisation, bad input and custom cells are tested in
tests/test_cells_*.py, which import the helpers here.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from torch import Tensor, nn

import rnnkit
from rnnkit.cells import (
    GRUCell,
    LayerNormGRUCell,
    LayerNormLSTMCell,
    LSTMCell,
    RecurrentCell,
    RNNCell,
    State,
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
