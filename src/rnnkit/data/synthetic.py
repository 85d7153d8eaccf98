"""Long-range synthetic tasks that expose vanishing and exploding gradients.

- **adding** (Hochreiter & Schmidhuber 1997): each step carries a random value in [0, 1) and a
  marker; exactly two steps are marked, one in the first half and one in the second. The target
  is the sum of the two marked values. Predicting the mean (1.0) scores an MSE of 1/6 ≈ 0.167.
- **copy** (Arjovsky et al. 2016): ten symbols from eight, then ``length`` blanks with a
  delimiter at the end; the model must output the ten symbols after the delimiter. Guessing
  scores a cross-entropy of log(8) ≈ 2.08 on those steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

TASKS = ("adding", "copy")
COPY_SYMBOLS = 8
COPY_LENGTH = 10


@dataclass(frozen=True)
class SyntheticTask:
    """Shapes and the trivial baseline of a synthetic task."""

    name: str
    input_size: int
    output_size: int
    baseline: float  # loss of the best input-blind prediction
    baseline_name: str


def describe(task: str) -> SyntheticTask:
    if task == "adding":
        return SyntheticTask("adding", 2, 1, 1.0 / 6.0, "predict the mean sum, 1.0 (MSE 1/6)")
    if task == "copy":
        return SyntheticTask(
            "copy", COPY_SYMBOLS + 2, COPY_SYMBOLS, math.log(COPY_SYMBOLS),
            "guess uniformly among 8 symbols (cross-entropy log 8)",
        )
    raise ValueError(f"unknown synthetic task {task!r}; choose one of {', '.join(TASKS)}")


def adding_problem(size: int, length: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Inputs ``[N, T, 2]`` (value, marker) and targets ``[N]``."""
    if length < 2:
        raise ValueError(f"the adding problem needs length >= 2, got {length}")
    values = torch.rand(size, length, generator=generator)
    half = length // 2
    first = torch.randint(0, half, (size,), generator=generator)
    second = torch.randint(half, length, (size,), generator=generator)
    markers = torch.zeros(size, length)
    rows = torch.arange(size)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = values[rows, first] + values[rows, second]
    return torch.stack([values, markers], dim=2), targets


def copy_task(size: int, length: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """One-hot inputs ``[N, T', 10]`` and targets ``[N, T']`` with ``T' = length + 20``.

    Targets are the symbol to output at each step, or -100 (ignored) where nothing is asked.
    """
    if length < 1:
        raise ValueError(f"the copy task needs length >= 1, got {length}")
    total = length + 2 * COPY_LENGTH
    symbols = torch.randint(0, COPY_SYMBOLS, (size, COPY_LENGTH), generator=generator)
    tokens = torch.full((size, total), COPY_SYMBOLS)  # blank
    tokens[:, :COPY_LENGTH] = symbols
    tokens[:, COPY_LENGTH + length - 1] = COPY_SYMBOLS + 1  # delimiter: "now repeat"
    targets = torch.full((size, total), -100)
    targets[:, -COPY_LENGTH:] = symbols
    inputs = torch.nn.functional.one_hot(tokens, COPY_SYMBOLS + 2).float()
    return inputs, targets


def make_split(task: str, size: int, length: int, seed: int) -> tuple[Tensor, Tensor]:
    """A reproducible split of a synthetic task."""
    generator = torch.Generator().manual_seed(seed)
    if task == "adding":
        return adding_problem(size, length, generator)
    describe(task)  # raises for an unknown task
    return copy_task(size, length, generator)
