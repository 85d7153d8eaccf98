"""``rnnkit.forecast``: what ``rnnkit forecast`` prints, as a pandas DataFrame.

The same checks (of ``data``, ``as_of`` and ``date_column``, with the command line's messages)
and the same function, :func:`rnnkit.pipelines.forecast.forecast_model`, as the command. The
series is read as ``--data`` reads it, from a file or a registry source (seattle, beijing, a
stock symbol): a DataFrame is not taken, since the command's reader reads files only.

Example:
    >>> table = forecast("runs/seattle/model.rnnkit", as_of="2015-06")  # doctest: +SKIP
    >>> list(table.columns)  # doctest: +SKIP
    ['step', 'mean']

(``lower``, ``upper`` and ``level`` follow ``mean`` for a model that gives an interval.)
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnnkit.api import loaded
from rnnkit.config import ConfigError

if TYPE_CHECKING:
    import pandas as pd

OPTIONS = ("date_column", "data_dir")  # rnnkit forecast's other flags that reading takes


def forecast(model_or_path: Any, data: str | Path | None = None, as_of: str | None = None,
             **options: Any) -> pd.DataFrame:
    """The table ``rnnkit forecast --model M`` prints (and ``--output`` writes), for a
    forecaster or signal bundle's path or its loaded model.

    A forecaster: one row a step after the last row used, by date (``step``, ``mean``, and
    ``lower``, ``upper`` and ``level`` for an interval; ``PRICE_implied`` for a log-return
    target). A signal model: one row, ``as_of``, ``horizon``, ``signal`` and ``p_sell``,
    ``p_hold``, ``p_buy``. ``data``: a CSV/Parquet file or a registry source (default: the
    one the model was trained on); ``as_of``: the rows up to this day, month or year only;
    ``options``: ``date_column=`` (of a ``data`` file) and ``data_dir=`` (a local mirror)."""
    from rnnkit.commands.common import check_date_column, check_source
    from rnnkit.config import check_date
    from rnnkit.pipelines.forecast import forecast_model

    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ConfigError(f"rnnkit.forecast takes no {', '.join(unknown)}=; its options are "
                          f"{', '.join(f'{name}=' for name in OPTIONS)} (a DataFrame comes "
                          "back: write it with .to_csv, in place of --output)")
    if data is not None and not isinstance(data, str | Path):
        raise ConfigError(f"data= is a {type(data).__name__}: rnnkit.forecast reads the series "
                          "as rnnkit forecast --data does, from a CSV/Parquet file or a "
                          "registry source; write the frame to a file (frame.to_csv"
                          "('series.csv'), its dates a column) and pass its path")
    source = str(data) if data is not None else None
    date_column, mirror = options.get("date_column"), options.get("data_dir")
    check_source(source, "--data")
    check_date_column(argparse.Namespace(data=source, date_column=date_column))
    if as_of:
        check_date(str(as_of), "--as-of")
    as_of = str(as_of) if as_of else None
    path = Path(model_or_path).expanduser() if isinstance(model_or_path, str | Path) else None
    model = loaded(model_or_path, ("forecaster", "signal"), "forecast")
    return forecast_model(model, path, source, as_of, date_column, mirror)
