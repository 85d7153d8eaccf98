"""Data-parallel training throughput: ``rnnkit train synthetic`` on 1, 2, ... processes.

Each run is the real command line (``--nproc N`` for N > 1, so torchrun's launcher, gloo on
CPU or NCCL on GPUs, DistributedDataParallel) on the adding problem with an LSTM. The global
batch is the same for every process count, so every run takes the same optimizer steps on the
same data; N processes each compute 1/N of every batch. Throughput is training examples per
second of the trainer's own clock (``results.json`` ``seconds``: the epochs, validation on a
small set included, process start-up and rendezvous excluded); the start-up is reported apart
(``wall_seconds``). Runs are interleaved round by round and a row keeps the median.

On CPU every process gets ``--threads`` threads (1 by default), so N processes use N cores:
the speed-up can only show where N cores are free. On a GPU machine pass ``--device cuda`` and
at most one process per GPU.

    .venv/bin/python benchmarks/ddp_throughput.py                     # 1 and 2 processes, CPU
    .venv/bin/python benchmarks/ddp_throughput.py --device cuda --nproc 1 2 4 --batch-size 256
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import command_line, markdown_table, write_result


def train_once(nproc: int, args: argparse.Namespace, out: Path) -> dict[str, float]:
    """One run of ``rnnkit train synthetic``; its training seconds and wall seconds."""
    settings = {
        "data.task": "adding", "data.length": args.length, "data.train_size": args.train_size,
        "data.val_size": 256, "data.test_size": 256, "model.cell": "lstm",
        "model.hidden_size": args.hidden_size, "train.epochs": args.epochs,
        "train.batch_size": args.batch_size, "train.clip_norm": 1.0,
        "train.device": args.device, "train.threads": args.threads, "train.progress": "false",
    }
    command = [sys.executable, "-m", "rnnkit", "train", "synthetic", "--out", str(out)]
    for key, value in settings.items():
        command += ["--set", f"{key}={value}"]
    if nproc > 1:
        command += ["--nproc", str(nproc)]
    environment = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, env=environment)
    wall = time.perf_counter() - started
    if finished.returncode != 0:
        raise SystemExit(f"{nproc} process(es) failed:\n{finished.stderr[-3000:]}")
    results = json.loads((out / "results.json").read_text())
    return {"train_seconds": float(results["seconds"]), "wall_seconds": wall,
            "steps": float(results["steps"]), "test_loss": float(results["test"]["loss"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nproc", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--device", default="cpu", help="cpu (gloo) or cuda (NCCL)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--hidden-size", type=int, default=128)
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--train-size", type=int, default=8192)
    parser.add_argument("--batch-size", type=int, default=64, help="the global batch")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2, help="interleaved rounds")
    parser.add_argument("--out", type=Path, help="write the result here instead")
    args = parser.parse_args()

    started = time.perf_counter()
    runs: dict[int, list[dict[str, float]]] = {n: [] for n in args.nproc}
    with tempfile.TemporaryDirectory(prefix="ddp-throughput-") as folder:
        for round_index in range(args.repeats):
            for nproc in args.nproc:
                run = train_once(nproc, args, Path(folder) / f"n{nproc}-r{round_index}")
                runs[nproc].append(run)
                print(f"round {round_index + 1}: {nproc} process(es): "
                      f"{run['train_seconds']:.2f} s training, {run['wall_seconds']:.1f} s wall",
                      flush=True)

    examples = args.train_size * args.epochs
    rows: list[dict[str, Any]] = []
    for nproc, measured in runs.items():
        seconds = statistics.median(run["train_seconds"] for run in measured)
        rows.append({
            "nproc": nproc,
            "examples_per_second": round(examples / seconds, 1),
            "train_seconds": round(seconds, 3),
            "wall_seconds": round(statistics.median(run["wall_seconds"] for run in measured), 2),
            "per_process_batch": args.batch_size // nproc,
            "steps": int(measured[0]["steps"]),
            "test_loss": round(measured[0]["test_loss"], 5),
        })
    single = next((row for row in rows if row["nproc"] == 1), rows[0])
    for row in rows:
        row["speedup"] = round(row["examples_per_second"] / single["examples_per_second"], 3)
    print(markdown_table(list(rows[0]), [list(row.values()) for row in rows]))
    best = rows[-1]
    path = write_result(
        "ddp_throughput",
        metric=f"training examples per second on {best['nproc']} processes ({args.device})",
        value=best["examples_per_second"],
        unit="examples/s",
        baseline={"name": f"1 process, same global batch ({args.device})",
                  "value": single["examples_per_second"]},
        command=command_line(),
        seconds=time.perf_counter() - started,
        rows=rows,
        extra={
            "model": f"LSTM, hidden {args.hidden_size}, adding problem of length {args.length}",
            "global_batch": args.batch_size, "train_size": args.train_size,
            "epochs": args.epochs, "threads_per_process": args.threads,
            "device": args.device, "repeats": args.repeats,
            "backend": "nccl" if args.device.startswith("cuda") else "gloo",
        },
        path=args.out,
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
