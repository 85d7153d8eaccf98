"""A forecaster's predictions in the target's own units: of windows, and of a raw frame.

:class:`~rnnkit.models.forecaster.Forecaster` works in scaled units; these turn its outputs,
batch by batch, into the target's units: the mean (a quantile model's median), and the interval
around it: a Gaussian model's central ``interval``, a quantile model's outermost quantiles, or
a conformal calibration's (:mod:`rnnkit.timeseries.conformal`). A recursive model is rolled
forward ``H`` steps (:mod:`rnnkit.models.recursive`). The forecaster's
:meth:`~rnnkit.models.forecaster.Forecaster.predict_windows` and
:meth:`~rnnkit.models.forecaster.Forecaster.forecast` call these.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from rnnkit.models import recursive
from rnnkit.models.window_inputs import check_features, last_rows, scaled_batches
from rnnkit.timeseries.conformal import conformalize
from rnnkit.timeseries.windows import Windows
from rnnkit.training.task import evaluating

if TYPE_CHECKING:
    from rnnkit.models.forecaster import Forecaster


@torch.no_grad()
def _forecast_batch(model: Forecaster, inputs: Tensor, times: np.ndarray
                    ) -> tuple[Tensor, Tensor | None]:
    """Scaled mean ``[B, H]`` and spread of scaled inputs ``[B, L, F]`` whose targets fall
    at ``times`` ``[B, H]`` (read by a recursive model's calendar columns only)."""
    if model.strategy == "direct":
        return model(inputs)
    future = recursive.future_calendar(times, model.feature_names, model.scaler)  # [B, H, F]
    changes = recursive.change_columns(model.feature_names, model.trained_on.get("changes"),
                                       model.trained_on.get("change_lags"), model.lookback)
    path = recursive.roll_forward(  # [B, H, D]
        lambda rows: model(rows)[0], inputs,
        torch.as_tensor(future, dtype=inputs.dtype, device=inputs.device),
        torch.as_tensor(model.dynamic, device=inputs.device), changes, model.scaler)
    return path[..., model.dynamic.index(model.target_index)], None


def predict_windows(model: Forecaster, windows: Windows, batch_size: int = 2048,
                    interval: float | None = None) -> dict[str, np.ndarray]:
    """:meth:`Forecaster.predict_windows <rnnkit.models.forecaster.Forecaster.predict_windows>`:
    forecasts of unscaled ``windows`` in target units."""
    check_features(windows, model.feature_names)
    if model.conformal is not None and interval is not None and \
            interval != model.conformal["level"] and model.loss_name != "quantile":
        raise ValueError(f"this model's interval was calibrated (conformal) at level "
                         f"{model.conformal['level']:g} only; ask for that, or leave "
                         f"interval out (got {interval!r})")
    interval = model.interval_level(interval)  # None: the one it was scored with
    if model.loss_name == "gaussian" and not 0 < interval < 1:  # 95 raised StatisticsError
        raise ValueError(f"interval must be a probability between 0 and 1 (both excluded), "
                         f"e.g. 0.9 for a 90% interval; got {interval!r}")
    with evaluating(model):
        weight = next(model.parameters())
        means, spreads = [], []
        batches = scaled_batches(windows, model.scaler, batch_size, weight.device,
                                 weight.dtype)
        target_times = windows.target_times  # [N, H], built once (a property), not per batch
        for start, inputs in zip(range(0, len(windows), batch_size), batches, strict=True):
            mean, spread = _forecast_batch(model, inputs, target_times[start:start + batch_size])
            means.append(mean)
            if spread is not None:
                spreads.append(spread)
    center, scale = model.target_mean_scale
    out = {"mean": _numpy(means, (model.horizon,)) * scale + center}
    if model.loss_name == "gaussian":
        std = np.exp(0.5 * _numpy(spreads, (model.horizon,))) * scale
        z = NormalDist().inv_cdf(0.5 + interval / 2)
        out.update(std=std, lower=out["mean"] - z * std, upper=out["mean"] + z * std)
    elif model.loss_name == "quantile":
        levels = _numpy(spreads, (model.horizon, len(model.quantiles))) * scale + center
        out.update(quantiles=levels)
        if len(model.quantiles) > 1:  # the median alone bounds no interval (it was level 0)
            out.update(lower=levels[..., 0], upper=levels[..., -1])
    return out if model.conformal is None else conformalize(out, model.conformal)


def forecast_table(model: Forecaster, frame: pd.DataFrame, interval: float | None = None
                   ) -> pd.DataFrame:
    """:meth:`Forecaster.forecast <rnnkit.models.forecaster.Forecaster.forecast>`: the ``H``
    steps after a raw date-indexed frame's last row, one row per step ahead."""
    values = last_rows(frame, model.feature_names, model.calendar, model.lookback)  # [L, F]
    index = recursive.times_after(pd.DatetimeIndex(frame.index), model.horizon)
    if (index is None and model.strategy == "recursive"
            and recursive.calendar_positions(model.feature_names)):
        raise ValueError("a recursive model computes the calendar columns of the steps "
                         "ahead, so the frame's last rows must be evenly spaced in time")
    future = index if index is not None else pd.DatetimeIndex(
        [pd.NaT] * model.horizon, tz=pd.DatetimeIndex(frame.index).tz)
    padded = np.vstack([values, np.full((model.horizon, values.shape[1]), np.nan)])  # [L+H, F]
    window = Windows(padded, padded[:, model.target_index],
                     pd.DatetimeIndex(frame.index[-model.lookback:]).append(future),
                     np.array([model.lookback - 1]), model.lookback, model.horizon,
                     tuple(model.feature_names), model.target)  # the one window: future NaN
    out = model.predict_windows(window, interval=interval)
    table = {"step": np.arange(1, model.horizon + 1), "mean": out["mean"][0]}
    table.update({key: out[key][0] for key in ("lower", "upper") if key in out})
    if "lower" in out:
        table["level"] = np.full(model.horizon, model.interval_level(interval))
    return pd.DataFrame(table, index=None if index is None else index.rename(
        frame.index.name or "date"))  # a named index: a CSV's first header is not blank


def _numpy(batches: list[Tensor], shape: tuple[int, ...]) -> np.ndarray:
    """The batches joined, as float64 numpy (``[0, *shape]`` when there are none)."""
    return torch.cat(batches).double().cpu().numpy() if batches else np.empty((0, *shape))
