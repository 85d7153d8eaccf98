"""A forecaster's test scores beside every baseline on the same windows: persistence, seasonal
naive, moving average and ridge (its steps and alpha chosen on validation), all steps and the
last, and the interval's coverage and score."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from rnnkit.models.forecaster import Forecaster
from rnnkit.models.signal import target_kind
from rnnkit.pipelines.forecast_options import ForecastOptions, ridge_options
from rnnkit.timeseries.baselines import fit_ridge, moving_average, persistence, seasonal_naive
from rnnkit.timeseries.conformal import interval_report
from rnnkit.timeseries.metrics import forecast_report
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.splits import Split
from rnnkit.timeseries.windows import decision_span, input_batches


def ridge_baseline(split: Split, scaler: StandardScaler, alphas: list[float],
                   steps_options: list[int]) -> tuple[np.ndarray, dict[str, Any]]:
    """Ridge on scaled, flattened last-``steps`` inputs; steps and alpha chosen on validation."""
    scaled = Split(*(part.scaled(scaler) for part in split))
    best: tuple[float, np.ndarray, dict[str, Any]] | None = None
    for steps in steps_options:
        steps = min(steps or scaled.train.lookback, scaled.train.lookback)
        ridge = fit_ridge(scaled.train, alphas[0], steps)  # solved for alphas[0] already
        # the flattened inputs are cut once per steps, not once per alpha
        inputs = [list(input_batches(part, 4096, steps))
                  for part in (scaled.validation, scaled.test)]
        for alpha in alphas:
            if alpha != ridge.alpha:
                ridge.refit(alpha)
            predict = [np.concatenate([ridge.predict(x) for x in batches])
                       for batches in inputs]
            val_mae = float(np.abs(predict[0] - scaled.validation.targets)[:, -1].mean())
            if best is None or val_mae < best[0]:
                best = (val_mae, predict[1], {"alpha": alpha, "steps": steps,
                                              "val_mae_last": val_mae})
    assert best is not None
    return best[1], best[2]


def moves_from_now(target: str) -> bool:
    """Whether a target's direction is its move from the value known now (a level: a price, a
    temperature), not its own sign (a return, or a change ``<column>_change_<k>`` made by
    ``data.changes``, whose "current value" is the last change, not where it starts from).

    Example:
        >>> [moves_from_now(name) for name in ("temperature", "AAPL_log_return",
        ...                                      "temperature_change_24")]
        [True, False, False]
    """
    return target_kind(target) == "price" and re.search(r"_change_\d+$", target) is None


def score(model: Forecaster, split: Split, options: ForecastOptions, period: int
          ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Test metrics of the model and every baseline, all steps and the last step.

    Each baseline is named by the rows it reads (a moving average is capped at the lookback);
    the seasonal naive forecast is left out, with a note, when its season is longer than the
    lookback. Directions are moves from the current value for a level, the values' own signs
    for a return or change target (:func:`moves_from_now`).
    """
    test = split.test
    out = model.predict_windows(test, interval=options.interval)
    ridge, ridge_choice = ridge_baseline(split, model.scaler, *ridge_options(options))
    average = min(options.moving_average, test.lookback)
    forecasts = {"model": out["mean"], "persistence": persistence(test)}
    notes = []
    if period <= test.lookback:
        forecasts[f"seasonal_naive_{period}"] = seasonal_naive(test, period)
    else:
        notes.append(f"no seasonal_naive_{period}: its season ({period} rows) is longer than "
                     f"the lookback ({test.lookback})")
    forecasts |= {f"moving_average_{average}": moving_average(test, average), "ridge": ridge}
    training = split.train.target_series[: int(split.train.origins[-1]) + test.horizon + 1]
    scale_period = period if len(training) > 2 * period else 1  # MASE's naive scale
    if scale_period != period:
        notes.append(f"MASE is scaled by the one-step naive change: {len(training)} training "
                     f"values are too few for a season of {period}")
    actual, last = test.targets, test.targets[:, -1]
    origin = test.current if moves_from_now(model.target) else None
    results: dict[str, Any] = {**decision_span(test), "all_steps": {},
                               f"step_{test.horizon}": {}}
    for name, predicted in forecasts.items():
        results["all_steps"][name] = forecast_report(
            actual, predicted, forecasts["persistence"], training, scale_period, origin)
        results[f"step_{test.horizon}"][name] = forecast_report(
            last, predicted[:, -1], forecasts["persistence"][:, -1], training, scale_period,
            origin)
    if notes:
        results["notes"] = notes
    if "lower" in out:
        results["interval"] = interval_report(actual, out["lower"], out["upper"],
                                              model.interval_level(options.interval))
        if model.conformal is not None:
            results["interval"]["conformal"] = {key: model.conformal[key]
                                                for key in ("method", "windows")}
    results["ridge_choice"] = ridge_choice
    return results, {**out, **{f"baseline_{k}": v for k, v in forecasts.items()}}
