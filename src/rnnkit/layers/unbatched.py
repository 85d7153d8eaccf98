"""torch.nn's unbatched input: one sequence ``[T, I]`` and its state ``[L*D, H]``, which a
layer runs as a batch of one and returns without the batch dimension."""

from __future__ import annotations

from torch import Tensor

from rnnkit.layers.validate import state_width_name

Hidden = Tensor | tuple[Tensor, ...]


def batch_of_one(name: str, input: Tensor, hx: Hidden | None, lengths: object,
                 shapes: list[tuple[int, int, int]], batch_first: bool
                 ) -> tuple[Tensor, Hidden | None]:
    """One sequence ``[T, I]`` (whatever ``batch_first``) and its state ``[L*D, width]`` as a
    batch of one (``shapes``: the layer's state shapes for a batch of one)."""
    if lengths is not None:
        raise ValueError(f"{name}: lengths are for a padded batch; an unbatched input [T, I]"
                         " is one whole sequence (leave lengths out, or give [T, B, I])")
    parts = tuple(hx) if isinstance(hx, tuple | list) else (hx,)
    for index, (part, (rows, _, width)) in enumerate(zip(parts, shapes, strict=False)):
        if isinstance(part, Tensor) and tuple(part.shape) != (rows, width):
            label, which = state_width_name(index, shapes)
            raise ValueError(
                f"{name}: an unbatched input [T, I] takes an initial state of shape"
                f" [layers*directions, {label}] = {[rows, width]}, got {list(part.shape)}{which}"
            )
    if hx is not None and all(isinstance(part, Tensor) for part in parts):
        batched = tuple(part.unsqueeze(1) for part in parts if isinstance(part, Tensor))
        hx = batched if isinstance(hx, tuple | list) else batched[0]
    return input.unsqueeze(0 if batch_first else 1), hx


def without_batch(output: Tensor, final: tuple[Tensor, ...], batch_first: bool
                  ) -> tuple[Tensor, tuple[Tensor, ...]]:
    """A batch of one's output ``[T, D*width]`` and final state ``[L*D, width]`` each."""
    return output.squeeze(0 if batch_first else 1), tuple(state.squeeze(1) for state in final)
