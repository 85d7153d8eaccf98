"""An exponential moving average of a model's weights (Polyak averaging).

After every optimizer step ``shadow = decay * shadow + (1 - decay) * weights``; integer
buffers are copied. Validation, ``best.pt`` and the saved model use the average, which moves
less from batch to batch than the weights themselves (Keras' ``use_ema``, timm's
``ModelEma``). There is no warm-up: the average starts from the initial weights, whose share
after ``n`` steps is ``decay ** n``. Without validation data the trainer's fallback monitor,
the training loss, is measured on the weights themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn


class WeightAverage:
    """The moving average of ``model``'s ``state_dict``, started from its current weights.

    Example:
        >>> layer = nn.Linear(1, 1, bias=False)
        >>> average = WeightAverage(layer, decay=0.5)
        >>> with torch.no_grad():
        ...     _ = layer.weight.fill_(1.0)
        >>> start = float(average.shadow["weight"])
        >>> average.update(layer)
        >>> round(float(average.shadow["weight"]), 6) == round((start + 1.0) / 2, 6)
        True
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"train.ema_decay must be between 0 and 1 (e.g. 0.99), got {decay}")
        self.decay = float(decay)
        self.shadow = _copy(model.state_dict())

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for name, value in model.state_dict().items():
            kept = self.shadow[name]
            if kept.is_floating_point():
                kept.lerp_(value.detach(), 1.0 - self.decay)
            else:
                kept.copy_(value)

    @contextmanager
    def applied(self, model: nn.Module) -> Iterator[None]:
        """Inside the block the model holds the averaged weights; its own come back after."""
        own = _copy(model.state_dict())
        model.load_state_dict(self.shadow)
        try:
            yield
        finally:
            model.load_state_dict(own)

    def load(self, shadow: dict[str, Any], model: nn.Module) -> None:
        """Take a saved average (read onto the CPU) onto the devices of ``model``'s weights."""
        own = model.state_dict()
        self.shadow = {name: value.detach().to(own[name].device).clone()
                       for name, value in shadow.items()}


def _copy(weights: dict[str, Any]) -> dict[str, Any]:
    return {name: value.detach().clone() for name, value in weights.items()}
