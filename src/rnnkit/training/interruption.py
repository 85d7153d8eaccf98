"""Ctrl-C during training: finish the optimizer step, save a checkpoint, then stop.

Python's own SIGINT handler raises :class:`KeyboardInterrupt` wherever the program happens to
be: inside a forward pass, between ``backward`` and the optimizer step. Nothing of such a state
can be saved, so the work since the last checkpoint was lost. While
:meth:`~rnnkit.training.trainer.Trainer.fit` trains, :func:`catch_interrupt` puts a handler in
its place that only raises a flag; the trainer looks at it between two optimizer steps (before
each batch, between two truncated-BPTT windows, before an epoch's validation and before each
batch of it, which drops the validation: the point saved is the one before it, and the resumed
run validates the epoch), writes ``last.pt`` there as ``train.checkpoint_every`` does, and raises
:class:`TrainingInterrupted`, a :class:`KeyboardInterrupt` that says where it saved. A second
Ctrl-C raises :class:`KeyboardInterrupt` at once, as Python's handler does. The handler in place
before is put back when training ends, however it ends.

The handler is installed only where it is Python's own (``signal.default_int_handler``) in the
main thread, so an ignored SIGINT (``nohup``, a background job) or a handler of the program that
calls the trainer is left alone, and only in a run of one process: the processes of a
distributed run would each see the flag at another step, and a checkpoint needs them all at the
same one, so there Ctrl-C stops the run at once, as before, and ``--resume`` goes on from the
last checkpoint (an epoch's end, or ``train.checkpoint_every``). A training inside another's
(a model trained in the outer one's data source or callback) finds the outer's handler in
place and shares its flag: Ctrl-C stops the inner one at its next step, then the outer.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

UNDER_WAY = "finishing the optimizer step or validation batch under way"


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped training between two optimizer steps, after ``checkpoint`` was written
    (None without a run folder, or before the first step: nothing to save).

    Attributes:
        checkpoint: the file that holds the state to resume from, or None.
        steps: the optimizer steps taken when training stopped.
    """

    def __init__(self, message: str, checkpoint: Path | None, steps: int) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint
        self.steps = steps

    def __str__(self) -> str:
        return str(self.args[0])

    @classmethod
    def at(cls, steps: int, epoch: int, batch: int, window: int,
           run_dir: Path | None) -> TrainingInterrupted:
        """The error of a run stopped after ``steps`` optimizer steps, ``epoch`` epochs and
        ``batch`` batches (and ``window`` truncated-BPTT windows) of the next, whose
        checkpoint is ``run_dir/last.pt``. Before the first optimizer step there is nothing to
        save: the run starts from scratch again."""
        if not (steps or batch or window):
            return cls("interrupted before the first optimizer step; nothing saved (nothing "
                       "trained yet)", None, 0)
        where = f"in epoch {epoch + 1}, after batch {batch}" if batch or window else (
            f"after epoch {epoch}")
        if window:
            where += f" and window {window} of the next"
        kept = run_dir / "last.pt" if run_dir is not None else None
        saved = f"saved {kept}" if kept is not None else "nothing saved (no run folder)"
        return cls(f"interrupted after optimizer step {steps} ({where}); {saved}", kept, steps)


class ValidationAbandoned(Exception):
    """Ctrl-C during an epoch's validation: the trainer drops it and saves the point before
    it (the epoch's batches all trained), which a resumed run validates."""


class InterruptFlag:
    """Whether Ctrl-C asked training to stop (``requested``), and whether the training saves a
    checkpoint when it stops (``saving``: it has a run folder), which the note printed at the
    first Ctrl-C says."""

    def __init__(self, saving: bool = True) -> None:
        self.requested = False
        self.saving = saving

    def note(self) -> str:
        """The line printed at the first Ctrl-C."""
        if self.saving:
            return (f"\nrnnkit: interrupted: {UNDER_WAY} to save a checkpoint; Ctrl-C again "
                    "stops at once, without it\n")
        return (f"\nrnnkit: interrupted: {UNDER_WAY}, then stopping (no run folder: nothing "
                "is saved); Ctrl-C again stops at once\n")

    def handle(self, signum: int, frame: FrameType | None) -> None:
        """The SIGINT handler: the first raises the flag, a second stops at once."""
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        announce(self.note())


def announce(text: str) -> None:
    """Write ``text`` to standard error from a signal handler, never raising.

    Where ``sys.stderr`` is the process's own (``sys.__stderr__``), the text goes to file
    descriptor 2 with ``os.write``: the same place, and safe where the handler runs inside a
    write to that stream (a write blocked on a full pipe or a slow terminal runs the handler
    within it, holding the stream's lock, and a second write from the handler would raise
    "reentrant call"; a progress bar writes to it all the time). Where it was replaced
    (Jupyter, ``contextlib.redirect_stderr``, a test's capture), its own ``write``, since
    descriptor 2 is not where the user reads (ipykernel's stream takes a reentrant lock, so a
    write from the handler is safe there); ``os.write`` if that write fails.
    """
    stream = sys.stderr
    if stream is not None and stream is not sys.__stderr__:
        try:
            stream.write(text)
            stream.flush()
            return
        except Exception:  # a handler must not raise into the training: os.write below
            pass
    with contextlib.suppress(OSError):
        os.write(2, text.encode("ascii", "replace"))


@contextmanager
def catch_interrupt(enabled: bool = True, saving: bool = True) -> Iterator[InterruptFlag]:
    """A flag that Ctrl-C raises for the duration of the block (see the module's text); with
    ``enabled`` False, or where SIGINT is not Python's own handler in the main thread, the flag
    is never raised and SIGINT is left as it is. Inside another such block (a training inside
    a training) it is that block's flag. ``saving``: whether a checkpoint is written when the
    training stops (the note printed at the first Ctrl-C says it)."""
    flag = InterruptFlag(saving)
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if main else None
    outer = getattr(previous, "__self__", None)
    if enabled and isinstance(outer, InterruptFlag) and previous == outer.handle:
        kept, outer.saving = outer.saving, saving  # the note speaks of the inner training
        try:  # a fit inside another's (in its data source, say): Ctrl-C stops both, the
            yield outer  # inner first; the outer's handler stays, put back by the outer
        finally:
            outer.saving = kept
        return
    if not enabled or previous is not signal.default_int_handler:
        yield flag
        return
    signal.signal(signal.SIGINT, flag.handle)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)
