"""The ``rnnkit`` command line: parses, calls the library, prints. ``main(argv) -> exit code``.

Each subcommand lives in :mod:`rnnkit.commands` and registers itself here.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import gzip
import importlib
import io
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tomllib

from rnnkit.commands.common import add_nproc_option
from rnnkit.commands.out_folder import check_not_a_run
from rnnkit.commands.parser import Parser
from rnnkit.commands.paths import check_folder
from rnnkit.config import ConfigError
from rnnkit.config.sections import check_whole
from rnnkit.training.bundle import BundleError
from rnnkit.training.checkpoint import CheckpointError
from rnnkit.training.distributed import LOST_EXIT_CODE, WorkerLost
from rnnkit.training.environment import environment_rank, environment_world_size
from rnnkit.training.interruption import TrainingInterrupted
from rnnkit.training.launch import (
    check_process_count,
    check_process_limit,
    launch,
    launched,
    reports_interruption,
)
from rnnkit.training.monitor import TrainingDiverged

COMMAND_MODULES = (
    "info", "datasets", "synthetic", "tagger", "forecaster", "signal", "evaluate", "forecast",
    "backtest", "stocks", "diagnose", "word2vec", "seq2seq", "language_model", "classifier",
    "dqn",
)
SINGLE_PROCESS_TASKS = ("dqn",)  # trains its own loop (replay, target network), not the Trainer
SINGLE_PROCESS_COMMANDS = ("stocks",)  # trains several models one after the other
USER_ERRORS = (ValueError, ConfigError, BundleError, CheckpointError, TrainingDiverged, OSError)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="rnnkit", description="Recurrent neural networks: train, evaluate, diagnose."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train = commands.add_parser("train", help="train a model; the run folder gets a bundle")
    train_tasks = train.add_subparsers(dest="task", required=True, metavar="TASK")
    for name in COMMAND_MODULES:
        importlib.import_module(f"rnnkit.commands.{name}").register(commands, train_tasks)
    for name, task in train_tasks.choices.items():  # tasks that train through the one trainer
        if name not in SINGLE_PROCESS_TASKS:
            add_nproc_option(task)
        else:  # taken, to be refused in words (argparse said only 'unrecognized arguments')
            task.add_argument("--nproc", type=int, default=1, help=argparse.SUPPRESS)
    for name in SINGLE_PROCESS_COMMANDS:
        commands.choices[name].add_argument("--nproc", type=int, default=1,
                                            help=argparse.SUPPRESS)
    return parser


def check_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Read the command's settings as ``--print-config`` does (printing nothing): a wrong one
    raises here, before the processes start, instead of in each of them. Returns them as
    ``--print-config`` would have printed them, ``{section: {key: value}}``."""
    checking = argparse.Namespace(**vars(args))
    checking.print_config = True
    checking.check_inputs = True  # the input files too, which --print-config does not read
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        checking.handler(checking)
    return tomllib.loads(printed.getvalue())


def check_whole_numbers(args: argparse.Namespace) -> None:
    """Refuse a whole-number flag torch and NumPy cannot take (``--size 2**70``): past
    2**63 - 1 they failed deep inside with 'Overflow when unpacking long long', a traceback,
    or (``generate --length``) ran without end. The config's settings are checked alike;
    seeds have their own ranges (``generate --seed`` takes up to 2**64 - 1)."""
    for name, value in vars(args).items():
        whole = isinstance(value, int) and not isinstance(value, bool)
        if name != "seed" and whole:
            check_whole(value, "--" + name.replace("_", "-"))


def expand_home(args: argparse.Namespace) -> None:
    """Expand ``~`` in the path flags (``--out``, ``--config``, ``--model``...): the shell
    expands it in ``--out ~/runs/x`` but not in ``--out=~/runs/x``, which made a folder named
    ``~`` in the current one (and ``--config=~/run.toml`` did not exist)."""
    for name, value in vars(args).items():
        if isinstance(value, Path):
            setattr(args, name, value.expanduser())
        elif isinstance(value, list) and value and all(isinstance(v, Path) for v in value):
            setattr(args, name, [path.expanduser() for path in value])  # word2vec's --corpus


def check_out(args: argparse.Namespace) -> None:
    """``--out`` names a folder (word2vec's, its vectors file): refuse a file there before any
    work, not when the first output is written, and a training run's folder as the output of
    a command that scores or trades its model."""
    if getattr(args, "out", None) is not None and args.command != "word2vec":
        check_folder(args.out, "--out")
        if args.command in ("evaluate", "backtest"):
            check_not_a_run(args.out, args.command)


