"""Derived features, all strictly causal: the value at time t uses rows at or before t only.

Returns and lags look backwards (``shift`` by a positive number of rows); calendar features
use the timestamp alone, which is known in advance. A lag of zero or less, which would look at
the present or the future, is an error.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from rnnkit.timeseries.windows import whole_count

CALENDAR_PERIODS = {"hour": 24, "day_of_week": 7, "day_of_year": 366, "month": 12}


def simple_returns(prices: pd.DataFrame | pd.Series, periods: int = 1) -> pd.DataFrame | pd.Series:
    """``p[t] / p[t - periods] - 1``; the first ``periods`` rows, and rows after a gap, are NaN.

    Missing prices are never filled, so a return across a missing value is NaN too.

    Example:
        >>> simple_returns(pd.Series([100.0, 110.0, 99.0])).round(3).tolist()
        [nan, 0.1, -0.1]
    """
    periods = _check_periods(periods)
    return prices / prices.shift(periods) - 1.0


def log_returns(prices: pd.DataFrame | pd.Series, periods: int = 1) -> pd.DataFrame | pd.Series:
    """``log(p[t] / p[t - periods])``; needs positive prices.

    Raises:
        ValueError: a price at or below zero (its log return is undefined).

    Example:
        >>> log_returns(pd.Series([1.0, np.e, 1.0])).round(3).tolist()
        [nan, 1.0, -1.0]
    """
    periods = _check_periods(periods)
    values = np.asarray(prices, dtype=float)
    if (values <= 0).any():
        position = np.argwhere(values <= 0)[0]
        raise ValueError(f"log returns need positive prices; found {values[tuple(position)]} "
                         f"at row {position[0]} ({prices.index[position[0]]}). Use "
                         "simple_returns, or a price series without zeros")
    return np.log(prices / prices.shift(periods))


def calendar_columns(parts: Sequence[str]) -> list[str]:
    """The columns :func:`calendar_features` makes of ``parts``, in its order.

    Example:
        >>> calendar_columns(["hour", "month"])
        ['hour_sin', 'hour_cos', 'month_sin', 'month_cos']
    """
    return [f"{part}_{wave}" for part in _listed(parts) for wave in ("sin", "cos")]


def calendar_features(index: pd.DatetimeIndex,
                      parts: Sequence[str] = ("hour", "day_of_week", "month")) -> pd.DataFrame:
    """Cyclic calendar features: ``<part>_sin`` and ``<part>_cos`` for each part.

    ``hour`` has period 24, ``day_of_week`` 7 (Monday = 0), ``day_of_year`` 366, ``month`` 12
    (January = 0 after shifting). Sine and cosine put December next to January.

    Example:
        >>> index = pd.DatetimeIndex(["2020-01-01 00:00", "2020-01-01 06:00"])
        >>> calendar_features(index, ["hour"]).round(3)
                             hour_sin  hour_cos
        2020-01-01 00:00:00       0.0       1.0
        2020-01-01 06:00:00       1.0       0.0
    """
    columns: dict[str, np.ndarray] = {}
    for part in _listed(parts):
        if part not in CALENDAR_PERIODS:
            raise ValueError(f"unknown calendar part {part!r}; known: "
                             f"{', '.join(CALENDAR_PERIODS)}")
        value = np.asarray(getattr(index, part), dtype=float)
        if part in ("month", "day_of_year"):
            value = value - 1.0  # 1-based in pandas
        angle = 2.0 * np.pi * value / CALENDAR_PERIODS[part]
        columns[f"{part}_sin"] = np.sin(angle)
        columns[f"{part}_cos"] = np.cos(angle)
    return pd.DataFrame(columns, index=index)


def lags(frame: pd.DataFrame | pd.Series, steps: Sequence[int],
         columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Past values: ``<column>_lag<k>`` holds the value ``k`` rows earlier (NaN at the start).

    Raises:
        ValueError: a step below 1, which would copy the present or the future into the row.

    Example:
        >>> lags(pd.Series([1.0, 2.0, 3.0], name="x"), [1, 2])
           x_lag1  x_lag2
        0     NaN     NaN
        1     1.0     NaN
        2     2.0     1.0
    """
    table = frame.to_frame() if isinstance(frame, pd.Series) else frame
    chosen = list(table.columns if columns is None else _listed(columns))
    absent = [name for name in chosen if name not in table.columns]
    if absent:
        raise ValueError(f"no column {absent[0]!r} to lag; columns: "
                         f"{', '.join(map(str, table.columns))}")
    parts = {}
    for step in _listed(steps):
        step = _check_periods(step, what="a lag")
        for name in chosen:
            parts[f"{name}_lag{step}"] = table[name].shift(step)
    return pd.DataFrame(parts, index=table.index)


PRICE_SPANS = (5, 20)  # the momentum and volatility windows of price_features, in rows


