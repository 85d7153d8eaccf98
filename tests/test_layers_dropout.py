"""rnnkit.layers: recurrent dropout and dropout between layers."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from test_layers import (
    ATOL,
    IN,
    LENGTHS,
    MODES,
    H,
    T,
    _seed,  # noqa: F401  (autouse: every test starts from seed 0)
    as_tuple,
    make_reference,
    random_hx,
    random_input,
)
from torch import Tensor

import rnnkit


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
