"""A buy/sell/hold classifier: lookback window of features -> the class of the coming return.

The encoder (RNN, LSTM or GRU) reads the scaled window ``[B, L, F]``; a linear head on its last
state gives three logits, sell / hold / buy (:data:`~rnnkit.timeseries.labels.CLASS_NAMES`),
and softmax gives their probabilities (of the logits over ``temperature``: 1, or fitted after
training with ``signal.calibrate=temperature``, :mod:`rnnkit.training.temperature`). The label
of a window is the class of the target's return from its origin to ``H`` steps ahead, with
the thresholds ``up`` and ``down`` (:func:`~rnnkit.timeseries.labels.window_labels`).
Cross-entropy, optionally weighted per class (``balanced``: inverse training frequency) so a
rare class is not ignored.

The bundle keeps the scaler, features, calendar parts, thresholds and the target's kind, so a
loaded model classifies the latest window of a raw frame (:meth:`SignalClassifier.classify`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.config import ModelConfig, saved_section, saved_values
from rnnkit.models.encoder import build_encoder
from rnnkit.models.pooling import window_state
from rnnkit.models.window_inputs import (
    add_calendar,
    check_features,
    check_scaler,
    check_window_sizes,
    last_window,
    scaled_batches,
)
from rnnkit.timeseries.labels import CLASS_NAMES, RETURN_KINDS
from rnnkit.timeseries.metrics import macro_f1
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.windows import Windows, make_windows
from rnnkit.trading.returns import day_text
from rnnkit.training.bundle import register_model
from rnnkit.training.classification_metrics import hit_share
from rnnkit.training.task import StepOutput, TaskModel, evaluating
from rnnkit.training.temperature import bundle_entry, calibrated, saved_temperature


def balanced_weights(labels: np.ndarray, classes: int = len(CLASS_NAMES)) -> list[float]:
    """``n / (C * count_c)`` per class (1 for a class never seen), as scikit-learn's balanced.

    Example:
        >>> balanced_weights(np.array([0, 1, 1, 1, 2, 2]))
        [2.0, 0.6667, 1.0]
    """
    labels = np.asarray(labels)
    labels = labels[labels >= 0]
    counts = np.bincount(labels.astype(int), minlength=classes)
    return [round(float(len(labels) / (classes * count)), 4) if count else 1.0
            for count in counts]


def target_kind(target: str, kind: str = "auto") -> str:
    """What the target column holds: ``price``, ``return`` or ``log_return`` (by its name's
    ending with ``auto``: ``*_log_return``, ``*_return``, else a price)."""
    if kind != "auto":
        if kind not in RETURN_KINDS:
            raise ValueError(f"kind must be auto or one of {', '.join(RETURN_KINDS)}, not "
                             f"{kind!r}")
        return kind
    if target.endswith("log_return"):
        return "log_return"
    return "return" if target.endswith("return") else "price"


# a bundle's options: the run setting each was saved from, and its type
SAVED_SETTINGS = {"lookback": ("data.lookback", int), "horizon": ("data.horizon", int),
                  "up": ("signal.up", float), "down": ("signal.down", float),
                  "kind": ("signal.kind", str)}


@register_model("signal")
class SignalClassifier(TaskModel):
    """Encoder then a 3-class linear head on the last state.

    Args:
        config: the recurrent encoder.
        feature_names: the input columns, in order (calendar columns included).
        target: the column whose future return is classified (need not be an input).
        lookback, horizon: ``L`` input steps; the return over the next ``H`` steps.
        scaler: fitted on the training period only.
        up, down: return thresholds of buy (above ``up``) and sell (below ``down``).
        kind: ``price``, ``return`` or ``log_return``: what the target holds.
        class_weights: cross-entropy weight per class (sell, hold, buy); None = equal.
        calendar, trained_on: as the forecaster's.

    Shape:
        inputs ``[B, L, F]`` scaled; labels ``[B]`` in {0, 1, 2}; logits ``[B, 3]``.
    """

    def __init__(self, config: ModelConfig, feature_names: Sequence[str], target: str,
                 lookback: int, horizon: int, scaler: StandardScaler, up: float, down: float,
                 kind: str = "auto", class_weights: Sequence[float] | None = None,
                 calendar: Sequence[str] = (), trained_on: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.readout = "final_state"  # what the head reads (pooling.window_state)
        check_window_sizes(lookback, horizon)
        if down > up:
            raise ValueError(f"signal.down {down} must not be above signal.up {up}")
        check_scaler(scaler, feature_names)
        self.model_config = config
        self.feature_names, self.target = list(feature_names), target
        self.lookback, self.horizon = int(lookback), int(horizon)
        self.scaler, self.up, self.down = scaler, float(up), float(down)
        self.return_kind = target_kind(target, kind)
        self.class_weights = [float(w) for w in class_weights] if class_weights else None
        if self.class_weights is not None and len(self.class_weights) != len(CLASS_NAMES):
            raise ValueError(f"class_weights needs {len(CLASS_NAMES)} values (sell, hold, buy)")
        self.calendar = list(calendar)
        self.trained_on = trained_on or {}
        self.encoder = build_encoder(config, len(self.feature_names), batch_first=True)
        width = config.hidden_size * (2 if config.bidirectional else 1)
        self.head = nn.Linear(width, len(CLASS_NAMES))
        self.temperature = 1.0  # divides the logits of every probability (signal.calibrate)

    def bundle_config(self) -> dict[str, Any]:
        return {"readout": self.readout, "model": asdict(self.model_config),
                "feature_names": self.feature_names,
                "target": self.target, "lookback": self.lookback, "horizon": self.horizon,
                "scaler": self.scaler.to_json(), "up": self.up, "down": self.down,
                "kind": self.return_kind, "class_weights": self.class_weights,
                "calendar": self.calendar, "trained_on": self.trained_on,
                **bundle_entry(self.temperature)}

    @classmethod
    def check_bundle_config(cls, config: dict[str, Any]) -> None:
        saved_section("model", ModelConfig, config["model"])
        saved_values(config, SAVED_SETTINGS)
        check_window_sizes(config["lookback"], config["horizon"])
        target_kind(config["target"], config["kind"])
        saved_temperature(config)

    @classmethod
    def from_bundle_config(cls, config: dict[str, Any]) -> SignalClassifier:
        model = cls(ModelConfig(**config["model"]), config["feature_names"], config["target"],
                     config["lookback"], config["horizon"],
                     StandardScaler.from_json(config["scaler"]), config["up"], config["down"],
                     config["kind"], config["class_weights"], config["calendar"],
                     config["trained_on"])
        model.readout = config.get("readout", "last_output")  # older bundles
        model.temperature = saved_temperature(config)  # older bundles: 1
        return model

    def forward(self, inputs: Tensor) -> Tensor:
        outputs, final = self.encoder(inputs)
        return self.head(window_state(outputs, final, self.encoder.num_directions,
                                      self.readout))  # [B, 3]

    def _loss(self, logits: Tensor, labels: Tensor) -> Tensor:
        weight = (torch.tensor(self.class_weights, dtype=logits.dtype, device=logits.device)
                  if self.class_weights else None)  # in the logits' dtype: float64 too
        return F.cross_entropy(logits, labels, weight=weight)

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        inputs, labels = batch
        logits = self(inputs)
        accuracy = hit_share(logits.detach().argmax(-1) == labels)
        denominator = (float(sum(self.class_weights[i] for i in labels.tolist()))
                       if self.class_weights else None)  # the weighted mean's
        return StepOutput(self._loss(logits, labels), int(labels.shape[0]),
                          metrics={"accuracy": accuracy}, denominator=denominator,
                          weighted=denominator is not None)

    def metric_names(self) -> list[str]:
        return ["loss", "accuracy", "macro_f1"]

    @torch.no_grad()
    def evaluate(self, batches: Iterable[Any]) -> dict[str, float]:
        """Loss and accuracy over all batches, and the macro-F1 of the three classes."""
        with evaluating(self):
            logits, labels = [], []
            for inputs, gold in batches:
                logits.append(self(inputs))
                labels.append(gold)
        if not logits:
            return {"loss": float("nan"), "accuracy": float("nan"), "macro_f1": float("nan")}
        every, gold = self.calibrated(torch.cat(logits)), torch.cat(labels)
        predicted = every.argmax(-1)
        return {"loss": float(self._loss(every, gold)),
                "accuracy": hit_share(predicted == gold),
                "macro_f1": macro_f1(gold.cpu().numpy(), predicted.cpu().numpy(),
                                     classes=range(len(CLASS_NAMES)))}

    def calibrated(self, logits: Tensor) -> Tensor:
        """Logits over :attr:`temperature` (1 unless fitted: exactly the logits)."""
        return calibrated(logits, self.temperature)

    # -- numpy ----------------------------------------------------------------------------
    @torch.no_grad()
    def window_logits(self, windows: Windows, batch_size: int = 2048) -> Tensor:
        """``[N, 3]`` logits (sell, hold, buy; not over the temperature) of unscaled windows,
        on the model's device and in its dtype."""
        check_features(windows, self.feature_names)
        with evaluating(self):
            weight = next(self.parameters())
            parts = [self(inputs) for inputs in scaled_batches(
                windows, self.scaler, batch_size, weight.device, weight.dtype)]
        return torch.cat(parts) if parts else torch.empty(0, len(CLASS_NAMES))

    @torch.no_grad()
    def predict_windows(self, windows: Windows, batch_size: int = 2048) -> np.ndarray:
        """``[N, 3]`` class probabilities (sell, hold, buy) of unscaled windows."""
        logits = self.calibrated(self.window_logits(windows, batch_size))
        return torch.softmax(logits, -1).double().cpu().numpy()

    def windows_of(self, frame: pd.DataFrame, stride: int = 1) -> Windows:
        """Unscaled windows of a raw frame, with this model's calendar columns and features."""
        return make_windows(add_calendar(frame, self.calendar), self.target, self.feature_names,
                            self.lookback, self.horizon, stride)

    @torch.no_grad()
    def classify(self, frame: pd.DataFrame) -> dict[str, Any]:
        """The class of the return over the ``H`` steps after the frame's last row."""
        weight = next(self.parameters())
        inputs = last_window(frame, self.feature_names, self.calendar, self.lookback,
                             self.scaler, weight.device, weight.dtype)
        with evaluating(self):
            probabilities = torch.softmax(self.calibrated(self(inputs)[0]),
                                          -1).double().cpu().numpy()
        return {"as_of": day_text(frame.index[-1]), "horizon": self.horizon,  # a day: no 00:00
                "signal": CLASS_NAMES[int(probabilities.argmax())],
                "probabilities": dict(zip(CLASS_NAMES, map(float, probabilities),
                                          strict=True))}
