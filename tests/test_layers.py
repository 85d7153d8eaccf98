"""rnnkit.layers: the proof that RNN/LSTM/GRU compute exactly what torch.nn computes.

Every option combination is compared with ``torch.nn`` in float64 on both paths (PyTorch's fused
kernel and rnnkit's own time loop): outputs, final states and the gradient of every parameter,
of the input and of the initial state.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence
from torch.profiler import ProfilerActivity, profile

import rnnkit
from rnnkit.layers import recurrent as recurrent_module

T, B, IN, H = 7, 4, 3, 5
LENGTHS = [7, 3, 5, 1]
SHORT = [6, 3, 5, 1]  # no sequence fills the padded batch
DTYPE = torch.float64
ATOL = 1e-10

# name -> (torch.nn class, rnnkit class, extra constructor kwargs)
MODES: dict[str, tuple[type[nn.RNNBase], type[rnnkit.layers.standard._StandardLayer], dict]] = {
    "rnn_tanh": (nn.RNN, rnnkit.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (nn.RNN, rnnkit.RNN, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTM, rnnkit.LSTM, {}),
    "gru": (nn.GRU, rnnkit.GRU, {}),
}


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture
def no_warned() -> Iterator[None]:
    """The loop-path warning is given once per reason; forget which were given."""
    recurrent_module._WARNED.clear()
    yield
    recurrent_module._WARNED.clear()


# -- helpers ------------------------------------------------------------------------------------
def make_reference(mode: str, **options: Any) -> nn.RNNBase:
    torch_class, _, extra = MODES[mode]
    return torch_class(IN, H, **extra, **options).double()


def random_input(batch_first: bool, batch: int = B) -> Tensor:
    return torch.randn(*((batch, T, IN) if batch_first else (T, batch, IN)), dtype=DTYPE)


def random_hx(mode: str, layers_x_dirs: int, batch: int = B) -> tuple[Tensor, ...]:
    count = 2 if mode == "lstm" else 1
    return tuple(torch.randn(layers_x_dirs, batch, H, dtype=DTYPE) for _ in range(count))


def as_hx(mode: str, parts: tuple[Tensor, ...]) -> Tensor | tuple[Tensor, ...]:
    return parts if mode == "lstm" else parts[0]


def as_tuple(final: Tensor | tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    return tuple(final) if isinstance(final, tuple) else (final,)


def run_torch(
    ref: nn.RNNBase, x: Tensor, hx: Any, lengths: Tensor | None
) -> tuple[Tensor, Tensor | tuple[Tensor, ...]]:
    """torch.nn with variable lengths: pack, run, pad back to the full length."""
    if lengths is None:
        return ref(x, hx)
    packed = pack_padded_sequence(x, lengths, batch_first=ref.batch_first, enforce_sorted=False)
    out, final = ref(packed, hx)
    out, _ = pad_packed_sequence(out, batch_first=ref.batch_first, total_length=T)
    return out, final


def padded(lengths: list[int], batch_first: bool) -> Tensor:
    """Boolean mask, True at padded positions (t >= length), in the input's layout."""
    mask = torch.arange(T).unsqueeze(1) >= torch.tensor(lengths).unsqueeze(0)  # [T, B]
    return mask.T if batch_first else mask


def outputs_and_grads(
    module: nn.Module,
    run: Callable[..., tuple[Any, Any]],
    x: Tensor,
    hx: tuple[Tensor, ...],
    mode: str,
    names: list[str],
    weights: list[Tensor],
) -> dict[str, Tensor]:
    """Forward, then the gradient of a random linear function of everything that came out."""
    x = x.clone().requires_grad_()
    hx = tuple(h.clone().requires_grad_() for h in hx)
    out, final = run(x, as_hx(mode, hx))
    finals = as_tuple(final)
    outputs = (out, *finals)
    loss = sum((o * w).sum() for o, w in zip(outputs, weights, strict=True))
    params = [getattr(module, n) for n in names]
    grads = torch.autograd.grad(loss, [x, *hx, *params])
    result = {"output": out.detach(), **{f"final{k}": f.detach() for k, f in enumerate(finals)}}
    result["grad_input"] = grads[0]
    result.update({f"grad_hx{k}": g for k, g in enumerate(grads[1:1 + len(hx)])})
    result.update({f"grad_{n}": g for n, g in zip(names, grads[1 + len(hx):], strict=True)})
    return result


def assert_same(got: dict[str, Tensor], expected: dict[str, Tensor], label: str) -> None:
    assert got.keys() == expected.keys()
    for key in expected:
        torch.testing.assert_close(
            got[key], expected[key], rtol=0, atol=ATOL, msg=lambda m, k=key: f"{label} {k}: {m}"
        )


