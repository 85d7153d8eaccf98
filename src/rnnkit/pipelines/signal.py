"""Train and evaluate a buy/sell/hold classifier beside the majority class and the persistence
signal, and backtest the positions it implies.

Flow: source -> windows split by time (:mod:`rnnkit.pipelines.sources`) -> labels from each
window's future return (thresholds fixed, or the training returns' tertiles) -> scaler fitted
on the training period -> Trainer (early stopping on validation macro-F1) -> test probabilities
-> accuracy, macro-F1 and confusion matrix beside the baselines -> the classes as positions,
backtested after costs against buy-and-hold and the persistence signal -> ``results.json``,
``confusion.png``, ``equity.png``, ``drawdown.png`` and the bundle.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnkit.config import (
    ConfigError,
    ModelConfig,
    TrainConfig,
    changed_keys,
    check_at_least,
    check_choice,
    check_model,
)
from rnnkit.data.batching import TensorBatches
from rnnkit.models.signal import SignalClassifier, balanced_weights, target_kind
from rnnkit.pipelines.run import drawing, total_seconds, train_in_run_dir, write_results
from rnnkit.pipelines.saved_source import kept_settings, model_test_period, prepare_for
from rnnkit.pipelines.source_config import (
    ForecastDataConfig,
    check_data,
    check_source,
    is_stock,
)
from rnnkit.pipelines.sources import prepare
from rnnkit.pipelines.temperature_fit import calibrate_signal, check_signal_validation
from rnnkit.timeseries.baselines import majority_class, persistence_signal
from rnnkit.timeseries.labels import (
    CLASS_NAMES,
    RETURN_KINDS,
    past_return_rows,
    window_labels,
    window_returns,
)
from rnnkit.timeseries.metrics import accuracy, confusion_matrix, macro_f1
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.windows import Windows, decision_span
from rnnkit.trading.returns import check_tradable, decision_gaps, run_strategies
from rnnkit.trading.strategies import (
    MODES,
    TRADING_KEYS,
    check_costs,
    class_positions,
    trading_settings,
)
from rnnkit.training.calibration import class_calibration
from rnnkit.training.checkpoint import seed_everything


@dataclass(frozen=True)
class SignalOptions:
    thresholds: str = "tertiles"  # tertiles (of the training returns) | fixed (up/down)
    up: float = 0.01  # with thresholds = fixed: buy above this return over the horizon
    down: float = -0.01  # sell below this
    kind: str = "auto"  # what the target holds: auto (by name) | price | return | log_return
    class_weights: str = "balanced"  # balanced | none
    mode: str = "long_flat"  # long_flat | long_short: how classes become positions
    cost_bps: float = 5.0  # backtest: cost per unit of turnover, basis points
    slippage_bps: float = 5.0
    calibrate: str = "none"  # none | temperature: fit T on the validation windows after training


@dataclass(frozen=True)
class SignalRunConfig:
    data: ForecastDataConfig = field(default_factory=lambda: ForecastDataConfig(
        source="AAPL", lookback=60, horizon=5, calendar=""))
    model: ModelConfig = field(default_factory=lambda: ModelConfig(cell="gru", hidden_size=32))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        epochs=30, batch_size=64, clip_norm=1.0, patience=6, monitor="val_macro_f1",
        mode="max", weight_decay=1e-4, optimizer="adamw"))
    signal: SignalOptions = field(default_factory=SignalOptions)


def check_trading(section: str, mode: str, cost_bps: float, slippage_bps: float) -> None:
    """Refuse a backtest's settings in ``section`` (read only after training)."""
    check_choice(mode, f"{section}.mode", MODES)
    check_at_least(cost_bps, f"{section}.cost_bps", 0)
    check_at_least(slippage_bps, f"{section}.slippage_bps", 0)
    check_costs(cost_bps, slippage_bps, f"{section}.cost_bps and {section}.slippage_bps")


def check_options(options: SignalOptions) -> None:
    """Refuse the ``signal`` settings before anything is trained."""
    check_choice(options.thresholds, "signal.thresholds", ("tertiles", "fixed"))
    check_choice(options.kind, "signal.kind", ("auto", *RETURN_KINDS))
    check_choice(options.class_weights, "signal.class_weights", ("balanced", "none"))
    check_choice(options.calibrate, "signal.calibrate", ("none", "temperature"))
    check_trading("signal", options.mode, options.cost_bps, options.slippage_bps)
    ignored = changed_keys("signal", options, SignalOptions(), ("up", "down"))
    if options.thresholds == "tertiles" and ignored:
        raise ConfigError(f"{' and '.join(ignored)} are read only with signal.thresholds=fixed"
                          "; with tertiles the thresholds are the training returns' tertiles. "
                          "Add --set signal.thresholds=fixed, or leave them out")
    if options.thresholds == "fixed" and options.down > options.up:
        raise ConfigError(f"signal.down {options.down:g} must not be above signal.up "
                          f"{options.up:g}: sell below down, buy above up")


