"""Tiny task models and batch sources shared by the trainer and checkpoint tests.

Everything here is small enough that a whole training run takes milliseconds on one CPU thread.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.config import TrainConfig
from rnnkit.data.batching import TensorBatches
from rnnkit.training.task import StepOutput, TaskModel

# the real datasets: $RNNKIT_DATA, else ../shared/data beside the checkout
SHARED_DATA = Path(os.environ.get("RNNKIT_DATA")
                   or Path(__file__).resolve().parents[2] / "shared" / "data")

IN = 3


def quiet(**overrides: Any) -> TrainConfig:
    """A CPU TrainConfig without progress bars; everything else from ``overrides``."""
    options: dict[str, Any] = {"device": "cpu", "progress": False, "epochs": 1}
    options.update(overrides)
    return TrainConfig(**options)


def no_log(message: str) -> None:
    """A ``log`` for the trainer that prints nothing."""


class ListSource:
    """A batch source that yields the same fixed list of batches every epoch."""

    def __init__(self, batches: Sequence[Any]) -> None:
        self.items = list(batches)

    def batches(self, epoch: int) -> Iterator[Any]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class Regressor(TaskModel):
    """Linear -> tanh -> dropout -> linear, MSE on ``(x [B, IN], y [B])`` batches."""

    def __init__(self, dropout: float = 0.0, hidden: int = 8) -> None:
        super().__init__()
        self.inner = nn.Linear(IN, hidden)
        self.drop = nn.Dropout(dropout)
        self.outer = nn.Linear(hidden, 1)

    def loss(self, batch: Any) -> Tensor:
        x, y = batch
        return F.mse_loss(self.outer(self.drop(torch.tanh(self.inner(x)))).squeeze(1), y)

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        return StepOutput(self.loss(batch), int(batch[0].shape[0]))


def make_regressor(dropout: float = 0.0, seed: int = 0) -> Regressor:
    """The same initial weights for every call with the same ``seed``."""
    torch.manual_seed(seed)
    return Regressor(dropout)


def regression_data(size: int = 20, seed: int = 0) -> tuple[Tensor, Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(size, IN, generator=generator)
    y = x.sum(1).sin() + 0.1 * torch.randn(size, generator=generator)
    return x, y


def regression_source(size: int = 20, batch_size: int = 6, seed: int = 0) -> TensorBatches:
    """Shuffled mini-batches (4 per epoch with the defaults: 6 + 6 + 6 + 2)."""
    return TensorBatches(regression_data(size, seed), batch_size=batch_size, shuffle=True, seed=3)


def weights(model: nn.Module) -> dict[str, Tensor]:
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def same_weights(a: dict[str, Tensor], b: dict[str, Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class ScriptedModel(TaskModel):
    """Trains a real parameter, but validation reports the next values of a script.

    ``evaluate`` returns ``{"loss": s, "accuracy": s}`` for the i-th call's script value ``s``,
    so early stopping, LR reduction and the best checkpoint can be driven exactly.
    """

    def __init__(self, script: Iterable[float]) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(2))
        self.script = list(script)
        self.calls = 0

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        return StepOutput(((self.w - batch) ** 2).sum(), 1)

    def evaluate(self, batches: Iterable[Any]) -> dict[str, float]:
        for _ in batches:
            pass
        value = self.script[self.calls]
        self.calls += 1
        return {"loss": value, "accuracy": value}


def snapshot_log(model: nn.Module, into: list[dict[str, Tensor]]) -> Any:
    """A trainer ``log`` that keeps a copy of the weights at every end of epoch."""

    def log(message: str) -> None:
        if message.startswith("epoch "):
            into.append(copy.deepcopy(weights(model)))

    return log
