"""Weight exchange with ``torch.nn`` cells: same names, same shapes, same gate order."""

from __future__ import annotations

import torch
from torch import nn

WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")  # torch.nn's order


def copy_weights(
    source: nn.Module, target: nn.Module, names: tuple[str, ...] = WEIGHT_NAMES
) -> None:
    """Copy ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` (and an LSTM's projection
    ``weight_hr``) from one cell to another."""
    with torch.no_grad():
        for name in names:
            src = getattr(source, name, None)
            dst = getattr(target, name, None)
            if (src is None) != (dst is None):
                raise ValueError(
                    f"cannot copy {name}: present on {type(source).__name__}"
                    f"={src is not None}, on {type(target).__name__}={dst is not None}"
                    " (build both with the same bias setting)"
                )
            if src is None or dst is None:
                continue
            if src.shape != dst.shape:
                raise ValueError(
                    f"cannot copy {name}: shape {tuple(src.shape)} into {tuple(dst.shape)}"
                    " (build both with the same input_size and hidden_size)"
                )
            dst.copy_(src)
