"""``rnnkit forecast``: what a saved forecaster (or buy/sell/hold classifier) says about the
steps after the end of a series."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rnnkit.commands.common import (
    check_date_column,
    check_output_apart,
    check_source,
    make_parent,
)
from rnnkit.config import ConfigError, check_date

OUTPUT_SUFFIXES = (".csv", ".json")
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zst", ".zip")  # pandas infers them


def register(commands: Any, train_tasks: Any) -> None:
    parser = commands.add_parser(
        "forecast", help="forecast the steps after a series' last row with a saved model")
    parser.add_argument("--model", type=Path, required=True,
                        help="a forecaster or signal bundle (.rnnkit)")
    parser.add_argument("--data", help="a source (beijing, seattle, AAPL, ...) or a CSV/Parquet "
                                       "file; default: the one the model was trained on")
    parser.add_argument("--as-of", help="use the rows up to the end of this day, month or year "
                        "only (2014-06-30, 2014-06, 2014; default: all)")
    parser.add_argument("--date-column", help="date column of a --data file (default: the "
                                              "model's data.date_column, else date)")
    parser.add_argument("--data-dir", help="local mirror of the datasets (or set RNNKIT_DATA)")
    parser.add_argument("--output", type=Path, help="write the forecast here: a .csv or .json file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rnnkit.pipelines.forecast import forecast_bundle

    check_source(args.data, "--data")
    check_date_column(args)
    if args.as_of:
        check_date(args.as_of, "--as-of")
    check_output(args.output)
    check_output_apart(args.output, {"--data" if args.data else "model's training data":
                                     args.data or trained_source(args.model),
                                     "--model": str(args.model)})
    table = forecast_bundle(args.model, args.data, args.as_of, args.date_column, args.data_dir)
    if args.output is not None:
        make_parent(args.output)
        dated = table.index.name is not None  # rows without a grid: no dates ahead, no index
        if output_format(args.output) == ".json":
            table.to_json(args.output, orient="table", indent=2, index=dated)
        else:
            table.to_csv(args.output, index=dated)
        print(f"wrote {args.output}")
    print(table.to_string())
    return 0


def trained_source(model: Path) -> str:
    """The ``data.source`` a bundle was trained on (a file it reads without ``--data``), from
    its header alone; "" when it has none."""
    from rnnkit.training.bundle import read_header

    try:
        config = json.loads(read_header(model).get("config", "{}"))
        return str((config.get("trained_on") or {}).get("source", ""))
    except (ValueError, AttributeError):  # a bundle it cannot read: loading it says why
        return ""


def output_format(path: Path) -> str:
    """``.csv`` or ``.json`` (or another suffix) of ``path``, read through a compression
    suffix that pandas writes by itself (``f.csv.gz``)."""
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if len(suffixes) > 1 and suffixes[-1] in COMPRESSION_SUFFIXES:
        return suffixes[-2]
    return suffixes[-1] if suffixes else ""


def check_output(path: Path | None) -> None:
    """Refuse an ``--output`` whose suffix names a format the forecast is not written in."""
    if path is None or output_format(path) in OUTPUT_SUFFIXES:
        return
    got = path.suffix or "no suffix"
    raise ConfigError(f"--output {path}: the forecast is written as CSV or JSON only; end the "
                      f"name in {' or '.join(OUTPUT_SUFFIXES)} (got {got})")
