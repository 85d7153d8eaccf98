"""``rnnkit datasets list`` and ``rnnkit datasets path``: the dataset registry, from a shell."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COLUMNS = ("name", "task", "format", "splits", "license", "found", "homepage")


@dataclass(frozen=True)
class PackageDataset:
    """A dataset that installs with a pip package (no file to download or mirror)."""

    name: str
    task: str
    package: str  # the importable module that holds it
    license: str
    homepage: str
    splits: str  # how rnnkit splits it (by time)


PACKAGE_DATASETS = (
    PackageDataset("stocks", "forecasting", "bokeh_sampledata", "public domain",
                   "https://pypi.org/project/bokeh-sampledata/",
                   "daily AAPL, IBM, MSFT 2000-2013, GOOG 2004-2013 (source = symbol)"),
    PackageDataset("seattle", "forecasting", "vega_datasets", "public domain",
                   "https://pypi.org/project/vega-datasets/",
                   "daily 2012-2015 (source = seattle)"),
)


def register(commands: Any, train_tasks: Any) -> None:
    parser = commands.add_parser("datasets", help="list the known datasets and find their files")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="a table of the datasets and where they are found")
    _add_location_options(listing)
    listing.set_defaults(handler=list_command)

    path = actions.add_parser("path", help="print the local path of a split's file(s)")
    path.add_argument("name", help="a dataset name (see: rnnkit datasets list)")
    path.add_argument("--split", help="train, dev, test, all... (default: train, or the "
                      "dataset's only split)")
    path.add_argument("--no-download", action="store_true",
                      help="fail instead of downloading a file missing from the cache")
    _add_location_options(path)
    path.set_defaults(handler=path_command)


def _add_location_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path,
                        help="a local mirror laid out as DIR/<dataset>/<file> (default: "
                             "$RNNKIT_DATA; unset: the cache, downloading what is missing)")
    parser.add_argument("--cache-dir", type=Path,
                        help="the download cache (default $RNNKIT_CACHE or ~/.cache/rnnkit)")


def check_locations(args: argparse.Namespace) -> None:
    """Refuse a ``--data-dir`` or ``$RNNKIT_DATA`` that is not a folder (a typo listed every
    dataset as not found) and a ``--cache-dir`` or ``$RNNKIT_CACHE`` that is a file."""
    from rnnkit.commands.paths import check_folder
    from rnnkit.config import ConfigError
    from rnnkit.data.registry import CACHE_ENV, DATA_ENV, cache_folder, mirror_folder

    folder = mirror_folder(args.data_dir)  # ~ expanded, as the registry reads it
    if folder is not None and not folder.is_dir():
        what = "a file" if folder.exists() else "no folder"
        if args.data_dir is not None:
            raise ConfigError(f"--data-dir {args.data_dir} is {what}; give the folder of the "
                              "data mirror (laid out as DIR/<dataset>/<file>), or leave it out")
        raise ConfigError(f"{DATA_ENV}={folder} is {what}; set it to the folder of the data "
                          "mirror (laid out as DIR/<dataset>/<file>), or unset it to use the "
                          "cache")
    if args.cache_dir is not None:
        check_folder(args.cache_dir, "--cache-dir")
    elif folder is None:  # the cache from the environment, read when no mirror is set
        check_folder(cache_folder(), CACHE_ENV)


def list_command(args: argparse.Namespace) -> int:
    from rnnkit.data.registry import list_datasets

    check_locations(args)
    rows = []
    for row in list_datasets(mirror=args.data_dir, cache_dir=args.cache_dir):
        splits = " ".join(f"{split}:{count}" for split, count in row["splits"].items())
        rows.append({**row, "splits": splits})
    widths = {c: max([len(c)] + [len(str(row[c])) for row in rows]) for c in COLUMNS}
    print("  ".join(c.ljust(widths[c]) for c in COLUMNS).rstrip())
    for row in rows:
        print("  ".join(str(row[c]).ljust(widths[c]) for c in COLUMNS).rstrip())
    print("\ninstalled with pip (no files; use them as data.source):")
    for line in package_rows():
        print(line)
    return 0


def package_rows() -> list[str]:
    """One line per pip-installed dataset: name, task, package, found, what it holds."""
    import importlib.util

    lines = []
    for entry in PACKAGE_DATASETS:
        found = "yes" if importlib.util.find_spec(entry.package) else "no (pip install it)"
        lines.append(f"  {entry.name:<9} {entry.task:<12} {entry.package:<17} {found:<4} "
                     f"{entry.license:<14} {entry.splits}")
    return lines


def default_split(name: str) -> str:
    """``train``, or the only split of a dataset kept whole (``all``)."""
    from rnnkit.data.registry import get_spec

    splits = get_spec(name).splits
    return splits[0] if len(splits) == 1 else "train"


def path_command(args: argparse.Namespace) -> int:
    from rnnkit.data.registry import REGISTRY, dataset_files

    package = next((entry for entry in PACKAGE_DATASETS if entry.name == args.name), None)
    if package is not None and args.name not in REGISTRY:
        raise ValueError(f"{package.name} installs with pip ({package.package}) and has no file "
                         f"to locate: use it as data.source ({package.splits})")
    check_locations(args)
    split = args.split or default_split(args.name)
    paths = dataset_files(args.name, split, mirror=args.data_dir, cache_dir=args.cache_dir,
                          download=not args.no_download)
    for path in paths:
        print(path)
    return 0
