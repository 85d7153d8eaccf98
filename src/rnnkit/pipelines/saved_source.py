"""A saved window model's data: the settings its bundle keeps (``trained_on``) and that data,
or another source, prepared again as in its training, with the model's input columns checked.

Used by ``evaluate``, ``forecast`` and ``backtest`` of forecaster and buy/sell/hold bundles;
the sources themselves are :mod:`rnnkit.pipelines.sources`.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pandas as pd

from rnnkit.pipelines.source_config import ForecastDataConfig, is_file, is_stock
from rnnkit.pipelines.sources import Prepared, prepare, same_source, split_ends, with_source
from rnnkit.timeseries.splits import Split, period_end


def data_settings(trained_on: dict[str, Any] | None) -> dict[str, Any]:
    """The :class:`ForecastDataConfig` keys of a bundle's ``trained_on`` (not the others it
    keeps, such as ``test_end`` or ``trading``)."""
    return {name: value for name, value in (trained_on or {}).items()
            if name in ForecastDataConfig.__dataclass_fields__}


def kept_settings(prepared: Prepared) -> dict[str, Any]:
    """The data settings a bundle keeps (its ``trained_on``): as configured, and the split
    ends its training found (``split_ends``), so that its own data is split at the same dates
    later, even where they were found from a file's rows (70% and 85%) and the file has
    changed since."""
    ends = split_ends(prepared.data, pd.DatetimeIndex(prepared.frame.index))
    return {**asdict(prepared.data), "split_ends": list(ends)}


def prepare_for(model: Any, source: str = "", date_column: str = "", mirror: str = ""
                ) -> Prepared:
    """A saved window model's own data (its ``trained_on`` settings, every window) or another
    source (its dates in ``date_column``, by default the model's), prepared as in training;
    ``mirror``: a local dataset mirror to read a registry source from (``--data-dir``).

    Raises:
        ValueError: the data's features are not the model's.
    """
    settings = data_settings(model.trained_on)
    own = not source or same_source(source, settings.get("source", ""))
    ends = model.trained_on.get("split_ends") if own else None  # as its training found them
    trained = {**settings, "stride": 1,
               **(dict(zip(("train_end", "val_end"), ends, strict=True)) if ends else {}),
               **({"date_column": date_column} if source and date_column else {}),
               **({"mirror": mirror} if mirror else {})}
    data = ForecastDataConfig(**trained)
    if not source:
        check_model_file(data.source)
        data = with_source(data, data.source)  # a bundle whose registry source kept max_fill
    elif is_file(source):  # a file has no default target: the model's is the one it reads
        data = replace(with_source(data, source), target=data.target or model.target)
    else:
        data = with_source(data, source)
    advice = (f"The model (trained on {settings.get('source', '?')}) reads its target "
              f"{data.target or model.target!r}: give --data with that column")
    features, trained_source = list(model.feature_names), model.trained_on.get("source", "?")

    def mismatch(found: list[str]) -> str:
        return feature_mismatch(features, found, trained_source, source)

    prepared = prepare(data, with_target=model.target in model.feature_names, advice=advice,
                       order=features, lacking=mismatch)
    if prepared.features != features:
        raise ValueError(mismatch(prepared.features))
    return prepared


def model_test_period(model: Any, split: Split) -> Split:
    """The split with the model's test period: its test windows up to the ``test_end`` its
    bundle keeps (a walk-forward fold's models decide their fold's days only; the next fold's
    decide the days after), else every test window. ``evaluate`` scores and ``backtest``
    trades the same days.

    Raises:
        ValueError: no test decision on or before ``test_end``.
    """
    test_end = model.trained_on.get("test_end")
    if not test_end:
        return split
    test = split.test.subset(split.test.input_end <= period_end(test_end))
    if not len(test):
        first = (f"the first is {str(split.test.input_end[0])[:10]}" if len(split.test)
                 else "there are none")
        raise ValueError(f"the model decides the days up to {test_end} (its test_end), and the "
                         f"data has no test decision by then ({first})")
    return split._replace(test=test)


def check_model_file(source: str) -> None:
    """Refuse a model's own training file (its ``data.source``) that is no longer where it
    was: the error names it as the model's, and says to give its path with ``--data``."""
    if not is_file(source) or Path(source).exists():
        return
    relative = "" if Path(source).is_absolute() else " (a relative path, read from the " \
        "folder rnnkit runs in)"
    raise ValueError(f"the model was trained on the file {source}{relative}, which is not "
                     "there now; give --data with the file's path")


def feature_mismatch(wanted: list[str], found: list[str], trained_source: str,
                     source: str) -> str:
    """Why data cannot feed a model: the columns it lacks and has instead (the same columns in
    another order feed it: :func:`~rnnkit.pipelines.sources.prepare` reads them by name).

    Example:
        >>> feature_mismatch(["AAPL_log_return", "day_sin"], ["IBM_log_return", "day_sin"],
        ...                  "AAPL", "IBM")  # doctest: +NORMALIZE_WHITESPACE
        "the data IBM lacks input columns the model (trained on AAPL) reads: AAPL_log_return;
        it has IBM_log_return instead. A stock's columns carry its symbol: give --data with the
        model's columns, or train a model on this data"
    """
    missing = [name for name in wanted if name not in found]
    extra = [name for name in found if name not in wanted]
    data = f"the data {source or trained_source}"
    if not missing:  # every numeric column is an input: one more than in training
        return (f"{data} has columns the model (trained on {trained_source}) does not read: "
                f"{', '.join(extra)}; it reads {', '.join(wanted)}. Drop the others from the "
                "file, or train a model on this data")
    instead = f"; it has {', '.join(extra)} instead" if extra else ""
    advice = "give --data with the model's columns, or train a model on this data"
    advice = (f"A stock's columns carry its symbol: {advice}" if is_stock(trained_source)
              else advice[0].upper() + advice[1:])
    return (f"{data} lacks input columns the model (trained on {trained_source}) reads: "
            f"{', '.join(missing)}{instead}. {advice}")
