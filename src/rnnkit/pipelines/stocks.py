"""The stock pipeline (the README's main job): walk-forward forecaster and buy/sell/hold
classifier on daily prices, their strategies backtested after costs.

For each symbol: the adjusted close -> stationary features (log return, 5/20-day momentum and
volatility) -> windows of ``lookback`` days predicting the next ``horizon`` days' log returns
-> yearly walk-forward folds: for each test year, a forecaster and a classifier are trained on
every earlier window (the last ``val_fraction`` of them for early stopping), with a scaler and
the label thresholds fitted on that training period alone, and predict the test year. The
predictions of all test years are then scored once (:mod:`rnnkit.pipelines.stocks_report`).
No training target of a fold lies after its first test decision (checked). The settings and
their checks: :mod:`rnnkit.pipelines.stocks_config`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from rnnkit.config import number_list
from rnnkit.data.batching import TensorBatches
from rnnkit.models.forecaster import Forecaster
from rnnkit.models.signal import SignalClassifier, balanced_weights
from rnnkit.pipelines.run import train_in_run_dir
from rnnkit.pipelines.signal import thresholds
from rnnkit.pipelines.sources import ForecastDataConfig, stock_frame
from rnnkit.pipelines.stocks_config import StockData, StocksRunConfig
from rnnkit.timeseries.baselines import majority_class, persistence_signal, ridge_forecast
from rnnkit.timeseries.labels import CLASS_NAMES, window_labels
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.splits import Fold, check_fold
from rnnkit.timeseries.windows import Windows, make_windows
from rnnkit.trading.strategies import trading_settings
from rnnkit.training.checkpoint import seed_everything

FOLD_RUNS = ("forecaster", "signal")  # the run folders each fold-YEAR/ of a symbol holds


@dataclass(frozen=True, eq=False)
class YearFold(Fold):
    """A walk-forward fold whose test windows are one calendar year of decisions."""

    year: int


def symbol_windows(symbol: str, data: StockData, frame: pd.DataFrame | None = None) -> Windows:
    """Windows over one stock's price features (from ``frame``, else its
    :func:`~rnnkit.pipelines.sources.stock_frame`), predicting its log return."""
    frame = stock_frame(symbol) if frame is None else frame
    target = f"{symbol}_log_return"
    features = [name for name in frame.columns if name != symbol]
    return make_windows(frame, target, features, data.lookback, data.horizon)


def yearly_folds(windows: Windows, first_year: int, refit_every: int = 1) -> list[YearFold]:
    """One fold per calendar year of decisions from ``first_year``; each trains on every
    window whose targets all lie on or before the fold's first decision day."""
    years = pd.DatetimeIndex(windows.input_end).year.to_numpy()
    last_target = windows.target_times[:, -1]
    folds: list[YearFold] = []
    for k, year in enumerate(range(first_year, int(years.max()) + 1)):
        test = np.flatnonzero(years == year)
        if not len(test):
            continue
        train = np.flatnonzero(last_target <= windows.input_end[test[0]])
        if len(train) < 200:
            raise ValueError(f"{len(train)} training windows before {year}: too few; choose a "
                             "later data.first_test_year or a shorter lookback")
        refit = not folds or refit_every <= 1 or k % refit_every == 0
        folds.append(YearFold(train if refit else folds[-1].train, test, refit, year))
    if not folds:
        raise ValueError(f"no decisions in or after {first_year}; the last decision day is "
                         f"{str(windows.input_end[-1])[:10]}: choose an earlier "
                         "data.first_test_year")
    return folds


def split_validation(train: Windows, fraction: float) -> tuple[Windows, Windows]:
    """The earlier windows for fitting, the latest ``fraction`` for validation, and no
    fitting target inside the validation period (``H - 1`` windows dropped between)."""
    count = len(train)
    cut = int(round(count * (1 - fraction)))
    fit_end = max(1, cut - (train.horizon - 1))
    return train.subset(slice(0, fit_end)), train.subset(slice(cut, count))


def _batches(inputs: Tensor, targets: np.ndarray, shuffle: bool, config: StocksRunConfig
             ) -> TensorBatches:
    dtype = torch.long if targets.dtype.kind == "i" else torch.float32
    return TensorBatches((inputs, torch.as_tensor(targets, dtype=dtype)),
                         config.train.batch_size if shuffle else 1024, shuffle=shuffle,
                         seed=config.train.seed)


