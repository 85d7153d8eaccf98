"""Quantile forecasts: parse the levels, keep the quantiles from crossing, the pinball loss.

A quantile head gives ``Q`` raw values per step. :func:`ordered_quantiles` reads the one at
the median (``0.5``) as the median itself and the others as offsets: each quantile above the
median is the one below it plus a positive ``softplus`` gap, and likewise downwards, so the
quantiles increase by construction (no sorting, no crossing, gradients to all of them).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.nn import functional

from rnnkit.config import ConfigError, number_list

DEFAULT_QUANTILES = "0.05,0.5,0.95"


def parse_quantiles(quantiles: str | Sequence[float]) -> list[float]:
    """Ascending quantile levels from ``"0.05,0.5,0.95"`` or a sequence of numbers.

    Raises:
        ValueError: a level that is not a number strictly between 0 and 1, a repeated level,
            or no ``0.5`` (the median is the point forecast).

    Example:
        >>> parse_quantiles("0.9, 0.5,0.1")
        [0.1, 0.5, 0.9]
    """
    if not isinstance(quantiles, str) and not (isinstance(quantiles, list | tuple) and all(
            isinstance(level, int | float) and not isinstance(level, bool) for level in quantiles)):
        raise ConfigError(f"forecast.quantiles must be numbers strictly between 0 and 1, e.g. "
                          f"{DEFAULT_QUANTILES}; got {quantiles!r}")  # not [[0.5]]: a TypeError
    levels = sorted(number_list(quantiles, "forecast.quantiles", float, example=DEFAULT_QUANTILES)
                    if isinstance(quantiles, str) else [float(level) for level in quantiles])
    bad = [level for level in levels if not 0.0 < level < 1.0]
    if bad:
        raise ValueError(f"every quantile must lie strictly between 0 and 1; got {bad} in "
                         f"forecast.quantiles={quantiles!r}")
    if len(set(levels)) != len(levels):
        raise ValueError(f"forecast.quantiles={quantiles!r} repeats a level")
    if 0.5 not in levels:
        raise ValueError(f"forecast.quantiles={quantiles!r} must include 0.5 (the median is "
                         f"the point forecast), e.g. {DEFAULT_QUANTILES!r}")
    return levels


def ordered_quantiles(raw: Tensor, median_index: int) -> Tensor:
    """Non-crossing quantiles from raw head outputs.

    Args:
        raw: ``[..., Q]``; ``raw[..., median_index]`` is the median, the rest are gaps
            before ``softplus``.
        median_index: the position of level 0.5 among the ascending levels.

    Shape:
        ``[..., Q]`` in, ``[..., Q]`` out, increasing along the last axis (strictly, but for
        a gap so small that it rounds to zero).
    """
    median = raw[..., median_index:median_index + 1]  # [..., 1]
    above = median + functional.softplus(raw[..., median_index + 1:]).cumsum(-1)
    gaps_below = functional.softplus(raw[..., :median_index]).flip(-1).cumsum(-1).flip(-1)
    return torch.cat([median - gaps_below, median, above], dim=-1)


def pinball_loss(predicted: Tensor, targets: Tensor, levels: Tensor,
                 step_weights: Tensor | None = None) -> Tensor:
    """The mean quantile (pinball) loss: ``max(q * e, (q - 1) * e)`` with ``e = y - y_q``.

    Args:
        predicted: ``[B, H, Q]`` the quantile forecasts.
        targets: ``[B, H]`` what happened.
        levels: ``[Q]`` the quantile levels ``q``.
        step_weights: ``[H]`` a weight per step (mean 1 keeps the loss's scale), or None.

    Example:
        >>> loss = pinball_loss(torch.tensor([[[1.0, 2.0]]]), torch.tensor([[3.0]]),
        ...                     torch.tensor([0.1, 0.5]))
        >>> round(float(loss), 4)  # (0.1 * 2 + 0.5 * 1) / 2
        0.35
    """
    error = targets.unsqueeze(-1) - predicted  # [B, H] -> [B, H, 1]; broadcast to [B, H, Q]
    loss = torch.maximum(levels * error, (levels - 1.0) * error)
    if step_weights is not None:
        loss = loss * step_weights[:, None]  # [H, 1] broadcast over the batch and levels
    return loss.mean()
