"""Joining the process group of processes started by hand, with a time limit.

torchrun's agent meets the other machines before it starts any process, and holds the store
the processes meet at (``TORCHELASTIC_RUN_ID`` says so): there the processes join at once.
Processes given ``WORLD_SIZE``, ``RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` by hand (or by a
leftover export) meet at rank 0's store, and torch's own wait for the missing ones is its
collective timeout, 30 minutes, in silence. Here the meeting gives up after
:data:`JOIN_TIMEOUT_S` with an error that says who was waited for, where, and what to do.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import torch.distributed as dist

JOIN_TIMEOUT_S = 300.0  # how long processes started by hand wait for each other to start


def join_group(backend: str, rank: int, world_size: int, address: str, port: int) -> None:
    """Join the default process group as ``rank`` of ``world_size``, meeting at
    ``address:port`` (rank 0 listens there)."""
    if os.environ.get("TORCHELASTIC_RUN_ID"):  # torchrun's processes, which meet at its store
        dist.init_process_group(backend, init_method="env://")
        return
    started = time.monotonic()
    try:
        store = dist.TCPStore(address, port, world_size, rank == 0,
                              timeout=timedelta(seconds=JOIN_TIMEOUT_S), wait_for_workers=True)
    except RuntimeError as error:
        detail = " ".join(str(error).split())[:160]
        if time.monotonic() - started < 0.9 * JOIN_TIMEOUT_S:  # no wait: it could not listen
            raise ValueError(
                f"process {rank} of {world_size} could not "
                + ("listen" if rank == 0 else "meet process 0")
                + f" at {address}:{port} (the environment's MASTER_ADDR and MASTER_PORT): is"
                " the port in use by another run? Set MASTER_PORT to a free port, or unset"
                " WORLD_SIZE, RANK, MASTER_ADDR and MASTER_PORT if they were left over (torch"
                f" said: {detail})") from None
        whom = "the other processes to join it" if rank == 0 else "process 0 to listen"
        raise ValueError(
            f"process {rank} of {world_size} waited {JOIN_TIMEOUT_S:g} s for {whom} at"
            f" {address}:{port} (the environment's MASTER_ADDR and MASTER_PORT) in vain:"
            f" start all {world_size} processes (torchrun or rnnkit train ... --nproc N start"
            f" them together); if WORLD_SIZE, RANK, MASTER_ADDR and MASTER_PORT were set by"
            f" hand or left over from another run, unset them (torch said: {detail})"
        ) from None
    dist.init_process_group(backend, store=store, rank=rank, world_size=world_size)
