"""The optimizer a run trains with: ``train.optimizer`` over the model's trainable weights."""

from __future__ import annotations

import torch

from rnnkit.config import ConfigError, TrainConfig


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """``train.optimizer`` over the trainable weights, with torch's multi-tensor (``foreach``)
    implementation on every device.

    torch picks it by itself only on a GPU; on the CPU its default is a Python loop over the
    weights. The multi-tensor step computes the same operations in the same order, so the
    weights are the same to the bit (``tests/test_trainer_setup.py`` checks it), and takes less
    time where the step is a real share of training: with a dense word embedding (the SST
    classifier) it is a quarter of a training step on the CPU.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay,
                                foreach=True)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay,
                                 foreach=True)
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay,
            foreach=True,
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
