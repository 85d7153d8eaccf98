"""rnnkit.cells: bad inputs, states and batch sizes are refused naming what is wrong."""

from __future__ import annotations

import pytest
import torch
from test_cells import (
    DTYPE,
    IN,
    STANDARD,
    B,
    H,
    _seed,  # noqa: F401  (autouse: torch.manual_seed(0) before each test)
)

import rnnkit
from rnnkit.cells import LayerNormGRUCell, LayerNormLSTMCell, LSTMCell

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


def test_a_one_d_or_three_d_step_input_says_what_to_do() -> None:
    cell = rnnkit.LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"got \(3,\) \(one example: add the batch dimension "
                                         r"with x.unsqueeze\(0\)\)"):
        cell(torch.randn(3))
    with pytest.raises(ValueError, match=r"got \(5, 2, 3\) \(a cell takes one time step: call it "
                                         r"on x\[t\]"):
        cell(torch.randn(5, 2, 3))
