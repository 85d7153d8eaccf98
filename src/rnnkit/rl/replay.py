"""A replay buffer: the agent's latest transitions, sampled uniformly for Q-learning updates.

Sampling old transitions at random breaks the correlation between consecutive days that
would otherwise make every update chase the latest stretch of the market. The buffer is a
ring: when full, each new transition replaces the oldest one.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor


class Transitions(NamedTuple):
    """A batch of transitions as tensors.

    Shape:
        window, next_window ``[B, L, F]``; position, next_position ``[B, 1]``; action ``[B]``
        (long); reward, done ``[B]`` (float, done 1.0 where the episode ended).
    """

    window: Tensor
    position: Tensor
    action: Tensor
    reward: Tensor
    next_window: Tensor
    next_position: Tensor
    done: Tensor


def buffer_bytes(capacity: int, window_shape: tuple[int, ...]) -> int:
    """The bytes the arrays of a :class:`ReplayBuffer` of ``capacity`` transitions take: two
    float32 windows, two float32 positions, an int64 action, a float32 reward and done each.

    Example:
        >>> buffer_bytes(20_000, (20, 5))  # the default buffer of 20-day windows: 16 MB
        16480000
    """
    return int(capacity) * (2 * 4 * math.prod(window_shape) + 2 * 4 + 8 + 4 + 4)


FIELDS = ("window", "position", "action", "reward", "next_window", "next_position", "done")


class ReplayBuffer:
    """Fixed-capacity storage of ``(observation, action, reward, next observation, done)``.

    Args:
        capacity: the most transitions held.
        window_shape: ``(L, F)`` of the observed windows.

    Example:
        >>> buffer = ReplayBuffer(2, (3, 1))
        >>> for step in range(3):
        ...     window = np.full((3, 1), step, dtype=np.float32)
        ...     buffer.add(window, 0.0, 1, 0.5, window, 0.0, False)
        >>> len(buffer), buffer.window[:, 0, 0].tolist()  # step 2 replaced step 0
        (2, [2.0, 1.0])
        >>> buffer.sample(4, np.random.default_rng(0)).window.shape
        torch.Size([4, 3, 1])
    """

    def __init__(self, capacity: int, window_shape: tuple[int, ...]) -> None:
        if capacity < 1:
            raise ValueError(f"the replay buffer's capacity must be >= 1, not {capacity}")
        self.capacity = int(capacity)
        self.window = np.zeros((capacity, *window_shape), dtype=np.float32)
        self.next_window = np.zeros_like(self.window)
        self.position = np.zeros((capacity, 1), dtype=np.float32)
        self.next_position = np.zeros_like(self.position)
        self.action = np.zeros(capacity, dtype=np.int64)
        self.reward = np.zeros(capacity, dtype=np.float32)
        self.done = np.zeros(capacity, dtype=np.float32)
        self.count = 0  # transitions held
        self.cursor = 0  # where the next one goes

    def __len__(self) -> int:
        return self.count

    def add(self, window: np.ndarray, position: float, action: int, reward: float,
            next_window: np.ndarray, next_position: float, done: bool) -> None:
        """Store one transition (the oldest one is replaced when the buffer is full)."""
        if window.shape != self.window.shape[1:] or next_window.shape != window.shape:
            raise ValueError(f"windows of shape {window.shape} and {next_window.shape}; this "
                             f"buffer holds {self.window.shape[1:]}")
        i = self.cursor
        self.window[i], self.next_window[i] = window, next_window
        self.position[i, 0], self.next_position[i, 0] = position, next_position
        self.action[i], self.reward[i], self.done[i] = action, reward, float(done)
        self.cursor = (i + 1) % self.capacity
        self.count = min(self.count + 1, self.capacity)

    def state_dict(self) -> dict[str, Any]:
        """The transitions held, as tensors (only the rows filled), with the ring's cursor."""
        held = slice(0, self.count)
        return {"count": self.count, "cursor": self.cursor,
                **{name: torch.from_numpy(getattr(self, name)[held].copy()) for name in FIELDS}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Hold what :meth:`state_dict` returned (of a buffer of the same shape)."""
        count, cursor = int(state["count"]), int(state["cursor"])
        if count > self.capacity:
            raise ValueError(f"a replay buffer of {count} transitions does not fit in this one "
                             f"of {self.capacity}")
        for name in FIELDS:
            getattr(self, name)[:count] = state[name].numpy()
        self.count, self.cursor = count, cursor

    def sample(self, batch_size: int, generator: np.random.Generator,
               device: torch.device | str = "cpu",
               dtype: torch.dtype = torch.float32) -> Transitions:
        """``batch_size`` transitions drawn uniformly (with replacement) from those held, on
        ``device``, the floating ones as ``dtype`` (the network's)."""
        if not self.count:
            raise ValueError("the replay buffer is empty; add transitions before sampling")
        rows = generator.integers(0, self.count, size=batch_size)

        def tensor(values: np.ndarray) -> Tensor:
            batch = torch.as_tensor(values[rows], device=device)
            return batch.to(dtype) if batch.is_floating_point() else batch

        return Transitions(tensor(self.window), tensor(self.position), tensor(self.action),
                           tensor(self.reward), tensor(self.next_window),
                           tensor(self.next_position), tensor(self.done))
