"""``torch.nn`` parameter names for a layer whose weights live in its cells.

A layer keeps one cell per (layer, direction) in ``self.cells``; inside, the cell's weight is
``cells.3.weight_ih``. To PyTorch's eyes the same weight is ``weight_ih_l1_reverse``. These
helpers translate both ways, so ``state_dict()`` and ``load_state_dict()`` speak torch's names
and a state dict moves between ``torch.nn.LSTM`` and ``rnnkit.LSTM`` unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter
from typing import Any

import torch
from torch import nn


def torch_suffix(index: int, directions: int) -> str:
    """``_l{layer}`` plus ``_reverse`` for the backward direction."""
    layer, direction = divmod(index, directions)
    return f"_l{layer}" + ("_reverse" if direction else "")


def build_name_map(cells: Iterable[nn.Module], directions: int) -> dict[str, str]:
    """``{"cells.i.name": "name_l{k}[_reverse]"}`` for every parameter and buffer of the cells."""
    mapping: dict[str, str] = {}
    for index, cell in enumerate(cells):
        suffix = torch_suffix(index, directions)
        for name in cell.state_dict(keep_vars=True):
            mapping[f"cells.{index}.{name}"] = name.replace(".", "_") + suffix
    return mapping


def rename_keys(state_dict: dict[str, Any], prefix: str, mapping: dict[str, str]) -> None:
    """Rename ``prefix + old`` to ``prefix + new`` in place, keeping the order of the keys."""
    items = list(state_dict.items())
    if not any(key[len(prefix):] in mapping for key, _ in items if key.startswith(prefix)):
        return
    state_dict.clear()
    for key, value in items:
        inner = key[len(prefix):] if key.startswith(prefix) else None
        new_key = prefix + mapping[inner] if inner in mapping else key
        state_dict[new_key] = value


def set_cell_weight(cells: nn.ModuleList, internal: str, name: str, value: object) -> None:
    """Set the cell's weight ``internal`` (``cells.3.ln_ih.weight``) that torch calls ``name``
    to a new ``Parameter``, as ``layer.weight_hh_l0 = Parameter(...)`` does on torch.nn."""
    if not isinstance(value, nn.Parameter):
        raise TypeError(
            f"cannot assign '{torch.typename(value)}' as parameter '{name}' (torch.nn."
            "Parameter or None expected by torch.nn; rnnkit takes a Parameter: for no"
            " biases build the layer with bias=False)")
    _, index, inner = internal.split(".", 2)
    owner, _, leaf = inner.rpartition(".")
    cell = cells[int(index)]
    setattr(attrgetter(owner)(cell) if owner else cell, leaf, value)


def size_mismatches(mine: dict[str, Any], state_dict: dict[str, Any], prefix: str) -> list[str]:
    """``"<key> is [..] in the state dict, [..] here"`` for each tensor of ``mine`` (a layer's
    state dict, torch's names) whose shape differs from ``state_dict``'s under ``prefix``."""
    mismatched = []
    for name, tensor in mine.items():
        value = state_dict.get(prefix + name)
        if isinstance(value, torch.Tensor) and isinstance(tensor, torch.Tensor) and \
                tensor.shape != value.shape:
            mismatched.append(f"{prefix}{name} is {list(value.shape)} in the state dict,"
                              f" {list(tensor.shape)} here")
    return mismatched


def rename_missing(missing_keys: list[str], prefix: str, mapping: dict[str, str]) -> None:
    """Rename, in place, the internal keys ``prefix + cells.i.name`` of ``missing_keys`` (a
    load's result) to torch's names in ``mapping``."""
    for index, key in enumerate(missing_keys):
        internal = key[len(prefix):] if key.startswith(prefix) else None
        if internal in mapping:
            missing_keys[index] = prefix + mapping[internal]
