"""torch.compile and torch.export take the layers, as they take torch.nn's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

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


@pytest.mark.skipif(not (os.environ.get("CXX") or shutil.which("g++") or shutil.which("clang++")),
                    reason="torch.compile's inductor builds C++ on the CPU: no compiler here")
def test_a_fused_gru_compiles_into_one_graph() -> None:
    """Only the LSTM kernel is kept out of the graph: a GRU compiles with fullgraph=True."""
    torch.manual_seed(0)
    layer = rnnkit.GRU(IN, H, num_layers=2, batch_first=True)
    x = torch.randn(B, T, IN)
    torch.testing.assert_close(torch.compile(layer, fullgraph=True)(x)[0], layer(x)[0])


def test_importing_rnnkit_leaves_the_compiler_unloaded() -> None:
    """Dynamo (about 1 s to import) loads when a layer is compiled, not with every CLI start."""
    code = "import sys, rnnkit.cli; print('torch._dynamo' in sys.modules)"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True)
    assert found.stdout.strip() == "False"


def test_loading_a_bundle_leaves_the_compiler_unloaded(tmp_path: Path) -> None:
    """The bundle's size probe builds the model on the meta device, where torch ran an
    embedding's normal_ and the CRF's boolean index through Python decompositions that import
    Dynamo: every predict, evaluate, translate and generate paid about 1 s of CPU for it."""
    from rnnkit.config import ModelConfig
    from rnnkit.data.vocab import Vocab
    from rnnkit.models.tagger import Tagger, TaggerConfig
    from rnnkit.training.bundle import save_bundle

    torch.manual_seed(0)
    tags = Vocab(["<pad>", "B-PER", "I-PER", "O"], unknown=False)
    model = Tagger(Vocab(["the", "dog"]), Vocab(list("thedog")), tags,
                   TaggerConfig(word_dim=4, char_dim=2, char_hidden=2),
                   ModelConfig(hidden_size=4, bidirectional=True))
    path = save_bundle(model, tmp_path / "t.rnnkit")
    code = ("import sys; from rnnkit.training.bundle import load_bundle; "
            f"load_bundle({str(path)!r}); print('torch._dynamo' in sys.modules)")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True)
    assert found.stdout.strip() == "False"
