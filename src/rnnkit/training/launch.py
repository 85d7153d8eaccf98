"""``rnnkit train <task> --nproc N``: start N training processes on this machine.

The launcher is torchrun's own (``torch.distributed.launcher``, as ``torchrun --standalone``):
it starts N copies of the same ``rnnkit`` command with RANK, WORLD_SIZE, LOCAL_RANK,
MASTER_ADDR and MASTER_PORT set, watches them, and stops them all as soon as one fails. This
module turns its failure report into one clear line: which process failed and how, and that
``--resume`` continues the run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from rnnkit.training.distributed import LOST_EXIT_CODE, RESUME_HINT
from rnnkit.training.environment import (
    environment_number,
    environment_rank,
    environment_world_size,
    resolve_device,
)

_SIGNALS = ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT")  # those torch's launcher takes over

# What each process runs: ``python -m rnnkit`` with the command's arguments, torch's C++
# warnings left to rank 0 (``TORCH_CPP_LOG_LEVEL=ERROR`` in the others, unless set): every
# process printed the same ones, e.g. a CRF tagger's 'find_unused_parameters=True was specified
# in DDP constructor, but did not find any unused parameters' once per process. torch reads
# the level as it loads, hence before ``import rnnkit``; errors still print in every process.
# Each is marked as one of ``--nproc`` (:data:`LAUNCHER_WORKER`): its launcher reports Ctrl-C.
# A process ends with ``os._exit`` once the command has returned its exit code (its output
# flushed, its files closed by then), not through the interpreter's finalization: a process
# that leaves with gloo's worker threads alive (Ctrl-C mid-step, with no destroy_process_group)
# could die there of SIGABRT ('terminate called without an active exception'), which the
# launcher then reported instead of the process's own exit (seen once in a loaded CI run).
LAUNCHER_WORKER = "RNNKIT_LAUNCHER_WORKER"
WORKER = ("import logging, os, runpy, sys\n"
          f"os.environ[{LAUNCHER_WORKER!r}] = '1'\n"
          "if os.environ.get('RANK', '0') != '0':\n"
          "    os.environ.setdefault('TORCH_CPP_LOG_LEVEL', 'ERROR')\n"
          "code = 0\n"
          "try:\n"
          "    runpy.run_module('rnnkit', run_name='__main__', alter_sys=True)\n"
          "except SystemExit as stop:\n"
          "    code = stop.code if isinstance(stop.code, int) else stop.code is not None\n"
          "    if isinstance(stop.code, str):\n"
          "        print(stop.code, file=sys.stderr)\n"
          "logging.shutdown()\n"
          "sys.stdout.flush()\n"
          "sys.stderr.flush()\n"
          "os._exit(int(code))\n")


def launched() -> bool:
    """True inside a process that torchrun started with other processes."""
    return environment_world_size() > 1


def reports_interruption() -> bool:
    """Whether this process prints the line on Ctrl-C: one line for a run, not one per
    process. Not a process that ``--nproc`` started (the launcher prints its own line), nor
    a process of torchrun's other than rank 0; any other process does."""
    if os.environ.get(LAUNCHER_WORKER) == "1":
        return False
    return environment_rank() == 0


