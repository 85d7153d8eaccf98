"""Time series: checked date-indexed frames, causal features, windows, baselines and metrics.

The flow: :mod:`~rnnkit.timeseries.frames` (load and check;
:mod:`~rnnkit.timeseries.files` reads the file, :mod:`~rnnkit.timeseries.grid` puts them on a
regular grid) ->
:mod:`~rnnkit.timeseries.features` (returns, calendar, lags) ->
:mod:`~rnnkit.timeseries.windows` (windows), :mod:`~rnnkit.timeseries.splits` (splits,
walk-forward folds) and :mod:`~rnnkit.timeseries.scaling` (the scaler) ->
:mod:`~rnnkit.timeseries.baselines` and :mod:`~rnnkit.timeseries.labels` ->
:mod:`~rnnkit.timeseries.metrics`. The registry's series (stocks, Seattle and Beijing weather)
load through :mod:`~rnnkit.timeseries.datasets`.
"""

from rnnkit.timeseries.baselines import (
    RidgeRegression,
    fit_ridge,
    majority_class,
    moving_average,
    persistence,
    persistence_return,
    persistence_signal,
    ridge_forecast,
    ridge_predict,
    seasonal_naive,
)
from rnnkit.timeseries.datasets import beijing_weather, seattle_weather, stock_prices
from rnnkit.timeseries.features import calendar_features, lags, log_returns, simple_returns
from rnnkit.timeseries.frames import load_table, tidy, to_long, to_wide
from rnnkit.timeseries.grid import GapReport, describe_gaps, infer_frequency, regularize
from rnnkit.timeseries.labels import (
    BUY,
    CLASS_NAMES,
    HOLD,
    MISSING,
    SELL,
    buy_sell_hold,
    classify_returns,
    future_returns,
    past_returns,
    window_labels,
    window_returns,
)
from rnnkit.timeseries.metrics import (
    accuracy,
    confusion_matrix,
    directional_accuracy,
    forecast_report,
    macro_f1,
    mae,
    mase,
    rmse,
    smape,
)
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.splits import Fold, Split, split_by_time, walk_forward, walk_forward_predict
from rnnkit.timeseries.windows import Windows, make_windows

__all__ = [
    "BUY", "CLASS_NAMES", "HOLD", "MISSING", "SELL", "Fold", "GapReport", "RidgeRegression",
    "Split", "StandardScaler", "Windows", "accuracy", "beijing_weather", "buy_sell_hold",
    "calendar_features", "classify_returns", "confusion_matrix", "describe_gaps",
    "directional_accuracy", "fit_ridge", "forecast_report", "future_returns", "infer_frequency",
    "lags", "load_table", "log_returns", "macro_f1", "mae", "majority_class", "make_windows",
    "mase", "moving_average", "past_returns", "persistence", "persistence_return",
    "persistence_signal", "regularize", "ridge_forecast", "ridge_predict", "rmse",
    "seasonal_naive", "seattle_weather", "simple_returns", "smape", "split_by_time",
    "stock_prices", "tidy", "to_long", "to_wide", "walk_forward", "walk_forward_predict",
    "window_labels", "window_returns",
]
