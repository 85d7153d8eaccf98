"""The settings of ``rnnkit stocks`` (:class:`StocksRunConfig`: the ``data``, ``model``,
``train``, ``signal`` and ``trading`` sections) and the checks of those that the folds, the
classifier or the backtests read only after training has begun."""

from __future__ import annotations

from dataclasses import dataclass, field

from rnnkit.config import (
    ConfigError,
    ModelConfig,
    TrainConfig,
    changed_keys,
    check_at_least,
    check_choice,
    check_fraction,
    check_model,
    number_list,
)
from rnnkit.models.forecaster import METRICS
from rnnkit.pipelines.signal import SignalOptions, check_options, check_trading


@dataclass(frozen=True)
class StockData:
    symbols: str = "AAPL"  # comma-separated: AAPL, IBM, MSFT, GOOG
    lookback: int = 60  # trading days read
    horizon: int = 1  # trading days predicted (forecaster) and classified (signal)
    first_test_year: int = 2006  # walk-forward: one fold per year from this one to the end
    refit_every: int = 1  # years between refits (the model of a fold without refit is reused)
    val_fraction: float = 0.15  # the latest share of each fold's training windows: validation
    ridge_alphas: str = "1,100,10000"


@dataclass(frozen=True)
class StockTrading:
    mode: str = "long_flat"  # long_flat | long_short
    threshold: float = 0.0  # forecaster strategy: act when the predicted return passes it
    cost_bps: float = 5.0
    slippage_bps: float = 5.0


@dataclass(frozen=True)
class StocksRunConfig:
    data: StockData = field(default_factory=StockData)
    model: ModelConfig = field(default_factory=lambda: ModelConfig(cell="gru", hidden_size=32))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        epochs=12, batch_size=64, lr=2e-3, clip_norm=1.0, patience=3, optimizer="adamw",
        weight_decay=1e-4, progress=False, threads=1))  # a small model: threads do not help
    signal: SignalOptions = field(default_factory=SignalOptions)
    trading: StockTrading = field(default_factory=StockTrading)


def check_config(config: StocksRunConfig) -> None:
    """Refuse settings that the folds, the classifier or the backtests read only after
    training has begun."""
    number_list(config.data.ridge_alphas, "data.ridge_alphas", float, minimum=0)
    check_fraction(config.data.val_fraction, "data.val_fraction")
    check_at_least(config.data.refit_every, "data.refit_every", 1)
    for key in ("lookback", "horizon"):
        check_at_least(getattr(config.data, key), f"data.{key}", 1)
    if config.data.lookback < config.data.horizon:  # the persistence signal's past return
        raise ConfigError(f"data.lookback {config.data.lookback} is shorter than data.horizon "
                          f"{config.data.horizon}: the persistence signal reads the past "
                          "horizon's return inside the window; use a lookback of at least "
                          f"{config.data.horizon}")
    check_model(config.model)
    # train.monitor judges the forecaster's epochs (the classifier's are val_macro_f1's)
    check_choice(config.train.monitor, "train.monitor",
                 tuple(f"{part}_{name}" for part in ("val", "train") for name in METRICS))
    check_options(config.signal)
    if config.signal.calibrate != "none":
        raise ConfigError(f"rnnkit stocks does not read signal.calibrate="
                          f"{config.signal.calibrate}: its walk-forward classifiers are not "
                          "temperature-scaled (rnnkit train signal is); leave it out")
    ignored = changed_keys("signal", config.signal, SignalOptions(),
                           ("kind", "mode", "cost_bps", "slippage_bps"))
    if ignored:
        raise ConfigError(f"rnnkit stocks does not read {', '.join(ignored)}: its target is each "
                          "stock's log return, and its backtests take trading.mode, "
                          "trading.cost_bps and trading.slippage_bps; set those instead")
    trading = config.trading
    check_trading("trading", trading.mode, trading.cost_bps, trading.slippage_bps)
    check_at_least(trading.threshold, "trading.threshold", 0)
