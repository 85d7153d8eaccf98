"""torch.compile and torch.export take the layers, as they take torch.nn's."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

import pytest
import torch
from torch import nn

import rnnkit

IN, H, T, B = 4, 6, 5, 2
# torch's own compiler touches torch.jit.script_method, which warns that it is deprecated
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")


@pytest.fixture(autouse=True)
def _fresh_compiler() -> None:
    torch._dynamo.reset()  # no graph of another test's layer reused or counted against a limit


@pytest.mark.skipif(not (os.environ.get("CXX") or shutil.which("g++") or shutil.which("clang++")),
                    reason="torch.compile's inductor builds C++ on the CPU: no compiler here")
@pytest.mark.parametrize("build", [
    lambda: rnnkit.LSTM(IN, H, num_layers=2, bidirectional=True, batch_first=True),
    lambda: rnnkit.GRU(IN, H, batch_first=True),
    lambda: rnnkit.LSTM(IN, H, layer_norm=True, batch_first=True),
], ids=["fused-lstm", "fused-gru", "loop-lstm"])
def test_torch_compile_trains_a_layer_as_it_runs_uncompiled(build: Callable[[], nn.Module]
                                                             ) -> None:
    """A fused LSTM compiled by torch.compile (inductor, on the CPU) failed on its first
    training step, a batch of data (no gradient) through weights that take one: inductor
    compiled oneDNN's LSTM kernel, and its code stopped with 'TypeError: expected Tensor() for
    op: torch.ops.aten.mkldnn_rnn_layer.default', where a compiled torch.nn.LSTM, which Dynamo
    leaves uncompiled, trained."""
    torch.manual_seed(0)
    layer = build()
    x = torch.randn(B, T, IN)
    output, _ = torch.compile(layer)(x)
    output.pow(2).sum().backward()
    compiled = [p.grad.clone() for p in layer.parameters()]
    layer.zero_grad()
    expected, _ = layer(x)
    expected.pow(2).sum().backward()
    torch.testing.assert_close(output, expected)
    for got, parameter in zip(compiled, layer.parameters(), strict=True):
        torch.testing.assert_close(got, parameter.grad)


@pytest.mark.parametrize("strict", [False, True])
def test_torch_export_takes_a_fused_layer_without_lengths(strict: bool) -> None:
    torch.manual_seed(0)
    layer = rnnkit.LSTM(IN, H, num_layers=2, bidirectional=True)
    x = torch.randn(T, B, IN)
    program = torch.export.export(layer, (x,), strict=strict)
    torch.testing.assert_close(program.module()(x)[0], layer(x)[0])
