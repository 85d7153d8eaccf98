"""Data-parallel training on several processes or machines, with PyTorch's own engine.

``torchrun`` (or ``rnnkit train <task> --nproc N``, which starts it) runs the same training
command in every process and tells each one its place through environment variables:
``RANK`` (0 .. WORLD_SIZE-1), ``WORLD_SIZE``, ``LOCAL_RANK`` (its index on its machine),
``MASTER_ADDR`` and ``MASTER_PORT``. :func:`join` reads them, joins the process group (gloo
on CPU, NCCL on CUDA) and returns a :class:`Workers`, the only thing the trainer asks about
other processes. With one process every operation of :class:`Workers` is the identity, so
the trainer has a single code path.

What each process does: it trains a replica of the model wrapped in
:class:`~torch.nn.parallel.DistributedDataParallel` on its share of every global batch; DDP
averages the gradients during ``backward``, so every replica takes the same optimizer step.
Rank 0 alone evaluates, logs and writes files; what it decides reaches the others by broadcast.
"""

from __future__ import annotations

import io
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from rnnkit.data.batching import BatchSource
from rnnkit.training.environment import environment_number, environment_world_size
from rnnkit.training.rendezvous import join_group
from rnnkit.training.task import StepOutput, TaskModel

T = TypeVar("T")
RESUME_HINT = "run folder keeps the last checkpoint: run the same command with --resume"
LOST_EXIT_CODE = 3  # the exit code of a process that stopped because another one failed
_finished = False  # this process already trained on several processes and left the group


class WorkerLost(RuntimeError):
    """Another process of a distributed run stopped, so this one cannot go on."""


