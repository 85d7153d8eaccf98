"""Shared helpers for rnnkit's benchmarks: machine description and result files.

Every benchmark writes one ``benchmarks/results/<name>.json`` through :func:`write_result`, with
the same top-level keys, so results from different runs and machines can be compared.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from rnnkit.info import cpu_model

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine_info() -> dict[str, Any]:
    """Where a benchmark ran: CPU, cores, torch threads, GPU (None without CUDA), load, OS."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    return {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "torch_num_threads": torch.get_num_threads(),
        "gpu": gpu,
        "load_average": load,  # 1, 5, 15 minutes; > ~0.5 on an idle box means noisy timings
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def command_line() -> str:
    """The command that started this process, interpreter included, quoted for a shell."""
    return shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table; cells are rendered with ``str``."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_result(
    name: str,
    *,
    metric: str,
    value: float | None,
    unit: str,
    baseline: Mapping[str, Any],
    command: str,
    seconds: float,
    rows: Sequence[Mapping[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
    path: str | Path | None = None,
) -> Path:
    """Write one benchmark's result as JSON and return the file's path.

    Args:
        name: the benchmark's name; the file is ``benchmarks/results/<name>.json``.
        metric: what ``value`` measures (the headline number).
        value: the headline number (None when the run measured nothing it applies to).
        unit: ``value``'s unit.
        baseline: what ``value`` is compared against, with at least ``name`` and ``value``.
        command: the exact command that reproduces the result.
        seconds: wall time of the whole benchmark.
        rows: per-configuration results (optional).
        extra: anything else worth keeping (settings, notes); merged in as ``extra``.
        path: write here instead of the default location.
    """
    import rnnkit  # here, so --help and machine_info work without the package
    from rnnkit.training.checkpoint import atomic_write_text

    if "name" not in baseline or "value" not in baseline:
        raise ValueError("baseline needs at least 'name' and 'value'")
    result: dict[str, Any] = {
        "name": name,
        "metric": metric,
        "value": value,
        "unit": unit,
        "baseline": dict(baseline),
        "command": command,
        "machine": machine_info(),
        "torch_version": torch.__version__,
        "rnnkit_version": rnnkit.__version__,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(seconds, 3),
        "rows": list(rows) if rows is not None else [],
        "extra": dict(extra) if extra is not None else {},
    }
    target = Path(path) if path is not None else RESULTS_DIR / f"{name}.json"
    # allow_nan=False: a NaN/inf would make the file invalid JSON; use None for "no value".
    # Atomically: a run killed mid-write keeps the recorded file whole.
    atomic_write_text(target, json.dumps(result, indent=2, allow_nan=False) + "\n")
    return target


def train_seconds(results: dict[str, Any]) -> float:
    """Training time; a resumed run's own clock may miss the epochs before the resume, the
    per-epoch history (seconds since the start of training) does not."""
    history = results["history"]
    return max(results["train_seconds"], history[-1]["seconds"] if history else 0.0)