# -- the core proof: equality with torch.nn over every option -------------------------------------
@pytest.mark.parametrize("lengths", [None, LENGTHS, SHORT], ids=["full", "lengths", "short"])
@pytest.mark.parametrize("num_layers", [1, 2], ids=["L1", "L2"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["tbi", "bti"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("mode", list(MODES))
def test_layer_equals_torch(
    mode: str,
    bias: bool,
    batch_first: bool,
    bidirectional: bool,
    num_layers: int,
    lengths: list[int] | None,
) -> None:
    _, our_class, _ = MODES[mode]
    ref = make_reference(
        mode, num_layers=num_layers, bias=bias, batch_first=batch_first,
        bidirectional=bidirectional,
    )
    fused = our_class.from_torch(ref)
    loop = our_class.from_torch(ref, kernel="loop")
    assert (fused.kernel, loop.kernel) == ("fused", "loop")

    dirs = 2 if bidirectional else 1
    x = random_input(batch_first)
    hx = random_hx(mode, num_layers * dirs)
    lengths_t = None if lengths is None else torch.tensor(lengths)
    names = [n for n, _ in ref.named_parameters()]
    out_shape = (B, T, dirs * H) if batch_first else (T, B, dirs * H)
    weights = [torch.randn(out_shape, dtype=DTYPE)]
    weights += [torch.randn(num_layers * dirs, B, H, dtype=DTYPE) for _ in hx]

    expected = outputs_and_grads(
        ref, lambda x, h: run_torch(ref, x, h, lengths_t), x, hx, mode, names, weights
    )
    assert expected["output"].shape == out_shape
    for label, layer in (("fused", fused), ("loop", loop)):
        got = outputs_and_grads(
            layer, lambda x, h, m=layer: m(x, h, lengths=lengths_t), x, hx, mode, names, weights
        )
        assert_same(got, expected, label)


@pytest.mark.parametrize("kernel", ["fused", "loop"])
@pytest.mark.parametrize("mode", list(MODES))
def test_default_initial_state_is_zeros(mode: str, kernel: str) -> None:
    ref = make_reference(mode, num_layers=2, bidirectional=True)
    ours = MODES[mode][1].from_torch(ref, kernel=kernel)
    x = random_input(False)
    zeros = tuple(torch.zeros_like(h) for h in random_hx(mode, 4))
    out, final = ours(x)
    out_ref, final_ref = ref(x, as_hx(mode, zeros))
    torch.testing.assert_close(out, out_ref, rtol=0, atol=ATOL)
    for a, b in zip(as_tuple(final), as_tuple(final_ref), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=ATOL)


@pytest.mark.parametrize("enforce_sorted", [False, True], ids=["unsorted", "sorted"])
@pytest.mark.parametrize("kernel", ["fused", "loop"])
@pytest.mark.parametrize("mode", list(MODES))
def test_packed_sequence_in_packed_sequence_out(
    mode: str, kernel: str, enforce_sorted: bool
) -> None:
    ref = make_reference(mode, num_layers=2, bidirectional=True, batch_first=True)
    ours = MODES[mode][1].from_torch(ref, kernel=kernel)
    lengths = sorted(LENGTHS, reverse=True) if enforce_sorted else LENGTHS
    x = random_input(batch_first=True).requires_grad_()
    hx = random_hx(mode, 4)
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=enforce_sorted)

    out_ref, final_ref = ref(packed, as_hx(mode, hx))
    out, final = ours(packed, as_hx(mode, hx))
    assert isinstance(out, PackedSequence)
    torch.testing.assert_close(out.data, out_ref.data, rtol=0, atol=ATOL)
    assert torch.equal(out.batch_sizes, out_ref.batch_sizes)
    for ours_index, ref_index in (
        (out.sorted_indices, out_ref.sorted_indices),
        (out.unsorted_indices, out_ref.unsorted_indices),
    ):
        assert (ours_index is None) == (ref_index is None)
        assert ours_index is None or torch.equal(ours_index, ref_index)
    for a, b in zip(as_tuple(final), as_tuple(final_ref), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=ATOL)

    names = [n for n, _ in ref.named_parameters()]
    w = torch.randn_like(out_ref.data)
    g_ref = torch.autograd.grad(  # the packing is shared: keep its graph for the second pass
        (out_ref.data * w).sum(), [x, *ref.parameters()], retain_graph=True
    )
    g_ours = torch.autograd.grad((out.data * w).sum(), [x, *(getattr(ours, n) for n in names)])
    for a, b in zip(g_ours, g_ref, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=ATOL)


# -- names, state dicts, conversion ---------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("mode", list(MODES))
def test_state_dict_speaks_torch_names(mode: str, bias: bool) -> None:
    torch_class, our_class, extra = MODES[mode]
    options = {"num_layers": 2, "bidirectional": True, "bias": bias}
    ref = make_reference(mode, **options)
    ours = our_class(IN, H, **extra, **options).double()
    ours_sd, ref_sd = ours.state_dict(), ref.state_dict()
    assert list(ours_sd) == list(ref_sd)  # same keys, same order
    assert [v.shape for v in ours_sd.values()] == [v.shape for v in ref_sd.values()]
    for name in ref_sd:
        assert getattr(ours, name) is not None
        assert getattr(ours, name).shape == getattr(ref, name).shape

    ref.load_state_dict(ours.state_dict())  # ours -> torch
    for name, value in ours.state_dict().items():
        assert torch.equal(ref.state_dict()[name], value)
    other = make_reference(mode, **options)
    ours.load_state_dict(other.state_dict())  # torch -> ours
    for name, value in other.state_dict().items():
        assert torch.equal(getattr(ours, name), value)
    # loading really replaced the weights the computation uses
    x = random_input(False)
    torch.testing.assert_close(ours(x)[0], other(x)[0], rtol=0, atol=ATOL)


def test_state_dict_names_inside_a_bigger_model() -> None:
    model = nn.ModuleDict({"encoder": rnnkit.LSTM(IN, H, num_layers=2, bidirectional=True)})
    reference = nn.ModuleDict({"encoder": nn.LSTM(IN, H, num_layers=2, bidirectional=True)})
    assert list(model.state_dict()) == list(reference.state_dict())
    model.load_state_dict(reference.state_dict())
    reference.load_state_dict(model.state_dict())
    ours, theirs = model["encoder"], reference["encoder"]
    assert torch.equal(ours.weight_hh_l1_reverse, theirs.weight_hh_l1_reverse)


def test_unknown_attribute_still_raises_attribute_error() -> None:
    layer = rnnkit.LSTM(IN, H)
    with pytest.raises(AttributeError):
        _ = layer.weight_hh_l3
    assert getattr(layer, "weight_ih_l0_reverse", None) is None


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("mode", list(MODES))
def test_to_torch_round_trip(mode: str, bias: bool) -> None:
    torch_class, our_class, extra = MODES[mode]
    ours = our_class(
        IN, H, num_layers=2, bias=bias, batch_first=True, dropout=0.25, bidirectional=True,
        **extra,
    ).double()
    theirs = ours.to_torch()
    assert type(theirs) is torch_class
    for option in ("input_size", "hidden_size", "num_layers", "batch_first", "bidirectional"):
        assert getattr(theirs, option) == getattr(ours, option), option
    assert theirs.bias == bias and theirs.dropout == 0.25
    if mode.startswith("rnn"):
        assert theirs.nonlinearity == extra["nonlinearity"]
    assert theirs.weight_ih_l0.dtype == DTYPE
    x = random_input(batch_first=True)
    ours.eval()
    theirs.eval()
    out, final = ours(x)
    out_ref, final_ref = theirs(x)
    torch.testing.assert_close(out, out_ref, rtol=0, atol=ATOL)
    for a, b in zip(as_tuple(final), as_tuple(final_ref), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=ATOL)
    back = our_class.from_torch(theirs)
    assert back.dropout == 0.25 and back.batch_first and back.bidirectional
    for (name, a), b in zip(ours.state_dict().items(), back.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_conversion_errors() -> None:
    with pytest.raises(ValueError, match=r"LSTM.from_torch expects a torch.nn.LSTM, got GRU"):
        rnnkit.LSTM.from_torch(nn.GRU(IN, H))
    with pytest.raises(ValueError, match=r"torch.nn.LSTMCell has no proj_size; a layer has"):
        rnnkit.cells.LSTMCell(IN, H, proj_size=2).to_torch()
    with pytest.raises(ValueError, match=r"proj_size must be an int from 0 \(none\) to "
                                         r"hidden_size - 1 = 4, as in torch.nn.LSTM; got 5"):
        rnnkit.LSTM(IN, H, proj_size=H)
    with pytest.raises(ValueError, match=r"proj_size with layer_norm=True is not supported"):
        rnnkit.LSTM(IN, H, proj_size=2, layer_norm=True)
    with pytest.raises(ValueError, match=r"proj_size cannot be overridden"):
        rnnkit.LSTM.from_torch(nn.LSTM(IN, H), proj_size=2)
    with pytest.raises(ValueError, match=r"LSTM.to_torch: torch.nn has no layer-normalised cell"):
        rnnkit.LSTM(IN, H, layer_norm=True, kernel="loop").to_torch()

    class Doubled(rnnkit.GRUCell):  # a subclass may compute something torch.nn.GRU does not
        def step(self, x_projected: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
            return super().step(2 * x_projected, state)

    layer = rnnkit.GRU(IN, H)
    layer.cells[0] = Doubled(IN, H)
    with pytest.raises(ValueError, match=r"no layer-normalised cell or cell of your own \(Doub"):
        layer.to_torch()


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


# -- variable lengths: padding never leaks ------------------------------------------------------
LEAK_CASES: dict[str, Callable[[bool], nn.Module]] = {
    "lstm_fused": lambda bf: rnnkit.LSTM(IN, H, 2, batch_first=bf, bidirectional=True),
    "lstm_loop": lambda bf: rnnkit.LSTM(IN, H, 2, batch_first=bf, bidirectional=True,
                                        kernel="loop"),
    "gru_fused": lambda bf: rnnkit.GRU(IN, H, 2, batch_first=bf, bidirectional=True),
    "gru_loop": lambda bf: rnnkit.GRU(IN, H, 2, batch_first=bf, bidirectional=True,
                                      kernel="loop"),
    "lstm_layer_norm": lambda bf: rnnkit.LSTM(IN, H, 2, batch_first=bf, bidirectional=True,
                                              layer_norm=True, kernel="loop"),
    "gru_layer_norm": lambda bf: rnnkit.GRU(IN, H, 2, batch_first=bf, bidirectional=True,
                                            layer_norm=True, kernel="loop"),
}


@pytest.mark.parametrize("batch_first", [False, True], ids=["tbi", "bti"])
@pytest.mark.parametrize("case", list(LEAK_CASES))
def test_padding_never_leaks(case: str, batch_first: bool) -> None:
    layer = LEAK_CASES[case](batch_first).double()
    mode = "lstm" if case.startswith("lstm") else "gru"
    lengths = torch.tensor(LENGTHS)
    pad = padded(LENGTHS, batch_first)  # [T, B] or [B, T]
    x = random_input(batch_first).requires_grad_()
    hx = as_hx(mode, random_hx(mode, 4))
    out, final = layer(x, hx, lengths=lengths)

    garbage = x.detach().clone()
    garbage[pad] = torch.randn(int(pad.sum()), IN, dtype=DTYPE) * 100
    out_garbage, final_garbage = layer(garbage, hx, lengths=lengths)
    assert torch.equal(out_garbage, out)  # not approximately: the padding is never read
    for a, b in zip(as_tuple(final_garbage), as_tuple(final), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(out[pad], torch.zeros_like(out[pad]))  # padded outputs are exactly zero
    assert out[~pad].abs().min() > 0

    weights = list(layer.parameters())
    grad, *weight_grads = torch.autograd.grad(out.sum() + as_tuple(final)[0].sum(), [x, *weights])
    assert torch.equal(grad[pad], torch.zeros_like(grad[pad]))
    assert grad[~pad].abs().sum(dim=-1).min() > 0  # every real step matters

    poisoned = x.detach().clone()  # NaN and inf padding: no NaN gradient either
    poisoned[pad] = torch.where(torch.rand(int(pad.sum()), IN) < 0.5, torch.nan, torch.inf
                                ).to(DTYPE)
    poisoned.requires_grad_()
    out_poisoned, final_poisoned = layer(poisoned, hx, lengths=lengths)
    assert torch.equal(out_poisoned, out)
    grads = torch.autograd.grad(out_poisoned.sum() + as_tuple(final_poisoned)[0].sum(),
                                [poisoned, *weights])
    for got, expected in zip(grads, [grad, *weight_grads], strict=True):
        assert torch.equal(got, expected)


def run_each_sequence_alone(layer: rnnkit.Recurrent, x: Tensor, lengths: list[int]) -> tuple:
    """Independent reference: one sequence at a time, cell by cell, step by step, no masks."""
    dirs = layer.num_directions
    outputs = torch.zeros(T, len(lengths), dirs * H, dtype=DTYPE)
    finals = [torch.zeros(layer.num_layers * dirs, len(lengths), H, dtype=DTYPE)
              for _ in range(layer.state_size)]
    for b, length in enumerate(lengths):
        layer_input = x[:length, b:b + 1]  # [t, 1, I]
        for k in range(layer.num_layers):
            per_direction = []
            for d in range(dirs):
                cell = layer.cells[k * dirs + d]
                state = cell.initial_state(1)
                steps = range(length) if d == 0 else range(length - 1, -1, -1)
                out: list[Tensor] = [torch.empty(0)] * length
                for t in steps:
                    state = cell(layer_input[t], state)
                    out[t] = state[0]
                per_direction.append(torch.stack(out))
                for part, value in zip(finals, state, strict=True):
                    part[k * dirs + d, b] = value[0]
            layer_input = torch.cat(per_direction, dim=2)
        outputs[:length, b] = layer_input[:, 0]
    return outputs, finals


@pytest.mark.parametrize("case", list(LEAK_CASES))
def test_batch_with_lengths_equals_each_sequence_alone(case: str) -> None:
    layer = LEAK_CASES[case](False).double()
    x = random_input(False)
    out, final = layer(x, lengths=torch.tensor(LENGTHS))
    expected_out, expected_finals = run_each_sequence_alone(layer, x, LENGTHS)
    torch.testing.assert_close(out, expected_out, rtol=0, atol=ATOL)
    for a, b in zip(as_tuple(final), expected_finals, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=ATOL)


@pytest.mark.parametrize("kernel", ["fused", "loop"])
def test_lengths_as_list_or_tensor_and_all_full(kernel: str) -> None:
    layer = rnnkit.GRU(IN, H, bidirectional=True, kernel=kernel).double()
    x = random_input(False)
    by_list = layer(x, lengths=LENGTHS)
    by_tensor = layer(x, lengths=torch.tensor(LENGTHS))
    assert torch.equal(by_list[0], by_tensor[0]) and torch.equal(by_list[1], by_tensor[1])
    full = layer(x, lengths=[T] * B)
    none = layer(x)
    torch.testing.assert_close(full[0], none[0], rtol=0, atol=ATOL)
    torch.testing.assert_close(full[1], none[1], rtol=0, atol=ATOL)


# -- dropout ------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", list(MODES))
def test_recurrent_dropout_in_eval_is_the_plain_layer(mode: str) -> None:
    _, our_class, extra = MODES[mode]
    options = {"num_layers": 2, "bidirectional": True, **extra}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layer = our_class(IN, H, recurrent_dropout=0.5, **options).double().eval()
    plain = our_class(IN, H, **options).double().eval()
    plain.load_state_dict(layer.state_dict())
    assert (layer.kernel, plain.kernel) == ("loop", "fused")
    x = random_input(False)
    lengths = torch.tensor(LENGTHS)
    first, second = layer(x, lengths=lengths), layer(x, lengths=lengths)
    expected = plain(x, lengths=lengths)
    assert torch.equal(first[0], second[0])
    torch.testing.assert_close(first[0], expected[0], rtol=0, atol=ATOL)
    for a, b in zip(as_tuple(first[1]), as_tuple(expected[1]), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=ATOL)


@pytest.mark.parametrize("mode", list(MODES))
def test_recurrent_dropout_in_training_changes_outputs_and_gradients_flow(mode: str) -> None:
    _, our_class, extra = MODES[mode]
    layer = our_class(
        IN, H, num_layers=2, bidirectional=True, recurrent_dropout=0.5, kernel="loop", **extra
    ).double()
    x = random_input(False)
    layer.eval()
    out_eval, _ = layer(x)
    layer.train()
    torch.manual_seed(1)
    out_a, final_a = layer(x)
    torch.manual_seed(1)
    out_b, _ = layer(x)
    torch.manual_seed(2)
    out_c, _ = layer(x)
    assert torch.equal(out_a, out_b)  # the seed decides the masks
    assert not torch.allclose(out_a, out_eval)
    assert not torch.allclose(out_a, out_c)
    (out_a.sum() + as_tuple(final_a)[0].sum()).backward()
    for name, param in layer.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all() and param.grad.abs().sum() > 0, name


@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_dropout_uses_one_mask_for_every_step(bidirectional: bool) -> None:
    """Variational dropout: h_(t-1) is multiplied by the same mask at every t; c is untouched."""
    layer = rnnkit.LSTM(
        IN, H, bidirectional=bidirectional, recurrent_dropout=0.5, kernel="loop"
    ).double().train()
    records: list[list[tuple[Tensor, Tensor]]] = []
    for cell in layer.cells:
        record: list[tuple[Tensor, Tensor]] = []
        records.append(record)

        def recording(xp: Tensor, state: tuple, cell: Any = cell, record: list = record) -> tuple:
            record.append((state[0].detach(), state[1].detach()))
            return type(cell).step(cell, xp, state)

        cell.step = recording
    x = random_input(False)
    dirs = 2 if bidirectional else 1
    h0, c0 = random_hx("lstm", dirs)
    with torch.no_grad():
        out, _ = layer(x, (h0, c0))
    for d, record in enumerate(records):
        assert len(record) == T
        hs = out[:, :, d * H:(d + 1) * H]  # h_t of this direction, in the input's time order
        order = range(T - 1) if d == 0 else range(T - 1, 0, -1)  # the steps in running order
        previous_h = [h0[d], *(hs[t] for t in order)]
        step_masks = [seen_h / prev for (seen_h, _), prev in zip(record, previous_h, strict=True)]
        for mask in step_masks:
            assert torch.equal(mask, step_masks[0])
        assert set(step_masks[0].unique().tolist()) == {0.0, 2.0}  # 1/keep = 2
        assert torch.equal(record[0][1], c0[d])  # the cell state is not dropped


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_dropout_between_layers_only_in_training(mode: str, bidirectional: bool) -> None:
    ref = make_reference(mode, num_layers=2, dropout=0.5, bidirectional=bidirectional)
    fused = MODES[mode][1].from_torch(ref)
    loop = MODES[mode][1].from_torch(ref, kernel="loop")
    x = random_input(False)
    ref.eval()
    expected_eval, _ = ref(x)
    for layer in (fused, loop):
        layer.eval()
        torch.testing.assert_close(layer(x)[0], expected_eval, rtol=0, atol=ATOL)
        layer.train()
        torch.manual_seed(1)
        out_a, _ = layer(x)
        torch.manual_seed(2)
        out_b, _ = layer(x)
        assert not torch.allclose(out_a, expected_eval)
        assert not torch.allclose(out_a, out_b)
        assert (out_a != 0).all()  # the last layer's output is not dropped
    # the fused path draws its mask exactly as torch.nn does
    ref.train()
    torch.manual_seed(3)
    out_ref, final_ref = ref(x)
    torch.manual_seed(3)
    out_fused, final_fused = fused(x)
    torch.testing.assert_close(out_fused, out_ref, rtol=0, atol=ATOL)
    for a, b in zip(as_tuple(final_fused), as_tuple(final_ref), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=ATOL)
    # the loop path: layer 1 reads dropout(layer 0's output), exactly
    dirs = 2 if bidirectional else 1
    one_layer = [MODES[mode][1](IN if k == 0 else dirs * H, H, bidirectional=bidirectional,
                                kernel="loop").double() for k in range(2)]
    for k, part in enumerate(one_layer):
        part.load_state_dict({
            name.replace(f"_l{k}", "_l0"): value
            for name, value in ref.state_dict().items() if f"_l{k}" in name
        })
    torch.manual_seed(4)
    out_loop, _ = loop(x)
    torch.manual_seed(4)
    hidden, _ = one_layer[0](x)
    expected, _ = one_layer[1](F.dropout(hidden, 0.5, training=True))
    torch.testing.assert_close(out_loop, expected, rtol=0, atol=ATOL)


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


@pytest.mark.parametrize("layer_norm", [False, True])
def test_gru_recurrent_dropout_keeps_the_carry_whole(layer_norm: bool) -> None:
    """Dropout on h_(t-1) where it meets W_hh only: a GRU's h_t mixes tanh(.) and h_(t-1), so
    |h_t| < 1 at every step, and with W_hh = 0 the dropout changes nothing."""
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layer = rnnkit.GRU(2, 4, recurrent_dropout=0.5, layer_norm=layer_norm).double().train()
    out, _ = layer(torch.randn(40, 3, 2, dtype=torch.float64))
    assert out.abs().max() < 1.0
    with torch.no_grad():
        layer.weight_hh_l0.zero_()
    x, h0 = torch.ones(30, 1, 2, dtype=torch.float64), torch.full((1, 1, 4), 0.5,
                                                                   dtype=torch.float64)
    expected, _ = layer.eval()(x, h0)
    torch.testing.assert_close(layer.train()(x, h0)[0], expected)


def test_layer_norm_lstm_needs_two_units() -> None:
    with pytest.raises(ValueError, match="hidden_size must be at least 2, got 1"):
        rnnkit.LayerNormLSTMCell(2, 1)


def test_torch_nn_habits_work_or_are_named() -> None:
    """Factory device/dtype, missing keys named as torch names them, the dropout warning."""
    layer = rnnkit.GRU(3, 4, num_layers=2, device="cpu", dtype=torch.float64)
    assert layer.weight_ih_l1.dtype == torch.float64
    torch_state = torch.nn.GRU(3, 4, num_layers=2).state_dict()
    partial_state = {k: v for k, v in torch_state.items() if not k.endswith("l1")}
    missing = layer.float().load_state_dict(partial_state, strict=False).missing_keys
    assert missing == ["weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"]
    with pytest.warns(UserWarning, match="with num_layers=1 it does nothing"):
        rnnkit.LSTM(3, 4, dropout=0.5)


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


def test_a_size_mismatch_on_loading_names_torch_keys() -> None:
    layer = rnnkit.LSTM(3, 4, num_layers=2)
    with pytest.raises(RuntimeError, match=r"LSTM.load_state_dict: size mismatch: weight_ih_l0 is "
                                           r"\[20, 3\] in the state dict, \[16, 3\] here") as info:
        layer.load_state_dict(torch.nn.LSTM(3, 5, num_layers=2).state_dict())
    assert "cells." not in str(info.value)
    assert "hidden_size=4; build it with the sizes" in str(info.value)
    model = nn.Sequential(rnnkit.GRU(3, 4))  # nested: keys carry the prefix
    with pytest.raises(RuntimeError, match=r"size mismatch: 0.weight_ih_l0 is \[15, 3\] in the "
                                           r"state dict, \[12, 3\] here; 0.weight_hh_l0"):
        model.load_state_dict(nn.Sequential(nn.GRU(3, 5)).state_dict())
    layer.load_state_dict(torch.nn.LSTM(3, 4, num_layers=2).state_dict())  # matching sizes load


def test_a_proj_size_mismatch_on_loading_names_proj_size() -> None:
    """A state dict saved with another proj_size was refused with 'this layer has input_size=3,
    hidden_size=5; build it with the sizes the weights were saved with': the sizes it named
    were the saved ones, and proj_size, the one that differed, went unsaid."""
    saved = nn.LSTM(3, 5, proj_size=2).state_dict()
    with pytest.raises(RuntimeError, match=r"weight_hh_l0 is \[20, 2\] in the state dict, \[20, 5\]"
                                           r" here \(this layer has input_size=3, hidden_size=5,"
                                           r" proj_size=0; the state dict's proj_size=2; build"):
        rnnkit.LSTM(3, 5).load_state_dict(saved)
    with pytest.raises(RuntimeError, match=r"proj_size=3; the state dict's proj_size=2; build"):
        rnnkit.LSTM(3, 5, proj_size=3).load_state_dict(saved)
    with pytest.raises(RuntimeError, match=r"hidden_size=5, proj_size=2; the state dict has no"
                                           r" weight_hr_l0; build"):
        rnnkit.LSTM(3, 5, proj_size=2).load_state_dict(nn.LSTM(3, 5).state_dict())
    rnnkit.LSTM(3, 5, proj_size=2).load_state_dict(saved)  # the same proj_size loads


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


@pytest.mark.parametrize(
    "options", [{"layer_norm": True}, {"num_layers": 2}, {"bidirectional": True}, {"bias": False},
                {"init": "recurrent"}]
)
def test_from_torch_names_options_the_weights_fix(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=f"LSTM.from_torch: {next(iter(options))} cannot be "
                                         "overridden: they are set by the torch layer's weights"):
        rnnkit.LSTM.from_torch(nn.LSTM(IN, H), **options)


@pytest.mark.parametrize("options", [{"batchfirst": True}, {"hidden_size": 8, "foo": 1}])
def test_from_torch_names_an_unknown_option(options: dict[str, Any]) -> None:
    """A misspelt option ended in Python's TypeError from __init__, naming no option to use."""
    unknown = ", ".join(sorted(options))
    with pytest.raises(ValueError, match=f"GRU.from_torch: unknown option\\(s\\) {unknown}; options"
                                         " that can be given: batch_first, dropout, recurrent_"):
        rnnkit.GRU.from_torch(nn.GRU(IN, H), **options)


def test_from_torch_honours_dtype_and_device() -> None:
    ref = nn.GRU(IN, H)
    ours = rnnkit.GRU.from_torch(ref, dtype=torch.float64, device="cpu", batch_first=True)
    assert ours.weight_ih_l0.dtype == torch.float64 and ours.batch_first
    torch.testing.assert_close(ours.weight_hh_l0, ref.weight_hh_l0.double())


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


@pytest.mark.parametrize("kernel", ["fused", "loop"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_an_unbatched_sequence_runs_as_torch_nn_runs_it(kind: str, batch_first: bool,
                                                        kernel: str) -> None:
    """One sequence [T, I] with its state [L*D, H] (torch.nn's unbatched input) was refused;
    outputs, states and gradients now match torch.nn's, without a batch dimension."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(IN, H, num_layers=2, bidirectional=True,
                                     batch_first=batch_first).double()
    ours = getattr(rnnkit, kind).from_torch(theirs, kernel=kernel)
    x = torch.randn(T, IN, dtype=DTYPE, requires_grad=True)
    h = torch.randn(4, H, dtype=DTYPE)
    hx = (h, torch.randn_like(h)) if kind == "LSTM" else h
    for state in (None, hx):
        expected, expected_final = theirs(x, state)
        output, final = ours(x, state)
        assert output.shape == (T, 2 * H)
        torch.testing.assert_close(output, expected, rtol=0, atol=1e-12)
        for got, want in zip(final if kind == "LSTM" else (final,),
                             expected_final if kind == "LSTM" else (expected_final,),
                             strict=True):
            assert got.shape == (4, H)
            torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
        gradient, = torch.autograd.grad(output.sum(), x)
        expected_gradient, = torch.autograd.grad(expected.sum(), x)
        torch.testing.assert_close(gradient, expected_gradient, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kernel", ["fused", "loop"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_with_projections_matches_torch_nn(kernel: str, batch_first: bool) -> None:
    """proj_size (h_t = W_hr (o_t * tanh(c_t)), Sak et al. 2014) was refused, a documented
    difference from torch.nn.LSTM; outputs, both states and every gradient now match torch.nn's,
    full, padded with lengths, packed and unbatched, and the weights go back and forth."""
    torch.manual_seed(0)
    theirs = nn.LSTM(IN, H, num_layers=2, bidirectional=True, batch_first=batch_first,
                     proj_size=2).double()
    ours = rnnkit.LSTM.from_torch(theirs, kernel=kernel)
    assert list(ours.state_dict()) == list(theirs.state_dict())  # weight_hr_l0 ... in order
    assert ours.proj_size == 2 and ours.kernel == kernel
    lengths = torch.tensor([7, 2, 5, 1])
    x = random_input(batch_first).requires_grad_(True)
    hx = (torch.randn(4, B, 2, dtype=DTYPE), torch.randn(4, B, H, dtype=DTYPE))
    packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    runs = [((x, hx), (x, hx), {}), ((packed,), (packed,), {}),
            ((packed, hx), (x, hx), {"lengths": lengths}), ((x[0],), (x[0],), {})]
    for their_args, our_args, options in runs:
        expected, expected_state = theirs(*their_args)
        output, state = ours(*our_args, **options)
        if isinstance(expected, PackedSequence):
            expected = pad_packed_sequence(expected, batch_first=batch_first)[0]
        if isinstance(output, PackedSequence):
            output = pad_packed_sequence(output, batch_first=batch_first)[0]
        assert output.shape == expected.shape and output.shape[-1] == 2 * 2
        torch.testing.assert_close(output, expected, rtol=0, atol=1e-12)
        for got, want in zip(state, expected_state, strict=True):
            torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
        mine = torch.autograd.grad(output.sum() + state[1].sum(), [x, *ours.parameters()],
                                   retain_graph=True)
        reference = torch.autograd.grad(expected.sum() + expected_state[1].sum(),
                                        [x, *theirs.parameters()], retain_graph=True)
        for got, want in zip(mine, reference, strict=True):
            torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    back = ours.to_torch()
    assert back.proj_size == 2
    for name, weight in theirs.state_dict().items():
        assert torch.equal(back.state_dict()[name], weight), name


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


def test_an_unbatched_sequence_passes_the_layer_once() -> None:
    """The unbatched input ran the layer a second time on the batch of one it made: forward
    hooks fired twice (gradient_flow then refused the model: 'ran 2 times in one step')."""
    layer = rnnkit.GRU(IN, H)
    seen: list[tuple[int, ...]] = []
    layer.register_forward_hook(lambda module, args, output: seen.append(tuple(args[0].shape)))
    layer(torch.randn(T, IN))
    assert seen == [(T, IN)]


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("kernel", ["fused", "loop"])
def test_autocast_takes_a_bfloat16_input_and_state_as_torch_nn_does(mode: str, kernel: str) -> None:
    """Under torch.autocast a float32 layer meets the bfloat16 output of a Linear (a seq2seq
    bridge's initial state): torch.nn runs it; rnnkit refused it as a dtype mismatch."""
    torch_class, ours_class, extra = MODES[mode]
    theirs = torch_class(IN, H, num_layers=2, bidirectional=True, **extra)
    ours = ours_class.from_torch(theirs, kernel=kernel)
    x = torch.randn(T, B, IN).bfloat16()
    h = torch.randn(4, B, H).bfloat16()
    hx = (h, torch.randn(4, B, H).bfloat16()) if mode == "lstm" else h
    with torch.autocast("cpu", dtype=torch.bfloat16):
        for state in (None, hx):
            expected = theirs(x, state)[0]
            got = ours(x, state)[0]
            assert got.dtype == expected.dtype == torch.bfloat16
            # the fused path is torch.nn's kernel; the loop rounds within bfloat16's step
            torch.testing.assert_close(got, expected, atol=0 if kernel == "fused" else 2e-2,
                                       rtol=0 if kernel == "fused" else 2e-2)
        packed = pack_padded_sequence(x, LENGTHS, enforce_sorted=False)
        expected = pad_packed_sequence(theirs(packed, hx)[0], total_length=T)[0]
        got = ours(x, hx, lengths=LENGTHS)[0]
        torch.testing.assert_close(got, expected, atol=0 if kernel == "fused" else 2e-2,
                                   rtol=0 if kernel == "fused" else 2e-2)
    with pytest.raises(ValueError, match="input dtype torch.bfloat16 does not match"):
        ours(x)  # outside autocast the dtypes must still match
    with pytest.raises(ValueError, match="the input must be floating point"), \
            torch.autocast("cpu", dtype=torch.bfloat16):
        ours(x.long())


@pytest.mark.parametrize("options", [{}, {"layer_norm": True}, {"init": "recurrent"}],
                         ids=["plain", "layer_norm", "recurrent_init"])
def test_a_layer_built_on_meta_is_materialised_as_torch_nn_does(options: dict) -> None:
    """torch.nn's deferred initialisation, ``device='meta'``, ``.to_empty()``, then
    ``reset_parameters()``, stopped at an AttributeError: the layer had no reset_parameters."""
    torch.nn.LSTM(IN, H, device="meta").to_empty(device="cpu").reset_parameters()  # torch's way
    layer = rnnkit.LSTM(IN, H, num_layers=2, bidirectional=True, device="meta", **options)
    assert layer.weight_hh_l1_reverse.is_meta
    layer.to_empty(device="cpu")
    with torch.no_grad():
        for parameter in layer.parameters():
            parameter.fill_(float("nan"))  # what to_empty's memory may hold
    layer.reset_parameters()
    assert all(bool(torch.isfinite(p).all()) for p in layer.parameters())
    if options.get("init") == "recurrent":  # the layer's init, not only torch's default
        block = layer.weight_hh_l0[:H]
        torch.testing.assert_close(block @ block.T, torch.eye(H), atol=1e-5, rtol=0)
        assert bool((layer.bias_ih_l0[H:2 * H] + layer.bias_hh_l0[H:2 * H] == 1).all())
    elif not options:
        assert float(layer.weight_ih_l0.detach().abs().max()) <= 1 / H ** 0.5
    output, _ = layer(torch.randn(T, B, IN), lengths=LENGTHS)
    assert bool(torch.isfinite(output).all())
