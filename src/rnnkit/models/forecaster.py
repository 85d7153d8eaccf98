"""A recurrent forecaster: lookback window of features -> the next ``H`` values of a target.

The encoder (RNN, LSTM or GRU) reads the scaled window ``[B, L, F]``; a linear head on its last
state gives all ``H`` steps at once (direct multi-output). With ``residual`` the head predicts
the change from the target's last known value (the persistence forecast), not the level. The
loss is the mean squared (``mse``) or absolute (``mae``) error; with ``loss="gaussian"`` a
second head gives each step's log-variance and the loss is the Gaussian negative
log-likelihood, so forecasts come with prediction intervals.

The bundle keeps the scaler, feature names, target, calendar parts, lookback and horizon, so a
loaded model forecasts from a raw date-indexed frame with no other input (:meth:`forecast`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from rnnkit.config import ModelConfig
from rnnkit.models.encoder import build_encoder
from rnnkit.timeseries.features import calendar_features
from rnnkit.timeseries.windows import StandardScaler, Windows, make_windows
from rnnkit.training.bundle import register_model
from rnnkit.training.task import StepOutput, TaskModel

LOSSES = ("mse", "mae", "gaussian")
LOG_VARIANCE_RANGE = (-10.0, 10.0)


def add_calendar(frame: pd.DataFrame, parts: Sequence[str]) -> pd.DataFrame:
    """The frame with ``<part>_sin``/``<part>_cos`` columns (known from the timestamp alone)."""
    if not parts:
        return frame
    calendar = calendar_features(pd.DatetimeIndex(frame.index), list(parts))
    return pd.concat([frame.drop(columns=calendar.columns, errors="ignore"), calendar], axis=1)


@register_model("forecaster")
class Forecaster(TaskModel):
    """Encoder then linear head(s) on the last state.

    Args:
        config: the recurrent encoder.
        feature_names: the input columns, in order (calendar columns included).
        target: the column predicted; it must be one of ``feature_names``.
        lookback, horizon: ``L`` input steps, ``H`` steps ahead.
        scaler: fitted on the training period only; scales inputs and (its target column)
            the targets.
        loss: ``mse``, ``mae`` or ``gaussian`` (mean and log-variance heads, NLL loss).
        residual: predict the change from the last known target value.
        calendar: calendar parts added to a raw frame before windowing.
        trained_on: data settings kept in the bundle (source, split dates, ...).
        highway_steps: with ``k > 0``, a linear skip from the last ``k`` input steps to the
            mean (LSTNet's autoregressive highway), so the recurrent part learns what a
            linear model misses.

    Shape:
        inputs ``[B, L, F]`` scaled; targets ``[B, H]`` scaled; forward gives mean
        ``[B, H]`` and log-variance ``[B, H]`` (None for ``mse``), both scaled.
    """

    def __init__(self, config: ModelConfig, feature_names: Sequence[str], target: str,
                 lookback: int, horizon: int, scaler: StandardScaler, loss: str = "mse",
                 residual: bool = True, calendar: Sequence[str] = (),
                 trained_on: dict[str, Any] | None = None, highway_steps: int = 0) -> None:
        super().__init__()
        if loss not in LOSSES:
            raise ValueError(f"forecast.loss must be one of {', '.join(LOSSES)}, got {loss!r}")
        if target not in feature_names:
            raise ValueError(f"the target {target!r} must be one of the features "
                             f"{list(feature_names)}; add it to data.features")
        if scaler.mean is None or len(scaler.mean) != len(feature_names):
            raise ValueError(f"the scaler must be fitted on the {len(feature_names)} features")
        self.model_config = config
        self.feature_names = list(feature_names)
        self.target = target
        self.target_index = self.feature_names.index(target)
        self.lookback, self.horizon = int(lookback), int(horizon)
        self.scaler = scaler
        self.loss_name, self.residual = loss, bool(residual)
        self.calendar = list(calendar)
        self.trained_on = trained_on or {}
        self.encoder = build_encoder(config, len(self.feature_names), batch_first=True)
        width = config.hidden_size * (2 if config.bidirectional else 1)
        self.head = nn.Linear(width, horizon * (2 if loss == "gaussian" else 1))
        if not 0 <= highway_steps <= lookback:
            raise ValueError(f"highway_steps must be between 0 and the lookback {lookback}, "
                             f"got {highway_steps}")
        self.highway_steps = int(highway_steps)
        self.highway = (nn.Linear(highway_steps * len(self.feature_names), horizon)
                        if highway_steps else None)

    def bundle_config(self) -> dict[str, Any]:
        return {
            "model": asdict(self.model_config), "feature_names": self.feature_names,
            "target": self.target, "lookback": self.lookback, "horizon": self.horizon,
            "scaler": self.scaler.to_json(), "loss": self.loss_name, "residual": self.residual,
            "calendar": self.calendar, "trained_on": self.trained_on,
            "highway_steps": self.highway_steps,
        }

    @classmethod
    def from_bundle_config(cls, config: dict[str, Any]) -> Forecaster:
        return cls(ModelConfig(**config["model"]), config["feature_names"], config["target"],
                   config["lookback"], config["horizon"],
                   StandardScaler.from_json(config["scaler"]), config["loss"],
                   config["residual"], config.get("calendar", ()), config.get("trained_on"),
                   config.get("highway_steps", 0))

    # -- tensors, in scaled units ---------------------------------------------------------
    def forward(self, inputs: Tensor) -> tuple[Tensor, Tensor | None]:
        outputs, _ = self.encoder(inputs)  # [B, L, D*hidden]
        head = self.head(outputs[:, -1])  # [B, D*hidden] -> [B, H] or [B, 2H]
        mean, log_variance = head[:, :self.horizon], None
        if self.highway is not None:  # linear autoregressive skip over the last k steps
            recent = inputs[:, -self.highway_steps:].flatten(1)  # [B, k, F] -> [B, k*F]
            mean = mean + self.highway(recent)
        if self.loss_name == "gaussian":
            log_variance = head[:, self.horizon:].clamp(*LOG_VARIANCE_RANGE)
        if self.residual:
            mean = mean + inputs[:, -1, self.target_index, None]  # [B, 1]: the last known value
        return mean, log_variance

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        inputs, targets = batch
        mean, log_variance = self(inputs)
        error = targets - mean  # [B, H]
        if self.loss_name == "mae":  # the metric itself: robust to heavy-tailed errors
            loss = error.abs().mean()
        elif log_variance is None:
            loss = error.pow(2).mean()
        else:  # Gaussian negative log-likelihood, constant dropped
            loss = 0.5 * (log_variance + error.pow(2) * torch.exp(-log_variance)).mean()
        absolute = error.detach().abs()
        metrics = {"mae": float(absolute.mean()), "mae_last": float(absolute[:, -1].mean())}
        return StepOutput(loss, int(targets.shape[0]), metrics=metrics)

    # -- numpy, in the target's own units -------------------------------------------------
    @property
    def target_mean_scale(self) -> tuple[float, float]:
        assert self.scaler.mean is not None and self.scaler.scale is not None
        i = self.target_index
        return float(self.scaler.mean[i]), float(self.scaler.scale[i])

    def scale_targets(self, targets: np.ndarray) -> np.ndarray:
        mean, scale = self.target_mean_scale
        return (np.asarray(targets, dtype=float) - mean) / scale

    @torch.no_grad()
    def predict_windows(self, windows: Windows, batch_size: int = 2048, interval: float = 0.9
                        ) -> dict[str, np.ndarray]:
        """Forecasts of unscaled ``windows`` in target units: ``mean`` ``[N, H]``, and for a
        Gaussian model ``std``, ``lower``, ``upper`` (the central ``interval``)."""
        if windows.feature_names != tuple(self.feature_names):
            raise ValueError(f"the windows' features {list(windows.feature_names)} differ from "
                             f"the model's {self.feature_names}")
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        scaled = windows.scaled(self.scaler)
        means, stds = [], []
        for start in range(0, len(windows), batch_size):
            rows = slice(start, start + batch_size)
            inputs = torch.as_tensor(scaled.inputs_at(rows), dtype=torch.float32, device=device)
            mean, log_variance = self(inputs)
            means.append(mean.double().cpu().numpy())
            if log_variance is not None:
                stds.append(torch.exp(0.5 * log_variance).double().cpu().numpy())
        self.train(was_training)
        center, scale = self.target_mean_scale
        empty = np.empty((0, self.horizon))
        out = {"mean": np.concatenate(means) * scale + center if means else empty}
        if self.loss_name == "gaussian":
            std = np.concatenate(stds) * scale if stds else empty
            z = NormalDist().inv_cdf(0.5 + interval / 2)
            out.update(std=std, lower=out["mean"] - z * std, upper=out["mean"] + z * std)
        return out

    def windows_of(self, frame: pd.DataFrame, stride: int = 1) -> Windows:
        """Unscaled windows of a raw frame, with this model's calendar columns and features."""
        return make_windows(add_calendar(frame, self.calendar), self.target, self.feature_names,
                            self.lookback, self.horizon, stride)

    def forecast(self, frame: pd.DataFrame, interval: float = 0.9) -> pd.DataFrame:
        """Forecast the ``H`` steps after the frame's last row, from a raw date-indexed frame.

        Returns one row per step ahead: ``step``, ``mean`` and for a Gaussian model ``lower``
        and ``upper``; the index is the step's timestamp when the frame has a frequency.
        """
        frame = add_calendar(frame, self.calendar)
        missing = [name for name in self.feature_names if name not in frame.columns]
        if missing:
            raise ValueError(f"the frame lacks the model's feature(s) {missing}; its columns: "
                             f"{list(frame.columns)}")
        if len(frame) < self.lookback:
            raise ValueError(f"{len(frame)} rows are too few; the model reads the last "
                             f"{self.lookback}")
        values = frame[self.feature_names].to_numpy(dtype=float)[-self.lookback:]
        if np.isnan(values).any():
            raise ValueError("the last lookback rows hold missing values; fill them first")
        scaled = self.scaler.transform(values)[None]  # [L, F] -> [1, L, F]
        with torch.no_grad():
            mean, log_variance = self.eval()(torch.as_tensor(scaled, dtype=torch.float32))
        center, scale = self.target_mean_scale
        table = {"step": np.arange(1, self.horizon + 1),
                 "mean": mean[0].double().numpy() * scale + center}
        if log_variance is not None:
            std = torch.exp(0.5 * log_variance[0]).double().numpy() * scale
            z = NormalDist().inv_cdf(0.5 + interval / 2)
            table.update(lower=table["mean"] - z * std, upper=table["mean"] + z * std)
        recent = pd.DatetimeIndex(frame.index[-min(len(frame), 10):])
        steps = np.diff(recent.to_numpy())
        regular = len(steps) > 0 and bool((steps == steps[0]).all())
        index = (recent[-1] + pd.Timedelta(steps[0]) * np.arange(1, self.horizon + 1)
                 if regular else None)
        return pd.DataFrame(table, index=index)
