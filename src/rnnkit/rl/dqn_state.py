"""A DQN training's state between two episodes, saved so that an interrupted training goes on
exactly where it stopped.

After each episode :func:`~rnnkit.rl.dqn.train_dqn` writes (atomically, a checkpoint read back
without running code) what the next episode starts from: the online and target networks, the
optimizer, the replay buffer, the exploration and replay generator, every other random
generator (dropout draws from torch's), the step count, the episode record and the best
episode's weights. The environment holds nothing between episodes (each starts from
``reset(seed=seed + episode)``), so a training resumed from the file ends with the weights and
record of one never stopped. An interruption inside an episode loses that episode only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from rnnkit.rl.replay import ReplayBuffer
from rnnkit.training.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state

if TYPE_CHECKING:
    from rnnkit.models.dqn_agent import DQNAgent
    from rnnkit.rl.dqn import DQNResult


def save_episode(path: Path, agent: DQNAgent, target: DQNAgent,
                 optimizer: torch.optim.Optimizer, buffer: ReplayBuffer,
                 generator: np.random.Generator, step: int, result: DQNResult,
                 best: tuple[float, dict[str, Any]], seconds: float) -> Path:
    """Write the state after episode ``len(result.history)`` to ``path``."""
    return save_checkpoint({
        "model": agent.state_dict(), "target": target.state_dict(),
        "optimizer": optimizer.state_dict(), "buffer": buffer.state_dict(),
        "generator": generator.bit_generator.state, "rng": rng_state(), "step": step,
        "history": result.history, "best_episode": result.best_episode,
        "updates": result.updates, "best_score": best[0], "best_state": best[1],
        "seconds": seconds}, path)


def load_episode(path: Path, agent: DQNAgent, target: DQNAgent,
                 optimizer: torch.optim.Optimizer, buffer: ReplayBuffer,
                 generator: np.random.Generator, result: DQNResult
                 ) -> tuple[int, tuple[float, dict[str, Any]], float]:
    """Put the state :func:`save_episode` wrote back into the training's objects; returns the
    step count, the best score and weights so far, and the seconds trained before."""
    state = load_checkpoint(path)
    agent.load_state_dict(state["model"])
    target.load_state_dict(state["target"])
    optimizer.load_state_dict(state["optimizer"])
    buffer.load_state_dict(state["buffer"])
    generator.bit_generator.state = state["generator"]
    set_rng_state(state["rng"])
    result.history = list(state["history"])
    result.best_episode, result.updates = state["best_episode"], state["updates"]
    return state["step"], (state["best_score"], state["best_state"]), state["seconds"]
