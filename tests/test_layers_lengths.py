"""rnnkit.layers: variable lengths: padding never leaks into outputs or final states."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from test_layers import (
    ATOL,
    DTYPE,
    IN,
    LENGTHS,
    B,
    H,
    T,
    _seed,  # noqa: F401  (autouse: every test starts from seed 0)
    as_hx,
    as_tuple,
    padded,
    random_hx,
    random_input,
)
from torch import Tensor, nn

import rnnkit

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