def _lost(message: str) -> WorkerLost:
    """The error of a process whose peers are gone. From here on torchrun's SIGTERM, which may
    come while the error is reported or the interpreter shuts down (atexit hooks), ends the
    process at once instead of raising again inside that code with a traceback."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: os._exit(LOST_EXIT_CODE))
    return WorkerLost(message)


class WorkerFinished(SystemExit):
    """Raised on every rank but 0 when distributed training is over.

    Rank 0 alone goes on to evaluate the model and write the bundle and results; the other
    processes have nothing left to do. It is a :class:`SystemExit` with code 0, so a worker
    that does not catch it simply ends successfully.
    """

    def __init__(self, rank: int) -> None:
        super().__init__(0)
        self.rank = rank


@dataclass
class Workers:
    """This process's place among the training processes, and what they do together.

    Attributes:
        rank: this process's number, 0 .. world_size - 1; rank 0 is the main process.
        world_size: how many processes train together.
        device: the device this process trains on (``cuda:LOCAL_RANK`` on a GPU machine).
    """

    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        """True for the process that evaluates, logs and writes files."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def sum(self, values: Sequence[float]) -> list[float]:
        """Each value summed over all processes (in float64; the values as given for one)."""
        if not self.distributed:
            return list(values)
        tensor = torch.tensor(list(values), dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return [float(value) for value in tensor.tolist()]

    def on_main(self, function: Callable[[], T]) -> T:
        """``function()`` run by rank 0 alone; its value, or the error it raised, reaches all.

        Everything that steers training (validation scores, a checkpoint to resume from) is
        decided once, so the processes cannot drift apart and wait on each other forever.
        """
        if not self.distributed:
            return function()
        box: list[Any] = [None]
        if self.is_main:
            try:
                box[0] = _pack((True, function()))
            except Exception as error:  # every rank raises it, not rank 0 alone
                try:
                    box[0] = _pack((False, error))
                except Exception:  # an error that cannot be pickled: its type and message
                    box[0] = _pack((False, RuntimeError(f"{type(error).__name__}: {error}")))
        dist.broadcast_object_list(box, src=0, device=self._object_device())
        ok, value = _unpack(box[0])
        if not ok:
            raise value
        return value

    def gather(self, value: Any) -> list[Any] | None:
        """Every process's ``value``, in rank order, on rank 0; None on the others."""
        if not self.distributed:
            return [value]
        values: list[Any] | None = [None] * self.world_size if self.is_main else None
        dist.gather_object(_pack(value), values, dst=0)
        return [_unpack(packed) for packed in values] if values is not None else None

    def wrap(self, model: TaskModel) -> Callable[[Any, Any], StepOutput]:
        """The function that computes a step's loss: ``model.step``, through DDP if distributed.

        DDP hooks ``forward`` only, so the model's ``step`` becomes the forward of a thin
        module. The replicas start from rank 0's weights (DDP broadcasts them).

        A model whose loss may leave a parameter out (``may_skip_parameters``: a CRF's
        transitions on one-word sentences) gets ``find_unused_parameters``: DDP counts such a
        parameter as ready with no gradient from this process, so the average holds the
        others' share; one no process used keeps no gradient, and the optimizer leaves it
        alone, as one process does. Without it DDP stopped the run.
        """
        if not self.distributed:
            return model.step
        ids = [self.device] if self.device.type == "cuda" else None
        return DistributedDataParallel(_StepModule(model), device_ids=ids,
                                       find_unused_parameters=model.may_skip_parameters)

    def shard(self, source: BatchSource) -> BatchSource:
        """This process's share of every global batch of ``source``."""
        if not self.distributed:
            return source
        shard = getattr(source, "shard", None)
        if shard is None:
            raise ValueError(
                f"{type(source).__name__} cannot be split among {self.world_size} processes:"
                " a training source for distributed runs needs a shard(rank, world_size) method"
                " (TensorBatches and BucketBatches have one); or train in one process"
            )
        return shard(self.rank, self.world_size)

    @contextmanager
    def watch(self) -> Iterator[None]:
        """Turn the error a lost peer causes deep in torch into a :class:`WorkerLost`."""
        try:
            yield
        except RuntimeError as error:
            if not self.distributed or isinstance(error, WorkerLost) or not _is_peer_error(error):
                raise
            detail = " ".join(str(error).split())[:160]
            raise _lost(
                f"process {self.rank} of {self.world_size} lost contact with the others, so"
                f" the run stopped; another process probably failed first: see its error."
                f" The {RESUME_HINT} (torch said: {detail})"
            ) from None

    def close(self) -> None:
        """Leave the process group (after training); a no-op for one process."""
        global _finished
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()
            _finished = True
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def _object_device(self) -> torch.device | None:
        return self.device if self.device.type == "cuda" else None


class _StepModule(nn.Module):
    """Makes ``model.step`` the ``forward`` that DistributedDataParallel hooks."""

    def __init__(self, model: TaskModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: Any, state: Any = None) -> StepOutput:
        return self.model.step(batch, state)


def _pack(value: Any) -> bytes:
    """``value`` as bytes, tensors included (torch's object collectives mishandle tensors)."""
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def _unpack(packed: bytes) -> Any:
    # weights_only=False: the bytes come from this run's own rank 0, and may hold an exception
    return torch.load(io.BytesIO(packed), map_location="cpu", weights_only=False)


def _is_peer_error(error: RuntimeError) -> bool:
    """True for the errors torch raises when another process of the group went away."""
    text = str(error).lower()
    return isinstance(error, dist.DistError) or any(
        word in text for word in ("gloo", "nccl", "connection", "timed out", "broken pipe")
    )


def join(device: torch.device) -> Workers:
    """This process's :class:`Workers`: joins torchrun's process group when there is one.

    Args:
        device: the device asked for; ``cuda`` becomes ``cuda:LOCAL_RANK``, one GPU a process.
    """
    world_size = environment_world_size()
    if world_size <= 1:
        return Workers(device=device)
    if _finished:
        raise RuntimeError(
            "this process already trained a model on several processes and the others have"
            " finished; a pipeline that trains more than one model runs in one process only"
        )
    missing = [name for name in ("RANK", "MASTER_ADDR", "MASTER_PORT") if name not in os.environ]
    if missing:
        raise ValueError(
            f"the environment variable WORLD_SIZE is {world_size} but "
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set, as torchrun"
            " sets them all in the processes it starts: start distributed runs with torchrun"
            " or rnnkit train ... --nproc N; if neither started this command, WORLD_SIZE is"
            " left over in the environment: unset it")
    rank = environment_number("RANK", 0)
    local_rank = environment_number("LOCAL_RANK", 0)
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ValueError(
                f"process {local_rank} on this machine needs GPU {local_rank} but only"
                f" {torch.cuda.device_count()} are visible; start at most that many processes"
                " per machine, or set train.device=cpu"
            )
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        join_group(backend, rank, world_size, os.environ["MASTER_ADDR"],
                   environment_number("MASTER_PORT", 0))
    if dist.get_world_size() != world_size or dist.get_rank() != rank:
        raise ValueError("the process group does not match RANK and WORLD_SIZE of the environment")
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stopped_by_launcher)  # a clear error, and no temp files
    return Workers(rank, world_size, device)


def _stopped_by_launcher(signum: int, frame: Any) -> None:
    raise _lost(f"this process was stopped by the launcher (SIGTERM): the run was"
                f" interrupted, or another process of it failed (see its error). The"
                f" {RESUME_HINT}")
