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

The names below are imported when first used (``from rnnkit.timeseries import mae``), not with
the package: several of its modules import pandas, which ``rnnkit.timeseries.metrics`` or
``scaling`` alone (a text classifier's scoring) need not pay for (about 0.3 s of CPU).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rnnkit.lazy import attach

# each name and the module that defines it
NAMES = {
    "RidgeRegression": "baselines",
    "fit_ridge": "baselines",
    "majority_class": "baselines",
    "moving_average": "baselines",
    "persistence": "baselines",
    "persistence_return": "baselines",
    "persistence_signal": "baselines",
    "ridge_forecast": "baselines",
    "ridge_predict": "baselines",
    "seasonal_naive": "baselines",
    "beijing_weather": "datasets",
    "seattle_weather": "datasets",
    "stock_prices": "datasets",
    "calendar_features": "features",
    "lags": "features",
    "log_returns": "features",
    "simple_returns": "features",
    "load_table": "frames",
    "tidy": "frames",
    "to_long": "long_format",
    "to_wide": "long_format",
    "GapReport": "grid",
    "describe_gaps": "grid",
    "infer_frequency": "grid",
    "regularize": "grid",
    "BUY": "labels",
    "CLASS_NAMES": "labels",
    "HOLD": "labels",
    "MISSING": "labels",
    "SELL": "labels",
    "buy_sell_hold": "labels",
    "classify_returns": "labels",
    "future_returns": "labels",
    "past_returns": "labels",
    "window_labels": "labels",
    "window_returns": "labels",
    "accuracy": "metrics",
    "confusion_matrix": "metrics",
    "directional_accuracy": "metrics",
    "forecast_report": "metrics",
    "macro_f1": "metrics",
    "mae": "metrics",
    "mase": "metrics",
    "rmse": "metrics",
    "smape": "metrics",
    "StandardScaler": "scaling",
    "Fold": "splits",
    "Split": "splits",
    "split_by_time": "splits",
    "walk_forward": "splits",
    "walk_forward_predict": "splits",
    "Windows": "windows",
    "make_windows": "windows",
}

if TYPE_CHECKING:
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
    from rnnkit.timeseries.frames import load_table, tidy
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
    from rnnkit.timeseries.long_format import to_long, to_wide
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
    from rnnkit.timeseries.splits import (
        Fold,
        Split,
        split_by_time,
        walk_forward,
        walk_forward_predict,
    )
    from rnnkit.timeseries.windows import Windows, make_windows


__getattr__, __dir__ = attach(__name__, NAMES)


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
