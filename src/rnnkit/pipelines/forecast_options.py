"""The ``[forecast]`` settings of a forecaster run: the model's options and how its test is
scored, checked before any data is read."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.config import ConfigError, changed_keys, check_at_least, check_fraction, number_list


@dataclass(frozen=True)
class ForecastOptions:
    loss: str = "mse"  # mse | mae | gaussian | quantile (the last two: prediction intervals)
    residual: bool = True  # predict the change from the last known value
    interval: float = 0.9  # central interval of a gaussian model (or a conformal one's level)
    quantiles: str = "0.05,0.5,0.95"  # quantile model: levels (0.5 needed; outer two: interval)
    strategy: str = "direct"  # direct (all H steps at once) | recursive (one step, rolled H times)
    highway_steps: int = 0  # linear skip from the last k input steps to the output (0 = off)
    attention: bool = False  # the head also reads an attention-weighted mean of every step
    input_noise: float = 0.0  # std of Gaussian noise on the scaled inputs in training (0 = off)
    last_step_weight: float = 1.0  # direct: the last step's loss weight relative to the others
    seasonal_period: int = 0  # 0 = from the grid (hourly 24, daily 7, trading days 5)
    moving_average: int = 24  # rows averaged by the moving-average baseline (capped at L)
    ridge_alphas: str = "0.1,10,1000"  # ridge baseline: alpha chosen on validation MAE
    ridge_steps: str = "24,0"  # ridge input steps tried (0 = the whole lookback)
    plot_points: int = 24 * 21  # test windows shown in forecast.png
    conformal: bool = False  # calibrate the interval on the validation windows (any loss)


# what score() reads and plot() shows, kept in the bundle for rnnkit evaluate
SCORING = ("interval", "seasonal_period", "moving_average", "ridge_alphas", "ridge_steps",
           "plot_points")


def ridge_options(options: ForecastOptions) -> tuple[list[float], list[int]]:
    """The ridge baseline's alphas and input steps, checked (before training, so that a typo
    does not cost a run)."""
    return (number_list(options.ridge_alphas, "forecast.ridge_alphas", float, minimum=0),
            number_list(options.ridge_steps, "forecast.ridge_steps", int, minimum=0))


def check_scoring(options: ForecastOptions) -> None:
    """Refuse the settings of :data:`SCORING` that scoring and plotting read only after
    training: a run's, and those ``rnnkit evaluate`` reads from a bundle."""
    ridge_options(options)
    check_fraction(options.interval, "forecast.interval")
    check_at_least(options.moving_average, "forecast.moving_average", 1)
    check_at_least(options.seasonal_period, "forecast.seasonal_period", 0)
    check_at_least(options.plot_points, "forecast.plot_points", 1)  # 0 drew an empty plot


def check_options(options: ForecastOptions) -> None:
    """Refuse settings that scoring and plotting read only after training."""
    check_scoring(options)
    if options.loss != "quantile" and changed_keys("forecast", options, ForecastOptions(),
                                                   ("quantiles",)):
        raise ConfigError(f"forecast.quantiles is read only with forecast.loss=quantile (this "
                          f"run's loss is {options.loss}); add --set forecast.loss=quantile, or "
                          "leave it out")
    reads_interval = options.loss == "gaussian" or (options.conformal
                                                    and options.loss != "quantile")
    if not reads_interval and changed_keys("forecast", options, ForecastOptions(),
                                           ("interval",)):
        if options.conformal:  # a quantile model: "read only with conformal" would mislead
            raise ConfigError("forecast.interval is not read by a conformal quantile model: its"
                              " level is the span of its outer forecast.quantiles (e.g. "
                              "0.05,0.5,0.95 for 0.9); leave forecast.interval out")
        raise ConfigError(f"forecast.interval is read only with forecast.loss=gaussian or "
                          f"forecast.conformal=true (this run's loss is {options.loss}"
                          + ("; a quantile model's interval is its outer quantiles, set with "
                             "forecast.quantiles)" if options.loss == "quantile" else
                             ", which gives no interval of its own)") + "; leave it out")
