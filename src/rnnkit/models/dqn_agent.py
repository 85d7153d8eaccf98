"""A Deep Q-learning trading agent as a task model: the Q-values of sell / hold / buy from a
window of features and the position held, and everything needed to trade from a saved bundle.

Q-network: the scaled window ``[B, L, F]`` is encoded either by a feed-forward network over the
whole flattened window (``network="mlp"``: two ReLU layers of ``hidden_size``) or by rnnkit's
recurrent layer (``network="recurrent"``: the model's cell over the ``L`` steps, its last
state); the encoding and the position then go through one ReLU layer to three Q-values. The
encoding does not depend on the position, so a greedy run over many windows encodes them all
at once and only the small head runs for each position (:meth:`DQNAgent.greedy_actions`).

The agent is trained by :func:`rnnkit.rl.dqn.train_dqn`, not by the supervised trainer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnkit.config import ModelConfig, saved_section, saved_value
from rnnkit.models.encoder import build_encoder
from rnnkit.models.pooling import window_state
from rnnkit.models.window_inputs import check_features
from rnnkit.timeseries.labels import CLASS_NAMES
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.windows import Windows
from rnnkit.trading.strategies import MODES, next_position
from rnnkit.training.bundle import register_model
from rnnkit.training.task import TaskModel, evaluating

NETWORKS = ("mlp", "recurrent")


@register_model("dqn")
class DQNAgent(TaskModel):
    """Q-values of the three actions; greedy trading over windows in time order.

    Args:
        network: ``mlp`` (feed-forward over the flattened window) or ``recurrent``
            (``config.cell`` over the window's steps).
        config: the recurrent encoder (``recurrent``); its ``hidden_size`` is also the width of
            the feed-forward layers and of the head.
        feature_names: the input columns, in order.
        target: the column whose next value is the asset's log return (what a position earns).
        lookback: ``L`` days per window.
        scaler: fitted on the training period only.
        mode: ``long_flat`` or ``long_short``: what sell means (flat or short).
        trained_on: the data settings (a ForecastDataConfig dict), so ``rnnkit backtest``
            finds the agent's test period.

    Shape:
        window ``[B, L, F]`` scaled, position ``[B, 1]`` -> Q-values ``[B, 3]`` (sell, hold, buy).
    """

    def __init__(self, network: str, config: ModelConfig, feature_names: Sequence[str],
                 target: str, lookback: int, scaler: StandardScaler, mode: str = "long_flat",
                 trained_on: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.readout = "final_state"  # what the head reads (pooling.window_state)
        if network not in NETWORKS:
            raise ValueError(f"agent.network must be one of {', '.join(NETWORKS)}, not "
                             f"{network!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if scaler.mean is None or len(scaler.mean) != len(feature_names):
            raise ValueError(f"the scaler must be fitted on the {len(feature_names)} features")
        self.network, self.model_config, self.mode = network, config, mode
        self.feature_names, self.target = list(feature_names), target
        self.lookback, self.horizon = int(lookback), 1
        self.scaler = scaler
        self.trained_on = trained_on or {}
        hidden = config.hidden_size
        features = len(self.feature_names)
        self.encoder: nn.Module
        if network == "recurrent":
            self.encoder = build_encoder(config, features, batch_first=True)
            width = hidden * (2 if config.bidirectional else 1)
        else:
            self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(self.lookback * features, hidden),
                                         nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
            width = hidden
        self.head = nn.Sequential(nn.Linear(width + 1, hidden), nn.ReLU(),
                                  nn.Linear(hidden, len(CLASS_NAMES)))

    def bundle_config(self) -> dict[str, Any]:
        return {"readout": self.readout, "network": self.network,
                "model": asdict(self.model_config),
                "feature_names": self.feature_names, "target": self.target,
                "lookback": self.lookback, "scaler": self.scaler.to_json(), "mode": self.mode,
                "trained_on": self.trained_on}

    @classmethod
    def check_bundle_config(cls, config: dict[str, Any]) -> None:
        saved_section("model", ModelConfig, config["model"])
        saved_value("agent.network", config["network"], str)
        saved_value("trading.mode", config["mode"], str)
        saved_value("data.lookback", config["lookback"], int)

    @classmethod
    def from_bundle_config(cls, config: dict[str, Any]) -> DQNAgent:
        model = cls(config["network"], ModelConfig(**config["model"]), config["feature_names"],
                     config["target"], config["lookback"],
                     StandardScaler.from_json(config["scaler"]), config["mode"],
                     config["trained_on"])
        model.readout = config.get("readout", "last_output")  # older bundles
        return model

    def encode(self, window: Tensor) -> Tensor:
        """``[B, L, F]`` scaled windows -> ``[B, W]`` encodings (independent of the position)."""
        if self.network == "recurrent":
            outputs, final = self.encoder(window)
            directions = 2 if self.model_config.bidirectional else 1
            return window_state(outputs, final, directions, self.readout)  # [B, D*hidden]
        return self.encoder(window)  # [B, L, F] -> [B, L*F] -> [B, hidden]

    def q_values(self, encoded: Tensor, position: Tensor) -> Tensor:
        """``[B, W]`` encodings and ``[B, 1]`` positions -> ``[B, 3]`` Q-values."""
        return self.head(torch.cat([encoded, position], dim=-1))

    def forward(self, window: Tensor, position: Tensor) -> Tensor:
        return self.q_values(self.encode(window), position)

    @torch.no_grad()
    def act(self, observation: dict[str, np.ndarray]) -> int:
        """The greedy action for one observation of :class:`rnnkit.rl.env.TradingEnv`, with
        dropout off (the mode it was in is restored)."""
        weight = next(self.parameters())
        window = torch.as_tensor(observation["window"], dtype=weight.dtype,
                                 device=weight.device)[None]
        position = torch.as_tensor(observation["position"], dtype=weight.dtype,
                                   device=weight.device)[None]
        with evaluating(self):
            return int(self(window, position).argmax(-1))

    @torch.no_grad()
    def held_q_values(self, inputs: np.ndarray) -> dict[float, np.ndarray]:
        """The Q-values ``[N, 3]`` (float64) of scaled windows ``[N, L, F]`` at each position
        the agent can hold (flat and long; short too with ``long_short``), dropout off."""
        weight = next(self.parameters())
        with evaluating(self):
            encoded = torch.cat([self.encode(torch.as_tensor(inputs[i:i + 2048],
                                                             device=weight.device,
                                                             dtype=weight.dtype))
                                 for i in range(0, len(inputs), 2048)])  # [N, W]
            held = (-1.0, 0.0, 1.0) if self.mode == "long_short" else (0.0, 1.0)
            return {p: self.q_values(encoded, encoded.new_full((len(encoded), 1), p)).double()
                    .cpu().numpy() for p in held}  # position -> [N, 3] (NumPy has no bfloat16)

    def greedy_from_inputs(self, inputs: np.ndarray, position: float = 0.0
                           ) -> tuple[np.ndarray, np.ndarray]:
        """Greedy actions ``[N]`` and the positions ``[N]`` they lead to, over scaled
        consecutive windows ``[N, L, F]`` in order, each decision fed the position that the
        ones before it left (flat before the first)."""
        q = self.held_q_values(inputs)
        actions = np.zeros(len(inputs), dtype=np.int64)
        positions = np.zeros(len(inputs))
        for i in range(len(inputs)):
            actions[i] = int(q[position][i].argmax())
            position = next_position(int(actions[i]), position, self.mode)
            positions[i] = position
        return actions, positions

    def greedy_actions(self, windows: Windows) -> tuple[np.ndarray, np.ndarray]:
        """Greedy actions and positions ``[N]`` over unscaled consecutive windows, from flat."""
        check_features(windows, self.feature_names)
        if windows.lookback != self.lookback:
            raise ValueError(f"windows of {windows.lookback} days; the agent reads "
                             f"{self.lookback}")
        return self.greedy_from_inputs(windows.scaled(self.scaler).inputs)
