"""Input checks that turn shape, dtype and device mistakes into plain ``ValueError`` messages."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnkit.cells.base import RecurrentCell, array_hint, autocasting
from rnnkit.cells.init import INIT_SCHEMES

KERNELS = ("auto", "fused", "loop")


def check_flag(name: str, option: str, value: object) -> bool:
    """Refuse a yes/no option that is not a bool, naming it; return it as a ``bool`` (a NumPy
    bool is taken). A string is truthy: ``batch_first="False"`` ran batch-first on the loop
    path, and the fused kernel failed inside PyTorch on anything but a Python bool."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name}: {option} must be True or False, got {value!r} of type"
                         f" {type(value).__name__} (write {option}=True or {option}=False)")
    return bool(value)


def check_layer_options(name: str, cell: Any, num_layers: Any, dropout: Any,
                        recurrent_dropout: Any, init: str, kernel: str, device: Any,
                        dtype: Any, bidirectional: Any, batch_first: Any) -> int:
    """Refuse a layer's constructor options a notebook may get wrong, each named; return
    ``num_layers`` as an ``int`` (NumPy integers are taken; True is not)."""
    given: object = cell  # typed as a factory, but notebooks pass anything
    if isinstance(given, nn.Module) or not callable(given):
        instance = isinstance(given, nn.Module)
        raise ValueError(
            f"{name}: cell must be a cell class or a factory (input_size, hidden_size) ->"
            f" RecurrentCell, called once per layer and direction; got"
            f" {type(given).__name__ if instance else repr(given)}"
            + (f" (pass the class: {type(given).__name__}, not an instance)"
               if instance else "")
        )
    layers: object = num_layers  # numpy ints are ints; True is not
    if not isinstance(layers, numbers.Integral) or isinstance(layers, bool) or layers < 1:
        raise ValueError(f"{name}: num_layers must be an int >= 1, got {num_layers!r}")
    num_layers = int(layers)
    options: tuple[tuple[str, object], ...] = (
        ("dropout", dropout), ("recurrent_dropout", recurrent_dropout))
    for option, value in options:
        number = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if not number or not 0.0 <= float(value) < 1.0:  # type: ignore[arg-type]
            raise ValueError(f"{name}: {option} must be in [0, 1), got {value!r}"
                             + ("" if number else f" (a float, e.g. {option}=0.1)"))
    check_flag(name, "bidirectional", bidirectional)
    check_flag(name, "batch_first", batch_first)
    if init not in INIT_SCHEMES:
        raise ValueError(f"{name}: init must be one of {INIT_SCHEMES}, got {init!r}")
    if kernel not in KERNELS:
        raise ValueError(f"{name}: kernel must be one of {KERNELS}, got {kernel!r}")
    kind: object = dtype
    if kind is not None and not (isinstance(kind, torch.dtype) and kind.is_floating_point):
        raise ValueError(f"{name}: dtype must be a floating-point torch.dtype such as"
                         f" torch.float64, got {dtype!r}")
    if device is not None:
        try:
            torch.device(device)
        except (RuntimeError, TypeError) as error:
            raise ValueError(f"{name}: device {device!r} is not a device PyTorch knows, such as"
                             f" 'cpu' or 'cuda' ({error})") from None
    return num_layers


def check_cells(name: str, cells: list[RecurrentCell], input_size: int, hidden_size: int,
                directions: int) -> None:
    """Refuse cells a factory built with other sizes than it was called with (the fused LSTM
    ran them silently, reading the output as hidden_size wide) or with mixed state sizes."""
    width = cells[0].state_widths()[0]  # each direction's output (proj_size, else hidden_size)
    for index, cell in enumerate(cells):
        wanted = (input_size if index < directions else width * directions, hidden_size)
        if (cell.input_size, cell.hidden_size) != wanted:
            raise ValueError(
                f"{name}: the cell factory must build each cell with the (input_size,"
                f" hidden_size) it is called with: cell {index} is {type(cell).__name__}"
                f"({cell.input_size}, {cell.hidden_size}), not {wanted}"
            )
        if cell.state_widths() != cells[0].state_widths():
            raise ValueError(
                f"{name}: the cell factory must build cells of one state size: cell {index}"
                f" ({type(cell).__name__}) has {cell.state_size} state tensor(s) of widths"
                f" {list(cell.state_widths())}, cell 0 ({type(cells[0]).__name__})"
                f" {cells[0].state_size} of {list(cells[0].state_widths())}"
            )