def price_features(prices: pd.Series, spans: Sequence[int] = PRICE_SPANS) -> pd.DataFrame:
    """Stationary, causal features of one price series, named ``<name>_<feature>``.

    ``log_return`` (one row), and for each span ``k``: ``momentum_k`` (the log return over the
    last ``k`` rows) and ``volatility_k`` (the standard deviation of the last ``k`` one-row log
    returns). Each value at ``t`` uses prices at or before ``t``; the first rows are NaN.

    Example:
        >>> prices = pd.Series([100.0, 110.0, 121.0, 133.1], name="P")
        >>> price_features(prices, [2]).round(4).iloc[-1].tolist()
        [0.0953, 0.1906, 0.0]
    """
    name = prices.name or "price"
    step = log_returns(prices.astype(float))
    columns = {f"{name}_log_return": step}
    for span in _listed(spans):
        span = _check_periods(span, what="a span")
        columns[f"{name}_momentum_{span}"] = log_returns(prices.astype(float), span)
        columns[f"{name}_volatility_{span}"] = step.rolling(span).std(ddof=0)
    return pd.DataFrame(columns, index=prices.index)


def derive(frame: pd.DataFrame, log1p: Sequence[str] = (), changes: Sequence[str] = (),
           change_lags: Sequence[int] = (1,)) -> pd.DataFrame:
    """The frame with derived columns, each causal.

    ``log1p``: each column is replaced by ``<column>_log1p`` = ``log(1 + x)``, for counts and
    cumulated amounts with a heavy right tail (the scaler then sees a usable spread).
    ``changes``: for each column and lag ``k``, ``<column>_change_<k>`` = ``x[t] - x[t - k]``
    is added (the first ``k`` rows are NaN): tendencies such as a pressure fall over 24 hours,
    handed to the model instead of left for it to find.

    A column named as a derived one is kept only when it holds the derived values (a frame
    derived before); other values under that name are an error, not overwritten. A column
    listed twice is derived once.

    Raises:
        ValueError: an absent or non-numeric column, a value at or below -1 under ``log1p``,
            a lag below 1, or a column of another's by a derived column's name.

    Example:
        >>> frame = pd.DataFrame({"p": [1010.0, 1012.0, 1009.0], "rain": [0.0, 1.0, 3.0]})
        >>> derive(frame, log1p=["rain"], changes=["p"]).round(3)
                p  rain_log1p  p_change_1
        0  1010.0       0.000         NaN
        1  1012.0       0.693         2.0
        2  1009.0       1.386        -3.0
    """
    out = frame.copy()
    log1p, changes = (list(dict.fromkeys(_listed(names))) for names in (log1p, changes))
    for name in [*log1p, *changes]:
        if name not in out.columns:
            raise ValueError(f"no column {name!r} to derive from; columns: "
                             f"{', '.join(map(str, out.columns))}")
        if not pd.api.types.is_numeric_dtype(out[name]):
            raise ValueError(f"column {name!r} is not numeric; it cannot be derived from")
    change_lags = list(dict.fromkeys(_check_periods(lag, what="a change lag")
                                     for lag in _listed(change_lags))) if changes else []
    for name in changes:
        for lag in change_lags:
            change = out[name] - out[name].shift(lag)
            _check_free(out, f"{name}_change_{lag}", change, f"the change of {name!r} over "
                        f"{lag} row(s)", name, "changes")
            out[f"{name}_change_{lag}"] = change
    for name in log1p:
        low = (out[name] <= -1).to_numpy()
        if low.any():
            row = int(np.flatnonzero(low)[0])
            raise ValueError(f"log1p needs values > -1; column {name!r} has "
                             f"{out[name].iloc[row]} at {out.index[row]} (the least: "
                             f"{out[name].min()}); leave {name!r} out of data.log1p, or "
                             "shift it above -1 first")
        logged = np.log1p(out[name])
        _check_free(out, f"{name}_log1p", logged, f"log(1 + {name})", name, "log1p")
        if f"{name}_log1p" not in out.columns:  # derived before: it stays where it is
            out.insert(list(out.columns).index(name), f"{name}_log1p", logged)
        del out[name]  # out is the frame's copy: no copy more per column
    return out


def _check_free(frame: pd.DataFrame, name: str, values: pd.Series, what: str, column: str,
                setting: str) -> None:
    """Refuse a column ``name`` already in ``frame`` that does not hold ``values`` (the
    column derived from ``column`` by ``setting`` it is named as): it would be replaced."""
    if name not in frame.columns:
        return
    there = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
    if not np.allclose(there, values.to_numpy(dtype=float), rtol=1e-9, atol=1e-12,
                       equal_nan=True):
        raise ValueError(f"the data has a column {name!r}, the name of {what} (data.{setting}"
                         f"); rename that column, or leave {column!r} out of data.{setting}")


def _listed(values: object) -> list:
    """Names or counts as a list: one name (``"rain"``) or number (``24``) is a list of one,
    not its letters (or an error); ``"a,b"`` written for two names stays one."""
    if isinstance(values, (str, int, float, np.integer, np.floating)):
        return [values]
    return list(values)  # type: ignore[call-overload]


def _check_periods(periods: int, what: str = "periods") -> int:
    """``periods`` as an ``int`` (``2.0`` is 2), refused unless a whole number >= 1."""
    count = whole_count(periods)
    if count is not None:
        return count
    raise ValueError(f"{what} must be a whole number of rows >= 1, not {periods!r}: a "
                     "value at t may only use rows before t")
