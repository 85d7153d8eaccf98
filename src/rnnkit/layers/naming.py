"""``torch.nn`` parameter names for a layer whose weights live in its cells.

A layer keeps one cell per (layer, direction) in ``self.cells``; inside, the cell's weight is
``cells.3.weight_ih``. To PyTorch's eyes the same weight is ``weight_ih_l1_reverse``. These
helpers translate both ways, so ``state_dict()`` and ``load_state_dict()`` speak torch's names
and a state dict moves between ``torch.nn.LSTM`` and ``rnnkit.LSTM`` unchanged;
:class:`TorchNamedLayer`, the base of :class:`~rnnkit.layers.Recurrent`, puts them to work.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter
from typing import Any

import torch
from torch import Tensor, nn


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


class TorchNamedLayer(nn.Module):
    """A layer whose weights live in its cells (``cells.3.weight_ih``), read and written under
    ``torch.nn``'s names (``weight_ih_l1_reverse``): as attributes, in ``state_dict()`` and in
    ``load_state_dict()``, whose size mismatches and missing keys also speak those names.

    The subclass builds ``cells`` (one per layer and direction) and calls
    :meth:`_use_torch_names` once they exist.
    """

    cells: nn.ModuleList
    input_size: int
    hidden_size: int
    proj_size: int

    def _use_torch_names(self, num_directions: int) -> None:
        """Map the cells' keys to torch's and back; hook the map into the state-dict methods."""
        self._torch_names = build_name_map(self.cells, num_directions)
        self._internal_names = {v: k for k, v in self._torch_names.items()}
        self.register_state_dict_post_hook(self._to_torch_names)
        self.register_load_state_dict_pre_hook(self._from_torch_names)
        self.register_load_state_dict_post_hook(self._missing_as_torch_names)
        self._load_prefix: str | None = None  # this layer's key prefix in the loading dict

    def flatten_parameters(self) -> None:
        """Re-lay the weights after one is replaced; nothing here (Recurrent: cuDNN's block)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            internal = self.__dict__.get("_internal_names", {}).get(name)
            if internal is None:
                raise
            _, index, inner = internal.split(".", 2)  # cells.3.ln_ih.weight
            return attrgetter(inner)(self.cells[int(index)])  # parametrized: its value

    def __setattr__(self, name: str, value: Any) -> None:
        """``layer.weight_hh_l0 = Parameter(...)`` replaces the cell's weight, as on torch.nn."""
        internal = self.__dict__.get("_internal_names", {}).get(name)
        if internal is None:
            super().__setattr__(name, value)
            return
        set_cell_weight(self.cells, internal, name, value)
        self.flatten_parameters()  # as torch.nn re-lays its flat weights

    @staticmethod
    def _to_torch_names(module: nn.Module, state_dict: dict[str, Any], prefix: str, _: Any) -> None:
        assert isinstance(module, TorchNamedLayer)
        rename_keys(state_dict, prefix, module._torch_names)

    @staticmethod
    def _from_torch_names(
        module: nn.Module, state_dict: dict[str, Any], prefix: str, *_: Any
    ) -> None:
        assert isinstance(module, TorchNamedLayer)
        module._check_loaded_shapes(state_dict, prefix)
        rename_keys(state_dict, prefix, module._internal_names)
        module._load_prefix = prefix  # for the missing keys' names after loading

    def _check_loaded_shapes(self, state_dict: dict[str, Any], prefix: str) -> None:
        """Name a size mismatch with torch's keys: torch's own message would name the cells'
        internal keys (``cells.0.weight_ih``), which are in no state dict the user has seen."""
        mismatched = size_mismatches(self.state_dict(keep_vars=True), state_dict, prefix)
        if mismatched:
            sizes = f"input_size={self.input_size}, hidden_size={self.hidden_size}"
            saved = state_dict.get(prefix + "weight_hr_l0")  # an LSTM's projection: [P, H]
            if self.proj_size or isinstance(saved, Tensor):
                sizes += f", proj_size={self.proj_size}" + (
                    f"; the state dict's proj_size={saved.shape[0]}"
                    if isinstance(saved, Tensor) else "; the state dict has no weight_hr_l0")
            raise RuntimeError(
                f"{type(self).__name__}.load_state_dict: size mismatch: {'; '.join(mismatched)}"
                f" (this layer has {sizes}; build it with the sizes the weights were saved with)"
            )

    @staticmethod
    def _missing_as_torch_names(module: nn.Module, incompatible: Any) -> None:
        """Name the missing keys as torch does (``weight_ih_l1``), as ``state_dict`` does."""
        assert isinstance(module, TorchNamedLayer)
        if module._load_prefix is not None:
            rename_missing(incompatible.missing_keys, module._load_prefix, module._torch_names)
