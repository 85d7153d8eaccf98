"""rnnkit.layers: building a layer: options, init="recurrent", cell factories, custom cells."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from test_layers import (
    ATOL,
    DTYPE,
    IN,
    LENGTHS,
    MODES,
    B,
    H,
    T,
    _seed,  # noqa: F401  (autouse: every test starts from seed 0)
    random_input,
    run_torch,
)
from torch import Tensor, nn

import rnnkit


# -- init="recurrent" -----------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:rnnkit")
@pytest.mark.parametrize(
    ("mode", "layer_norm"),
    [(mode, False) for mode in MODES] + [("lstm", True), ("gru", True)],
)
def test_recurrent_init(mode: str, layer_norm: bool) -> None:
    _, our_class, extra = MODES[mode]
    if layer_norm:
        extra = {**extra, "layer_norm": True}
    layer = our_class(IN, H, num_layers=2, bidirectional=True, init="recurrent", **extra).double()
    assert layer.kernel == ("loop" if layer_norm else "fused")
    gates = layer.cells[0].num_gates
    eye = torch.eye(H, dtype=DTYPE)
    for cell in layer.cells:
        for g in range(gates):
            block = cell.weight_hh[g * H:(g + 1) * H].detach()
            torch.testing.assert_close(block @ block.T, eye, rtol=0, atol=1e-6)
        biases = [p.detach() for n, p in cell.named_parameters() if "bias" in n]
        assert biases or not layer.cells[0].bias
        for extra_bias in (b for b in biases if b.shape != (gates * H,)):  # ln_cell's shift
            assert torch.equal(extra_bias, torch.zeros_like(extra_bias))
        total = sum((b for b in biases if b.shape == (gates * H,)), torch.zeros(gates * H))
        if mode == "lstm":
            forget = total[H:2 * H]
            assert torch.equal(forget, torch.ones(H, dtype=DTYPE))
            total = torch.cat([total[:H], total[2 * H:]])
        assert torch.equal(total, torch.zeros_like(total))
    x = random_input(False)
    out, final = layer(x, lengths=LENGTHS)
    assert torch.isfinite(out).all()
    if not layer_norm:  # the same weights in torch.nn give the same result
        out_ref, final_ref = run_torch(layer.to_torch(), x, None, torch.tensor(LENGTHS))
        torch.testing.assert_close(out, out_ref, rtol=0, atol=ATOL)


def test_layer_norm_lstm_needs_two_units() -> None:
    with pytest.raises(ValueError, match="hidden_size must be at least 2, got 1"):
        rnnkit.LayerNormLSTMCell(2, 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_layers": True}, "num_layers must be an int >= 1, got True"),
        ({"dropout": None}, r"dropout must be in \[0, 1\), got None \(a float, e.g. dropout=0.1\)"),
        ({"dropout": "0.1"}, "dropout must be in \\[0, 1\\), got '0.1' \\(a float"),
        ({"recurrent_dropout": None}, r"recurrent_dropout must be in \[0, 1\), got None \(a"),
    ],
)
def test_constructor_options_of_the_wrong_type_are_named(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        rnnkit.LSTM(IN, H, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: rnnkit.LSTM(IN, H, batch_first="False"),
         r"LSTM: batch_first must be True or False, got 'False' of type str \(write"
         r" batch_first=True or batch_first=False\)"),
        (lambda: rnnkit.LSTM(IN, H, batch_first="False", kernel="loop"),
         r"LSTM: batch_first must be True or False, got 'False'"),
        (lambda: rnnkit.GRU(IN, H, batch_first=None), r"GRU: batch_first must be True or False"),
        (lambda: rnnkit.RNN(IN, H, bidirectional="no"),
         r"RNN: bidirectional must be True or False, got 'no'"),
        (lambda: rnnkit.Recurrent(rnnkit.LSTMCell, IN, H, bidirectional=1),
         r"Recurrent: bidirectional must be True or False, got 1 of type int"),
        (lambda: rnnkit.LSTM(IN, H, bias="no"), r"LSTM: bias must be True or False, got 'no'"),
        (lambda: rnnkit.RNN(IN, H, bias=None), r"RNN: bias must be True or False, got None"),
        (lambda: rnnkit.GRU(IN, H, layer_norm="no"),
         r"GRU: layer_norm must be True or False, got 'no'"),
    ],
)
def test_yes_no_options_must_be_bools(build: Callable[[], nn.Module], message: str) -> None:
    """A string is truthy: batch_first="False" ran batch-first on the loop path and failed
    inside torch's fused kernel (a TypeError); bias="no" built biases, layer_norm="no" the
    layer-normalised cells, bidirectional="no" a second direction."""
    with pytest.raises(ValueError, match=message):
        build()


def test_numpy_bools_work_as_yes_no_options() -> None:
    import numpy as np

    layer = rnnkit.LSTM(IN, H, batch_first=np.bool_(True), bidirectional=np.bool_(True),
                        bias=np.bool_(False))  # type: ignore[arg-type]
    assert layer.batch_first is True and layer.kernel == "fused"  # torch's kernel takes bools
    output, (h_n, _) = layer(torch.randn(2, 7, IN))
    assert output.shape == (2, 7, 2 * H) and h_n.shape == (2, 2, H)
    assert "bias_ih_l0" not in layer.state_dict()


def test_numpy_integers_work_as_num_layers() -> None:
    import numpy as np

    layer = rnnkit.GRU(IN, H, num_layers=np.int64(2))  # type: ignore[arg-type]
    assert layer.num_layers == 2 and type(layer.num_layers) is int
    assert layer(torch.randn(2, 1, IN))[1].shape == (2, 1, H)


@pytest.mark.parametrize("cell", [rnnkit.LSTMCell(IN, H), None])
def test_recurrent_names_a_cell_that_is_no_factory(cell: object) -> None:
    with pytest.raises(ValueError, match="cell must be a cell class or a factory") as info:
        rnnkit.Recurrent(cell, IN, H)  # type: ignore[arg-type]
    if cell is not None:
        assert "pass the class: LSTMCell, not an instance" in str(info.value)


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda i, h: rnnkit.LSTMCell(i, h + 1), r"cell 0 is LSTMCell\(3, 6\), not \(3, 5\)"),
        (lambda i, h: rnnkit.GRUCell(IN, h), r"cell 1 is GRUCell\(3, 5\), not \(5, 5\)"),
        (lambda i, h: rnnkit.LayerNormGRUCell(i, h - 1), r"LayerNormGRUCell\(3, 4\), not"),
    ],
)
def test_a_factory_that_builds_other_sizes_is_named(
    factory: Callable[[int, int], rnnkit.RecurrentCell], message: str
) -> None:
    """The fused LSTM ran such cells without a word (the output read as hidden_size wide);
    the other paths failed deep in a matrix product."""
    with pytest.raises(ValueError, match=message):
        rnnkit.Recurrent(factory, IN, H, num_layers=2)


def test_a_factory_that_mixes_state_sizes_is_named() -> None:
    cells = iter([rnnkit.LSTMCell(IN, H), rnnkit.GRUCell(IN, H)])
    with pytest.raises(ValueError, match=r"cells of one state size: cell 1 \(GRUCell\) has 1"):
        rnnkit.Recurrent(lambda i, h: next(cells), IN, H, bidirectional=True)


class WideCell(rnnkit.RecurrentCell):
    """A custom cell with a bug: its state is twice hidden_size wide."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.linear = nn.Linear(input_size + hidden_size, 2 * hidden_size)

    def forward(self, x: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        return (torch.tanh(self.linear(torch.cat([x, state[0][:, :self.hidden_size]], 1))),)


class BareCell(rnnkit.RecurrentCell):
    """A custom cell with a bug: forward returns h, not the tuple (h,)."""

    def forward(self, x: Tensor, state: tuple[Tensor, ...]) -> Tensor:  # type: ignore[override]
        return state[0] + x.sum(1, keepdim=True)


@pytest.mark.filterwarnings("ignore:rnnkit")
def test_a_custom_cell_returning_the_wrong_state_is_named() -> None:
    """A cell whose state came back 2*hidden_size wide gave a [T, B, 2H] output without a word
    (and failed deep in torch.where with lengths); a bare tensor was blamed on a step method
    the cell does not have."""
    x = torch.randn(T, B, IN)
    with pytest.raises(ValueError, match=r"WideCell.forward must return state tensors of the "
                                         r"shape it is given, \[4, 5\]; got \[4, 10\]"):
        rnnkit.Recurrent(WideCell, IN, H)(x)
    with pytest.raises(ValueError, match=r"BareCell.forward must return a tuple of 1 state"):
        rnnkit.Recurrent(BareCell, IN, 1)(x)


def test_a_cell_without_weights_runs() -> None:
    class Identity(rnnkit.RecurrentCell):
        def forward(self, x: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
            return (state[0] + x.sum(dim=1, keepdim=True),)

    layer = rnnkit.Recurrent(Identity, IN, 1)
    x = torch.ones(4, 2, IN, dtype=torch.float64)
    output, h_n = layer(x, lengths=[4, 2])
    assert output.dtype == torch.float64
    assert h_n.flatten().tolist() == [12.0, 6.0]
    with pytest.raises(ValueError, match="expected a Tensor or PackedSequence, got NoneType"):
        layer(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"dtype": "float64"}, "dtype must be a floating-point torch.dtype such as torch.float64,"
                               " got 'float64'"),
        ({"dtype": torch.int64}, "dtype must be a floating-point torch.dtype"),
        ({"device": "gpu"}, "device 'gpu' is not a device PyTorch knows, such as 'cpu' or 'cuda'"),
    ],
)
def test_factory_arguments_of_the_wrong_kind_are_named(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        rnnkit.GRU(IN, H, **options)
