"""The optimizer a run trains with: ``train.optimizer`` over the model's trainable weights."""

from __future__ import annotations

import torch

from rnnkit.config import ConfigError, TrainConfig


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    raise ValueError(f"optimizer must be adam, adamw or sgd, got {config.optimizer!r}")


def take_step(optimizer: torch.optim.Optimizer, config: TrainConfig) -> None:
    """``optimizer.step()``, with a setting the weights' float type cannot hold named:
    ``train.lr=1e300`` (or such a weight decay) ended in torch's traceback 'value cannot be
    converted to type float without overflow' from inside the optimizer."""
    try:
        optimizer.step()
    except RuntimeError as error:
        if "without overflow" not in str(error):
            raise
        raise ConfigError(
            f"train.lr={config.lr:g} with train.weight_decay={config.weight_decay:g} overflows "
            f"the {config.optimizer} step in the weights' float type; lower them (learning "
            "rates that train are about 1e-4 to 1e-2 for adam and adamw, up to about 20 for "
            "sgd)") from None
