"""The vanishing/exploding-gradient demonstration, recorded (``rnnkit diagnose`` under the hood).

Trains an RNN, an LSTM and a GRU on the task and records, before and after training, how
||dL/dh_t|| at the first step compares with the last, plus a tanh RNN with and without gradient
clipping (the exploding case). Writes ``benchmarks/results/gradient_flow_<task>_<length>.json``:
the seed is not in the name, so a run with ``--seed 1`` replaces seed 0's file. The recorded
run (seed 0, length 100) took 274 s on 2 shared CPU cores.

Usage:
    python benchmarks/gradient_flow.py                 # adding problem, length 100
    python benchmarks/gradient_flow.py --length 200
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import command_line, write_result  # noqa: E402

from rnnkit.pipelines.demonstration import run_demonstration  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="adding", choices=("adding", "copy"))
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    out = ROOT / "runs" / f"bench-gradient-flow-{args.task}-{args.length}"
    summary = run_demonstration(task=args.task, length=args.length, seed=args.seed, out_dir=out,
                                log=lambda line: print(line, flush=True))
    claims = summary["claims"]
    rows = [
        {"cell": cell, "log10_first_over_last_at_init": _log10(summary, cell, "init"),
         "log10_first_over_last_after_training":
             claims["log10_first_over_last_after_training"][cell],
         "test_loss": result["test_loss"], "baseline_loss": summary["baseline"],
         "loss_vs_baseline": result["loss_vs_baseline"], "solved": result["solved"],
         "steps": result["steps"], "train_seconds": result["seconds"]}
        for cell, result in summary["results"].items()
    ]
    runs = summary["exploding"]["runs"]
    write_result(
        f"gradient_flow_{args.task}_{args.length}",
        metric="log10 ||dL/dh_first|| / ||dL/dh_last|| of the trained vanilla RNN",
        value=claims["log10_first_over_last_after_training"]["rnn"],
        unit="orders of magnitude",
        baseline={"name": "the same ratio for the trained LSTM",
                  "value": claims["log10_first_over_last_after_training"].get("lstm")},
        command=command_line(), seconds=time.perf_counter() - started, rows=rows,
        extra={"claims": {k: v for k, v in claims.items() if isinstance(v, bool)},
               "settings": summary["settings"], "solved_rule": summary["solved_rule"],
               "exploding": {"settings": summary["exploding"]["settings"],
                             **{name: {k: run.get(k) for k in ("diverged", "diverged_at_step",
                                                                "final_loss", "max_grad_norm")}
                                for name, run in runs.items()}},
               "plots": str(out.relative_to(ROOT))})
    return 0 if all(v for v in claims.values() if isinstance(v, bool)) else 1


def _log10(summary: dict, cell: str, stage: str) -> float | None:
    """log10(first/last) of layer 0, forward direction, from the recorded norms."""
    flows = summary["gradient_flow"].get("at initialisation" if stage == "init" else stage, {})
    if cell not in flows:
        return None
    norms = flows[cell]["norms"][0][0]
    if not norms or not norms[0] or not norms[-1]:
        return None
    return math.log10(norms[0] / norms[-1])


if __name__ == "__main__":
    sys.exit(main())