def check_input(
    name: str, x: Tensor, reference: Tensor, input_size: int, rank: int
) -> None:
    """Check rank, feature size, dtype and device of a layer's input against its weights."""
    if not isinstance(x, Tensor):
        raise ValueError(f"{name}: expected a Tensor or PackedSequence, got {type(x).__name__}"
                         + array_hint(x, reference))
    layout = ("[T, B, I] or [B, T, I] with batch_first=True; or one unbatched sequence [T, I]"
              if rank == 3 else "packed [N, I]")
    if x.dim() != rank:
        raise ValueError(
            f"{name}: expected a {rank}-D input ({layout}), got shape {tuple(x.shape)}"
        )
    if x.shape[-1] != input_size:
        hint = ""
        if rank == 3 and input_size in (x.shape[0], x.shape[1]):
            where = x.shape.index(input_size)
            hint = (f" (the features look to be in dimension {where}: move them last, e.g."
                    f" x.transpose({where}, 2) for a Conv1d's [B, I, T] with batch_first=True)")
        raise ValueError(
            f"{name}: expected input_size {input_size} in the last dimension,"
            f" got shape {tuple(x.shape)}{hint}"
        )
    if x.shape[0] == 0 or (rank == 3 and x.shape[1] == 0):
        raise ValueError(f"{name}: the input is empty, shape {tuple(x.shape)}")
    if x.dtype != reference.dtype and not autocasting(x):
        fix = (f"convert one: x.to({reference.dtype}) or layer.to({x.dtype})"
               if x.is_floating_point() else f"the input must be floating point: "
               f"x.to({reference.dtype}); token ids go through an embedding first")
        raise ValueError(
            f"{name}: input dtype {x.dtype} does not match the weights' {reference.dtype} ({fix})"
        )
    if x.device != reference.device:
        raise ValueError(
            f"{name}: input on {x.device} but the weights on {reference.device}"
            " (move both to the same device)"
        )


def check_hidden(
    name: str,
    hx: Tensor | tuple[Tensor, ...] | None,
    shapes: list[tuple[int, int, int]],
    reference: Tensor,
    input_dtype: torch.dtype | None = None,
) -> tuple[Tensor, ...]:
    """Return the initial state as a tuple of ``shapes`` (``[L*D, B, width]`` each), zeros
    when ``hx`` is None: of the input's dtype, as in ``torch.nn`` (the weights' outside
    ``torch.autocast``, where the two must match)."""
    state_size = len(shapes)
    if hx is None:
        return tuple(reference.new_zeros(shape, dtype=input_dtype) for shape in shapes)
    parts = tuple(hx) if isinstance(hx, tuple | list) else (hx,)
    expected = "a tensor" if state_size == 1 else f"a tuple of {state_size} tensors (h_0, c_0)"
    if len(parts) != state_size or not all(isinstance(p, Tensor) for p in parts):
        raise ValueError(
            f"{name}: expected the initial state as {expected}, got {describe(hx)}"
            + next((array_hint(p, reference) for p in parts if not isinstance(p, Tensor)), "")
        )
    for index, (part, shape) in enumerate(zip(parts, shapes, strict=True)):
        if tuple(part.shape) != shape:
            width, which = state_width_name(index, shapes)
            raise ValueError(
                f"{name}: expected an initial state of shape [layers*directions, batch, {width}] ="
                f" {list(shape)}, got {list(part.shape)}{which}"
            )
        mixed = part.dtype != reference.dtype and not autocasting(part)
        if mixed or part.device != reference.device:
            raise ValueError(
                f"{name}: initial state is {part.dtype} on {part.device}, the weights"
                f" {reference.dtype} on {reference.device} (convert it:"
                f" hx.to({reference.dtype}, device='{reference.device}'))"
            )
    return parts


def state_width_name(index: int, shapes: list[tuple[int, int, int]]) -> tuple[str, str]:
    """The name of state tensor ``index``'s width and a note naming the tensor, for an error
    message: empty for a one-tensor state; for an LSTM's ``(h_0, c_0)`` the tensor (the two
    are shaped alike, so 'got [2, 3, 5]' alone left the user to guess which was wrong), and,
    where they differ in width (``proj_size``), each one's width."""
    widths = [shape[-1] for shape in shapes]
    if len(widths) != 2:
        return "hidden", ""
    tensor = ("h_0", "c_0")[index]
    if widths[0] == widths[1]:
        return "hidden", f" for {tensor}"
    return ("proj_size" if index == 0 else "hidden",
            f" for {tensor} (h_0 is proj_size = {widths[0]} wide,"
            f" c_0 hidden_size = {widths[1]})")


def describe(value: object) -> str:
    """The type of a value, and of each item of a tuple or list: ``tuple of (Tensor, NoneType)``."""
    if isinstance(value, tuple | list):
        return f"{type(value).__name__} of ({', '.join(type(v).__name__ for v in value)})"
    return type(value).__name__