def check_empty_out(args: argparse.Namespace) -> None:
    """Refuse an empty ``--out`` (``--out "$RUN"`` with ``RUN`` unset): read as ``.``, it
    wrote the run, or the evaluation or backtest, into the current folder. The text given is
    kept by :class:`~rnnkit.commands.paths.FolderPath`, however ``--out`` was spelt (``--out=``,
    ``--ou ""``); word2vec's ``--out`` is a file, refused as the folder ``.``."""
    if getattr(args, "empty_out", False):
        raise ConfigError("--out is empty (an unset shell variable?), which would write in the "
                          "current folder; give a folder (--out . for the current one), or "
                          "leave --out out for the default")


def can_resume(args: argparse.Namespace) -> bool:
    """Whether the command continues an interrupted run with ``--resume``: the ``train`` tasks
    and ``rnnkit stocks`` (not the commands without ``--resume``)."""
    return hasattr(args, "resume")


def interrupted_message(args: argparse.Namespace, error: KeyboardInterrupt) -> str:
    """What Ctrl-C stopped, and how to go on: where the trainer saved, when it stopped
    between two optimizer steps (:class:`~rnnkit.training.interruption.TrainingInterrupted`)."""
    if not can_resume(args):
        return "interrupted"
    out = getattr(args, "out", None)
    began = out is None or (Path(out) / "config.toml").is_file()
    if getattr(args, "task", None) == "dqn" and began:  # a seed is saved when it finishes
        stopped = str(error) if isinstance(error, TrainingInterrupted) else "interrupted"
        return (f"{stopped}; continue with --resume (the same command): the seeds finished "
                "are read back, the one under way goes on after its last finished episode (its "
                "supervised models from their last.pt)")
    if isinstance(error, TrainingInterrupted) and error.checkpoint is not None:
        return f"{error}; continue with --resume (the same command)"
    if isinstance(error, TrainingInterrupted) and not error.steps:  # no last.pt: --resume
        # starts that training from scratch (and keeps a walk-forward's finished folds)
        return f"{error}; run the same command with --resume, which starts it from scratch"
    if not began:
        return "interrupted before the run began (nothing to resume): run the command again"
    return "interrupted; continue with --resume"


def check_one_process(args: argparse.Namespace) -> None:
    """Refuse, started by torchrun with other processes, a command that trains in one process
    only: ``train dqn`` ran in every process, each writing the same files, and ``stocks``
    trained its first model on them all, then failed with a traceback at its second; and
    ``--nproc`` given to one of them."""
    if args.command in SINGLE_PROCESS_COMMANDS:
        name = args.command
    elif args.command == "train" and getattr(args, "task", None) in SINGLE_PROCESS_TASKS:
        name = f"train {args.task}"
    else:
        return
    if getattr(args, "nproc", 1) != 1:
        raise ValueError(f"rnnkit {name} trains in one process only, so --nproc (which every "
                         "other train task takes) does not apply; leave it out")
    if not launched():
        return
    raise ValueError(f"rnnkit {name} trains in one process only, but this one was started "
                     f"(by torchrun?) as process {environment_rank()} of "
                     f"{environment_world_size()} (the environment variables RANK and "
                     f"WORLD_SIZE); run it without torchrun, with WORLD_SIZE unset")


def os_error_message(error: OSError) -> str:
    """What the OS refused and what to do: ``[Errno 13] Permission denied: 'runs/x'`` said
    only the first."""
    where = f" {error.filename}" if error.filename else ""
    if isinstance(error, PermissionError) or error.errno == errno.EROFS:
        return (f"cannot read or write{where}: {error.strerror} (no permission, or a "
                "read-only place); give a path you may write to (or read, for an input), "
                "or change its permissions")
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"no space left to write{where} ({error.strerror}); free some space, or "
                "write the output to another disk")
    return str(error)


PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def one_line_warnings(show: Any) -> Any:
    """A ``warnings.showwarning`` that prints rnnkit's own warnings (a data gap, unseen
    characters, a scale unlike training's) as one line, ``rnnkit: warning: ...``, as errors
    read, and passes other libraries' to ``show`` (Python's: a source line under each)."""

    def show_warning(message: Warning | str, category: type[Warning], filename: str,
                     lineno: int, file: Any = None, line: str | None = None) -> None:
        if os.path.abspath(filename).startswith(PACKAGE_DIR + os.sep):
            print(f"rnnkit: warning: {message}", file=sys.stderr if file is None else file)
        else:
            show(message, category, filename, lineno, file, line)

    return show_warning


