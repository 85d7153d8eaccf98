"""The checks of a DQN training's settings and inputs, run before it starts (and, for the loss,
after each update): each raises a ValueError that names the setting and how to fix it, where
torch would fail later with none named (or the agent would go on with NaN weights).

:func:`~rnnkit.rl.dqn.train_dqn` runs them all; a run (:mod:`rnnkit.pipelines.dqn`) runs the
buffer and update checks before it clears its folder.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

from rnnkit.rl.replay import buffer_bytes

if TYPE_CHECKING:
    from rnnkit.models.dqn_agent import DQNAgent
    from rnnkit.rl.dqn import DQNOptions
    from rnnkit.rl.env import TradingEnv


# Upper bounds no real run comes near; past them torch fails deep in the optimizer (an lr
# above float32's range), the rewards overflow float32 (an infinite loss), or the replay
# buffer asks for more memory than a machine has
MAX_LR = 1.0
MAX_REWARD_SCALE = 1e6
MAX_BUFFER_SIZE = 10_000_000  # 1e6 is Atari's DQN; 8 GB of 20-day windows of 5 features


def check_options(options: DQNOptions) -> None:
    """Raise a ValueError naming the first option out of its range."""
    from rnnkit.models.dqn_agent import NETWORKS

    rules = [("network", options.network in NETWORKS, f"one of {', '.join(NETWORKS)}"),
             ("episodes", options.episodes >= 1, ">= 1"),
             ("gamma", 0.0 <= options.gamma < 1.0, "in [0, 1)"),
             ("lr", 0 < options.lr <= MAX_LR, f"> 0 and <= {MAX_LR:g} (Adam's step size: 1e-4 "
              "to 1e-2 are usual)"),
             ("batch_size", options.batch_size >= 1, ">= 1"),
             ("buffer_size", options.buffer_size >= options.batch_size, ">= batch_size"),
             ("buffer_size", options.buffer_size <= MAX_BUFFER_SIZE, f"<= {MAX_BUFFER_SIZE:,} "
              "(transitions kept for replay: 1e4 to 1e6 are usual)"),
             ("learning_starts", options.learning_starts >= 0, ">= 0"),
             ("train_every", options.train_every >= 1, ">= 1"),
             ("target_update", options.target_update >= 1, ">= 1"),
             ("epsilon_start", 0.0 <= options.epsilon_start <= 1.0, "in [0, 1]"),
             ("epsilon_end", 0.0 <= options.epsilon_end <= 1.0, "in [0, 1]"),
             ("exploration_fraction", 0.0 < options.exploration_fraction <= 1.0, "in (0, 1]"),
             ("reward_scale", 0 < options.reward_scale <= MAX_REWARD_SCALE,
              f"> 0 and <= {MAX_REWARD_SCALE:g} (100 = rewards in percent)"),
             ("clip_norm", options.clip_norm >= 0, ">= 0")]
    for name, valid, expected in rules:
        if not valid:
            raise ValueError(f"agent.{name} must be {expected}, not {getattr(options, name)!r}")


def machine_memory() -> int | None:
    """This machine's physical memory in bytes; None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows), or no such name
        return None


def check_buffer_memory(options: DQNOptions, window_shape: tuple[int, ...]) -> None:
    """Refuse a replay buffer of windows of ``window_shape`` (``(L, F)``) larger than this
    machine's memory: it is allocated whole when training starts, so it fails then with no
    setting named (and, in a run, after the run folder was cleared)."""
    need, have = buffer_bytes(options.buffer_size, window_shape), machine_memory()
    if have is not None and need > have:
        fits = have // buffer_bytes(1, window_shape)
        raise ValueError(f"agent.buffer_size {options.buffer_size} asks for {need / 2**30:.1f} "
                         f"GiB of replay memory (two windows of {window_shape[0]} days x "
                         f"{window_shape[1]} features per transition), more than this machine's "
                         f"{have / 2**30:.1f} GiB; lower agent.buffer_size (at most {fits} "
                         "fit) or data.lookback")


def check_updates(options: DQNOptions, days: int) -> None:
    """Refuse settings under which no update would run in ``episodes`` passes over ``days``
    decisions (the first update comes at the first multiple of ``train_every`` from
    ``learning_starts`` on)."""
    total = options.episodes * days
    first_update = -(-max(options.learning_starts, 1) // options.train_every) * options.train_every
    if first_update > total:
        raise ValueError(f"no update would ever run: agent.learning_starts "
                         f"{options.learning_starts} (first update at step {first_update}, "
                         f"agent.train_every {options.train_every}) is past the {total} steps "
                         f"of training (agent.episodes {options.episodes} x {days} days); "
                         "lower agent.learning_starts or raise agent.episodes")

def check_loss(loss: float, episode: int, update: int, options: DQNOptions) -> None:
    """Stop at a loss that is no number: the agent went on with NaN weights, acted flat (a NaN
    Q-value is never the largest) and wrote its results as if nothing were wrong."""
    if not math.isfinite(loss):
        raise ValueError(f"the agent's loss became {loss} in episode {episode}, update {update}:"
                         f" its Q-values diverged; lower agent.lr (now {options.lr:g}) or "
                         f"agent.reward_scale (now {options.reward_scale:g}), or set "
                         "agent.clip_norm")


def check_env(agent: DQNAgent, env: TradingEnv) -> None:
    """Refuse an environment whose windows or trading mode are not the agent's: it would
    train on inputs of another shape, or learn 'sell' as flat where the agent means short."""
    shape = (agent.lookback, len(agent.feature_names))
    if tuple(env.windows.shape[1:]) != shape:
        raise ValueError(f"the environment's windows are {tuple(env.windows.shape[1:])} (lookback"
                         f", features) but the agent reads {shape}: build both from the same "
                         "windows (data.lookback and features)")
    if env.mode != agent.mode:
        raise ValueError(f"the environment trades {env.mode} but the agent was built for "
                         f"{agent.mode}: give both the same mode")
