"""What every training pipeline does around the trainer: run folder, config, bundle, results."""

from __future__ import annotations

import contextlib
import json
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rnnkit.config import check_resume_config, save_config
from rnnkit.data.batching import BatchSource
from rnnkit.training.bundle import save_bundle
from rnnkit.training.checkpoint import atomic_write_text
from rnnkit.training.diagnostics import json_safe as finite  # NaN/inf -> None, recursively
from rnnkit.training.distributed import WorkerFinished
from rnnkit.training.environment import environment_rank
from rnnkit.training.task import TaskModel
from rnnkit.training.trainer import Trainer, TrainResult

RUN_FILES = ("metrics.jsonl", "last.pt", "best.pt", "model.rnnkit", "results.json")  # a fresh
# run removes these of an earlier run in its folder (its config.toml it writes anew)


def train_in_run_dir(
    model: TaskModel,
    config: Any,
    out_dir: str | Path,
    train: BatchSource,
    val: BatchSource | None,
    resume: bool = False,
    log: Any = print,
    observe: dict[str, BatchSource] | None = None,
    files: dict[str, str] | None = None,
    finish: Callable[[Any], None] | None = None,
) -> TrainResult:
    """Save the resolved config, train (resuming from ``last.pt`` if asked), save the bundle.

    The run folder then holds ``config.toml``, ``metrics.jsonl``, ``last.pt``, ``best.pt`` and
    ``model.rnnkit``, and ``files`` (name: text, such as a seq2seq run's ``tokenizers.json``),
    written with ``config.toml`` once the run has passed its checks: a run refused before it
    starts leaves an earlier run's in the folder as they were.

    Started by torchrun, every process trains and rank 0 alone writes; once training is over
    the others raise :class:`~rnnkit.training.distributed.WorkerFinished` (a clean exit), so
    only rank 0 goes on to evaluate and write results. ``finish`` (rank 0) acts on the trained
    model before its bundle is saved (a forecaster's conformal calibration).
    """
    out = Path(out_dir)
    trainer = Trainer(model, config.train, run_dir=out, log=log)  # checks the device first
    trainer.monitor.check(model, val is not None)  # a bad monitor: refused, the folder untouched
    start_run(config, out, resume, log, files)
    if resume:
        trainer.resume()
    result = trainer.fit(train, val, observe)
    trainer.workers.close()
    if environment_rank() != 0:
        raise WorkerFinished(trainer.workers.rank)
    if finish is not None:
        finish(model)
    bundle = save_bundle(model, out / "model.rnnkit")
    log(f"saved {bundle}")
    return result


def start_run(config: Any, out: Path, resume: bool, log: Any = print,
              files: dict[str, str] | None = None) -> None:
    """Ready the run folder ``out`` and write ``config.toml`` and ``files`` (name: text; rank 0
    writes).

    A fresh run removes an earlier run's log, checkpoints, bundle and results, so nothing of it
    leaks in (a plot it wrote stays until this run writes its own). To
    resume, ``out`` must hold a run (its ``config.toml``) with the same settings, but for
    those a resumed run may change (:func:`~rnnkit.config.check_resume_config`); a run that
    stopped before its first checkpoint starts again from scratch. Temporary files a killed
    checkpoint write left behind are removed either way.

    Raises:
        ValueError: ``resume`` and ``out`` holds no run.
        ConfigError: ``resume`` with changed settings.
    """
    if environment_rank() != 0:  # rank 0 alone reads and writes the folder (it may be its own)
        return
    saved = out / "config.toml"
    if resume:
        check_resumable(config, out)
        if not (out / "last.pt").is_file():
            log(f"no checkpoint in {out} yet; starting the run again from scratch")
            resume = False
    out.mkdir(parents=True, exist_ok=True)
    clear_run(out, files=() if resume else RUN_FILES)  # a fresh run: nothing of an earlier
    save_config(config, saved)  # run in this folder may leak into it
    for name, text in (files or {}).items():
        atomic_write_text(out / name, text)


def clear_run(out: Path, files: tuple[str, ...] = RUN_FILES) -> None:
    """Remove ``files`` of the run in ``out`` and the temporary files a write killed half-way
    left there (:func:`~rnnkit.training.checkpoint.atomic_write_bytes`); nothing else."""
    for leftover in out.glob(".*.tmp"):
        leftover.unlink(missing_ok=True)
    for name in files:
        (out / name).unlink(missing_ok=True)


def check_resumable(config: Any, out: Path) -> None:
    """Refuse ``--resume`` of ``out`` when it holds no run, or with changed settings
    (:func:`~rnnkit.config.check_resume_config`)."""
    if not (out / "config.toml").is_file():
        raise ValueError(f"--resume: {out} holds no run to resume (no config.toml); drop "
                         "--resume to start one there, or check the --out folder")
    check_resume_config(config, out / "config.toml")


def write_results(results: dict[str, Any], path: str | Path) -> Path:
    """Write a run's final numbers as strict JSON (a NaN or infinity is written as null),
    atomically: a run killed while writing leaves the old file or the new, never half of one."""
    text = json.dumps(finite(results), indent=2, allow_nan=False) + "\n"
    return atomic_write_text(path, text)


def total_seconds(started: float, result: TrainResult) -> float:
    """A run's seconds so far (``started``: its ``time.perf_counter()`` at the start), with
    the training seconds of the processes before a resume, so never below train_seconds."""
    return round(time.perf_counter() - started + result.earlier_seconds, 1)


@contextlib.contextmanager
def drawing(path: Path) -> Iterator[None]:
    """Run a block that draws the plot ``path`` of scores already computed: a failure there (a
    matplotlib error, a disk too full for the PNG) is a warning naming the plot and the error,
    not the loss of the run's results.json and printed scores.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     with drawing(Path("forecast.png")):
        ...         raise OSError("No space left on device")
        >>> str(caught[0].message)
        'could not draw forecast.png: No space left on device'
    """
    try:
        yield
    except Exception as error:  # any plotting failure: the scores computed still count
        warnings.warn(f"could not draw {Path(path).name}: {error}", stacklevel=3)
