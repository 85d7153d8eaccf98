"""A recurrent model for the synthetic long-range tasks (adding problem, copy task)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.config import ModelConfig, saved_section
from rnnkit.data.synthetic import describe
from rnnkit.models.encoder import build_encoder
from rnnkit.models.pooling import window_state
from rnnkit.training.bundle import register_model
from rnnkit.training.classification_metrics import hit_share
from rnnkit.training.task import StepOutput, TaskModel


@register_model("synthetic")
class SyntheticTaskModel(TaskModel):
    """Encoder then a linear head: on the last step (adding, regression) or every step (copy).

    Shape:
        inputs: ``[B, T, I]``; adding targets ``[B]``; copy targets ``[B, T]`` (-100 = ignore).
    """

    def __init__(
        self, task: str, config: ModelConfig, trained_on: dict[str, Any] | None = None
    ) -> None:
        super().__init__()
        self.readout = "final_state"  # what the head reads (pooling.window_state)
        self.trained_on = trained_on or {}  # the data settings, kept in the bundle
        self.task = describe(task)
        self.model_config = config
        self.encoder = build_encoder(config, self.task.input_size, batch_first=True)
        width = config.hidden_size * (2 if config.bidirectional else 1)
        self.head = nn.Linear(width, self.task.output_size)

    def bundle_config(self) -> dict[str, Any]:
        return {
            "readout": self.readout,
            "task": self.task.name,
            "model": asdict(self.model_config),
            "trained_on": self.trained_on,
        }

    @classmethod
    def check_bundle_config(cls, config: dict[str, Any]) -> None:
        saved_section("model", ModelConfig, config["model"])

    @classmethod
    def from_bundle_config(cls, config: dict[str, Any]) -> SyntheticTaskModel:
        model = cls(config["task"], ModelConfig(**config["model"]), config.get("trained_on"))
        model.readout = config.get("readout", "last_output")  # older bundles
        return model

    def metric_names(self) -> list[str]:
        return ["loss"] if self.task.name == "adding" else ["loss", "accuracy"]

    def forward(self, inputs: Tensor) -> Tensor:
        outputs, final = self.encoder(inputs)  # [B, T, D*H]
        if self.task.name == "adding":  # each direction's state after the whole sequence
            state = window_state(outputs, final, self.encoder.num_directions, self.readout)
            return self.head(state).squeeze(1)  # [B, D*H] -> [B]
        return self.head(outputs)  # [B, T, D*H] -> [B, T, C]

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        inputs, targets = batch
        predictions = self(inputs)
        if self.task.name == "adding":
            loss = F.mse_loss(predictions, targets)
            return StepOutput(loss, int(targets.shape[0]))
        mask = targets != -100
        loss = F.cross_entropy(predictions[mask], targets[mask])
        accuracy = hit_share(predictions[mask].argmax(-1) == targets[mask])
        return StepOutput(loss, int(mask.sum()), metrics={"accuracy": accuracy})