def check_lookback(lookback: int, horizon: int, kind: str) -> None:
    """Refuse, before training, a lookback too short for the persistence signal: it reads the
    past ``horizon``-step return inside each window (``H + 1`` prices, or ``H`` returns)."""
    needed = past_return_rows(horizon, kind)
    if lookback < needed:
        raise ConfigError(f"data.lookback {lookback} is too short for the persistence signal "
                          f"baseline: the past {horizon}-step return of a {kind} target needs "
                          f"{needed} rows in the window; use data.lookback >= {needed}")


def thresholds(options: SignalOptions, train: Windows, kind: str) -> tuple[float, float]:
    """``(up, down)``: as configured, or the training returns' 2/3 and 1/3 quantiles."""
    if options.thresholds == "fixed":
        return options.up, options.down
    if options.thresholds != "tertiles":
        raise ValueError(f"signal.thresholds must be tertiles or fixed, not "
                         f"{options.thresholds!r}")
    returns = window_returns(train, kind)
    low, high = np.quantile(returns[np.isfinite(returns)], [1 / 3, 2 / 3])
    return float(high), float(low)


def batches(model: SignalClassifier, windows: Windows, labels: np.ndarray, batch_size: int,
            shuffle: bool, seed: int) -> TensorBatches:
    inputs = torch.from_numpy(windows.scaled(model.scaler).inputs_at(slice(None),
                                                                      dtype=np.float32))
    return TensorBatches((inputs, torch.as_tensor(labels, dtype=torch.long)), batch_size,
                         shuffle=shuffle, seed=seed)


def classification_report(gold: np.ndarray, predictions: dict[str, np.ndarray]
                          ) -> dict[str, Any]:
    """Accuracy, macro-F1 and the confusion matrix of each named prediction."""
    classes = list(range(len(CLASS_NAMES)))
    return {name: {"accuracy": accuracy(gold, predicted),
                   "macro_f1": macro_f1(gold, predicted, classes),
                   "confusion": confusion_matrix(gold, predicted, classes).tolist()}
            for name, predicted in predictions.items()}


