"""rnnkit.layers: inputs, lengths and states a layer cannot run are named, not a traceback."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import torch
from test_layers import (
    DTYPE,
    IN,
    LENGTHS,
    B,
    H,
    T,
    _seed,  # noqa: F401  (autouse: every test starts from seed 0)
    random_input,
)
from torch.nn.utils.rnn import pack_padded_sequence

import rnnkit


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kernel", ["fused", "loop"])
def test_bad_input_raises_with_what_arrived_and_what_was_expected(kernel: str) -> None:
    layer = rnnkit.LSTM(IN, H, kernel=kernel).double()
    x = random_input(False)
    state = (torch.zeros(1, B, H, dtype=DTYPE), torch.zeros(1, B, H, dtype=DTYPE))
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: layer(torch.randn(IN, dtype=DTYPE)),
         r"LSTM: expected a 3-D input \(\[T, B, I\] or \[B, T, I\] with batch_first=True; or"
         r" one unbatched sequence \[T, I\]\), got shape \(3,\)"),
        (lambda: layer(torch.randn(T, IN + 1, dtype=DTYPE)),
         r"LSTM: expected input_size 3 in the last dimension, got shape \(7, 4\)"),
        (lambda: layer(torch.randn(T, B, IN, 1, dtype=DTYPE)),
         r"expected a 3-D input .* got shape \(7, 4, 3, 1\)"),
        (lambda: layer(torch.randn(T, B, IN + 3, dtype=DTYPE)),
         r"LSTM: expected input_size 3 in the last dimension, got shape \(7, 4, 6\)"),
        (lambda: layer(torch.randn(0, B, IN, dtype=DTYPE)),
         r"LSTM: the input is empty, shape \(0, 4, 3\)"),
        (lambda: layer(x, lengths=[8, 3, 5, 1]),
         r"lengths\[0\] = 8 is longer than the input's 7 time steps"),
        (lambda: layer(x, lengths=torch.tensor([7, 0, 5, 1])),
         r"lengths\[1\] = 0: every sequence needs at least one step"),
        (lambda: layer(x, lengths=[7, 3, 5]),
         r"lengths must be a 1-D tensor with one entry per sequence \(4\), got shape \(3,\)"),
        (lambda: layer(x, lengths=torch.tensor([[7, 3, 5, 1]])),
         r"one entry per sequence \(4\), got shape \(1, 4\)"),
        (lambda: layer(x, lengths=torch.tensor([7.0, 3.0, 5.0, 1.0])),
         r"lengths must hold integers, got dtype torch.float32"),
        (lambda: layer(x, (torch.zeros(1, B - 1, H, dtype=DTYPE),) * 2),
         r"LSTM: expected an initial state of shape \[layers\*directions, batch, hidden\] ="
         r" \[1, 4, 5\], got \[1, 3, 5\]"),
        (lambda: layer(x, (torch.zeros(2, B, H, dtype=DTYPE),) * 2),
         r"= \[1, 4, 5\], got \[2, 4, 5\]"),
        (lambda: layer(x, state[0]),
         r"LSTM: expected the initial state as a tuple of 2 tensors \(h_0, c_0\), got Tensor"),
        (lambda: layer(x, (*state, state[0])),
         r"expected the initial state as a tuple of 2 tensors \(h_0, c_0\), got tuple"),
        (lambda: layer(x, (state[0], None)),  # not "expected a tuple, got tuple"
         r"2 tensors \(h_0, c_0\), got tuple of \(Tensor, NoneType\)"),
        (lambda: layer(x, 0), r"LSTM: expected the initial state as a tuple .* got int"),
        (lambda: layer(x.float()),
         r"LSTM: input dtype torch.float32 does not match the weights' torch.float64"),
        (lambda: layer(x.long()), r"torch.float64 \(the input must be floating point: "
                                  r"x.to\(torch.float64\); token ids go through an embedding"),
        (lambda: layer(x, tuple(s.float() for s in state)),
         r"LSTM: initial state is torch.float32 on cpu, the weights torch.float64 on cpu"),
        (lambda: layer(x.numpy()),
         r"LSTM: expected a Tensor or PackedSequence, got ndarray"),
        (lambda: layer(pack_padded_sequence(x, LENGTHS, enforce_sorted=False), lengths=LENGTHS),
         r"LSTM: pass lengths or a PackedSequence, not both"),
        (lambda: layer(pack_padded_sequence(x.float(), LENGTHS, enforce_sorted=False)),
         r"input dtype torch.float32 does not match"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()


def test_bad_input_batch_first_and_single_state() -> None:
    layer = rnnkit.GRU(IN, H, num_layers=2, batch_first=True).double()
    x = random_input(batch_first=True)  # [B, T, I]
    with pytest.raises(ValueError, match=r"unbatched input \[T, I\] takes an initial state of "
                                         r"shape \[layers\*directions, hidden\] = \[2, 5\], got"
                                         r" \[2, 4, 5\]"):
        layer(x[0], torch.zeros(2, B, H, dtype=DTYPE))
    with pytest.raises(ValueError, match=r"lengths are for a padded batch; an unbatched input"):
        layer(x[0], lengths=[T])
    with pytest.raises(ValueError, match=r"one entry per sequence \(4\), got shape \(7,\)"):
        layer(x, lengths=[1] * T)
    with pytest.raises(ValueError, match=r"lengths\[2\] = 9 is longer than the input's 7 time"):
        layer(x, lengths=[7, 3, 9, 1])
    with pytest.raises(
        ValueError, match=r"GRU: expected the initial state as a tensor, got tuple"
    ):
        layer(x, (torch.zeros(2, B, H, dtype=DTYPE),) * 2)
    with pytest.raises(ValueError, match=r"= \[2, 4, 5\], got \[2, 7, 5\]"):
        layer(x, torch.zeros(2, T, H, dtype=DTYPE))


def test_cells_start_from_zeros_and_name_a_bare_state_or_a_dtype() -> None:
    cell = rnnkit.GRUCell(4, 5)
    x, h = torch.randn(3, 4), torch.randn(3, 5)
    (started,) = cell(x)
    torch.testing.assert_close(started, cell(x, (torch.zeros(3, 5),))[0])
    with pytest.raises(ValueError, match=r"the state is a tuple of 1 tensor\(s\) \(\(h,\)\), "
                                          r"not a bare tensor"):
        cell(x, h)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="x is torch.float64 on cpu, the weights torch.float32"):
        cell(x.double(), (h,))
    with pytest.raises(ValueError, match="the state is torch.float64 on cpu, x torch.float32"):
        rnnkit.LSTMCell(4, 5)(x, (h.double(), h.double()))


@pytest.mark.parametrize("lengths", [[5, None], "ab", [[5], [2, 1]]])
def test_lengths_that_are_not_ints_are_named(lengths: object) -> None:
    layer = rnnkit.GRU(IN, H)
    with pytest.raises(ValueError, match="lengths must be a 1-D tensor or list of ints"):
        layer(torch.randn(5, 2, IN), lengths=lengths)  # type: ignore[arg-type]


@pytest.mark.parametrize("batch_first", [False, True])
def test_lengths_for_the_other_layout_suggest_batch_first(batch_first: bool) -> None:
    layer = rnnkit.LSTM(IN, H, batch_first=batch_first)
    x = torch.randn(2, 5, IN) if not batch_first else torch.randn(5, 2, IN)  # the other layout
    with pytest.raises(ValueError, match=f"batch_first={not batch_first} what you meant"):
        layer(x, lengths=[5, 2])


def test_run_cell_names_an_input_it_cannot_run() -> None:
    """rnnkit.layers.run_cell read an LSTM's 2-D x [B, I] as B time steps and broadcast each row
    over the batch (a [B, B, H] output, no error), and failed deep in torch on a wrong feature size
    or a bare-tensor state."""
    cell = rnnkit.LSTMCell(IN, H)
    x = torch.randn(T, B, IN)
    with pytest.raises(ValueError, match=r"run_cell: expected x of shape \[time, batch, 3\], "
                                         r"got \(4, 3\) \(one step: use the cell"):
        rnnkit.layers.run_cell(cell, x[0], cell.initial_state(B))
    with pytest.raises(ValueError, match=r"expected x of shape \[time, batch, 3\], got \(7, 4, 2"):
        rnnkit.layers.run_cell(cell, x[..., :2], cell.initial_state(B))
    with pytest.raises(ValueError, match="not a bare tensor"):
        rnnkit.layers.run_cell(cell, x, torch.zeros(B, H))  # type: ignore[arg-type]
    output, (h, _) = rnnkit.layers.run_cell(cell, x, None)
    assert output.shape == (T, B, H) and torch.equal(output[-1], h)


def test_lengths_from_a_pandas_series_with_any_index() -> None:
    pd = pytest.importorskip("pandas")
    layer = rnnkit.GRU(IN, H)
    x = torch.randn(5, 3, IN)
    expected = layer(x, lengths=[5, 3, 2])
    for index in (None, [10, 11, 12], ["a", "b", "c"]):
        output, h_n = layer(x, lengths=pd.Series([5, 3, 2], index=index))
        torch.testing.assert_close(output, expected[0])
        torch.testing.assert_close(h_n, expected[1])
    with pytest.raises(ValueError, match=r"got dtype torch.float64 \(convert them: lengths.long"):
        layer(x, lengths=pd.Series([5.0, 3.0, 2.0]))


def test_numpy_and_pandas_inputs_say_how_to_convert() -> None:
    import numpy as np

    pd = pytest.importorskip("pandas")
    layer = rnnkit.LSTM(IN, H).double()
    with pytest.raises(ValueError, match=r"got ndarray \(convert it: torch.as_tensor\(x, "
                                         r"dtype=torch.float64\)\)"):
        layer(np.zeros((5, 2, IN)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"got DataFrame \(convert it: "
                                         r"torch.as_tensor\(x.to_numpy\(\), dtype=torch.float64"):
        layer(pd.DataFrame(np.zeros((5, IN))))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"expected x as a Tensor \[batch, 3\], got list "
                                         r"\(convert it: torch.as_tensor\(x, dtype=torch.float32"):
        rnnkit.GRUCell(3, 4)([[0.0, 0.0, 0.0]])  # type: ignore[arg-type]


def test_an_initial_state_of_the_wrong_kind_says_how_to_convert() -> None:
    import numpy as np

    layer = rnnkit.GRU(IN, H)
    x = torch.randn(5, 2, IN)
    with pytest.raises(ValueError, match=r"got ndarray \(convert it: torch.as_tensor\(x, "
                                         r"dtype=torch.float32\)\)"):
        layer(x, np.zeros((1, 2, H), dtype=np.float32))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"initial state is torch.float64 on cpu, the weights "
                                         r"torch.float32 on cpu \(convert it: "
                                         r"hx.to\(torch.float32, device='cpu'\)\)"):
        layer(x, torch.zeros(1, 2, H, dtype=torch.float64))


def test_a_tuple_of_tensors_as_state_gets_no_conversion_hint() -> None:
    x = torch.randn(5, 2, IN)
    for layer, hx in ((rnnkit.GRU(IN, H), (torch.zeros(1, 2, H),) * 2),
                      (rnnkit.LSTM(IN, H), (torch.zeros(1, 2, H),))):
        with pytest.raises(ValueError, match="expected the initial state as") as info:
            layer(x, hx)
        assert "as_tensor" not in str(info.value)


def test_features_in_the_middle_dimension_are_pointed_at() -> None:
    layer = rnnkit.GRU(IN, H, batch_first=True)
    with pytest.raises(ValueError, match=r"got shape \(2, 3, 9\) \(the features look to be in "
                                         r"dimension 1: move them last, e.g. x.transpose\(1, 2\)"):
        layer(torch.randn(2, IN, 9))
    with pytest.raises(ValueError, match=r"got shape \(2, 9, 4\)$"):
        layer(torch.randn(2, 9, 4))


def test_a_projected_state_of_the_wrong_width_says_which_tensor_it_is() -> None:
    """With proj_size, h_0 is P wide and c_0 H; a state of the wrong width was refused as
    'expected an initial state of shape [layers*directions, batch, hidden] = [1, 4, 2]' (2 is
    proj_size, not hidden_size 5), naming neither the tensor nor proj_size."""
    layer = rnnkit.LSTM(IN, H, proj_size=2).double()
    h, c = torch.zeros(1, B, 2, dtype=DTYPE), torch.zeros(1, B, H, dtype=DTYPE)
    x = random_input(False)
    note = r" \(h_0 is proj_size = 2 wide, c_0 hidden_size = 5\)$"
    with pytest.raises(ValueError, match=r"\[layers\*directions, batch, proj_size\] = \[1, 4, 2\],"
                                         r" got \[1, 4, 5\] for h_0" + note):
        layer(x, (c, h))  # swapped
    with pytest.raises(ValueError, match=r"\[layers\*directions, batch, hidden\] = \[1, 4, 5\],"
                                         r" got \[1, 4, 2\] for c_0" + note):
        layer(x, (h, h))
    with pytest.raises(ValueError, match=r"unbatched input \[T, I\] takes an initial state of"
                                         r" shape \[layers\*directions, proj_size\] = \[1, 2\],"
                                         r" got \[1, 5\] for h_0" + note):
        layer(x[:, 0], (c[:, 0], h[:, 0]))
    with pytest.raises(ValueError,
                       match=r"batch, hidden\] = \[1, 4, 5\], got \[1, 3, 5\] for h_0$"):
        rnnkit.LSTM(IN, H).double()(x, (c[:, 1:],) * 2)  # no projection: no widths


@pytest.mark.parametrize("kernel", ["fused", "loop"])
def test_an_lstm_state_of_the_wrong_shape_says_which_tensor_it_is(kernel: str) -> None:
    """h_0 and c_0 are shaped alike without proj_size: a wrong c_0 was refused as 'expected an
    initial state of shape [...] = [2, 4, 5], got [2, 4, 6]', naming neither tensor."""
    layer = rnnkit.LSTM(IN, H, num_layers=2, kernel=kernel, dtype=DTYPE)
    x = random_input(False)
    good = torch.zeros(2, B, H, dtype=DTYPE)
    for state, tensor, got in (((good, good[..., :4]), "c_0", "[2, 4, 4]"),
                               ((good[:1], good), "h_0", "[1, 4, 5]")):
        with pytest.raises(ValueError, match=r"LSTM: expected an initial state of shape"
                           r" \[layers\*directions, batch, hidden\] = \[2, 4, 5\], got "
                           + re.escape(got) + f" for {tensor}$"):
            layer(x, state)
    with pytest.raises(ValueError, match=r"takes an initial state of shape"
                       r" \[layers\*directions, hidden\] = \[2, 5\], got \[2, 6\] for c_0$"):
        layer(x[:, 0], (good[:, 0], torch.zeros(2, H + 1, dtype=DTYPE)))
    with pytest.raises(ValueError, match=r"= \[2, 4, 5\], got \[2, 3, 5\]$"):
        rnnkit.GRU(IN, H, num_layers=2, kernel=kernel, dtype=DTYPE)(x, good[:, 1:])  # one tensor
