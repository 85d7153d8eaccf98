"""Input checks that turn shape, dtype and device mistakes into plain ``ValueError`` messages."""

from __future__ import annotations

from torch import Tensor

from rnnkit.cells.base import array_hint


def check_input(
    name: str, x: Tensor, reference: Tensor, input_size: int, rank: int, batch_first: bool = False
) -> None:
    """Check rank, feature size, dtype and device of a layer's input against its weights."""
    if not isinstance(x, Tensor):
        raise ValueError(f"{name}: expected a Tensor or PackedSequence, got {type(x).__name__}"
                         + array_hint(x, reference))
    layout = "[T, B, I] or [B, T, I] with batch_first=True" if rank == 3 else "packed [N, I]"
    if x.dim() != rank:
        raise ValueError(
            f"{name}: expected a {rank}-D input ({layout}), got shape {tuple(x.shape)}"
            + (f" (add a batch dimension with x.unsqueeze({0 if batch_first else 1}))"
               if x.dim() == 2 and rank == 3 else "")
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
    if x.dtype != reference.dtype:
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
    shape: tuple[int, int, int],
    state_size: int,
    reference: Tensor,
) -> tuple[Tensor, ...]:
    """Return the initial state as a tuple of ``[L*D, B, H]``, zeros when ``hx`` is None."""
    if hx is None:
        return tuple(
            reference.new_zeros(shape) for _ in range(state_size)
        )
    parts = tuple(hx) if isinstance(hx, tuple | list) else (hx,)
    expected = "a tensor" if state_size == 1 else f"a tuple of {state_size} tensors (h_0, c_0)"
    if len(parts) != state_size or not all(isinstance(p, Tensor) for p in parts):
        raise ValueError(
            f"{name}: expected the initial state as {expected}, got {describe(hx)}"
            + next((array_hint(p, reference) for p in parts if not isinstance(p, Tensor)), "")
        )
    for part in parts:
        if tuple(part.shape) != shape:
            raise ValueError(
                f"{name}: expected an initial state of shape [layers*directions, batch, hidden] ="
                f" {list(shape)}, got {list(part.shape)}"
            )
        if part.dtype != reference.dtype or part.device != reference.device:
            raise ValueError(
                f"{name}: initial state is {part.dtype} on {part.device}, the weights"
                f" {reference.dtype} on {reference.device} (convert it:"
                f" hx.to({reference.dtype}, device='{reference.device}'))"
            )
    return parts


def describe(value: object) -> str:
    """The type of a value, and of each item of a tuple or list: ``tuple of (Tensor, NoneType)``."""
    if isinstance(value, tuple | list):
        return f"{type(value).__name__} of ({', '.join(type(v).__name__ for v in value)})"
    return type(value).__name__

