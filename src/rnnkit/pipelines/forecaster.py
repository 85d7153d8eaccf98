"""Train and evaluate a recurrent forecaster on a registry series or a CSV, beside baselines.

Flow: source -> frame (+ calendar columns) -> windows -> chronological split
(:mod:`rnnkit.pipelines.sources`) -> scaler fitted
on the training period only -> Trainer -> test forecasts in the target's units, scored next to
persistence, seasonal naive, moving average and ridge on the same windows -> ``results.json``,
``forecast.png`` and the bundle.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnkit.config import (
    ConfigError,
    ModelConfig,
    TrainConfig,
    check_at_least,
    check_choice,
    check_model,
    saved_section,
)
from rnnkit.data.batching import TensorBatches
from rnnkit.models.forecast_loss import LOSSES, STRATEGIES, check_strategy
from rnnkit.models.forecaster import Forecaster
from rnnkit.models.quantiles import parse_quantiles
from rnnkit.pipelines.forecast_options import (
    SCORING,
    ForecastOptions,
    check_options,
    check_scoring,
)
from rnnkit.pipelines.forecast_scoring import score
from rnnkit.pipelines.run import drawing, total_seconds, train_in_run_dir, write_results
from rnnkit.pipelines.saved_source import kept_settings, model_test_period, prepare_for
from rnnkit.pipelines.series_grid import seasonal_period
from rnnkit.pipelines.source_config import ForecastDataConfig, check_data, check_source
from rnnkit.pipelines.sources import prepare
from rnnkit.timeseries.conformal import calibrate, fewest_windows
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.windows import Windows
from rnnkit.training.bundle import BundleError, load_model
from rnnkit.training.checkpoint import seed_everything


@dataclass(frozen=True)
class ForecastRunConfig:
    data: ForecastDataConfig = field(default_factory=ForecastDataConfig)
    model: ModelConfig = field(default_factory=lambda: ModelConfig(cell="gru", hidden_size=64))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        epochs=20, batch_size=128, clip_norm=1.0, patience=4, monitor="val_mae_last"))
    forecast: ForecastOptions = field(default_factory=ForecastOptions)


def tensors(model: Forecaster, windows: Windows, batch_size: int, shuffle: bool, seed: int
            ) -> TensorBatches:
    scaled = windows.scaled(model.scaler)
    inputs = torch.from_numpy(scaled.inputs_at(slice(None), dtype=np.float32))  # [N, L, F]
    targets = torch.as_tensor(model.training_targets(windows), dtype=torch.float32)
    return TensorBatches((inputs, targets), batch_size, shuffle=shuffle, seed=seed)


def plot(test: Windows, out: dict[str, np.ndarray], path: Path, points: int, unit: str,
         scores: dict[str, Any]) -> Path:
    """``forecast.png``: the last ``points`` test windows' last step (``forecast.plot_points``),
    its title saying which when they are not all (results.json scores every one), the interval
    band named by the level ``scores`` (from :func:`score`) give it."""
    from rnnkit.trading.returns import span_text
    from rnnkit.viz.timeseries import plot_forecast

    rows = slice(max(0, len(test) - points), None)
    step = test.horizon
    lower = out["lower"][rows, -1] if "lower" in out else None
    upper = out["upper"][rows, -1] if "upper" in out else None
    times = test.target_times[rows, -1]
    shown = len(times)
    part = "test" if shown == len(test) else f"the last {shown} of {len(test)} test windows"
    return plot_forecast(test.targets[rows, -1],
                         {"model": out["mean"][rows, -1],
                          "persistence": out["baseline_persistence"][rows, -1]},
                         path, times=times, lower=lower, upper=upper,
                         title=f"{test.target_name}, {step} steps ahead, {part} "
                               f"({span_text(times[0], times[-1])})", unit=unit,
                         level=scores.get("interval", {}).get("level"))



def calibrate_interval(model: Forecaster, validation: Windows, options: ForecastOptions,
                       log: Any = print) -> None:
    """``forecast.conformal``: widen the model's interval (or give an MSE/MAE model one) so
    that it holds its level of the validation windows, step by step
    (:mod:`rnnkit.timeseries.conformal`); kept in the bundle."""
    level = model.interval_level(options.interval)
    out = model.predict_windows(validation, interval=level)
    model.conformal = calibrate(validation.targets, out, level)
    name = {"cqr": "the model's interval widened (CQR)",
            "absolute": "the point forecast +- a band"}[model.conformal["method"]]
    log(f"conformal {100 * level:g}% interval, {name}, calibrated on "
        f"{model.conformal['windows']} validation windows: at step {model.horizon} "
        f"{model.conformal['widen'][-1]:+.4g}")


def check_calibration_windows(validation: Windows, level: float) -> None:
    """Refuse, before training, a ``forecast.conformal`` run whose validation windows are too
    few for its level (:func:`~rnnkit.timeseries.conformal.fewest_windows`)."""
    known = int(np.isfinite(validation.targets).sum(axis=0).min())  # the fewest at any step
    needed = fewest_windows(level)
    if known < needed:
        raise ValueError(f"forecast.conformal=true at level {level:g} needs at least {needed} "
                         f"validation windows (each step's value known) to calibrate on, and "
                         f"this run has {known}: move data.train_end earlier or data.val_end "
                         "later, or lower the level (forecast.interval, or a quantile model's "
                         "outer forecast.quantiles)")


def check_run(config: ForecastRunConfig) -> None:
    """The settings checked before any data is read (also by ``--print-config``), the model's
    options among them: the model refuses them too, but only once the data is read."""
    check_options(config.forecast)
    check_model(config.model)
    check_data(config.data)
    check_source(config.data.source, must_exist=False, required=True)
    options = config.forecast
    check_choice(options.loss, "forecast.loss", LOSSES)
    check_choice(options.strategy, "forecast.strategy", STRATEGIES)
    # the model parses the quantiles only once the data is read
    if options.loss == "quantile" and len(parse_quantiles(options.quantiles)) < 2 \
            and options.conformal:
        raise ConfigError(f"forecast.conformal=true calibrates a quantile model's interval, "
                          f"its outer quantiles, and forecast.quantiles={options.quantiles} is "
                          "the median alone: add outer ones (e.g. 0.05,0.5,0.95), or use "
                          "forecast.loss=mae for a band around a point forecast")
    check_strategy(options.strategy, options.loss, options.last_step_weight)
    check_at_least(options.input_noise, "forecast.input_noise", 0)
    if not options.last_step_weight > 0:
        raise ConfigError("forecast.last_step_weight must be above 0 (1 weighs every step "
                          f"alike); got {options.last_step_weight!r}")
    if not 0 <= options.highway_steps <= config.data.lookback:
        raise ConfigError(f"forecast.highway_steps must be from 0 to data.lookback "
                          f"({config.data.lookback}); got {options.highway_steps}")


def train_forecaster(config: ForecastRunConfig, out_dir: str | Path, resume: bool = False,
                     log: Any = print) -> dict[str, Any]:
    """Train on the configured series; write the bundle, ``results.json`` and ``forecast.png``."""
    check_run(config)
    started = time.perf_counter()
    prepared = prepare(config.data)
    target, features, split = prepared.target, prepared.features, prepared.split
    seen = split.train.targets
    if np.nanmax(seen) == np.nanmin(seen):  # scores scale by its changes: there are none
        raise ValueError(f"the target {target!r} holds one value ({np.nanmin(seen):g}) over "
                         "the whole training period: there is nothing to forecast. Check "
                         "data.target, or the file's values")
    scaler = StandardScaler(features).fit(split.train.period_rows())  # training period only
    seed_everything(config.train.seed)  # the initial weights follow the seed too
    model = Forecaster(config.model, features, target, config.data.lookback,
                       config.data.horizon, scaler, config.forecast.loss,
                       config.forecast.residual, prepared.calendar,
                       trained_on=kept_settings(prepared),
                       highway_steps=config.forecast.highway_steps,
                       quantiles=config.forecast.quantiles, strategy=config.forecast.strategy,
                       attention=config.forecast.attention,
                       input_noise=config.forecast.input_noise,
                       last_step_weight=config.forecast.last_step_weight,
                       scoring={key: getattr(config.forecast, key) for key in SCORING})
    if config.forecast.conformal:
        check_calibration_windows(split.validation, model.interval_level(config.forecast.interval))
    seed = config.train.seed
    train = split.train.subset(slice(None, None, config.data.stride))  # ridge gets every window
    log(f"{target}: {len(features)} features, windows train {len(train)}, "
        f"validation {len(split.validation)}, test {len(split.test)}"
        + (f" ({prepared.left_out})" if prepared.left_out else ""))
    result = train_in_run_dir(
        model, config, out_dir, tensors(model, train, config.train.batch_size, True, seed),
        tensors(model, split.validation, 1024, False, seed), resume, log,
        finish=(lambda trained: calibrate_interval(trained, split.validation, config.forecast,
                                                   log)) if config.forecast.conformal else None)
    model = model.to("cpu")
    period = config.forecast.seasonal_period or seasonal_period(config.data, prepared.frame)
    test, outputs = score(model, split, config.forecast, period)
    windows = {"train": len(train), "validation": len(split.validation), "test": len(split.test)}
    results = {"target": target, "features": features, "lookback": config.data.lookback,
               "horizon": config.data.horizon, "windows": windows,
               "test": test, "steps": result.steps, "epochs": len(result.history),
               "best_epoch": result.best_epoch, "stopped": result.stopped,
               "train_seconds": round(result.seconds, 1),
               "seconds": round(result.seconds, 1)}  # = train_seconds, read by benchmarks
    out = Path(out_dir)
    with drawing(out / "forecast.png"):
        plot(split.test, outputs, out / "forecast.png", config.forecast.plot_points, target,
             test)
    results["total_seconds"] = total_seconds(started, result)
    write_results(results, out / "results.json")
    headline = test[f"step_{config.data.horizon}"]
    log(f"test MAE at step {config.data.horizon}: model {headline['model']['mae']:.4g}, "
        f"persistence {headline['persistence']['mae']:.4g}, ridge {headline['ridge']['mae']:.4g}")
    return results


def evaluate_forecaster(bundle: str | Path, source: str | None = None,
                        out_dir: str | Path | None = None, date_column: str = "",
                        mirror: str = "") -> dict[str, Any]:
    """Score a saved forecaster on its (or another) source's test period (a walk-forward
    fold's model: its fold's days, up to the ``test_end`` its bundle keeps), beside baselines,
    with the settings it was trained with (older bundles: the defaults)."""
    model = load_model(bundle, Forecaster)
    prepared = prepare_for(model, source or "", date_column, mirror)
    split = model_test_period(model, prepared.split)
    try:  # the settings a run scored it with, as that run checked them
        options = saved_section("forecast", ForecastOptions, {
            key: value for key, value in model.scoring.items() if key in SCORING})
        check_scoring(options)
    except ConfigError as error:
        raise BundleError(f"{bundle}: the 'forecaster' model cannot be scored with its saved "
                          f"settings: {error}") from None
    period = options.seasonal_period or seasonal_period(prepared.data, prepared.frame)
    results, outputs = score(model, split, options, period)
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        with drawing(Path(out_dir) / "forecast.png"):
            plot(split.test, outputs, Path(out_dir) / "forecast.png", options.plot_points,
                 model.target, results)
        write_results(results, Path(out_dir) / "results.json")
    return results
