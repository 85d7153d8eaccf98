"""The settings of ``rnnkit train dqn`` (:class:`DQNRunConfig`: the ``data``, ``model``,
``agent``, ``trading`` and ``run`` sections) and their checks, made before any data is read
(also by ``--print-config``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from rnnkit.config import (
    ConfigError,
    ModelConfig,
    changed_keys,
    check_at_least,
    check_choice,
    check_date,
    check_fraction,
    check_model,
    check_seed,
    check_threads,
    number_list,
)
from rnnkit.rl.dqn import DQNOptions, check_options
from rnnkit.timeseries.datasets import ALL_STOCK_SYMBOLS
from rnnkit.timeseries.splits import check_period_order


@dataclass(frozen=True)
class DQNData:
    symbol: str = "AAPL"  # AAPL, IBM, MSFT, GOOG (or FB, 2012-2013 only): bokeh-sampledata
    lookback: int = 20  # trading days per observation (the features add 20-day summaries)
    train_end: str = "2009-12-31"  # the training period: every reward up to this day
    test_end: str = ""  # the test period: decisions after training up to this day; "" = the end
    val_fraction: float = 0.15  # the latest share of training windows: validation


@dataclass(frozen=True)
class DQNTrading:
    mode: str = "long_flat"  # long_flat | long_short: what sell means (flat or short)
    cost_bps: float = 5.0  # per unit of position changed, in training rewards and backtests
    slippage_bps: float = 5.0


@dataclass(frozen=True)
class DQNRun:
    seeds: str = "0"  # comma-separated: an agent, a random agent (and supervised models) each
    supervised: bool = False  # also train the stock pipeline's forecaster and classifier
    threads: int = 1  # CPU threads for torch; 0 = torch's default


@dataclass(frozen=True)
class DQNRunConfig:
    data: DQNData = field(default_factory=DQNData)
    model: ModelConfig = field(default_factory=lambda: ModelConfig(cell="gru", hidden_size=32))
    agent: DQNOptions = field(default_factory=DQNOptions)
    trading: DQNTrading = field(default_factory=DQNTrading)
    run: DQNRun = field(default_factory=DQNRun)



def parse_seeds(text: str) -> list[int]:
    """``"0,1,2"`` -> ``[0, 1, 2]``."""
    seeds = number_list(text, "run.seeds", int, minimum=0)
    for seed in seeds:
        check_seed(seed, "run.seeds")
    repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if repeated:
        raise ConfigError(f"run.seeds repeats {', '.join(map(str, repeated))}: a repeated seed "
                          "trains the same agent again into the same folder and counts it twice "
                          "in the mean and spread; give each seed once")
    return seeds


def check_config(config: DQNRunConfig) -> None:
    """Refuse the settings that the data, the agent or the backtests would read only later
    (the ``agent`` section: :func:`rnnkit.rl.dqn.check_options`); no data is read (also run by
    ``--print-config``)."""
    from rnnkit.pipelines.signal import check_trading

    parse_seeds(config.run.seeds)
    data = config.data
    check_choice(data.symbol.upper(), "data.symbol", ALL_STOCK_SYMBOLS)
    check_at_least(data.lookback, "data.lookback", 1)
    check_date(data.train_end, "data.train_end")
    if data.test_end:
        check_date(data.test_end, "data.test_end")
        check_period_order("data.train_end", data.train_end, "data.test_end", data.test_end,
                           "the test period would hold no decisions")
    check_fraction(data.val_fraction, "data.val_fraction")
    check_model(config.model)
    check_options(config.agent)
    if config.agent.network == "mlp":  # a feed-forward net reads only the hidden size
        default = DQNRunConfig().model
        unread = changed_keys("model", config.model, default,
                              [name for name in asdict(default) if name != "hidden_size"])
        if unread:
            raise ConfigError(f"agent.network=mlp does not read {', '.join(unread)} (only "
                              "model.hidden_size); set agent.network=recurrent for a "
                              "recurrent agent")
    trading = config.trading
    check_trading("trading", trading.mode, trading.cost_bps, trading.slippage_bps)
    check_at_least(config.run.threads, "run.threads", 0)
    check_threads(config.run.threads, "run.threads")
