"""From a price series to what the trading environment reads: prices checked, causal features,
windows, and the return each decision earns.

A price series must be complete and positive. A missing price (a gap) would make one return
silently span two periods, and a price at or below zero has no return; both are errors here,
with the date, instead of windows dropped in silence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnnkit.timeseries.dates import check_date_index
from rnnkit.timeseries.features import PRICE_SPANS, price_features
from rnnkit.timeseries.windows import Windows, make_windows


def check_prices(prices: pd.Series) -> pd.Series:
    """The prices as floats, after checking them.

    Raises:
        ValueError: not a date-indexed series in ascending order without repeats, fewer than
            two prices, a missing or infinite price (a gap), or a price at or below zero.

    Example:
        >>> index = pd.date_range("2020-01-01", periods=3)
        >>> check_prices(pd.Series([10, 11, 12], index=index, name="P")).tolist()
        [10.0, 11.0, 12.0]
    """
    if not isinstance(prices, pd.Series):
        raise ValueError(f"prices must be a pandas Series, not {type(prices).__name__}; pick "
                         "one column of the frame, e.g. frame['AAPL']")
    name = prices.name if prices.name is not None else "prices"
    index = prices.index
    check_date_index(index, str(name))
    if len(prices) < 2:
        raise ValueError(f"{name} holds {len(prices)} price(s); at least 2 are needed")
    numbers = pd.to_numeric(prices, errors="coerce")
    text = numbers.isna() & prices.notna()
    if text.any():  # numpy said only "could not convert string to float: 'n/a'"
        first = int(np.flatnonzero(text.to_numpy())[0])
        raise ValueError(f"{name} holds {prices.iloc[first]!r} on {index[first].date()}, not a "
                         "price; convert the column to numbers (pd.to_numeric) first")
    values = numbers.to_numpy(dtype=float)
    missing = ~np.isfinite(values)
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise ValueError(f"{name} has {int(missing.sum())} missing price(s) (gaps), the first "
                         f"on {index[first].date()}; fill them (prices.ffill()) or drop those "
                         "dates (prices.dropna()) before trading on them")
    if (values <= 0).any():
        bad = np.flatnonzero(values <= 0)
        raise ValueError(f"{name} has {len(bad)} price(s) at or below zero, the first "
                         f"{values[bad[0]]:g} on {index[bad[0]].date()}; a traded price must "
                         "be positive: correct or drop those rows")
    return prices.astype(float)


def listed_prices(prices: pd.Series) -> pd.Series:
    """The prices from the first one present (a stock before its listing is NaN).

    Example:
        >>> index = pd.date_range("2020-01-01", periods=3)
        >>> listed_prices(pd.Series([np.nan, 5.0, 6.0], index=index)).tolist()
        [5.0, 6.0]
    """
    first = prices.first_valid_index()
    if first is None:
        raise ValueError(f"{prices.name or 'the series'} holds no price at all")
    return prices.loc[first:]


def price_windows(prices: pd.Series, lookback: int) -> Windows:
    """Windows of ``lookback`` days over the price's causal features, target its log return.

    The features are :func:`~rnnkit.timeseries.features.price_features` (``<name>_log_return``,
    ``_momentum_5``, ``_volatility_5``, ``_momentum_20``, ``_volatility_20``), from their first
    complete row; the same windows as :func:`rnnkit.pipelines.stocks.symbol_windows` builds
    for a stock, so supervised models and agents see the same days. Horizon 1: each window's
    target is the next day's log return, what a decision at its last row earns.

    Shape:
        inputs ``[N, lookback, 5]``, targets ``[N, 1]``.
    """
    prices = check_prices(prices)
    name = str(prices.name) if prices.name is not None else "price"
    days = max(PRICE_SPANS)  # 20
    if len(prices) < days + lookback + 1:  # was "0 rows are too few for lookback ..."
        raise ValueError(f"{name} holds {len(prices)} prices; the {days}-day features and a "
                         f"lookback of {lookback} need at least {days + lookback + 1} "
                         f"({days} + {lookback} + 1 for the return the last decision earns): "
                         "give more prices or shorten the lookback")
    frame = price_features(prices.rename(name)).dropna()
    return make_windows(frame, f"{name}_log_return", list(frame.columns), lookback, 1)
