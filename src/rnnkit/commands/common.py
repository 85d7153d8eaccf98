"""Pieces every subcommand shares: config options, and dispatch of bundles by model kind."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import tomllib

from rnnkit.commands.out_folder import (
    check_not_stocks_symbol_folder,
    check_same_task,
    check_written_by_a_run,
)
from rnnkit.commands.paths import FolderPath
from rnnkit.config import (
    RESUMABLE,
    ConfigError,
    check_input_file,
    config_to_dict,
    load_config,
    to_toml,
    toml_text,
    valid_keys,
)

Handler = Callable[[argparse.Namespace], int]
# model kind -> handler for `rnnkit evaluate` / `rnnkit predict` on a bundle of that kind
EVALUATORS: dict[str, Handler] = {}
PREDICTORS: dict[str, Handler] = {}
COLUMN_FLAGS = ("--token-column", "--tag-column")  # a tagger's iob columns, predict/evaluate


RESUME_HELP = ("continue the run in --out from its last.pt; given --out, its config.toml's "
               "settings are the starting point (--set may change only "
               f"{', '.join(RESUMABLE)}, and sample.* for train lm)")


def add_config_options(parser: argparse.ArgumentParser, resume_help: str = RESUME_HELP,
                       example: str = "train.lr=0.003",
                       out_default: str = "a folder under runs/ named after the task and its "
                                          "data") -> None:
    """``--config``, ``--set`` (``example``: a key the task has), ``--out`` (``out_default``:
    where the run goes without it), ``--resume`` and ``--print-config``."""
    parser.add_argument("--config", type=Path, help="a TOML file with the run's sections")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
        help=f"override one setting, e.g. --set {example} (repeatable)",
    )
    parser.add_argument("--out", action=FolderPath,
                        help=f"run folder (default: {out_default})")
    parser.add_argument("--resume", action="store_true", help=resume_help)
    parser.add_argument(
        "--print-config", action="store_true",
        help="print the resolved configuration and every valid key, then exit",
    )


def add_nproc_option(parser: argparse.ArgumentParser) -> None:
    """``--nproc N``: train data-parallel in N processes on this machine (via torchrun)."""
    parser.add_argument(
        "--nproc", type=int, default=1, metavar="N",
        help="train in N processes on this machine, each on 1/N of every batch (PyTorch DDP:"
             " gloo on CPU, one core per process; NCCL with one GPU per process), N at most"
             " the cores (or GPUs); for several machines start rnnkit with torchrun instead"
             " (see the README)",
    )


def add_data_flags(args: argparse.Namespace, names: tuple[str, ...]) -> None:
    """Turn shorthand flags (``--dataset``, ``--train``...) into ``data.<name>=`` overrides,
    placed before the ``--set`` ones so those win; ``--train`` without ``--dataset`` clears the
    configured registry dataset (the files replace it)."""
    shorthand = [f"data.{name}={toml_text(getattr(args, name))}" for name in names
                 if getattr(args, name, None)]
    if getattr(args, "train", None) and not getattr(args, "dataset", None):
        shorthand.append('data.dataset=""')
    args.overrides = shorthand + list(args.overrides)


def resolve_config(config_type: type, args: argparse.Namespace,
                   check: Callable[[Any], None] | None = None,
                   inputs: Callable[[Any, bool], None] | None = None) -> Any | None:
    """The run configuration from the arguments; None after ``--print-config`` printed it.

    ``--resume`` with ``--out`` and no ``--config`` starts from the run's own ``config.toml``,
    so only what changes needs a ``--set``. ``check``: the task's own checks of the settings
    (those its training makes before reading data), run here too, so that ``--print-config``
    and ``train --nproc N`` (which reads the settings once first) refuse what training would;
    so is ``--resume`` of an ``--out`` that holds no run, or with a setting changed that a
    resumed run may not change. ``inputs``: the check that its input files are there, which
    writes the one message for a missing file, whether the run is in one process or checked
    before ``--nproc N`` starts its processes (``args.check_inputs``: else each process
    refused it); ``--print-config`` alone prints the settings whatever files they name."""
    path = args.config
    resume = getattr(args, "resume", False)
    saved = args.out / "config.toml" if args.out else None
    if not resume and saved is not None and saved.is_file():
        check_same_task(config_type, args.out)
        check_written_by_a_run(saved, path)
    if not resume and args.out:
        check_not_stocks_symbol_folder(
            args.out, "this run would write its results.json and plots over the stocks run's "
            "own", f"give another --out, e.g. {args.out / 'mine'}")
    if path is None and resume and saved is not None and saved.is_file():
        path = saved
        try:
            load_config(config_type, saved, check=False)  # the saved settings alone, before
            # any --set: of this task? (the settings to train with are checked next)
        except ConfigError as error:
            first = str(error).split(";")[0]  # not the list of this task's valid keys
            raise ConfigError(f"--resume: {args.out} does not hold a run of this task (its "
                              f"config.toml does not read as one: {first}); give the --out "
                              "folder of a run of this task") from None
    check_other_commands_sections(config_type, args.overrides, path)
    config: Any = load_config(config_type, path, args.overrides)
    if check is not None:
        check(config)
    if getattr(args, "resume", False) and args.out:
        from rnnkit.pipelines.run import check_resumable

        check_resumable(config, args.out)  # here too, so ``--nproc N`` refuses it once, first
    if inputs is not None and (getattr(args, "check_inputs", False) or not args.print_config):
        inputs(config, getattr(args, "check_inputs", False))  # several processes: no pipes
    if args.print_config:
        print(to_toml(config_to_dict(config)))
        print("# valid keys: " + ", ".join(valid_keys(config_type)))
        return None
    return config


# the commands whose settings hold each section only some have (not data, model or train:
# train dqn, the one without train.*, is pointed to its agent.* by the key's name)
SECTION_COMMANDS = {
    "embeddings": ("train tagger", "train classifier"), "tagger": ("train tagger",),
    "classifier": ("train classifier",), "lm": ("train lm",), "sample": ("train lm",),
    "seq2seq": ("train seq2seq",), "forecast": ("train forecaster",),
    "signal": ("train signal", "stocks"), "agent": ("train dqn",),
    "trading": ("train dqn", "stocks"), "run": ("train dqn",),
}


def check_other_commands_sections(config_type: type, overrides: Sequence[str],
                                  path: Path | None = None) -> None:
    """Refuse a ``--set`` of a section this command has not but another has
    (``train forecaster --set signal.mode=long_short``), or such a ``[section]`` of the TOML
    file ``path`` (a signal run's config.toml given to train forecaster), naming the commands
    that read it: the guess among this command's keys misled (``did you mean train.mode?``)."""
    own = [section.name for section in dataclasses.fields(config_type)]
    keys = [override.partition("=")[0].strip() for override in overrides]
    given = [(key.partition(".")[0], f"--set {key}", "leave it out") for key in keys]
    try:  # a file that is not TOML: load_config says why
        tables = tomllib.loads(path.read_text(encoding="utf-8-sig")) if path else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        tables = {}
    given += [(name, f"{path} holds [{name}]", "give the file to that command, or "
               "remove the section") for name, value in tables.items() if isinstance(value, dict)]
    for section, what, fix in given:
        commands = SECTION_COMMANDS.get(section, ())
        if section not in own and commands:
            where = " and ".join(f"rnnkit {command}" for command in commands)
            raise ConfigError(f"{what}: {section}.* are settings of {where}, not of this "
                              f"command, whose sections are {', '.join(own)}: {fix} "
                              "(--print-config lists this command's keys)")


def check_file(path: str | Path, flag: str) -> None:
    """Refuse a ``flag`` naming a file that is not there (before a model is loaded)."""
    check_input_file(path, flag)


def check_source(source: str | None, flag: str) -> None:
    """Refuse a ``flag`` that is neither a time-series source nor an existing file (an empty
    one means the model's own): :func:`rnnkit.pipelines.source_config.check_source`, imported
    when used (it brings pandas)."""
    from rnnkit.pipelines.source_config import check_source as check

    check(source, flag)


def check_date_column(args: argparse.Namespace) -> None:
    """Refuse ``--date-column`` without ``--data``: the model's own data is read with its
    own ``data.date_column``, so the flag would be ignored."""
    if args.date_column and not args.data:
        raise ConfigError(f"--date-column {args.date_column} names the date column of a --data "
                          "file; give --data too, or leave it out (the model's own data is "
                          "read with its data.date_column)")
    from rnnkit.pipelines.source_config import is_file

    if args.date_column and not is_file(args.data):  # a registry series has its own dates
        raise ConfigError(f"--date-column {args.date_column} names the date column of a --data "
                          f"file, and {args.data} is a registry series, read with its own "
                          "dates; leave --date-column out")


def check_series_evaluate_flags(args: argparse.Namespace) -> None:
    """Refuse the ``rnnkit evaluate`` flags a time-series bundle does not read: it is scored on
    the test period of its source (or of ``--data``), so ``--split dev`` would print the test
    period's scores as if they were asked for, and ``--date-column`` names a ``--data`` file's
    date column."""
    given = [flag for flag, value in (("--format", args.format), ("--length", args.length))
             if value is not None] + (["--split"] if args.split != "test" else [])
    if given:
        raise ConfigError(f"a time-series model is scored on the test period of its source "
                          "(the rows after its data.val_end; a walk-forward fold's model: "
                          f"its fold's days): {', '.join(given)} "
                          f"{'does' if len(given) == 1 else 'do'} not apply; leave "
                          f"{'it' if len(given) == 1 else 'them'} out, and give another "
                          "source with --data")
    check_date_column(args)


@contextlib.contextmanager
def read_as(fmt: str, given: str | None, formats: Sequence[str]) -> Iterator[None]:
    """Reading a user's file in the model's format ``fmt`` (``given`` None: no ``--format``):
    an error it raises also says how to read the file in another of ``formats``, but for a
    file whose bytes are no text (not UTF-8, not gzip data), which no format reads."""
    from rnnkit.data.files import EncodingError

    try:
        yield
    except ValueError as error:
        if given or isinstance(error, EncodingError | UnicodeDecodeError):
            raise
        how = ("in the format its name says, as the model's training files were" if fmt == "auto"
               else f"as {fmt}, the format the model trained on")
        raise ValueError(f"{error} (the file was read {how}; if it is in another, pass "
                         f"--format: {', '.join(formats)})") from None


def print_json(value: Any, **options: Any) -> None:
    """Print ``value`` as strict JSON, as ``results.json`` is written: a NaN or infinity (a
    score with nothing to score) is null, which every JSON reader accepts, not ``NaN``."""
    from rnnkit.training.diagnostics import json_safe

    print(json.dumps(json_safe(value), allow_nan=False, **options))


def registry_names(task: str) -> list[str]:
    """The registry datasets of one task (``tagging``, ``translation``...)."""
    from rnnkit.data import registry

    return registry.registry_names(task)
