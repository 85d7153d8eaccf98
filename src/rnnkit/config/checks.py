"""Checks of single setting values, each naming its key: choices, bounds, seeds, dates,
threads, devices; and :class:`ConfigError`, the error every refused setting raises."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

NumberT = TypeVar("NumberT", int, float)


class ConfigError(ValueError):
    """A configuration file or override that cannot be used, with the reason."""


ConfigError.__module__ = "rnnkit.config"  # its public name, as tracebacks and doctests show it


def number_list(text: str, key: str, kind: type[NumberT], minimum: float | None = None,
                example: str = "") -> list[NumberT]:
    """The comma-separated numbers of the setting ``key`` (at least one, each ``>= minimum``).

    Example:
        >>> number_list("0.1, 10", "forecast.ridge_alphas", float, minimum=0)
        [0.1, 10.0]
        >>> number_list("1,x", "data.change_lags", int)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: data.change_lags must be whole numbers separated by ...
    """
    what = "whole numbers" if kind is int else "numbers"
    example = example or ("1,2" if kind is int else "0.5,2")
    try:
        values = [kind(part) for part in str(text).split(",") if part.strip()]
    except ValueError:
        values = []
    if not values:
        raise ConfigError(f"{key} must be {what} separated by commas, e.g. {example}; "
                          f"got {text!r}")
    if not all(math.isfinite(value) for value in values):  # nan passed min(): a NaN ridge
        raise ConfigError(f"{key} must be finite {what}; got {text!r}")  # alpha, after training
    if minimum is not None and min(values) < minimum:
        raise ConfigError(f"{key} must be {what} of at least {minimum:g}; got {text!r}")
    return values


def check_utf8(text: str, key: str) -> None:
    """Refuse text of the setting ``key`` that UTF-8 cannot write: the bytes of a name in
    another encoding, which Linux passes on as they are (``--file $'caf\\xe9.txt'``). The
    run's config.toml (TOML is UTF-8) could not hold it: the run failed writing it, after
    reading its data, with "'utf-8' codec can't encode character '\\udce9'", naming nothing.

    Example:
        >>> name = b"caf\\xe9.txt".decode("utf-8", "surrogateescape")  # as Linux passes it
        >>> check_utf8(name, "data.file")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: data.file holds bytes that are not UTF-8 text (...
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ConfigError(f"{key} holds bytes that are not UTF-8 text ({text!r}, at character "
                          f"{error.start}), such as a file name in another encoding: the run's "
                          "config.toml is UTF-8 and cannot hold it; give the text in UTF-8 (a "
                          "file or folder: rename it with UTF-8 characters)") from None


def check_choice(value: str, key: str, choices: Sequence[str]) -> None:
    """Refuse a setting ``key`` that is not one of ``choices``.

    Example:
        >>> check_choice("tertile", "signal.thresholds", ("tertiles", "fixed"))
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: signal.thresholds must be one of tertiles, fixed; got 'tertile'
    """
    if value not in choices:
        raise ConfigError(f"{key} must be one of {', '.join(choices)}; got {value!r}")


def check_at_least(value: float, key: str, minimum: float) -> None:
    """Refuse a number setting ``key`` below ``minimum``, or not a finite number.

    Example:
        >>> check_at_least(float("nan"), "--cost-bps", 0)
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: --cost-bps must be a finite number of at least 0; got nan
    """
    if not math.isfinite(value) or value < minimum:
        what = "a finite number of at least" if not math.isfinite(value) else "at least"
        raise ConfigError(f"{key} must be {what} {minimum:g}; got {value!r}")


def check_at_most(value: int, key: str, maximum: int, why: str) -> None:
    """Refuse a whole-number setting ``key`` above ``maximum``, saying ``why`` it is absurd.

    Example:
        >>> check_at_most(2000, "model.num_layers", 1000, "too deep")
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: model.num_layers must be at most 1000 (too deep); got 2000
    """
    if value > maximum:
        raise ConfigError(f"{key} must be at most {maximum} ({why}); got {value!r}")


MAX_SEED = 2**32 - 1  # NumPy's seeds; torch's shuffling multiplies the seed, so no larger


def check_seed(value: int, key: str) -> None:
    """Refuse a seed ``key`` that NumPy or torch cannot take (both fail with no key named).

    Example:
        >>> check_seed(-1, "train.seed")
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: train.seed must be a whole number from 0 to 4294967295; got -1
    """
    if not 0 <= value <= MAX_SEED:
        raise ConfigError(f"{key} must be a whole number from 0 to {MAX_SEED}; got {value!r}")


def check_fraction(value: float, key: str) -> None:
    """Refuse a setting ``key`` that is not strictly between 0 and 1."""
    if not 0 < value < 1:
        raise ConfigError(f"{key} must be between 0 and 1 (both excluded); got {value!r}")


def check_date(text: str, key: str) -> None:
    """Refuse a setting or flag ``key`` that is not a date, month or year (``2009-12-31``,
    ``2009-12``, ``2009``), the periods the time splits read.

    Example:
        >>> check_date("2014-13-01", "data.test_end")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: data.test_end must be a date such as 2009-12-31 ...
    """
    import pandas as pd

    try:
        valid = pd.Period(str(text)) is not pd.NaT
    except ValueError as error:
        reason, valid = f" ({error})", False
    else:
        reason = ""
    if not valid:
        raise ConfigError(f"{key} must be a date such as 2009-12-31 (or a month 2009-12, or a "
                          f"year 2009); got {text!r}{reason}")


def changed_keys(section: str, values: Any, defaults: Any, names: Iterable[str]) -> list[str]:
    """The keys ``section.name`` among ``names`` whose value differs from ``defaults``: the
    settings a user changed, for refusing those a run would not read.

    Example:
        >>> from rnnkit.config import ModelConfig
        >>> changed_keys("model", ModelConfig(cell="gru"), ModelConfig(), ["cell", "num_layers"])
        ['model.cell']
    """
    return [f"{section}.{name}" for name in names
            if getattr(values, name) != getattr(defaults, name)]


def check_files_beside_dataset(data: Any) -> None:
    """Refuse ``data.train``, ``data.dev`` or ``data.test`` beside a registry ``data.dataset``,
    whose own splits are read: the files would be ignored."""
    files = [f"data.{split}" for split in ("train", "dev", "test") if getattr(data, split)]
    if data.dataset and files:
        raise ConfigError(f"data.dataset={data.dataset} reads that dataset's own splits, so "
                          f"{' and '.join(files)} would not be read: train on your files "
                          "without a dataset (--train alone clears it, or set data.dataset="
                          "\"\"), or leave the files out")


def check_rate(value: float, key: str) -> None:
    """Refuse a probability setting ``key`` (a dropout, label smoothing) outside ``[0, 1)``."""
    if not 0 <= value < 1:
        raise ConfigError(f"{key} must be at least 0 and below 1 (0 = off); got {value!r}")


def check_threads(value: int, key: str) -> None:
    """Refuse a thread count ``key`` far above this machine's cores (torch would start them
    all, or fail with no key named)."""
    cores = os.cpu_count() or 1
    if value > 4 * cores:
        raise ConfigError(f"{key} {value} is far more than this machine's "
                          f"{cores} cores; use at most {cores} (0 = torch's default)")


def check_input_file(path: str | Path, key: str,
                     hint: str = "give the path of an existing file", several: bool = False
                     ) -> None:
    """Refuse a setting ``key`` naming an input file that is not there (or is a folder), before
    any data is read, in one process and before ``--nproc N`` starts its processes (each
    refused a missing file, printing the same line). A pipe (``--file <(...)``), FIFO or
    device is taken in one process, which reads it once; ``several``: the run is in several
    processes, each of which reads its input files, so such a file is refused saying so (a
    pipe can be read once)."""
    file = Path(path)
    if not file.exists() or file.is_dir():
        what = "a folder, not a file" if file.is_dir() else "no such file"
        raise ConfigError(f"{key} {path}: {what}; {hint}")
    if several and not file.is_file():
        raise ConfigError(f"{key} {path}: not a regular file (a pipe, such as <(...), or a "
                          "device), which can be read once, but each of --nproc's processes "
                          "reads its input files; save it to a file and give that, or train "
                          "in one process")


def check_device(device: str) -> None:
    """``train.device`` is ``auto``, ``cpu`` (or ``cpu:0``, torch's name for the same device),
    ``cuda`` or ``cuda:N``. ``cpu:1`` and up are refused: torch takes them but runs on the
    one CPU device all the same, so the number would choose nothing."""
    if device.startswith("cpu:") and device[4:].isdigit() and int(device[4:]) > 0:
        raise ConfigError(f"train.device {device!r}: there is one CPU device, and torch puts "
                          "cpu:N on it whatever N is; use cpu (train in several processes "
                          "with --nproc, or on more cores with train.threads)")
    if device not in ("auto", "cpu", "cpu:0") and not (
            device == "cuda" or device.startswith("cuda:") and device[5:].isdigit()):
        raise ConfigError(f"train.device must be auto, cpu, cuda or cuda:N; got {device!r}")
