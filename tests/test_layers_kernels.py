"""rnnkit.layers: the choice between the fused kernel and the loop, and its warning."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
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
    make_reference,
    random_input,
    run_torch,
)
from torch import Tensor, nn
from torch.profiler import ProfilerActivity, profile

import rnnkit
from rnnkit.layers import recurrent as recurrent_module


@pytest.fixture
def no_warned() -> Iterator[None]:
    """The loop-path warning is given once per reason; forget which were given."""
    recurrent_module._WARNED.clear()
    yield
    recurrent_module._WARNED.clear()


# -- kernel choice and its warning ----------------------------------------------------------
@pytest.mark.filterwarnings("ignore:rnnkit")
def test_kernel_attribute() -> None:
    assert rnnkit.LSTM(IN, H).kernel == "fused"
    assert rnnkit.GRU(IN, H, num_layers=2, bidirectional=True, dropout=0.1).kernel == "fused"
    assert rnnkit.RNN(IN, H, nonlinearity="relu").kernel == "fused"
    assert rnnkit.LSTM(IN, H, kernel="fused").kernel == "fused"
    assert rnnkit.LSTM(IN, H, init="recurrent").kernel == "fused"
    assert rnnkit.LSTM(IN, H, kernel="loop").kernel == "loop"
    assert rnnkit.LSTM(IN, H, layer_norm=True).kernel == "loop"
    assert rnnkit.GRU(IN, H, layer_norm=True).kernel == "loop"
    assert rnnkit.LSTM(IN, H, recurrent_dropout=0.2).kernel == "loop"
    assert rnnkit.RNN(IN, H, recurrent_dropout=0.2).kernel == "loop"
    assert rnnkit.Recurrent(rnnkit.LayerNormGRUCell, IN, H).kernel == "loop"
    assert rnnkit.Recurrent(rnnkit.LSTMCell, IN, H).kernel == "fused"


def kernels_run(layer: nn.Module, lengths: Tensor | None,
                dtype: torch.dtype = torch.float32) -> set[str]:
    """The recurrent kernels the profiler sees in one forward and backward pass (float32, or
    ``dtype``: the layer's)."""
    x = torch.randn(T, B, IN, dtype=dtype)
    with profile(activities=[ProfilerActivity.CPU], acc_events=True) as prof:
        if isinstance(layer, nn.RNNBase):
            out, _ = run_torch(layer, x, None, lengths)
        else:
            out, _ = layer(x, lengths=lengths)
        out.sum().backward()
    names = ("lstm", "gru", "rnn_tanh", "rnn_relu", "mkldnn_rnn")
    return {e.key for e in prof.key_averages() if any(n in e.key for n in names)}


@pytest.mark.parametrize("lengths", [None, LENGTHS], ids=["full", "lengths"])
@pytest.mark.parametrize("mode", list(MODES))
def test_the_fused_path_runs_the_kernels_torch_nn_runs(mode: str, lengths: list[int] | None
                                                       ) -> None:
    """The same dispatch as torch.nn: oneDNN for a float32 LSTM over a full batch (where
    PyTorch has it), ATen's own C++ kernels otherwise on the CPU; the loop path runs none."""
    torch_class, our_class, extra = MODES[mode]
    ref = torch_class(IN, H, num_layers=2, bidirectional=True, **extra)
    lengths_t = None if lengths is None else torch.tensor(lengths)
    ours = kernels_run(our_class.from_torch(ref), lengths_t)
    assert ours and ours == kernels_run(ref, lengths_t)
    assert not kernels_run(our_class.from_torch(ref, kernel="loop"), lengths_t)
    if mode == "lstm" and lengths is None and torch.backends.mkldnn.is_available():
        assert "aten::mkldnn_rnn_layer" in ours


@pytest.mark.parametrize("onednn_on", [True, False], ids=["onednn", "onednn_off"])
def test_info_says_which_cpu_kernel_the_fused_lstm_runs(
        onednn_on: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """rnnkit info said 'on the CPU oneDNN for an LSTM over a full batch': a float64 LSTM, or
    one with proj_size, runs ATen's kernels there, as does any LSTM with oneDNN turned off.
    onednn_lstm_dtypes, from which info words it, agrees with the profiler on every case."""
    from rnnkit.layers.fused import cpu_fused_kernels, onednn_lstm_dtypes

    monkeypatch.setattr(torch.backends.mkldnn, "enabled", onednn_on)  # (flags() warns)
    dtypes = onednn_lstm_dtypes()
    for dtype in (torch.float32, torch.float64, torch.bfloat16):
        for proj_size in (0, 2):
            layer = rnnkit.LSTM(IN, H, proj_size=proj_size, dtype=dtype)
            for lengths in (None, torch.tensor(LENGTHS)):
                onednn = "aten::mkldnn_rnn_layer" in kernels_run(layer, lengths, dtype)
                expected = dtype in dtypes and lengths is None and proj_size == 0
                assert onednn == expected, (dtype, proj_size, lengths)
    words = cpu_fused_kernels()
    if onednn_on and torch.backends.mkldnn.is_available():
        assert dtypes[0] == torch.float32 and torch.float64 not in dtypes
        assert words.startswith("oneDNN for an LSTM over a full batch (no lengths) in float32")
        assert "ATen's C++ kernels otherwise (float64, lengths" in words
    else:
        assert dtypes == []
        assert words.startswith("ATen's C++ kernels for every RNN/LSTM/GRU (oneDNN is ")


class Halve(nn.Module):
    """A parametrization: the weight a layer computes with is half of the stored one."""

    def forward(self, weight: Tensor) -> Tensor:
        return weight / 2


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("mode", list(MODES))
def test_both_paths_compute_with_parametrized_weights(mode: str, bias: bool) -> None:
    """A weight under torch.nn.utils.parametrize (orthogonal, weight_norm, ...) enters as its
    parametrized value, as in torch.nn. The fused path read cell.parameters(), where the raw
    tensor comes last: with biases the kernel got a bias for W_hh and failed deep in PyTorch
    (mat2 must be a matrix), without them it ran on the raw, unparametrized tensor."""
    torch_class, our_class, extra = MODES[mode]
    ref = make_reference(mode, num_layers=2, bidirectional=True, bias=bias)
    x = random_input(False)
    results = []
    for layer in (ref, our_class.from_torch(ref), our_class.from_torch(ref, kernel="loop")):
        owner, name = (layer, "weight_hh_l1") if layer is ref else (layer.cell(2), "weight_hh")
        nn.utils.parametrize.register_parametrization(owner, name, Halve())
        out, _ = run_torch(layer, x, None, None) if layer is ref else layer(x)
        original = owner.parametrizations[name].original
        results.append((out, torch.autograd.grad(out.square().sum(), original)[0]))
    for out, grad in results[1:]:
        torch.testing.assert_close(out, results[0][0], rtol=0, atol=ATOL)
        torch.testing.assert_close(grad, results[0][1], rtol=0, atol=ATOL)


@pytest.mark.parametrize("mode", list(MODES))
def test_a_factory_of_parametrized_plain_cells_runs_fused(mode: str, no_warned: None) -> None:
    """A factory that puts a plain cell under weight_norm got the loop, with a warning (and
    kernel='fused' a refusal) saying 'the cell ParametrizedLSTMCell has no fused kernel in
    PyTorch', while the same cell parametrized after construction ran fused, as torch.nn's
    weight-normed layers do. Both now run fused, and compute what the loop computes."""
    _, our_class, extra = MODES[mode]
    plain = our_class(IN, H, num_layers=2, bidirectional=True, dtype=DTYPE, **extra)

    def factory(input_size: int, hidden_size: int) -> rnnkit.cells.RecurrentCell:
        cell = type(plain.cell(0))(input_size, hidden_size, **extra).to(DTYPE)
        return nn.utils.parametrizations.weight_norm(cell, "weight_hh")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layers = [rnnkit.Recurrent(factory, IN, H, num_layers=2, bidirectional=True,
                                   kernel=kernel) for kernel in ("auto", "fused", "loop")]
        assert [layer.kernel for layer in layers] == ["fused", "fused", "loop"]
    layers[0].load_state_dict(layers[2].state_dict())
    x = random_input(False)
    lengths = torch.tensor(LENGTHS)
    torch.testing.assert_close(layers[0](x, lengths=lengths)[0],
                               layers[2](x, lengths=lengths)[0], rtol=0, atol=ATOL)


@pytest.mark.parametrize("mode", ["lstm", "rnn_relu"])
def test_conversion_copies_the_weights_a_parametrized_layer_computes_with(mode: str) -> None:
    """to_torch said 'torch.nn has no layer-normalised cell' for a layer whose cell weight is
    parametrized, and from_torch refused a parametrized torch layer ('got ParametrizedLSTM');
    each now copies the weights the layer computes with, as the cells' conversions do."""
    torch_class, our_class, extra = MODES[mode]
    ours = our_class(IN, H, num_layers=2, bidirectional=True, dtype=DTYPE, **extra)
    nn.utils.parametrize.register_parametrization(ours.cell(3), "weight_hh", Halve())
    x = random_input(batch_first=False)
    theirs = ours.to_torch()
    assert type(theirs) is torch_class
    torch.testing.assert_close(theirs(x)[0], ours(x)[0], rtol=0, atol=ATOL)
    torch_layer = torch_class(IN, H, num_layers=2, bidirectional=True, dtype=DTYPE, **extra)
    nn.utils.parametrize.register_parametrization(torch_layer, "weight_ih_l1", Halve())
    back = our_class.from_torch(torch_layer)
    torch.testing.assert_close(back(x)[0], torch_layer(x)[0], rtol=0, atol=ATOL)


def test_torch_names_give_the_parametrized_weight() -> None:
    """layer.weight_hh_l0 is the weight the layer computes with, as in torch.nn; it was looked
    up in the cell's state_dict, where a parametrized weight is missing: KeyError, even from
    hasattr()."""
    layer = rnnkit.LSTM(IN, H, layer_norm=True)
    nn.utils.parametrize.register_parametrization(layer.cell(0), "weight_hh", Halve())
    assert hasattr(layer, "weight_hh_l0")
    torch.testing.assert_close(layer.weight_hh_l0, layer.cell(0).weight_hh)
    assert layer.ln_cell_weight_l0 is layer.cell(0).ln_cell.weight


@pytest.mark.parametrize("kernel", ["fused", "loop"])
def test_assigning_a_weight_by_its_torch_name_sets_the_weight(kernel: str) -> None:
    """layer.weight_hh_l0 = Parameter(...) raised a KeyError from torch ('attribute already
    exists'), and a plain tensor was kept beside the weights, read back by the attribute but
    never computed with. Both now behave as on torch.nn.LSTM."""
    theirs = nn.LSTM(IN, H, bidirectional=True, dtype=DTYPE)
    ours = rnnkit.LSTM.from_torch(theirs, kernel=kernel)
    new = torch.randn(4 * H, H, dtype=DTYPE)
    theirs.weight_hh_l0_reverse = nn.Parameter(new.clone())
    ours.weight_hh_l0_reverse = nn.Parameter(new.clone())
    assert ours.cell(1).weight_hh is ours.weight_hh_l0_reverse
    x = torch.randn(T, B, IN, dtype=DTYPE)
    torch.testing.assert_close(ours(x)[0], theirs(x)[0], rtol=0, atol=ATOL)
    assert torch.equal(ours.state_dict()["weight_hh_l0_reverse"], new)
    with pytest.raises(TypeError, match="cannot assign 'torch.DoubleTensor' as parameter "
                                        "'weight_hh_l0' \\(torch.nn.Parameter or None"):
        ours.weight_hh_l0 = new  # as torch.nn.LSTM refuses it
    ln = rnnkit.GRU(IN, H, layer_norm=True)
    ln.ln_hh_weight_l0 = nn.Parameter(torch.zeros(3 * H))
    assert ln.cell(0).ln_hh.weight is ln.ln_hh_weight_l0


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
@pytest.mark.parametrize("build", [
    lambda: rnnkit.LSTM(IN, H), lambda: rnnkit.GRU(IN, H, layer_norm=True, kernel="loop"),
    lambda: rnnkit.GRUCell(IN, H), lambda: nn.Sequential(rnnkit.RNN(IN, H)),
])
def test_torchscript_is_refused_in_one_line(build: Callable[[], nn.Module]) -> None:
    """torch.jit.script failed deep in TorchScript ('Can not create tuple with None type')."""
    module = build()
    with pytest.raises(TypeError, match=r"(LSTM|GRU|GRUCell|RNN) cannot be compiled by "
                                        r"TorchScript \(torch.jit.script\); use torch.compile"):
        torch.jit.script(module)


def test_warns_once_when_an_option_forces_the_loop(no_warned: None) -> None:
    with pytest.warns(UserWarning, match=r"LSTM: the cell LayerNormLSTMCell has no fused kernel"
                      r" in PyTorch, so it runs rnnkit's time loop \(kernel='loop'\)") as caught:
        rnnkit.LSTM(IN, H, layer_norm=True)
    assert [w.filename for w in caught] == [__file__]  # points at the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rnnkit.LSTM(IN, H, layer_norm=True)  # the same reason again: silent
        rnnkit.LSTM(IN, H, num_layers=2, layer_norm=True)
    with pytest.warns(UserWarning, match=r"recurrent_dropout > 0 needs a dropout mask"):
        rnnkit.GRU(IN, H, recurrent_dropout=0.3)
    with pytest.warns(UserWarning, match=r"Recurrent: the cell LayerNormGRUCell") as caught:
        rnnkit.Recurrent(rnnkit.LayerNormGRUCell, IN, H)
    assert [w.filename for w in caught] == [__file__]


def test_no_warning_when_the_loop_is_asked_for_or_not_needed(no_warned: None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rnnkit.LSTM(IN, H, kernel="loop")
        rnnkit.LSTM(IN, H, layer_norm=True, kernel="loop")
        rnnkit.GRU(IN, H, recurrent_dropout=0.3, kernel="loop")
        rnnkit.LSTM(IN, H, num_layers=2, bidirectional=True, dropout=0.2)


def test_fused_kernel_refused_when_impossible() -> None:
    with pytest.raises(
        ValueError,
        match=r"LSTM: kernel='fused' is impossible: the cell LayerNormLSTMCell has no fused kernel",
    ):
        rnnkit.LSTM(IN, H, layer_norm=True, kernel="fused")
    with pytest.raises(ValueError, match=r"GRU: kernel='fused' is impossible: recurrent_dropout"):
        rnnkit.GRU(IN, H, recurrent_dropout=0.1, kernel="fused")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"num_layers": 0}, r"num_layers must be an int >= 1, got 0"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
        ({"recurrent_dropout": -0.1}, r"recurrent_dropout must be in \[0, 1\), got -0.1"),
        ({"init": "xavier"}, r"init must be one of \('torch', 'recurrent'\), got 'xavier'"),
        ({"kernel": "cudnn"}, r"kernel must be one of \('auto', 'fused', 'loop'\), got 'cudnn'"),
        ({"layer_norm": True, "bias": False}, r"layer_norm=True needs bias=True"),
    ],
)
def test_bad_options_raise(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rnnkit.LSTM(IN, H, **options)