def launch(nproc: int, argv: Sequence[str]) -> int:
    """Run ``rnnkit <argv>`` in ``nproc`` processes on this machine; return an exit code.

    The processes see the same arguments (``--nproc`` included: inside torchrun it only checks
    that the process count matches). Their output goes to this terminal; rank 0 alone prints
    (and alone prints torch's C++ warnings, see :data:`WORKER`).
    Unless ``OMP_NUM_THREADS`` says otherwise, each gets an equal share of the CPU cores.
    """
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    if nproc < 1:
        raise ValueError(f"--nproc must be >= 1, got {nproc}")
    config = LaunchConfig(
        min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=f"rnnkit-{uuid.uuid4().hex}",
        rdzv_backend="c10d", rdzv_endpoint="localhost:0",  # a free port on this machine
        max_restarts=0, monitor_interval=0.2,
    )
    _quiet_elastic_loggers()  # we report
    threads = str(max(1, usable_cores() // nproc))
    with _restored_process_state(), _environment(OMP_NUM_THREADS=threads):
        try:
            elastic_launch(config, sys.executable)("-c", WORKER, *argv)
        except ChildFailedError as error:
            print(f"rnnkit: error: {describe_failure(error.failures)}", file=sys.stderr)
            return 2 if _first_failure(error.failures)[1].exitcode == 2 else 1
        except SignalException as error:
            print(f"rnnkit: interrupted ({error.sigval.name}); continue with --resume, from "
                  "the last checkpoint (an epoch's end, or train.checkpoint_every): a run on "
                  "several processes saves none when interrupted", file=sys.stderr)
            return 130
    return 0


def _quiet_elastic_loggers() -> None:
    """Silence torch's launcher: its modules' loggers have levels of their own (``LOGLEVEL``,
    else WARNING), so the parent's level alone let through 'Received 15 death signal,
    shutting down workers' above rnnkit's own line when the run was interrupted."""
    prefix = "torch.distributed.elastic"
    for name in [prefix, *logging.root.manager.loggerDict]:
        if name == prefix or name.startswith(prefix + "."):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _first_failure(failures: dict[int, Any]) -> tuple[int, Any]:
    """The rank that failed first and its failure, not one stopped because of it."""
    def stopped_by_another(rank: int) -> bool:  # by the launcher, or by the loss of a peer
        return failures[rank].exitcode in (-signal.SIGTERM, LOST_EXIT_CODE)

    causes = [rank for rank in failures if not stopped_by_another(rank)] or list(failures)
    rank = min(causes, key=lambda r: (failures[r].timestamp, r))
    return rank, failures[rank]


def describe_failure(failures: dict[int, Any]) -> str:
    """One line on the process that failed first (not on those stopped because of it).

    Args:
        failures: rank -> torch's ``ProcessFailure`` (``exitcode``, negative for a signal;
            ``pid``; ``timestamp``; ``signal_name()``).
    """
    rank, failure = _first_failure(failures)
    if failure.exitcode == 2:  # rnnkit's own refusal of the settings or data: no run to resume
        return (f"training process rank {rank} (pid {failure.pid}) stopped on the error above; "
                "fix it and run the command again")
    if failure.exitcode < 0:
        how = f"was killed by {failure.signal_name()}"
    elif failure.exitcode == 130:  # its own Ctrl-C (SIGINT to it alone), which it leaves to us
        how = "was interrupted (SIGINT)"
    else:
        how = f"exited with code {failure.exitcode} (its error is printed above)"
    return (f"training process rank {rank} (pid {failure.pid}) {how}, so the run stopped;"
            f" the {RESUME_HINT}")


def check_process_count(nproc: int) -> None:
    """``--nproc`` is at least 1, and inside torchrun (when given) it must match the
    processes torchrun started here."""
    if nproc < 1:
        raise ValueError(f"--nproc must be at least 1 (the processes to train in), got {nproc}")
    if nproc > 1 and launched() and not os.environ.get("TORCHELASTIC_RUN_ID"):
        # torchrun sets TORCHELASTIC_RUN_ID with WORLD_SIZE: this one was set by hand, or
        # left over; trusted, the run waited for processes that nothing would start
        raise ValueError(
            f"--nproc {nproc} starts {nproc} processes, but the environment variable "
            f"WORLD_SIZE is already {environment_world_size()} here, as in a process torchrun "
            "started (an export left over from another run?); unset WORLD_SIZE, RANK, "
            "LOCAL_RANK, MASTER_ADDR and MASTER_PORT, or drop --nproc if a launcher started "
            "this command")
    local = environment_number("LOCAL_WORLD_SIZE", environment_world_size())
    if nproc > 1 and launched() and nproc != local:
        raise ValueError(f"--nproc {nproc} but torchrun started {local} processes on this"
                         " machine; drop --nproc when starting rnnkit with torchrun")


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity, where the system has one)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores or 1


def check_process_limit(nproc: int, device: str) -> None:
    """Refuse more processes than this machine trains in at once: one GPU each when
    ``train.device`` (``device``) is CUDA, else one CPU core each. More are killed for memory
    or crawl, and the run stops half done."""
    import torch

    if resolve_device(device).type == "cuda":
        gpus = torch.cuda.device_count()
        if nproc > gpus:
            raise ValueError(f"--nproc {nproc} is more than the {gpus} GPU(s) visible here, and "
                             f"each process trains on its own (train.device={device}); use "
                             f"--nproc {gpus} or fewer, or set train.device=cpu")
        return
    cores = usable_cores()
    if nproc > cores:
        raise ValueError(f"--nproc {nproc} is more than the {cores} CPU core(s) this machine "
                         f"lets rnnkit use, and each process needs one; use --nproc {cores} "
                         "or fewer")


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set environment variables that are not set yet (the workers inherit them)."""
    added = [name for name in values if name not in os.environ]
    os.environ.update({name: values[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


@contextlib.contextmanager
def _restored_process_state() -> Iterator[None]:
    """Undo what torch's launcher changes in this process: signal handlers, one variable."""
    main = threading.current_thread() is threading.main_thread()
    handlers = {name: signal.getsignal(getattr(signal, name)) for name in _SIGNALS} if main else {}
    variable = os.environ.get("TORCHELASTIC_SIGNALS_TO_HANDLE")
    try:
        yield
    finally:
        for name, handler in handlers.items():
            if handler is not None:  # None: set outside Python, cannot be put back
                signal.signal(getattr(signal, name), handler)
        if variable is None:
            os.environ.pop("TORCHELASTIC_SIGNALS_TO_HANDLE", None)
        else:
            os.environ["TORCHELASTIC_SIGNALS_TO_HANDLE"] = variable
