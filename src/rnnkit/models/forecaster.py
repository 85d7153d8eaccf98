"""A recurrent forecaster: lookback window of features -> the next ``H`` values of a target.

The encoder (RNN, LSTM or GRU) reads the scaled window ``[B, L, F]``; a linear head on its last
state gives all ``H`` steps at once (``strategy="direct"``), or with ``"recursive"`` the next
row of every non-calendar feature, rolled forward ``H`` times (:mod:`rnnkit.models.recursive`).
With ``residual`` the head predicts the change from the last known value (persistence), not the
level. Losses: ``mse``, ``mae``, and for direct models with prediction intervals ``gaussian`` (a
log-variance head, Gaussian negative log-likelihood) or ``quantile`` (non-crossing quantiles
per step, pinball loss; :mod:`rnnkit.models.quantiles`), each read and scored in
:mod:`rnnkit.models.forecast_loss`.

The bundle keeps the scaler, features, target, calendar parts, lookback, horizon and options,
so a loaded model forecasts from a raw date-indexed frame alone (:meth:`Forecaster.forecast`;
its forecasts in the target's own units are made in :mod:`rnnkit.models.forecast_outputs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from rnnkit.config import ModelConfig, check_fraction, saved_section, saved_value, saved_values
from rnnkit.models import forecast_outputs, recursive
from rnnkit.models.encoder import build_encoder
from rnnkit.models.forecast_loss import check_loss_options, mean_and_spread, step_output
from rnnkit.models.pooling import Pooling, window_state
from rnnkit.models.quantiles import DEFAULT_QUANTILES, parse_quantiles
from rnnkit.models.window_inputs import add_calendar, check_scaler, check_window_sizes
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.windows import Windows, make_windows
from rnnkit.training.bundle import register_model
from rnnkit.training.task import StepOutput, TaskModel

METRICS = ("loss", "mae", "mae_last")  # what step_output reports, averaged by evaluate
# a bundle's options: the run setting each was saved from, and its type
SAVED_SETTINGS = {"lookback": ("data.lookback", int), "horizon": ("data.horizon", int),
                  "loss": ("forecast.loss", str), "residual": ("forecast.residual", bool),
                  "highway_steps": ("forecast.highway_steps", int),
                  "strategy": ("forecast.strategy", str), "attention": ("forecast.attention", bool),
                  "input_noise": ("forecast.input_noise", float),
                  "last_step_weight": ("forecast.last_step_weight", float)}


@register_model("forecaster")
class Forecaster(TaskModel):
    """Encoder then linear head(s) on the last state.

    Args:
        config: the recurrent encoder.
        feature_names: the input columns, in order (calendar columns included).
        target: the column predicted; it must be one of ``feature_names``.
        lookback, horizon: ``L`` input steps, ``H`` steps ahead.
        scaler: fitted on the training period only; scales inputs and targets.
        loss: ``mse``, ``mae``, ``gaussian`` (mean and log-variance heads, NLL loss) or
            ``quantile`` (``Q`` quantiles per step, pinball loss); the last two direct only.
        residual: predict the change from the last known value (of the target, or with
            ``recursive`` of each dynamic feature); it shifts every quantile alike.
        calendar: calendar parts added to a raw frame before windowing.
        trained_on: data settings kept in the bundle (source, split dates, ...).
        scoring: the baselines' and intervals' settings it was scored with, so that
            ``rnnkit evaluate`` scores it the same way.
        highway_steps: with ``k > 0``, a linear skip from the last ``k`` input steps to the
            mean (LSTNet's autoregressive highway): the RNN learns what a linear model misses.
        quantiles: a ``quantile`` model's levels, e.g. ``"0.05,0.5,0.95"`` (0.5 needed).
        strategy: ``direct`` (all ``H`` steps at once) or ``recursive`` (one step, rolled).
        attention: the head also reads an attention-weighted mean of every step's output
            (:class:`~rnnkit.models.pooling.Pooling`), not only the last state: the same hour
            yesterday or a front two days back stays within reach of the forecast.
        input_noise: in training only, Gaussian noise of this standard deviation (in scaled
            units) is added to the encoder's inputs, a regularizer for small, noisy series.
        last_step_weight: a direct model's loss weight of the last step relative to each
            other step (1 = all equal); the steps are still all learned.

    ``conformal`` (None until set, kept in the bundle): a split-conformal calibration of its
    interval (:func:`rnnkit.timeseries.conformal.calibrate`), which :meth:`predict_windows`
    then applies, giving an MSE or MAE model an interval too.

    Shape:
        inputs ``[B, L, F]`` scaled. ``direct``: targets ``[B, H]``; forward gives the mean
        ``[B, H]`` (the median for ``quantile``) and the spread: log-variance ``[B, H]``
        (``gaussian``), the quantiles ``[B, H, Q]`` (``quantile``) or None. ``recursive``:
        targets and mean are the next row's ``D`` dynamic features ``[B, D]`` (NaN targets
        are missing values, left out of the loss); spread None. All scaled.
    """

    def __init__(self, config: ModelConfig, feature_names: Sequence[str], target: str,
                 lookback: int, horizon: int, scaler: StandardScaler, loss: str = "mse",
                 residual: bool = True, calendar: Sequence[str] = (),
                 trained_on: dict[str, Any] | None = None, highway_steps: int = 0,
                 quantiles: str | Sequence[float] = DEFAULT_QUANTILES,
                 strategy: str = "direct", attention: bool = False, input_noise: float = 0.0,
                 last_step_weight: float = 1.0, scoring: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.readout = "final_state"  # what the head reads (pooling.window_state)
        check_window_sizes(lookback, horizon)
        check_loss_options(loss, strategy, input_noise, last_step_weight)
        if target not in feature_names:
            raise ValueError(f"the target {target!r} must be one of the features "
                             f"{list(feature_names)}; add it to data.features")
        check_scaler(scaler, feature_names)
        self.model_config = config
        self.feature_names = list(feature_names)
        self.target = target
        self.target_index = self.feature_names.index(target)
        self.lookback, self.horizon = int(lookback), int(horizon)
        self.scaler = scaler
        self.loss_name, self.residual, self.strategy = loss, bool(residual), strategy
        self.quantiles = parse_quantiles(quantiles) if loss == "quantile" else []
        self.calendar = list(calendar)
        self.trained_on = trained_on or {}
        self.scoring = dict(scoring or {})
        # the columns the mean predicts: the target (direct) or every dynamic feature
        self.dynamic = (recursive.dynamic_positions(self.feature_names)
                        if strategy == "recursive" else [self.target_index])
        if self.target_index not in self.dynamic:
            raise ValueError(f"the target {target!r} is a calendar column, known in advance; "
                             "a recursive model cannot predict it")
        self.outputs = outputs = self.horizon if strategy == "direct" else len(self.dynamic)
        self.median_index = self.quantiles.index(0.5) if self.quantiles else 0
        self.encoder = build_encoder(config, len(self.feature_names), batch_first=True)
        width = config.hidden_size * (2 if config.bidirectional else 1)
        self.attention = (Pooling("attention", width, 2 if config.bidirectional else 1)
                          if attention else None)
        self.input_noise, self.last_step_weight = float(input_noise), float(last_step_weight)
        per_output = {"gaussian": 2, "quantile": len(self.quantiles)}.get(loss, 1)
        self.head = nn.Linear(width * (2 if attention else 1), outputs * per_output)
        if not 0 <= highway_steps <= lookback:
            raise ValueError(f"highway_steps must be between 0 and the lookback {lookback}, "
                             f"got {highway_steps}")
        self.highway_steps = int(highway_steps)
        self.highway = (nn.Linear(highway_steps * len(self.feature_names), outputs)
                        if highway_steps else None)
        self.conformal: dict[str, Any] | None = None

    def bundle_config(self) -> dict[str, Any]:
        return {
            "readout": self.readout,
            "model": asdict(self.model_config), "feature_names": self.feature_names,
            "target": self.target, "lookback": self.lookback, "horizon": self.horizon,
            "scaler": self.scaler.to_json(), "loss": self.loss_name, "residual": self.residual,
            "calendar": self.calendar, "trained_on": self.trained_on, "scoring": self.scoring,
            "highway_steps": self.highway_steps, "quantiles": self.quantiles,
            "strategy": self.strategy, "attention": self.attention is not None,
            "input_noise": self.input_noise, "last_step_weight": self.last_step_weight,
            "conformal": self.conformal,
        }

    @classmethod
    def check_bundle_config(cls, config: dict[str, Any]) -> None:
        saved_section("model", ModelConfig, config["model"])
        saved_values(config, SAVED_SETTINGS)  # (older bundles lack some)
        check_window_sizes(config["lookback"], config["horizon"])
        check_loss_options(config["loss"], config.get("strategy", "direct"),
                           config.get("input_noise", 0.0), config.get("last_step_weight", 1.0))
        if config.get("quantiles"):  # [] but for a quantile model
            parse_quantiles(config["quantiles"])
        scoring = config.get("scoring") or {}  # the rest: rnnkit evaluate checks it
        if isinstance(scoring, dict) and "interval" in scoring:  # a Gaussian forecast's level
            check_fraction(saved_value("forecast.interval", scoring["interval"], float),
                           "forecast.interval")

    @classmethod
    def from_bundle_config(cls, config: dict[str, Any]) -> Forecaster:
        model = cls(ModelConfig(**config["model"]), config["feature_names"], config["target"],
                     config["lookback"], config["horizon"],
                     StandardScaler.from_json(config["scaler"]), config["loss"],
                     config["residual"], config.get("calendar", ()), config.get("trained_on"),
                     config.get("highway_steps", 0),
                     config.get("quantiles") or DEFAULT_QUANTILES,
                     config.get("strategy", "direct"), config.get("attention", False),
                     config.get("input_noise", 0.0), config.get("last_step_weight", 1.0),
                     config.get("scoring"))
        model.readout = config.get("readout", "last_output")  # older bundles
        model.conformal = config.get("conformal")
        return model

    # -- tensors, in scaled units ---------------------------------------------------------
    def forward(self, inputs: Tensor) -> tuple[Tensor, Tensor | None]:
        noisy = inputs
        if self.training and self.input_noise > 0:
            noisy = inputs + self.input_noise * torch.randn_like(inputs)
        outputs, final = self.encoder(noisy)  # [B, L, D*hidden]
        # [B, D*hidden]: each direction's state after reading the whole window
        state = window_state(outputs, final, self.encoder.num_directions, self.readout)
        if self.attention is not None:  # [B, 2*D*hidden]: the last state and the weighted mean
            every = torch.ones(outputs.shape[:2], dtype=torch.bool, device=outputs.device)
            state = torch.cat([state, self.attention(outputs, every, None)], dim=1)
        head = self.head(state)  # [B, outputs * per_output]
        shift = torch.zeros_like(head[:, :self.outputs])  # [B, outputs]: added to every value
        if self.highway is not None:  # linear autoregressive skip over the last k steps
            recent = inputs[:, -self.highway_steps:].flatten(1)  # [B, k, F] -> [B, k*F]
            shift = shift + self.highway(recent)
        if self.residual:  # [B, 1] the last known target, or [B, D] the last row
            shift = shift + inputs[:, -1, self.dynamic]
        return mean_and_spread(head, shift, self.outputs, self.loss_name, self.quantiles,
                               self.median_index)

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        inputs, targets = batch
        mean, spread = self(inputs)
        # the last step's error (direct), or the target's one-step error (recursive)
        last = -1 if self.strategy == "direct" else self.dynamic.index(self.target_index)
        return step_output(mean, spread, targets, self.loss_name, self.quantiles,
                           self.last_step_weight, last, self.strategy == "recursive")

    def metric_names(self) -> list[str]:
        return list(METRICS)

    # -- numpy, in the target's own units -------------------------------------------------
    @property
    def target_mean_scale(self) -> tuple[float, float]:
        assert self.scaler.mean is not None and self.scaler.scale is not None
        i = self.target_index
        return float(self.scaler.mean[i]), float(self.scaler.scale[i])

    def scale_targets(self, targets: np.ndarray) -> np.ndarray:
        mean, scale = self.target_mean_scale
        return (np.asarray(targets, dtype=float) - mean) / scale

    def training_targets(self, windows: Windows) -> np.ndarray:
        """Scaled targets of unscaled windows: ``[N, H]`` the target (``direct``), or ``[N, D]``
        the dynamic features at row ``origin + 1``, NaN where missing (``recursive``)."""
        if self.strategy == "direct":
            return self.scale_targets(windows.targets)
        return recursive.next_rows(windows, self.dynamic, self.scaler)

    def interval_level(self, interval: float | None = None) -> float:
        """The probability between ``lower`` and ``upper``: a conformalized model's calibrated
        level, the outer quantiles' gap for a quantile model, else the ``interval`` asked for
        (None: the one it was scored with, ``forecast.interval``)."""
        if self.conformal is not None:
            return float(self.conformal["level"])
        if self.loss_name == "quantile":
            return round(self.quantiles[-1] - self.quantiles[0], 10)
        return float(self.scoring.get("interval", 0.9)) if interval is None else interval

    def predict_windows(self, windows: Windows, batch_size: int = 2048,
                        interval: float | None = None) -> dict[str, np.ndarray]:
        """Forecasts of unscaled ``windows`` in target units: ``mean`` ``[N, H]``; a Gaussian
        model adds ``std``, ``lower``, ``upper`` (the central ``interval``; None: the one it
        was scored with); a quantile model ``quantiles`` ``[N, H, Q]`` with ``mean`` the
        median and ``lower``/``upper`` the outermost quantiles (``interval`` unused; see
        :meth:`interval_level`; none for the median alone). A conformalized model's
        ``lower``/``upper`` are widened by its calibration, at its calibrated level only."""
        return forecast_outputs.predict_windows(self, windows, batch_size, interval)

    def windows_of(self, frame: pd.DataFrame, stride: int = 1) -> Windows:
        """Unscaled windows of a raw frame, with this model's calendar columns and features."""
        return make_windows(add_calendar(frame, self.calendar), self.target, self.feature_names,
                            self.lookback, self.horizon, stride)

    def forecast(self, frame: pd.DataFrame, interval: float | None = None) -> pd.DataFrame:
        """Forecast the ``H`` steps after the frame's last row, from a raw date-indexed frame.

        Returns one row per step ahead: ``step``, ``mean`` (the point forecast: for a quantile
        model its median) and for a Gaussian, quantile or conformal model ``lower``, ``upper``
        and ``level`` (the probability between them: ``interval``, by default the one the model
        was scored with, ``forecast.interval``; a conformal model's own level only); the index
        (named as the frame's, else ``date``) is the step's timestamp when the frame's rows are on a
        grid: trading days (the next business days), month starts or ends, or evenly spaced
        last rows (a recursive model with calendar columns needs one of them).
        """
        return forecast_outputs.forecast_table(self, frame, interval)
