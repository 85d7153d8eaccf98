"""Recurrent-friendly initialisation: orthogonal recurrent weights and forget-gate bias 1."""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn
from torch.nn.utils import parametrize

from rnnkit.cells.base import RecurrentCell

INIT_SCHEMES = ("torch", "recurrent")


def init_recurrent_(cell: RecurrentCell, forget_bias: float = 1.0) -> RecurrentCell:
    """Re-initialise a cell in place for long sequences; return it.

    Per gate block: ``weight_hh`` orthogonal (its singular values are all 1, so the recurrent
    map neither shrinks nor blows up the state at the start), ``weight_ih`` Xavier-uniform,
    biases and normalisation shifts zero, normalisation gains one. An LSTM's projection
    ``weight_hr [P, H]`` (``proj_size``), the other half of its recurrent map, is orthogonal too
    (orthonormal rows). For an LSTM the forget gate's
    bias is set to ``forget_bias`` (Jozefowicz et al. 2015), so the cell remembers by default;
    an LSTM built with ``bias=False`` (and no normalisation shift) has nowhere to hold it and
    keeps none.
    """
    num_gates = getattr(cell, "num_gates", None)
    weight_hh = getattr(cell, "weight_hh", None)
    weight_ih = getattr(cell, "weight_ih", None)
    if isinstance(cell, nn.RNNCellBase | nn.RNNBase):
        raise ValueError(
            f"init_recurrent_ takes an rnnkit cell, got torch.nn.{type(cell).__name__}: convert"
            f" it first, e.g. rnnkit.{type(cell).__name__}.from_torch(module)"
        )
    if isinstance(getattr(cell, "cells", None), nn.ModuleList):
        raise ValueError(
            f"init_recurrent_ takes one cell, got the layer {type(cell).__name__}: build the"
            " layer with init='recurrent', or call it on each of layer.cells"
        )
    bias: object = forget_bias
    if isinstance(bias, bool) or not isinstance(bias, numbers.Real) or not math.isfinite(bias):
        raise ValueError(f"init_recurrent_: forget_bias must be a finite number (1.0 by "
                         f"default), got {forget_bias!r}")
    if num_gates is None or weight_hh is None or weight_ih is None:
        raise ValueError(
            f"init_recurrent_ needs a cell with weight_ih, weight_hh and num_gates;"
            f" {type(cell).__name__} has none (initialise a custom cell yourself)"
        )
    hidden = cell.hidden_size
    with torch.no_grad():
        weight_hh, weight_ih = torch.empty_like(weight_hh), torch.empty_like(weight_ih)
        for gate in range(num_gates):
            rows = slice(gate * hidden, (gate + 1) * hidden)
            nn.init.orthogonal_(weight_hh[rows])
            nn.init.xavier_uniform_(weight_ih[rows])
        set_weight(cell, "weight_hh", weight_hh)
        set_weight(cell, "weight_ih", weight_ih)
        weight_hr = getattr(cell, "weight_hr", None)  # h_t = W_hr (o_t * tanh(c_t))
        if isinstance(weight_hr, torch.Tensor):
            set_weight(cell, "weight_hr", nn.init.orthogonal_(torch.empty_like(weight_hr)))
        forget = slice(hidden, 2 * hidden) if cell.state_size == 2 else None  # LSTM: i|f|g|o
        for name in ("bias_ih", "bias_hh"):  # through a parametrization too, as the weights
            value = getattr(cell, name, None)
            if isinstance(value, torch.Tensor):
                zeros = torch.zeros_like(value)
                if name == "bias_ih" and forget is not None:
                    zeros[forget] = forget_bias
                set_weight(cell, name, zeros)
        for name, param in cell.named_parameters():  # other biases a cell holds
            if name.startswith("bias") and name not in ("bias_ih", "bias_hh") or name.endswith(
                    ".bias"):
                param.zero_()
        for module in cell.modules():  # a trained gain would otherwise survive the re-init
            if isinstance(module, nn.LayerNorm):
                module.reset_parameters()  # gain 1, shift 0, as LayerNormCell builds them
        shift = getattr(getattr(cell, "ln_ih", None), "bias", None)  # no bias_ih: a norm's
        if forget is not None and getattr(cell, "bias_ih", None) is None and shift is not None:
            shift[forget] = forget_bias
    return cell


def set_weight(cell: nn.Module, name: str, value: torch.Tensor) -> None:
    """Make ``cell.<name>`` equal ``value``. A weight under ``torch.nn.utils.parametrize``
    (weight_norm, ...) is computed anew at every use, so writing into it changed nothing and
    init_recurrent_ left it as it was: it is set through its parametrization's
    ``right_inverse``, as ``cell.<name> = value`` does, or refused where that cannot hold it."""
    if not parametrize.is_parametrized(cell, name):
        getattr(cell, name).copy_(value)
        return
    try:
        setattr(cell, name, value)
        held = torch.allclose(getattr(cell, name), value, rtol=0, atol=1e-5)
    except (NotImplementedError, RuntimeError, ValueError):
        held = False
    if not held:
        chain = getattr(cell.parametrizations, name)  # a ParametrizationList
        kinds = ", ".join(type(p).__name__ for p in chain)
        raise ValueError(f"init_recurrent_: {type(cell).__name__}.{name} is parametrized"
                         f" ({kinds}), which cannot take the value it sets (orthogonal or"
                         " Xavier weights, zero biases but the forget gate's);"
                         " initialise the cell first (init_recurrent_, or init='recurrent' on"
                         " a layer), then parametrize it")
