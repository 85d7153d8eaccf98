"""Named datasets: where each file comes from, its checksum, and where it lies on this machine.

:func:`dataset_file` finds a file of a registered dataset, in this order:

1. a local mirror, the ``mirror`` argument or else the ``RNNKIT_DATA`` folder, laid out as
   ``<mirror>/<mirror_dir>/<filename>`` (like ``shared/data``). A file missing there is an
   error, never a silent download;
2. the cache, ``cache_dir`` or ``RNNKIT_CACHE`` or ``~/.cache/rnnkit``, at
   ``<cache>/<mirror_dir>/<filename>``;
3. a download from the file's URL into the cache (unpacked from an archive or gzip if need be).

Every file is checked against its SHA-256 the first time a process uses it. A new dataset is
one :func:`register` call of a :class:`~rnnkit.data.dataset_spec.DatasetSpec` (imported here
too); the entries are in :mod:`rnnkit.data.catalog`.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

from rnnkit.data.dataset_spec import DatasetFile, DatasetSpec
from rnnkit.data.download import fetch_file, verify_sha256

DATA_ENV = "RNNKIT_DATA"
CACHE_ENV = "RNNKIT_CACHE"


REGISTRY: dict[str, DatasetSpec] = {}


def register(spec: DatasetSpec, replace: bool = False) -> DatasetSpec:
    """Add a dataset to :data:`REGISTRY` (a name already there is an error unless ``replace``)."""
    if spec.name in REGISTRY and not replace:
        raise ValueError(f"dataset {spec.name!r} is already registered")
    REGISTRY[spec.name] = spec
    return spec


def get_spec(name: str) -> DatasetSpec:
    """The registered dataset called ``name``; an unknown name is a ValueError listing the known."""
    if name not in REGISTRY:
        near = difflib.get_close_matches(name, list(REGISTRY), n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ValueError(f"unknown dataset {name!r}{hint}; known datasets: "
                         f"{', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def registry_names(task: str) -> list[str]:
    """The registry datasets of one task (``tagging``, ``translation``...), sorted."""
    return sorted(name for name, spec in REGISTRY.items() if spec.task == task)


# how each task's training command reads files of one's own instead of a registry dataset
OWN_FILES = {
    "tagging": "--train, --dev and --test (data.train, data.dev, data.test)",
    "classification": "--train, --dev and --test (data.train, data.dev, data.test)",
    "translation": "--train, --dev and --test, each a file prefix read as PREFIX.SRC and "
                   "PREFIX.TGT (data.train, data.dev, data.test)",
    "language_model": "--file (data.file)",
}


def get_task_spec(name: str, task: str, reader: str) -> DatasetSpec:
    """The registered dataset called ``name``, which must be one of ``task``: ``reader`` (such
    as "a classifier") names what reads it in the error.

    Example:
        >>> get_task_spec("wnut17", "classification", "a classifier")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ValueError: dataset 'wnut17' is a tagging dataset, and a classifier reads ... (imdb, sst)...
    """
    if name not in REGISTRY and ("/" in name or os.sep in name or Path(name).suffix
                                 or Path(name).exists()):  # a file given as the dataset
        raise ValueError(f"{name!r} is not a registry dataset but a file's name: {reader} "
                         f"reads files of your own with {OWN_FILES.get(task, 'its file flags')}"
                         f" and no dataset; its datasets: {', '.join(registry_names(task))}")
    spec = get_spec(name)
    if spec.task != task:
        fitting = ", ".join(registry_names(task))
        raise ValueError(f"dataset {name!r} is a {spec.task.replace('_', ' ')} dataset, and "
                         f"{reader} reads {task.replace('_', ' ')} datasets ({fitting}); give "
                         "one of those, or files of your own")
    return spec


def mirror_folder(mirror: str | Path | None = None) -> Path | None:
    """The local mirror: ``mirror``, else ``$RNNKIT_DATA``, else None."""
    chosen = mirror if mirror is not None else os.environ.get(DATA_ENV) or None
    return None if chosen is None else Path(chosen).expanduser()


def check_mirror(folder: Path, given_by: str = DATA_ENV) -> None:
    """Refuse a mirror that is no folder: every file would be missing from it, and the
    message would say so file by file, as if the folder were only incomplete.

    Raises:
        FileNotFoundError: naming the path, what it is, and ``given_by`` (the flag or variable
            that chose it).
    """
    if not folder.is_dir():
        what = "a file" if folder.exists() else "no folder (it does not exist)"
        raise FileNotFoundError(
            f"the data mirror {folder} ({given_by}) is {what}; point it at the folder of the "
            f"mirror, laid out as <folder>/<dataset>/<file> like shared/data, or leave "
            f"--data-dir and {DATA_ENV} unset to download into the cache")


def cache_folder(cache_dir: str | Path | None = None) -> Path:
    """The download cache: ``cache_dir``, else ``$RNNKIT_CACHE``, else ``~/.cache/rnnkit``."""
    chosen = cache_dir if cache_dir is not None else os.environ.get(CACHE_ENV) or None
    return Path(chosen if chosen is not None else "~/.cache/rnnkit").expanduser()


def dataset_file(
    name: str,
    split: str,
    mirror: str | Path | None = None,
    cache_dir: str | Path | None = None,
    download: bool = True,
) -> Path:
    """The checked local path of the one file of a split (see the module docstring for where).

    Raises:
        ValueError: unknown dataset or split, a split of several files (use
            :func:`dataset_files`), or a checksum mismatch.
        FileNotFoundError: not in the mirror, or not cached and ``download`` is False.
        OSError: the download failed.

    Example:
        >>> dataset_file("wnut17", "validation")
        Traceback (most recent call last):
        ValueError: dataset 'wnut17' has no split 'validation'; its splits: train, dev, test

        With a mirror, ``dataset_file("wnut17", "dev", mirror="../shared/data")`` is
        ``../shared/data/wnut17/emerging.dev.conll``.
    """
    paths = dataset_files(name, split, mirror, cache_dir, download)
    if len(paths) != 1:
        names = ", ".join(path.name for path in paths)
        raise ValueError(f"split {split!r} of {name!r} has {len(paths)} files ({names}); "
                         "use dataset_files")
    return paths[0]


def dataset_files(
    name: str,
    split: str,
    mirror: str | Path | None = None,
    cache_dir: str | Path | None = None,
    download: bool = True,
    names: Collection[str] | None = None,
) -> list[Path]:
    """The checked local paths of every file of a split (or only those ``names``); see
    :func:`dataset_file`."""
    spec = get_spec(name)
    return [_locate(spec, entry, mirror, cache_dir, download) for entry in spec.split_files(split)
            if names is None or entry.filename in names]


def _locate(
    spec: DatasetSpec, entry: DatasetFile, mirror: str | Path | None,
    cache_dir: str | Path | None, download: bool,
) -> Path:
    folder = mirror_folder(mirror)
    if folder is not None:
        check_mirror(folder, "--data-dir, data.data_dir" if mirror is not None else DATA_ENV)
        path = folder / spec.mirror_dir / entry.filename
        if not path.is_file():
            raise FileNotFoundError(
                f"{spec.name} ({entry.split}): {entry.filename} is not in the data mirror "
                f"{folder} (looked for {path}). Point --data-dir or {DATA_ENV} at a folder laid "
                f"out as <folder>/{spec.mirror_dir}/{entry.filename}, like shared/data, or "
                f"leave both unset to download into the cache"
            )
        verify_sha256(path, entry.sha256, hint="the mirror's copy is damaged or another "
                      "version: copy the file again from the dataset's source, or "
                      f"leave --data-dir and {DATA_ENV} unset to download it")
        return path
    cache = cache_folder(cache_dir)
    path = cache / spec.mirror_dir / entry.filename
    if not path.is_file():  # (a file there: every folder above it is one)
        blocker = next((folder for folder in (path.parent, *path.parent.parents)
                        if folder.exists() and not folder.is_dir()), None)
        if blocker is not None:  # mkdir said only '[Errno 20] Not a directory: <cache>/<set>'
            raise ValueError(
                f"the download cache {cache} ("
                f"{'--cache-dir' if cache_dir is not None else CACHE_ENV}) cannot hold "
                f"{entry.filename}: {blocker} is a file, not a folder; point it at a folder "
                "(made if missing), or move the file away")
        if not entry.url:
            raise FileNotFoundError(
                f"{spec.name} ({entry.split}): {entry.filename} has no download, only a "
                f"local mirror has it (see {spec.homepage}); pass --data-dir or set {DATA_ENV} "
                f"to a folder laid out as <folder>/{spec.mirror_dir}/{entry.filename}"
            )
        if not download:
            raise FileNotFoundError(
                f"{spec.name} ({entry.split}): {entry.filename} is not in the cache (looked for "
                f"{path}) and downloading is off; allow it, or use a local mirror with "
                f"--data-dir or {DATA_ENV}"
            )
        fetch_file(entry, path, offline=f"use a local mirror with --data-dir or {DATA_ENV}")
    verify_sha256(path, entry.sha256, hint=f"delete {path} to download it again")
    return path


def list_datasets(
    mirror: str | Path | None = None, cache_dir: str | Path | None = None
) -> list[dict[str, Any]]:
    """One row per registered dataset, for a table; ``found`` says where its files lie.

    ``found`` is ``mirror`` or ``cache`` when every file is there (existence only, no checksum),
    ``k/n files`` when some are, else ``no``. Only the place :func:`dataset_file` would read
    counts: the mirror when one is set (a file missing there is an error, even if cached),
    else the cache.
    """
    folder = mirror_folder(mirror)
    root, place = (folder, "mirror") if folder is not None else (cache_folder(cache_dir), "cache")
    rows = []
    for spec in sorted(REGISTRY.values(), key=lambda spec: spec.name):
        present, total = _files_present(root, spec), len(spec.files)
        found = (place if present == total else f"{present}/{total} files" if present
                 else "no")
        rows.append({
            "name": spec.name, "task": spec.task, "format": spec.format,
            "splits": {split: len(spec.split_files(split)) for split in spec.splits},
            "license": spec.license, "homepage": spec.homepage, "found": found,
            "description": spec.description,
        })
    return rows


def _files_present(root: Path | None, spec: DatasetSpec) -> int:
    if root is None:
        return 0
    return sum((root / spec.mirror_dir / entry.filename).is_file() for entry in spec.files)


# every dataset entry lives in the catalog; importing it here registers them all
from rnnkit.data import catalog  # noqa: E402,F401