def fit_fold(train: Windows, config: StocksRunConfig, out: Path, log: Any, resume: bool = False,
             test_end: str = "") -> tuple[Forecaster, SignalClassifier, StandardScaler]:
    """Train the fold's forecaster and classifier (each in its own run folder under ``out``);
    ``test_end``: the last decision day the fold's models trade (``rnnkit backtest``'s end)."""
    fitting, validation = split_validation(train, config.data.val_fraction)
    scaler = StandardScaler(list(train.feature_names)).fit(fitting.period_rows())
    trained_on = {**asdict(ForecastDataConfig(  # so `rnnkit backtest` finds the fold's test
        source=train.target_name.split("_")[0], lookback=train.lookback,  # and trades alike
        horizon=train.horizon, calendar="", train_end=str(fitting.target_times[-1, -1]),
        val_end=str(train.target_times[-1, -1]))), "test_end": test_end,
        "trading": trading_settings(config.trading)}
    seed_everything(config.train.seed)
    forecaster = Forecaster(config.model, train.feature_names, train.target_name,
                            train.lookback, train.horizon, scaler, "mse", residual=False,
                            trained_on=trained_on)
    inputs = [torch.from_numpy(part.scaled(scaler).inputs_at(slice(None), dtype=np.float32))
              for part in (fitting, validation)]  # [N, L, F]: both models read the same inputs
    targets = [forecaster.scale_targets(part.targets) for part in (fitting, validation)]
    started = [resume and (out / name / "config.toml").is_file()  # a fold never started
               for name in FOLD_RUNS]  # trains from scratch
    train_in_run_dir(forecaster, config, out / FOLD_RUNS[0],
                     _batches(inputs[0], targets[0], True, config),
                     _batches(inputs[1], targets[1], False, config), started[0], log=log)
    kind = "log_return"
    up, down = thresholds(config.signal, fitting, kind)
    labels = [window_labels(part, up, down, kind) for part in (fitting, validation)]
    weights = balanced_weights(labels[0]) if config.signal.class_weights == "balanced" else None
    seed_everything(config.train.seed)
    signal = SignalClassifier(config.model, train.feature_names, train.target_name,
                              train.lookback, train.horizon, scaler, up, down, kind, weights,
                              trained_on=trained_on)
    signal_config = _monitor(config, "val_macro_f1", "max")
    train_in_run_dir(signal, signal_config, out / FOLD_RUNS[1],
                     _batches(inputs[0], labels[0], True, config),
                     _batches(inputs[1], labels[1], False, config), started[1], log=log)
    return forecaster.cpu(), signal.cpu(), scaler


def _monitor(config: StocksRunConfig, monitor: str, mode: str) -> StocksRunConfig:
    return replace(config, train=replace(config.train, monitor=monitor, mode=mode))


def ridge_returns(train: Windows, test: Windows, scaler: StandardScaler, alphas: list[float],
                  fraction: float) -> np.ndarray:
    """``[N, H]`` ridge forecasts of ``test``, alpha chosen on the fold's validation windows."""
    fitting, validation = (part.scaled(scaler) for part in split_validation(train, fraction))
    errors = [np.abs(ridge_forecast(fitting, validation, alpha) - validation.targets).mean()
              for alpha in alphas]
    best = alphas[int(np.argmin(errors))]
    return ridge_forecast(train.scaled(scaler), test.scaled(scaler), best)


SymbolFolds = tuple[pd.DataFrame, Windows, list[YearFold]]


