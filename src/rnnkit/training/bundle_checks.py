"""Does a bundle's configuration build a model that its weights fit? Checked before the model
is built for real.

A bundle's configuration decides how large a model ``from_bundle_config`` builds. A damaged or
crafted one (``hidden_size`` 30000, ``num_layers`` 10**6) made rnnkit allocate and initialise
gigabytes, or build layers for minutes, before ``load_state_dict`` could say that the weights
do not fit. :func:`probe_state` builds the model on PyTorch's ``meta`` device (shapes, no
memory) and stops the build once it holds more weights than the file, or far more modules
than the file has tensors; :func:`check_weights` then compares names, shapes and dtypes, and
:func:`non_finite` refuses NaN or infinite weights (a forecast of NaN, every word tagged
``<pad>``), each in one line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

MODULES_PER_TENSOR = 16  # containers, dropout and activations hold no tensor of their own
SPARE_MODULES = 256
SPARE_WEIGHTS = 2**20  # a tensor or two too many: check_weights names them


class TooLarge(Exception):
    """The configuration builds a model larger than the file's weights."""


@contextmanager
def size_guard(tensors: dict[str, Tensor]) -> Iterator[None]:
    """Raise :class:`TooLarge` inside the block once the modules built there register more
    weight elements than ``tensors`` hold, or more modules than they could fill (a tensor
    given under several names counts once)."""
    distinct = {id(tensor): tensor for tensor in tensors.values()}.values()  # a tensor given
    # under several names (tied weights, stored once) is one tensor's memory
    held = sum(tensor.numel() for tensor in distinct)
    weights = 2 * held + SPARE_WEIGHTS
    modules = MODULES_PER_TENSOR * len(distinct) + SPARE_MODULES
    seen: set[int] = set()
    count = {"weights": 0, "modules": 0}

    def on_parameter(module: nn.Module, name: str, parameter: Tensor | None) -> None:
        if parameter is None or id(parameter) in seen:
            return
        seen.add(id(parameter))
        count["weights"] += parameter.numel()
        if count["weights"] > weights:
            raise TooLarge(f"its configuration builds a model of more than "
                           f"{count['weights']:,} weights, and the file holds {held:,}")

    def on_module(module: nn.Module, name: str, submodule: nn.Module | None) -> None:
        count["modules"] += 1
        if count["modules"] > modules:
            raise TooLarge(f"its configuration builds a model of more than {modules:,} "
                           f"modules, and the file holds {len(tensors):,} tensors")

    handles = [nn.modules.module.register_module_parameter_registration_hook(on_parameter),
               nn.modules.module.register_module_module_registration_hook(on_module)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


# in-place random fills: on the meta device they have no values to fill, and torch runs
# normal_ there through a Python decomposition that imports Dynamo (about 1 s of CPU, at every
# load of a bundle with an embedding) on its first call. torch.nn.init's functions are seen
# by a mode themselves (the Tensor methods they call inside are not)
RANDOM_FILLS = frozenset({
    Tensor.normal_, Tensor.uniform_, Tensor.bernoulli_, Tensor.exponential_,
    Tensor.geometric_, Tensor.cauchy_, Tensor.log_normal_, Tensor.random_,
    nn.init.normal_, nn.init.uniform_, nn.init.trunc_normal_, nn.init.xavier_normal_,
    nn.init.xavier_uniform_, nn.init.kaiming_normal_, nn.init.kaiming_uniform_,
    nn.init.orthogonal_, nn.init.sparse_,
})


class _NoRandomFills(TorchFunctionMode):
    """Skip the in-place random fills of meta tensors (which hold no values): the shapes,
    names and dtypes a build gives are those it gives with them."""

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        if func in RANDOM_FILLS:  # torch.nn.init passes its tensor by name
            tensor = args[0] if args else kwargs.get("tensor")
            if isinstance(tensor, Tensor) and tensor.is_meta:
                return tensor
        return func(*args, **kwargs)


def probe_state(build: Callable[[], nn.Module],
                tensors: dict[str, Tensor]) -> dict[str, Tensor] | None:
    """The state dict (names, shapes, dtypes; no memory) of the model ``build`` makes, built on
    the meta device under :func:`size_guard`; None if the build cannot run on that device (it
    is then built for real, still under the guard). Raises :class:`TooLarge`."""
    try:
        with size_guard(tensors), torch.device("meta"), _NoRandomFills():
            return build().state_dict()
    except TooLarge:
        raise
    except Exception:  # noqa: BLE001 (an operation with no meta kernel: the real build says)
        return None


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def check_weights(expected: dict[str, Tensor], tensors: dict[str, Tensor]) -> str:
    """What is wrong with the file's ``tensors`` for a model whose state is ``expected``:
    one line, or "" when they fit."""
    missing = [name for name in expected if name not in tensors]
    extra = [name for name in tensors if name not in expected]
    if missing or extra:
        parts = ([f"it lacks {_names(missing)}"] if missing else []) + (
            [f"it holds {_names(extra)}, which the model has not"] if extra else [])
        return f"its weights do not fit its configuration: {'; '.join(parts)}"
    for name, want in expected.items():
        got = tensors[name]
        if tuple(got.shape) != tuple(want.shape):
            return (f"its weights do not fit its configuration: {name} is "
                    f"{list(got.shape)} in the file, {list(want.shape)} in the model")
        if got.dtype.is_floating_point != want.dtype.is_floating_point:
            return (f"{name} is {str(got.dtype).removeprefix('torch.')} in the file, "
                    f"{str(want.dtype).removeprefix('torch.')} in the model")
    return ""



def non_finite(tensors: dict[str, Tensor]) -> str:
    """``head.weight holds 6 NaN or infinite values of 6: ...`` for the first such tensor,
    or "" (no rnnkit model keeps a NaN or an infinity among its weights or buffers)."""
    for name, tensor in tensors.items():
        if tensor.dtype.is_floating_point:
            bad = int((~torch.isfinite(tensor)).sum())
            if bad:
                return (f"{name} holds {bad:,} NaN or infinite values of {tensor.numel():,}: "
                        "the file is damaged, or the model was saved after its training "
                        "diverged; retrain it")
    return ""
