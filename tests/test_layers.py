"""rnnkit.layers: the proof that RNN/LSTM/GRU compute exactly what torch.nn computes.

Every option combination is compared with ``torch.nn`` in float64 on both paths (PyTorch's fused
kernel and rnnkit's own time loop): outputs, final states and the gradient of every parameter,
of the input and of the initial state. The helpers here are shared by the other
tests/test_layers_*.py files and by tests/test_cuda.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

import rnnkit

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
