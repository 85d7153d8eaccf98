"""Deep Q-learning (Mnih et al., 2015) of a trading agent, with the Double DQN option
(van Hasselt et al., 2016).

One loop: act epsilon-greedily in the environment (epsilon falls linearly from
``epsilon_start`` to ``epsilon_end`` over the first ``exploration_fraction`` of all steps),
store each transition in the replay buffer, and every ``train_every`` steps fit the Q-values
of a sampled batch to ``reward + gamma * Q_target(next observation, best next action)`` (Huber
loss). An episode ends because the data does (a truncation, as Gymnasium calls it), so its last
step bootstraps too, from the window after it when the environment knows it; without that
window the last transition is not stored, rather than fitted to its reward alone. A step that
wipes the portfolio out ends the episode for good (terminated): it is stored as done, its
reward alone the target. The network
acts in eval mode (no dropout) and trains in train mode. The target network is a copy of the
online one, refreshed every ``target_update`` steps. With ``double`` the online network picks
the best next action and the target network values it, which curbs the overestimation of
plain DQN's max.

Each episode is one pass over the training period in time order. After each, the greedy
policy trades the validation period once (when given); the weights of the episode that earned
the most there after costs are kept. The test period is never seen here.
"""

from __future__ import annotations

import copy
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from rnnkit.rl.dqn_state import load_episode, save_episode
from rnnkit.rl.env import TradingEnv
from rnnkit.rl.replay import ReplayBuffer, Transitions, buffer_bytes
from rnnkit.timeseries.labels import CLASS_NAMES
from rnnkit.trading.backtest import backtest
from rnnkit.training.task import evaluating

if TYPE_CHECKING:
    from rnnkit.models.dqn_agent import DQNAgent


@dataclass(frozen=True)
class DQNOptions:
    network: str = "mlp"  # mlp | recurrent (the model section's cell over the window)
    episodes: int = 10  # passes over the training period, each in time order
    gamma: float = 0.9  # discount of the next step's value
    lr: float = 5e-4
    batch_size: int = 64
    buffer_size: int = 20_000  # transitions kept for replay
    learning_starts: int = 1_000  # steps of experience before the first update
    train_every: int = 4  # environment steps per update
    target_update: int = 500  # steps between copies of the online network into the target
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    exploration_fraction: float = 0.5  # share of all steps over which epsilon falls
    double: bool = True  # Double DQN: the online network picks the next action, the target
    #                      network values it
    reward_scale: float = 100.0  # rewards (net returns) times this: percent
    clip_norm: float = 10.0  # gradient norm clipping; 0 = off


@dataclass
class DQNResult:
    """What training did: one row per episode, the episode kept, and the time taken."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_episode: int = 0
    updates: int = 0
    seconds: float = 0.0


def epsilon_at(step: int, total_steps: int, options: DQNOptions) -> float:
    """The exploration rate at ``step`` of ``total_steps``: linear, then flat at the end value.

    Example:
        >>> options = DQNOptions(epsilon_start=1.0, epsilon_end=0.1, exploration_fraction=0.5)
        >>> [round(epsilon_at(step, 100, options), 2) for step in (0, 25, 50, 99)]
        [1.0, 0.55, 0.1, 0.1]
    """
    span = max(1.0, options.exploration_fraction * total_steps)
    share = min(1.0, step / span)
    return options.epsilon_start + share * (options.epsilon_end - options.epsilon_start)


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


def greedy_return(agent: DQNAgent, env: TradingEnv) -> float:
    """The total return after costs of the greedy policy over the environment's windows."""
    _, positions = agent.greedy_from_inputs(env.windows)
    return backtest(positions, env.next_returns, cost_bps=env.cost * 10_000).report.total_return


@torch.no_grad()
def td_targets(agent: DQNAgent, target: DQNAgent, batch: Transitions, gamma: float,
               double: bool) -> Tensor:
    """``[B]`` the values the Q-values of a batch's actions are fitted to:
    ``reward + gamma * (1 - done) * Q_target(next, a*)``, where ``a*`` is the next action
    with the highest online Q-value (``double``) or the highest target Q-value (plain DQN)."""
    next_q = target(batch.next_window, batch.next_position)  # [B, 3]
    if double:  # the online network's choice, dropout off
        with evaluating(agent):
            best = agent(batch.next_window, batch.next_position).argmax(1, keepdim=True)
        next_value = next_q.gather(1, best).squeeze(1)  # [B]
    else:
        next_value = next_q.max(1).values
    return batch.reward + gamma * (1.0 - batch.done) * next_value


