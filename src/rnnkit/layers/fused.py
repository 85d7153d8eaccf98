"""The fast path: PyTorch's fused recurrent kernels.

These are the kernels behind ``torch.nn.RNN``/``LSTM``/``GRU``, called with the layer's own
weights in torch's order, so the fused path computes exactly what ``torch.nn`` computes and
PyTorch picks the back end as it does for ``torch.nn``: cuDNN on a GPU; on the CPU, oneDNN for
an LSTM over a full batch (no lengths) in float32 or bfloat16, without ``proj_size``
(:func:`onednn_lstm_dtypes`), and ATen's own C++ kernels otherwise (float64 among them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import _VF, Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.cells import GRUCell, LSTMCell, RNNCell

FUSED_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "LSTM": _VF.lstm,
    "GRU": _VF.gru,
    "RNN_TANH": _VF.rnn_tanh,
    "RNN_RELU": _VF.rnn_relu,
}


def _lstm(*args: Any) -> Any:
    return _VF.lstm(*args)


# the LSTM kernel kept out of torch.compile's graph, as Dynamo keeps torch.nn's recurrent layers
# out of it: inductor's code for oneDNN's LSTM kernel fails in training (see fused_kernel).
# torch._disable_dynamo imports Dynamo on the first call, not with rnnkit (1 s at every start)
UNCOMPILED_LSTM = torch._disable_dynamo(_lstm)
FUSED_CELL_TYPES = (RNNCell, LSTMCell, GRUCell)


def is_plain_cell(cell: nn.Module) -> bool:
    """A plain RNN/LSTM/GRU cell, its weights parametrized or not (weight_norm makes its class
    a ParametrizedLSTMCell); not a subclass of one, which may compute something else."""
    kind = type(cell).__bases__[0] if parametrize.is_parametrized(cell) else type(cell)
    return kind in FUSED_CELL_TYPES


def loop_reason(cells: nn.ModuleList, recurrent_dropout: float) -> str | None:
    """Why the fused kernel cannot run a layer of these cells and options, or None when it can."""
    other = next((c for c in cells if not is_plain_cell(c)), None)
    if other is not None:  # a plain cell under weight_norm (ParametrizedLSTMCell) is plain
        return f"the cell {type(other).__name__} has no fused kernel in PyTorch"
    if len({(c.fused_mode, getattr(c, "bias", None)) for c in cells}) != 1:
        return "its cells differ in kind or bias"
    if recurrent_dropout > 0:
        return "recurrent_dropout > 0 needs a dropout mask inside the time loop"
    return None


def fused_kernel(mode: str) -> Callable[..., Any]:
    """The fused kernel of ``mode``; for an LSTM under torch.compile, the same kernel run
    uncompiled (a graph break), as Dynamo runs torch.nn's recurrent layers: compiled by
    inductor, oneDNN's LSTM kernel stopped a training step on the CPU ('expected Tensor() for
    op: torch.ops.aten.mkldnn_rnn_layer.default'). GRU and RNN kernels compile (fullgraph=True
    too); torch.export traces every kernel."""
    if mode == "LSTM" and torch.compiler.is_compiling() and not torch.compiler.is_exporting():
        return UNCOMPILED_LSTM
    return FUSED_FUNCTIONS[mode]


def fused_forward(
    mode: str,
    x: Tensor | PackedSequence,
    hx: tuple[Tensor, ...],
    weights: Sequence[Tensor],
    *,
    has_biases: bool,
    num_layers: int,
    dropout: float,
    training: bool,
    bidirectional: bool,
    batch_first: bool,
    lengths: Tensor | None = None,
) -> tuple[Tensor | PackedSequence, tuple[Tensor, ...]]:
    """Run one fused kernel over a padded batch, a padded batch with lengths, or a packed one.

    ``hx`` holds the initial state in the caller's batch order (``[L*D, B, H]`` each); the final
    state comes back in that order too.
    """
    function = fused_kernel(mode)
    options = (has_biases, num_layers, dropout, training, bidirectional)
    state: Tensor | tuple[Tensor, ...] = hx if mode == "LSTM" else hx[0]
    if lengths is None and not isinstance(x, PackedSequence):
        result = function(x, state, list(weights), *options, batch_first)
        return result[0], tuple(result[1:])

    total_length = None
    if isinstance(x, PackedSequence):
        packed = x
    else:
        total_length = x.shape[1 if batch_first else 0]
        assert lengths is not None
        packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    sorted_indices, unsorted_indices = packed.sorted_indices, packed.unsorted_indices
    if sorted_indices is not None:
        hx = tuple(h.index_select(1, sorted_indices) for h in hx)
    state = hx if mode == "LSTM" else hx[0]
    result = function(packed.data, packed.batch_sizes, state, list(weights), *options)
    final = tuple(result[1:])
    if unsorted_indices is not None:
        final = tuple(h.index_select(1, unsorted_indices) for h in final)
    out_packed = PackedSequence(result[0], packed.batch_sizes, sorted_indices, unsorted_indices)
    if isinstance(x, PackedSequence):
        return out_packed, final
    output, _ = pad_packed_sequence(
        out_packed, batch_first=batch_first, total_length=total_length
    )
    return output, final


def flatten_for_cudnn(weights: list[Tensor], mode: str, *, has_biases: bool,
                      input_size: int, hidden_size: int, proj_size: int, num_layers: int,
                      batch_first: bool, bidirectional: bool) -> None:
    """Lay a layer's weights (in torch's flat order) out as one block of GPU memory, the
    layout cuDNN reads, as ``torch.nn.RNNBase.flatten_parameters`` does; the parameters stay
    the same objects and become views into the block. Nothing happens unless every weight
    is a plain parameter on one CUDA device, of one dtype, that cuDNN accepts (a parametrized
    weight is computed anew at every use: nothing to lay out), nor for shared weights."""
    if not weights:
        return
    first = weights[0]
    if not all(
        isinstance(w, torch.nn.Parameter) and w.is_cuda and w.device == first.device
        and w.dtype == first.dtype
        and torch.backends.cudnn.is_acceptable(w) for w in weights
    ):
        return
    if len({w.data_ptr() for w in weights}) != len(weights):
        return  # shared weights: keep them apart
    from torch.backends.cudnn import rnn as cudnn_rnn

    with torch.cuda.device_of(first), torch.no_grad():
        if torch._use_cudnn_rnn_flatten_weight():
            torch._cudnn_rnn_flatten_weight(
                weights, (4 if has_biases else 2) + (1 if proj_size else 0), input_size,
                cudnn_rnn.get_cudnn_mode(mode), hidden_size, proj_size, num_layers,
                batch_first, bidirectional,
            )


def fused_available() -> dict[str, bool]:
    """Which fused back ends this PyTorch build can use here."""
    return {
        "oneDNN (CPU)": bool(torch.backends.mkldnn.is_available()),
        "cuDNN (GPU)": bool(torch.cuda.is_available() and torch.backends.cudnn.is_available()),
    }


def onednn_lstm_dtypes() -> list[torch.dtype]:
    """The dtypes in which PyTorch runs an LSTM layer on this CPU with oneDNN, as for
    ``torch.nn.LSTM``: float32, bfloat16 where the CPU has the instructions for it, float16
    (without gradients) where it has those; none when PyTorch was built without oneDNN or it
    is turned off (``torch.backends.mkldnn.enabled = False``). Only over a full batch (no
    lengths, not packed) and without ``proj_size``: anything else (float64, a padded or packed
    batch, ``proj_size``, GRU, RNN) runs ATen's C++ kernels."""
    if not (torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled):
        return []
    dtypes = [torch.float32]
    for dtype, check in ((torch.bfloat16, "_is_mkldnn_bf16_supported"),
                         (torch.float16, "_is_mkldnn_fp16_supported")):
        try:
            supported = bool(getattr(torch.ops.mkldnn, check)())
        except (AttributeError, RuntimeError):  # a PyTorch without the check: say no
            supported = False
        if supported:
            dtypes.append(dtype)
    return dtypes