def symbol_folds(symbol: str, config: StocksRunConfig) -> SymbolFolds:
    """One symbol's prices, windows and walk-forward folds, checked before anything trains:
    enough training windows before the first test year, a validation fraction that
    leaves the first fold windows to fit and to validate on, and labels of at least two
    classes in each refit fold's fitting windows (fixed thresholds can leave only hold).

    Raises:
        ValueError: naming the symbol and the setting to change.
    """
    frame = stock_frame(symbol)
    windows = symbol_windows(symbol, config.data, frame)
    try:
        folds = yearly_folds(windows, config.data.first_test_year, config.data.refit_every)
    except ValueError as error:
        raise ValueError(f"{symbol}: {error}") from None
    fitting, validation = split_validation(windows.subset(folds[0].train),
                                           config.data.val_fraction)
    if not len(validation) or not len(fitting):
        raise ValueError(f"{symbol}: data.val_fraction {config.data.val_fraction} leaves "
                         f"{len(fitting)} fitting and {len(validation)} validation windows "
                         f"of the first fold's {len(folds[0].train)}; choose a fraction "
                         "that leaves some of each")
    for fold in folds:  # each refit fold's classifier needs two classes to tell apart
        if fold.refit:
            fitting = split_validation(windows.subset(fold.train), config.data.val_fraction)[0]
            up, down = thresholds(config.signal, fitting, "log_return")
            present = np.unique(window_labels(fitting, up, down, "log_return"))
            if len(present) < 2:
                advice = ("Choose signal.up and signal.down nearer 0, or "
                          "signal.thresholds=tertiles" if config.signal.thresholds == "fixed"
                          else f"Its {len(fitting)} fitting window(s) are too few for tertiles:"
                          f" lower data.val_fraction ({config.data.val_fraction:g})")
                raise ValueError(f"{symbol}: every fitting window of the {fold.year} fold has "
                                 f"the class {CLASS_NAMES[int(present[0])]} (sell below "
                                 f"{down:g}, buy above {up:g}): the classifier has nothing to "
                                 f"learn. {advice}")
    return frame, windows, folds


def walk_forward_symbol(symbol: str, config: StocksRunConfig, out: Path, log: Any = print,
                        resume: bool = False, cut: SymbolFolds | None = None
                        ) -> dict[str, Any]:
    """Every test year's predictions of one symbol: forecasts ``[N, H]`` (model, ridge),
    sell/hold/buy probabilities ``[N, 3]``, the label thresholds used, the windows and the
    adjusted close they were cut from. ``cut``: its :func:`symbol_folds`, if already made."""
    frame, windows, folds = cut or symbol_folds(symbol, config)
    count = sum(len(fold.test) for fold in folds)
    tested = np.concatenate([fold.test for fold in folds])
    forecasts = np.full((count, windows.horizon), np.nan)
    ridge, probabilities = np.full_like(forecasts, np.nan), np.full((count, 3), np.nan)
    gold, majority, past = np.full(count, -1), np.full(count, -1), np.full(count, -1)
    cuts = []
    alphas = number_list(config.data.ridge_alphas, "data.ridge_alphas", float, minimum=0)
    start = 0
    models: tuple[Forecaster, SignalClassifier, StandardScaler] | None = None
    ends, trained = {}, 0  # the refit fold -> the last decision day its models trade
    for k, fold in enumerate(folds):
        trained = k if fold.refit or k == 0 else trained
        ends[trained] = str(windows.input_end[fold.test[-1]])[:10]
    for k, fold in enumerate(folds):
        train, test = windows.subset(fold.train), windows.subset(fold.test)
        check_fold(train, test, f"the {fold.year} fold must train on earlier days only")
        if fold.refit or models is None:
            model_year = fold.year
            folder = out / f"fold-{fold.year}"
            verb = ("resuming (or reading back) the models of" if resume and
                    (folder / "forecaster" / "config.toml").is_file() else "training on")
            log(f"{symbol} {fold.year}: {verb} {len(train)} windows "
                f"({str(train.input_end[0])[:10]} to {str(train.input_end[-1])[:10]})")
            models = fit_fold(train, config, folder, lambda _: None, resume, ends[k])
        forecaster, signal, scaler = models
        rows = slice(start, start + len(test))
        forecasts[rows] = forecaster.predict_windows(test)["mean"]
        ridge[rows] = ridge_returns(train, test, scaler, alphas, config.data.val_fraction)
        probabilities[rows] = signal.predict_windows(test)
        gold[rows] = window_labels(test, signal.up, signal.down, signal.return_kind)
        past[rows] = persistence_signal(test, signal.up, signal.down, signal.return_kind)
        majority[rows] = majority_class(
            window_labels(train, signal.up, signal.down, signal.return_kind), len(test))
        cuts.append({"year": fold.year, "test": len(test), "train": len(train),
                     "refit": fold.refit, "models": f"fold-{model_year}",
                     "up": signal.up, "down": signal.down})
        start += len(test)
    return {"windows": windows.subset(tested), "forecast": forecasts, "ridge": ridge,
            "probabilities": probabilities, "labels": gold, "majority": majority,
            "persistence_signal": past, "folds": cuts, "price": frame[symbol]}
