"""torch.nn's unbatched input: one sequence ``[T, I]`` and its state ``[L*D, H]``, run by a
layer as a batch of one and returned without the batch dimension."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor

Hidden = Tensor | tuple[Tensor, ...]


def run_unbatched(name: str, layer: Callable[..., Any], input: Tensor, hx: Hidden | None,
                  lengths: object, shapes: list[tuple[int, int, int]], batch_first: bool
                  ) -> tuple[Tensor, Hidden]:
    """``layer`` (a :class:`~rnnkit.layers.Recurrent`, whose state ``shapes`` for a batch of
    one are given) on one sequence ``[T, I]``, whatever ``batch_first``, and its state
    ``[L*D, width]``: output ``[T, D*width]``, final state ``[L*D, width]``, as in torch.nn."""
    if lengths is not None:
        raise ValueError(f"{name}: lengths are for a padded batch; an unbatched input [T, I]"
                         " is one whole sequence (leave lengths out, or give [T, B, I])")
    parts = tuple(hx) if isinstance(hx, tuple | list) else (hx,)
    for part, (rows, _, width) in zip(parts, shapes, strict=False):
        if isinstance(part, Tensor) and tuple(part.shape) != (rows, width):
            raise ValueError(
                f"{name}: an unbatched input [T, I] takes an initial state of shape"
                f" [layers*directions, hidden] = {[rows, width]}, got {list(part.shape)}"
            )
    if hx is not None and all(isinstance(part, Tensor) for part in parts):
        batched = tuple(part.unsqueeze(1) for part in parts if isinstance(part, Tensor))
        hx = batched if isinstance(hx, tuple | list) else batched[0]
    batch_dim = 0 if batch_first else 1
    output, final = layer(input.unsqueeze(batch_dim), hx)
    states = final if isinstance(final, tuple) else (final,)
    unbatched = tuple(state.squeeze(1) for state in states)
    return output.squeeze(batch_dim), unbatched if isinstance(final, tuple) else unbatched[0]