def cpu_fused_kernels() -> str:
    """Which of PyTorch's CPU kernels the fused path runs here, in words (``rnnkit info``)."""
    names = [str(dtype).removeprefix("torch.") + (" (without gradients)"
                                                  if dtype == torch.float16 else "")
             for dtype in onednn_lstm_dtypes()]
    if not names:
        why = ("turned off: torch.backends.mkldnn.enabled is False"
               if torch.backends.mkldnn.is_available() else "not in this PyTorch build")
        return f"ATen's C++ kernels for every RNN/LSTM/GRU (oneDNN is {why})"
    return (f"oneDNN for an LSTM over a full batch (no lengths) in {' or '.join(names)},"
            " without proj_size; ATen's C++ kernels otherwise (float64, lengths or packed"
            " input, proj_size, GRU, RNN)")


def cudnn_float32_math() -> str:
    """How cuDNN's recurrent kernels compute in float32 under PyTorch's current settings.

    PyTorch lets cuDNN's RNNs use TF32 (the matrix units' 10-bit-mantissa float32) by default.
    On an H100 that put rnnkit's and torch.nn's float32 layers 8e-4 (relative) away from float64,
    against 2e-5 with TF32 off (``tests/test_cuda.py`` checks with it off). Reads PyTorch's
    newer ``fp32_precision`` settings (the RNN's, cuDNN's, then the global one) before the
    legacy ``allow_tf32`` flag, which PyTorch refuses to read once the two kinds are mixed.
    """
    tf32 = ("TF32 (PyTorch's default: faster, ~1e-3 relative error; for IEEE float32 set"
            " torch.backends.cudnn.allow_tf32 = False)")
    cudnn = torch.backends.cudnn
    for owner in (getattr(cudnn, "rnn", None), cudnn, torch.backends):
        precision = getattr(owner, "fp32_precision", None)
        if precision in ("tf32", "ieee"):
            return tf32 if precision == "tf32" else "IEEE float32"
    try:
        return tf32 if cudnn.allow_tf32 else "IEEE float32"
    except RuntimeError:  # legacy and new settings mixed
        return "unknown (the legacy and new TF32 settings are mixed)"
