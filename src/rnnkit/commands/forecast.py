"""``rnnkit forecast``: what a saved forecaster (or buy/sell/hold classifier) says about the
steps after the end of a series."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnnkit.commands.common import check_date_column, check_source
from rnnkit.commands.paths import check_output_apart, make_parent
from rnnkit.config import ConfigError, check_date

if TYPE_CHECKING:
    import pandas as pd

OUTPUT_SUFFIXES = (".csv", ".json")
# the compressions pandas infers from a name; named here, as the file is written to a handle
COMPRESSION_SUFFIXES = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd",
                        ".zip": "zip"}


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
        write_table(table, args.output)
        print(f"wrote {args.output}")
    print(table.to_string())
    return 0


def write_table(table: pd.DataFrame, path: Path) -> None:
    """Write the forecast as CSV or JSON (compressed as its name says, ``f.csv.gz``),
    atomically: a crash or Ctrl-C mid-write leaves the old file or the new, never half."""
    from rnnkit.training.checkpoint import write_output

    dated = table.index.name is not None  # rows without a grid: no dates ahead, no index
    method = compression_of(path)
    compression: Any = ({"method": method, "archive_name": path.stem} if method == "zip"
                        else method)  # the file in the archive, as pandas names it
    if output_format(path) == ".json":
        write_output(path, lambda file: table.to_json(
            file, orient="table", indent=2, index=dated, compression=compression))
    else:
        write_output(path, lambda file: table.to_csv(
            file, index=dated, compression=compression))


def trained_source(model: Path) -> str:
    """The ``data.source`` a bundle was trained on (a file it reads without ``--data``), from
    its header alone; "" when it has none."""
    from rnnkit.training.bundle import read_header

    try:
        config = json.loads(read_header(model).get("config", "{}"))
        return str((config.get("trained_on") or {}).get("source", ""))
    except (ValueError, AttributeError, RecursionError):  # (a config nested too deep for
        # json) a bundle it cannot read: loading it says why
        return ""


def output_format(path: Path) -> str:
    """``.csv`` or ``.json`` (or another suffix) of ``path``, read through a compression
    suffix that pandas writes by itself (``f.csv.gz``)."""
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if len(suffixes) > 1 and suffixes[-1] in COMPRESSION_SUFFIXES:
        return suffixes[-2]
    return suffixes[-1] if suffixes else ""


def compression_of(path: Path) -> str | None:
    """The compression pandas writes for the name ``path`` (``f.csv.gz``: gzip), else None."""
    return COMPRESSION_SUFFIXES.get(path.suffix.lower()) if len(path.suffixes) > 1 else None


def check_output(path: Path | None) -> None:
    """Refuse an ``--output`` whose suffix names a format the forecast is not written in, or
    a compression this Python cannot write (``.zst`` needs the zstandard package)."""
    if path is None:
        return
    if output_format(path) not in OUTPUT_SUFFIXES:
        got = path.suffix or "no suffix"
        raise ConfigError(f"--output {path}: the forecast is written as CSV or JSON only; end "
                          f"the name in {' or '.join(OUTPUT_SUFFIXES)} (got {got})")
    if compression_of(path) == "zstd" and importlib.util.find_spec("zstandard") is None:
        raise ConfigError(f"--output {path}: writing .zst needs the zstandard package, which "
                          "is not installed; pip install zstandard, or end the name in .gz, "
                          ".bz2, .xz or .zip")