def score_signal(model: SignalClassifier, split: Any, options: SignalOptions
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Test classification metrics and backtests of the model and its baselines, and the
    calibration of the model's probabilities (the predicted class's; :func:`class_calibration`)."""
    test = split.test
    probabilities = model.predict_windows(test)
    predicted = probabilities.argmax(axis=1)
    gold = window_labels(test, model.up, model.down, model.return_kind)
    train_labels = window_labels(split.train, model.up, model.down, model.return_kind)
    classes = {"model": predicted, "majority": majority_class(train_labels, len(test)),
               "persistence": persistence_signal(test, model.up, model.down, model.return_kind)}
    results: dict[str, Any] = {**decision_span(test),
                               "classification": classification_report(gold, classes),
                               "calibration": class_calibration(probabilities, gold),
                               "label_counts": np.bincount(gold, minlength=3).tolist()}
    positions = {name: class_positions(values, options.mode)
                 for name, values in classes.items() if name != "majority"}
    gaps = decision_gaps(test)
    if gaps:  # the classes are still scored; only the chained backtest cannot be
        results["notes"] = [f"no backtest: {gaps}"]
        return results, {"probabilities": probabilities, "backtests": {}}
    tests = run_strategies(positions, test, model.return_kind, options.cost_bps,
                           options.slippage_bps)
    results["backtest"] = {name: result.report.as_dict() for name, result in tests.items()}
    return results, {"probabilities": probabilities, "backtests": tests}


def check_run(config: SignalRunConfig) -> None:
    """The settings checked before any data is read (also by ``--print-config``)."""
    check_options(config.signal)
    check_model(config.model)
    check_data(config.data)
    check_source(config.data.source, must_exist=False, required=True)
    data = config.data  # the target's name, where known before reading: signal.kind=auto
    target = data.target or (f"{data.source.upper()}_log_return" if is_stock(data.source)
                             else "")  # reads the kind from it (a file's: once it is read)
    if config.signal.kind != "auto" or target:
        check_lookback(data.lookback, data.horizon, target_kind(target, config.signal.kind))


def train_signal(config: SignalRunConfig, out_dir: str | Path, resume: bool = False,
                 log: Any = print) -> dict[str, Any]:
    """Train on the configured series; write the bundle, ``results.json`` and the plots."""
    check_run(config)
    started = time.perf_counter()
    prepared = prepare(config.data, with_target=False)
    split, options = prepared.split, config.signal
    kind = target_kind(prepared.target, options.kind)
    if kind == "price" and (prepared.frame[prepared.target] <= 0).any():
        raise ConfigError(f"the target {prepared.target!r} is read as a price (its name does not "
                          "end in return or log_return) but holds values of 0 or below; set "
                          "signal.kind=return or signal.kind=log_return if it holds returns")
    check_lookback(config.data.lookback, config.data.horizon, kind)
    check_tradable(split.test, kind)  # before training: the test is backtested
    up, down = thresholds(options, split.train, kind)
    scaler = StandardScaler(prepared.features).fit(split.train.period_rows())
    train = split.train.subset(slice(None, None, config.data.stride))
    train_labels = window_labels(train, up, down, kind)
    present = np.unique(train_labels[train_labels >= 0])
    if len(present) < 2:  # nothing to tell apart (a constant price, say)
        raise ValueError(f"every training window of {prepared.target!r} has the class "
                         f"{CLASS_NAMES[int(present[0])] if len(present) else 'none'}: there is "
                         "nothing to learn. Check data.target and signal.up/down (or the "
                         "file's values)")
    weights = balanced_weights(train_labels) if options.class_weights == "balanced" else None
    seed_everything(config.train.seed)
    model = SignalClassifier(config.model, prepared.features, prepared.target,
                             config.data.lookback, config.data.horizon, scaler, up, down, kind,
                             weights, prepared.calendar, trained_on={
                                 **kept_settings(prepared), "trading": trading_settings(options)})
    log(f"{prepared.target} ({kind}) over {config.data.horizon} steps: sell below {down:.4g}, "
        f"buy above {up:.4g}; windows train {len(train)}, validation "
        f"{len(split.validation)}, test {len(split.test)}"
        + (f" ({prepared.left_out})" if prepared.left_out else ""))
    seed = config.train.seed
    val_labels = window_labels(split.validation, up, down, kind)
    if options.calibrate != "none":  # before training: a refusal after it loses the run
        check_signal_validation(val_labels)
    fitted: dict[str, Any] = {}  # signal.calibrate=temperature: T and its validation scores
    result = train_in_run_dir(
        model, config, out_dir,
        batches(model, train, train_labels, config.train.batch_size, True, seed),
        batches(model, split.validation, val_labels, 1024, False, seed), resume, log,
        finish=(lambda trained: fitted.update(calibrate_signal(
            trained, split.validation, val_labels, log))) if options.calibrate != "none" else None)
    model = model.to("cpu")
    scored, outputs = score_signal(model, split, options)
    results = {"target": prepared.target, "kind": kind, "up": up, "down": down,
               "horizon": config.data.horizon, "class_weights": weights,
               **({"temperature_scaling": fitted} if fitted else {}),
               "windows": {"train": len(train), "validation": len(split.validation),
                           "test": len(split.test)},
               "test": scored, "epochs": len(result.history), "best_epoch": result.best_epoch,
               "train_seconds": round(result.seconds, 1)}
    out = Path(out_dir)
    plot_signal(scored, outputs, split.test, out, prepared.target)
    results["total_seconds"] = total_seconds(started, result)  # the plots too, as forecaster's
    write_results(results, out / "results.json")
    model_scores = scored["classification"]
    log(f"test macro-F1: model {model_scores['model']['macro_f1']:.3f}, majority "
        f"{model_scores['majority']['macro_f1']:.3f}, persistence "
        f"{model_scores['persistence']['macro_f1']:.3f}")
    return results


def plot_signal(scored: dict[str, Any], outputs: dict[str, Any], test: Windows, out: Path,
                target: str) -> None:
    from rnnkit.pipelines.backtest import plot_backtests
    from rnnkit.viz.confusion import plot_confusion

    with drawing(out / "confusion.png"):
        plot_confusion(list(CLASS_NAMES), scored["classification"]["model"]["confusion"],
                       out / "confusion.png", title=f"{target}: buy/sell/hold (test)")
    if outputs["backtests"]:
        plot_backtests(outputs["backtests"], out, test,
                       f"{target}: equity after costs (test)", f"{target}: drawdown (test)")


def evaluate_signal(bundle: str | Path, source: str | None = None,
                    out_dir: str | Path | None = None, date_column: str = "",
                    mirror: str = "") -> dict[str, Any]:
    """Score a saved classifier on its (or another) source's test period (a walk-forward
    fold's model: its fold's days, up to the ``test_end`` its bundle keeps), beside baselines,
    trading as its training run did (mode and costs; older bundles: the defaults)."""
    from rnnkit.training.bundle import load_model

    model = load_model(bundle, SignalClassifier)
    prepared = prepare_for(model, source or "", date_column, mirror)
    split = model_test_period(model, prepared.split)
    check_tradable(split.test, model.return_kind)  # as training does first: its labels need
    # prices (of the days scored: a fold's model is not refused for prices after its fold)
    trading = model.trained_on.get("trading") or {}
    options = replace(SignalOptions(), **{key: value for key, value in trading.items()
                                          if key in TRADING_KEYS and key != "threshold"})
    scored, outputs = score_signal(model, split, options)
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        write_results(scored, Path(out_dir) / "results.json")
        plot_signal(scored, outputs, split.test, Path(out_dir), model.target)
    return scored
