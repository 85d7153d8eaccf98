"""The registry's series as checked frames (:func:`~rnnkit.timeseries.frames.tidy`): daily stock
prices (``bokeh-sampledata``), Seattle daily weather (``vega_datasets``) and Beijing hourly
weather (the ``beijing_pm25`` dataset of :mod:`rnnkit.data.registry`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from rnnkit.data.registry import dataset_file, get_spec
from rnnkit.timeseries.features import log_returns, simple_returns
from rnnkit.timeseries.frames import tidy
from rnnkit.timeseries.windows import one_or_many

STOCK_SYMBOLS = ("AAPL", "IBM", "MSFT", "GOOG")  # the registry's stocks, 2000-2013
ALL_STOCK_SYMBOLS = ("AAPL", "FB", "GOOG", "IBM", "MSFT")  # bokeh-sampledata's (FB: 2012-2013)
BEIJING_COLUMNS = {"pm2.5": "pm25", "DEWP": "dew_point", "TEMP": "temperature",
                   "PRES": "pressure", "Iws": "wind_speed", "Is": "snow_hours",
                   "Ir": "rain_hours"}
WIND_DIRECTIONS = {"NE": "wind_NE", "NW": "wind_NW", "SE": "wind_SE", "cv": "wind_calm"}

BEIJING = get_spec("beijing_pm25")


def stock_prices(symbols: Sequence[str] = STOCK_SYMBOLS, returns: bool = True) -> pd.DataFrame:
    """Daily adjusted close of US stocks from ``bokeh-sampledata`` (Quandl WIKI, to 2013-03-01).

    Columns: ``<SYMBOL>`` the split- and dividend-adjusted close, and with ``returns``
    ``<SYMBOL>_return`` and ``<SYMBOL>_log_return`` (from the previous trading day; the first
    day ``NaN``). Rows are the trading days of any symbol; a symbol not yet listed (GOOG before
    2004-08-19) is ``NaN``. No calendar filling: trading days are the time axis.
    """
    try:
        import bokeh_sampledata.stocks as stocks
    except ImportError as error:
        raise ImportError("stock_prices needs the bokeh-sampledata package: pip install "
                          "bokeh-sampledata") from error
    known = [name for name in ALL_STOCK_SYMBOLS if hasattr(stocks, name)]
    symbols = one_or_many(symbols)  # 'AAPL', not A, A, P, L
    if not symbols:
        raise ValueError(f"no stock symbols given; known: {', '.join(known)}")
    repeated = sorted({symbol for symbol in symbols if symbols.count(symbol) > 1})
    if repeated:  # was "date 2000-03-01 for series 'AAPL' appears more than once"
        raise ValueError(f"stock symbol(s) {', '.join(repeated)} listed more than once; list "
                         "each once")
    rows = []
    for symbol in symbols:
        if symbol not in known:
            raise ValueError(f"no stock {symbol!r} in bokeh-sampledata; known: {', '.join(known)}")
        data = getattr(stocks, symbol)
        rows.append(pd.DataFrame({"date": data["date"], "symbol": symbol,
                                  "adj_close": data["adj_close"]}))
    prices = tidy(pd.concat(rows, ignore_index=True), "date", series_column="symbol",
                  value_column="adj_close", source="bokeh_sampledata.stocks")[list(symbols)]
    if not returns:
        return prices
    parts = [prices, simple_returns(prices).add_suffix("_return"),
             log_returns(prices).add_suffix("_log_return")]
    return pd.concat(parts, axis=1)


def seattle_weather() -> pd.DataFrame:
    """Seattle daily weather 2012-2015 (1,461 days) from ``vega_datasets``, read offline.

    Columns: ``precipitation`` (mm), ``temp_max``, ``temp_min`` (degC), ``wind`` (m/s) and
    ``weather``, a label (``sun``, ``fog``, ``rain``, ``drizzle``, ``snow``).
    """
    try:
        from vega_datasets import local_data
    except ImportError as error:
        raise ImportError("seattle_weather needs the vega_datasets package: pip install "
                          "vega_datasets") from error
    return tidy(local_data.seattle_weather(), "date", categorical=["weather"],
                source="vega_datasets seattle-weather")


def beijing_weather(mirror: str | Path | None = None, cache_dir: str | Path | None = None,
                    wind: str = "onehot") -> pd.DataFrame:
    """Beijing hourly PM2.5 and weather, 2010-2014 (43,824 hours, no gaps), registry-located.

    The file is found by :func:`rnnkit.data.registry.dataset_file` (``mirror``, ``RNNKIT_DATA``,
    the cache, a download). The index is built from year/month/day/hour. Columns are renamed
    to plain names: ``pm25``, ``dew_point``, ``temperature``, ``pressure``, ``wind_speed``
    (cumulated, m/s), ``snow_hours``, ``rain_hours`` (cumulated). The wind direction ``cbwd``
    becomes with ``wind="onehot"`` the 0/1 columns ``wind_NE``, ``wind_NW``, ``wind_SE``,
    ``wind_calm`` (``cv``: calm and variable), with ``wind="code"`` one column
    ``wind_direction`` coded 0-3 in that order.

    ``pm25`` is missing (``NaN``) in 2,067 hours and is left so: as a target those hours are
    never used; as a feature fill it causally (:func:`~rnnkit.timeseries.grid.regularize` with
    ``max_fill``) or let :func:`~rnnkit.timeseries.windows.make_windows` drop the windows that
    touch it.
    """
    if wind not in ("onehot", "code"):
        raise ValueError(f"wind must be 'onehot' or 'code', not {wind!r}")
    path = dataset_file(BEIJING.name, "all", mirror=mirror, cache_dir=cache_dir)
    table = pd.read_csv(path)
    stamps = pd.to_datetime(table[["year", "month", "day", "hour"]])
    table = table.drop(columns=["No", "year", "month", "day", "hour"]).assign(date=stamps)
    frame = tidy(table.rename(columns=BEIJING_COLUMNS), "date", categorical=["cbwd"],
                 source=str(path))
    unknown = set(frame["cbwd"].dropna()) - set(WIND_DIRECTIONS)
    if unknown:
        raise ValueError(f"{path}: unknown wind directions {sorted(unknown)}; expected "
                         f"{sorted(WIND_DIRECTIONS)}")
    directions = frame.pop("cbwd")
    if wind == "code":
        codes = {name: float(code) for code, name in enumerate(WIND_DIRECTIONS)}
        frame["wind_direction"] = directions.map(codes)
    else:
        for code, name in WIND_DIRECTIONS.items():
            frame[name] = (directions == code).astype(float)
    return frame