def check_arguments(args: argparse.Namespace) -> None:
    """What the command line checks of its parsed arguments before a command runs (after
    :func:`expand_home`): ``main`` and the Python front door, ``rnnkit.train``, alike."""
    check_empty_out(args)
    check_whole_numbers(args)
    check_process_count(getattr(args, "nproc", 1))
    check_one_process(args)
    check_out(args)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    expand_home(args)
    nproc = getattr(args, "nproc", 1)
    try:
        check_arguments(args)
        if nproc > 1 and not launched() and not args.print_config:
            settings = check_settings(args)  # once here, not once in every process
            check_process_limit(nproc, settings.get("train", {}).get("device", "auto"))
            return launch(nproc, argv)  # the same command in nproc processes, via torchrun
        with contextlib.ExitStack() as stack:
            stack.enter_context(warnings.catch_warnings())  # restored on return
            warnings.showwarning = one_line_warnings(warnings.showwarning)
            if environment_rank() > 0:  # rank 0 alone prints; errors still go to stderr
                silent = stack.enter_context(open(os.devnull, "w", encoding="utf-8"))
                stack.enter_context(contextlib.redirect_stdout(silent))
                warnings.simplefilter("ignore")  # the same in every process: rank 0 warns
                logging.disable(logging.WARNING)  # logged warnings too; errors still print
                stack.callback(logging.disable, logging.NOTSET)
            return int(args.handler(args))
    except BrokenPipeError:  # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        if not hasattr(args, "resume") or getattr(args, "print_config", False):
            return 0  # predictions or settings cut short as asked: not an error, no run
        advice = "; continue it with --resume" if can_resume(args) else ""  # a run: stopped
        try:  # `2>&1 | head`: standard error is the same closed pipe, and says nothing
            print("rnnkit: error: standard output was closed (piped into head?), which "
                  f"stopped the run{advice}; to keep only some lines, write them to a file "
                  "first", file=sys.stderr, flush=True)
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stderr.fileno())  # no error at exit
        return 141  # as a shell reports a process stopped by SIGPIPE
    except WorkerLost as error:  # another training process failed: its error is the cause
        print(f"rnnkit: error: {error}", file=sys.stderr, flush=True)
        return LOST_EXIT_CODE
    except FileNotFoundError as error:  # the OS's, for a path given on the command line or
        message = (f"no such file or folder: {error.filename}; check the path given"  # in a
                   if error.filename else str(error))  # setting; rnnkit's own say more
        print(f"rnnkit: error: {message}", file=sys.stderr)
        return 2
    except IsADirectoryError as error:
        print(f"rnnkit: error: {error.filename} is a folder; give a file", file=sys.stderr)
        return 2
    except UnicodeDecodeError as error:
        print(f"rnnkit: error: an input file is not UTF-8 text ({error.reason} at byte "
              f"{error.start}: {error.object[error.start:error.start + 4]!r}); save it as "
              "UTF-8, or check that it is the text file you meant", file=sys.stderr)
        return 2
    except gzip.BadGzipFile as error:
        print(f"rnnkit: error: a file named .gz is not gzip-compressed ({error}); rename it "
              "without .gz, or compress it", file=sys.stderr)
        return 2
    except OSError as error:  # a place that cannot be written, a full disk
        print(f"rnnkit: error: {os_error_message(error)}", file=sys.stderr)
        return 2
    except USER_ERRORS as error:
        print(f"rnnkit: error: {error}", file=sys.stderr)
        return 2
    except (MemoryError, RuntimeError) as error:  # after USER_ERRORS: TrainingDiverged is a
        # RuntimeError, which this branch re-raised as a traceback
        if not isinstance(error, MemoryError) and not any(  # torch's "Storage size
                sign in str(error) for sign in ("allocate", "size calculation overflowed")):
            raise  # calculation overflowed": sizes whose product passes 2**63 elements
        print("rnnkit: error: out of memory: the settings ask for more than this machine has;"
              " lower the sizes (model.hidden_size, num_layers, batch_size, lengths)",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt as error:
        if reports_interruption():  # one line a run: not one per training process
            print(f"rnnkit: {interrupted_message(args, error)}", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