def _update(agent: DQNAgent, target: DQNAgent, optimizer: torch.optim.Optimizer,
            buffer: ReplayBuffer, generator: np.random.Generator, options: DQNOptions) -> float:
    weight = next(agent.parameters())  # batches on the network's device, in its dtype
    batch = buffer.sample(options.batch_size, generator, weight.device, weight.dtype)
    agent.train()
    q = agent(batch.window, batch.position).gather(1, batch.action[:, None]).squeeze(1)  # [B]
    goal = td_targets(agent, target, batch, options.gamma, options.double)
    loss = F.smooth_l1_loss(q, goal)
    optimizer.zero_grad()
    loss.backward()
    if options.clip_norm > 0:
        torch.nn.utils.clip_grad_norm_(agent.parameters(), options.clip_norm)
    optimizer.step()
    return float(loss.detach())


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


def train_dqn(agent: DQNAgent, env: TradingEnv, options: DQNOptions,
              validation: TradingEnv | None = None, seed: int = 0,
              log: Any = print, checkpoint: Path | None = None,
              resume: bool = False) -> DQNResult:
    """Train ``agent`` in place on ``env`` (see the module docstring); returns the history.

    Args:
        agent: its network is trained; its scaler must be the one ``env`` was built with.
        env: the training period.
        options: the learning settings.
        validation: the validation period, to pick the episode whose weights are kept; None
            keeps the last episode's.
        seed: seeds exploration and replay sampling (seed torch before building the agent
            for its initial weights).
        log: called with one line per episode.
        checkpoint: where the state after each episode is written (:mod:`rnnkit.rl.dqn_state`).
        resume: go on from ``checkpoint`` where it exists (the same agent, data and options).
    """
    check_options(options)
    for period in (env, validation):
        if period is not None:
            check_env(agent, period)
    check_buffer_memory(options, env.windows.shape[1:])
    started = time.perf_counter()
    generator = np.random.default_rng(seed)
    target = copy.deepcopy(agent).eval()
    optimizer = torch.optim.Adam(agent.parameters(), lr=options.lr)
    buffer = ReplayBuffer(options.buffer_size, env.windows.shape[1:])
    total = options.episodes * len(env)
    check_updates(options, len(env))
    result = DQNResult()
    best_score, best_state = -np.inf, copy.deepcopy(agent.state_dict())
    step = 0
    if resume and checkpoint is not None and checkpoint.is_file():
        step, (best_score, best_state), earlier = load_episode(
            checkpoint, agent, target, optimizer, buffer, generator, result)
        started -= earlier
        log(f"resuming after episode {len(result.history)}/{options.episodes} ({checkpoint})")
    for episode in range(len(result.history) + 1, options.episodes + 1):
        observation, _ = env.reset(seed=seed + episode)
        losses: list[float] = []
        done = False
        while not done:
            epsilon = epsilon_at(step, total, options)
            action = (int(generator.integers(len(CLASS_NAMES)))
                      if generator.random() < epsilon else agent.act(observation))
            following, reward, terminated, truncated, info = env.step(action)
            done = terminated or truncated
            if info["next_known"] or terminated:
                buffer.add(observation["window"], float(observation["position"][0]), action,
                           reward * options.reward_scale, following["window"],
                           float(following["position"][0]), terminated)
            observation = following
            step += 1
            if step >= options.learning_starts and step % options.train_every == 0:
                losses.append(_update(agent, target, optimizer, buffer, generator, options))
                check_loss(losses[-1], episode, result.updates + len(losses), options)
            if step % options.target_update == 0:
                target.load_state_dict(agent.state_dict())
        row = {"episode": episode, "steps": step, "epsilon": round(epsilon, 4),
               "train_return": info["portfolio_value"] - 1.0,
               "loss": float(np.mean(losses)) if losses else float("nan")}
        score = row["train_return"]
        if validation is not None:
            score = row["validation_return"] = greedy_return(agent, validation)
        if score > best_score or episode == 1:
            best_score, best_state = score, copy.deepcopy(agent.state_dict())
            result.best_episode = episode
        result.history.append(row)
        result.updates += len(losses)
        if checkpoint is not None:
            save_episode(checkpoint, agent, target, optimizer, buffer, generator, step, result,
                         (best_score, best_state), time.perf_counter() - started)
        log(f"episode {episode}/{options.episodes}: epsilon {epsilon:.2f}, exploring return "
            f"{row['train_return']:+.1%}, loss {row['loss']:.4f}"
            + (f", validation return {row['validation_return']:+.1%}" if validation else ""))
    if validation is None:
        best_state, result.best_episode = copy.deepcopy(agent.state_dict()), options.episodes
    agent.load_state_dict(best_state)
    agent.eval()
    result.seconds = time.perf_counter() - started
    return result
