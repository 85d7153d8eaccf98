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
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from rnnkit.rl.dqn_checks import (
    check_buffer_memory,
    check_env,
    check_loss,
    check_options,
    check_updates,
)
from rnnkit.rl.dqn_state import load_episode, save_episode
from rnnkit.rl.env import TradingEnv
from rnnkit.rl.replay import ReplayBuffer, Transitions
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
