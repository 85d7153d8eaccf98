"""Training throughput of rnnkit's RNN/LSTM/GRU layers against torch.nn on the same shapes.

One training step is ``zero_grad`` + forward + ``output.sum().backward()``; throughput is
``batch * seq_len / seconds per step`` in tokens/s. Each configuration (cell, layers, direction)
is measured on three layers holding the same weights: ``torch.nn`` (the baseline), rnnkit on
the fused path (``kernel="fused"``) and rnnkit on its own time loop (``kernel="loop"``), plus the
layer-normalised LSTM, which only has the loop path, against ``torch.nn.LSTM``.

Fairness: every layer is warmed up first; then the measurements are interleaved round by round
(torch, fused, [loop], with the order rotated each round) so that machine noise hits all of them
alike. A row's throughput is the median over rounds, and its ratio is the median over rounds of
the paired ratio ``rnnkit / torch`` measured back to back in the same round. The loop path is
slow, so it is measured in fewer, evenly spread rounds (``--loop-repeats``).

The headline ``value`` is the smallest fused/torch ratio over all rows.

Full run (about 5 minutes on 2 idle CPU cores), from the repository root:

    .venv/bin/python benchmarks/layer_throughput.py

Smoke test (tiny shapes, seconds): ``--quick`` (written to ``layer_throughput_quick.json``).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
from common import command_line, machine_info, markdown_table, write_result
from torch import Tensor, nn

import rnnkit

TorchLayer = Callable[..., nn.RNNBase]
OurLayer = type[rnnkit.layers.standard._StandardLayer]
CELLS: dict[str, tuple[TorchLayer, OurLayer]] = {
    "rnn": (nn.RNN, rnnkit.RNN),
    "lstm": (nn.LSTM, rnnkit.LSTM),
    "gru": (nn.GRU, rnnkit.GRU),
    "lstm_ln": (nn.LSTM, rnnkit.LSTM),  # layer_norm=True: loop path only
}
CONFIGS = [(1, False), (1, True), (2, False), (2, True)]  # (num_layers, bidirectional)
HEADERS = [
    "cell", "layers", "bidirectional", "torch tok/s", "fused tok/s", "fused ratio",
    "loop tok/s", "loop ratio",
]


@dataclass(frozen=True)
class Shape:
    batch: int
    seq_len: int
    input_size: int
    hidden_size: int


FULL = Shape(batch=32, seq_len=100, input_size=128, hidden_size=256)
QUICK = Shape(batch=4, seq_len=10, input_size=8, hidden_size=16)


def build_layers(
    cell: str, num_layers: int, bidirectional: bool, shape: Shape, device: torch.device
) -> dict[str, nn.Module]:
    """The torch.nn baseline and rnnkit's layers with the same weights, by kind."""
    torch_class, ours = CELLS[cell]
    reference = torch_class(
        shape.input_size, shape.hidden_size, num_layers=num_layers, bidirectional=bidirectional
    ).to(device)
    if cell == "lstm_ln":
        layer_norm = rnnkit.LSTM(
            shape.input_size, shape.hidden_size, num_layers=num_layers,
            bidirectional=bidirectional, layer_norm=True, kernel="loop",
        ).to(device)
        return {"torch": reference, "loop": layer_norm}
    return {
        "torch": reference,
        "fused": ours.from_torch(reference, kernel="fused"),
        "loop": ours.from_torch(reference, kernel="loop"),
    }


def training_step(layer: nn.Module, x: Tensor) -> Callable[[], None]:
    """One training step: zero_grad, forward, sum of the outputs, backward."""

    def step() -> None:
        layer.zero_grad(set_to_none=True)
        output, _ = layer(x)
        output.sum().backward()

    return step


def seconds_per_step(step: Callable[[], None], steps: int, sync: Callable[[], None]) -> float:
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    return (time.perf_counter() - start) / steps


def median_ratio(numerator: dict[int, float], denominator: dict[int, float]) -> float | None:
    """Median over rounds of the paired ratio numerator[r] / denominator[r]."""
    ratios = [value / denominator[r] for r, value in numerator.items() if r in denominator]
    return statistics.median(ratios) if ratios else None


def measure_row(
    cell: str,
    num_layers: int,
    bidirectional: bool,
    shape: Shape,
    args: argparse.Namespace,
    sync: Callable[[], None],
) -> dict[str, Any]:
    """Warm up, then measure the row's layers interleaved; throughputs and paired ratios."""
    device = torch.device(args.device)
    torch.manual_seed(0)
    layers = build_layers(cell, num_layers, bidirectional, shape, device)
    for layer in layers.values():
        layer.train()
    x = torch.randn(shape.seq_len, shape.batch, shape.input_size, device=device)
    tokens = shape.batch * shape.seq_len

    # Same weights, same input: the fused and loop layers must compute torch's outputs.
    max_abs_diff: dict[str, float | None] = {}
    with torch.no_grad():
        expected = layers["torch"](x)[0]
        for kind in ("fused", "loop"):
            same_weights = kind in layers and cell != "lstm_ln"
            diff = (layers[kind](x)[0] - expected).abs().max().item() if same_weights else None
            max_abs_diff[kind] = diff

    # Warm up, then size each measurement to last at least --min-time seconds.
    steps_fns = {kind: training_step(layer, x) for kind, layer in layers.items()}
    steps: dict[str, int] = {}
    for kind, step in steps_fns.items():
        for _ in range(args.warmup):
            step()
        once = seconds_per_step(step, 1, sync)
        steps[kind] = max(1, math.ceil(args.min_time / max(once, 1e-9)))

    has_fused = "fused" in layers
    loop_repeats = min(args.loop_repeats, args.repeats)
    loop_rounds = {(i * args.repeats) // loop_repeats for i in range(loop_repeats)}
    samples: dict[str, dict[int, float]] = {kind: {} for kind in layers}
    for r in range(args.repeats):
        active = [k for k in layers if (has_fused and k != "loop") or r in loop_rounds]
        if not active:
            continue
        shift = r % len(active)
        for kind in active[shift:] + active[:shift]:
            samples[kind][r] = tokens / seconds_per_step(steps_fns[kind], steps[kind], sync)

    def median(kind: str) -> float | None:
        values = list(samples.get(kind, {}).values())
        return round(statistics.median(values), 1) if values else None

    def ratio(kind: str) -> float | None:
        value = median_ratio(samples.get(kind, {}), samples["torch"])
        return round(value, 4) if value is not None else None

    return {
        "cell": cell,
        "layer_norm": cell == "lstm_ln",
        "layers": num_layers,
        "bidirectional": bidirectional,
        **asdict(shape),
        "torch_tokens_per_s": median("torch"),
        "fused_tokens_per_s": median("fused"),
        "fused_ratio": ratio("fused"),
        "loop_tokens_per_s": median("loop"),
        "loop_ratio": ratio("loop"),
        "measurements": {kind: len(values) for kind, values in samples.items()},
        "steps_per_measurement": steps,
        "max_abs_diff_vs_torch": max_abs_diff,
        "samples_tokens_per_s": {
            kind: [round(values[r], 1) for r in sorted(values)] for kind, values in samples.items()
        },
    }


def table_row(row: dict[str, Any]) -> list[str]:
    def tok(value: float | None) -> str:
        return "—" if value is None else f"{value:,.0f}"

    def rat(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}"

    name = "lstm + layer_norm" if row["layer_norm"] else row["cell"]
    return [
        name, str(row["layers"]), "yes" if row["bidirectional"] else "no",
        tok(row["torch_tokens_per_s"]), tok(row["fused_tokens_per_s"]), rat(row["fused_ratio"]),
        tok(row["loop_tokens_per_s"]), rat(row["loop_ratio"]),
    ]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Training throughput (tokens/s) of rnnkit's RNN/LSTM/GRU, fused and loop"
        " paths, against torch.nn on the same shapes, interleaved in one run.",
    )
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument(
        "--repeats", type=int, default=None,
        help="interleaved rounds for torch and fused (default 21; 3 with --quick)",
    )
    parser.add_argument(
        "--loop-repeats", type=int, default=None,
        help="rounds, evenly spread, that also measure the loop path (default 5; 2 with --quick)",
    )
    parser.add_argument(
        "--min-time", type=float, default=None,
        help="seconds each measurement lasts at least (default 0.25; 0.01 with --quick)",
    )
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per layer first")
    parser.add_argument(
        "--cells", default="rnn,lstm,gru,lstm_ln",
        help="comma-separated subset of rnn,lstm,gru,lstm_ln (lstm_ln = LSTM with layer_norm)",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument(
        "--quick", action="store_true",
        help=f"smoke test on tiny shapes {asdict(QUICK)}; writes layer_throughput_quick.json",
    )
    parser.add_argument("--out", default=None, help="JSON path (default benchmarks/results/)")
    args = parser.parse_args(argv)
    args.cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    unknown = [c for c in args.cells if c not in CELLS]
    if unknown or not args.cells:
        parser.error(f"--cells: unknown {unknown}; choose from {','.join(CELLS)}")
    if args.repeats is None:
        args.repeats = 3 if args.quick else 21
    if args.loop_repeats is None:
        args.loop_repeats = 2 if args.quick else 5
    if args.min_time is None:
        args.min_time = 0.01 if args.quick else 0.25
    if args.repeats < 1 or args.loop_repeats < 1 or args.warmup < 0:
        parser.error("--repeats and --loop-repeats must be >= 1, --warmup >= 0")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: CUDA is not available here")
    return args


def main(argv: list[str] | None = None) -> int:
    start = time.perf_counter()
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    shape = QUICK if args.quick else FULL
    sync: Callable[[], None] = torch.cuda.synchronize if args.device == "cuda" else lambda: None
    machine_at_start = machine_info()  # its load average shows whether others used the machine
    print(f"# {asdict(shape)} on {args.device}; {machine_at_start}", file=sys.stderr)
    busy = machine_at_start["load_average"]
    if busy and busy[0] > 0.5:
        print(f"# warning: load average {busy[0]} at start: timings will be noisy", file=sys.stderr)

    rows = []
    for cell in args.cells:
        for num_layers, bidirectional in CONFIGS:
            row = measure_row(cell, num_layers, bidirectional, shape, args, sync)
            rows.append(row)
            print(
                f"{' | '.join(table_row(row))}  [{time.perf_counter() - start:.0f}s]",
                file=sys.stderr,
            )

    table = markdown_table(HEADERS, [table_row(row) for row in rows])
    print(table)
    fused = [row for row in rows if row["fused_ratio"] is not None]
    worst = min(fused, key=lambda row: row["fused_ratio"]) if fused else None
    loop_ratios = [row["loop_ratio"] for row in rows if row["loop_ratio"] is not None]
    plain_loop = [row["loop_ratio"] for row in fused if row["loop_ratio"] is not None]
    seconds = time.perf_counter() - start
    name = "layer_throughput_quick" if args.quick else "layer_throughput"
    path = write_result(
        name,
        metric="fused_vs_torch_min_ratio",
        value=worst["fused_ratio"] if worst else None,
        unit="ratio (rnnkit fused tokens/s / torch.nn tokens/s; higher is better, 1 = parity)",
        baseline={
            "name": "torch.nn RNN/LSTM/GRU on the same shapes and weights, interleaved in this run",
            "value": 1.0,
            "unit": "ratio",
            "worst_row": (
                f"{worst['cell']} layers={worst['layers']} bidirectional={worst['bidirectional']}"
                if worst else None
            ),
            "torch_tokens_per_s_in_worst_row": worst["torch_tokens_per_s"] if worst else None,
        },
        command=command_line(),
        seconds=seconds,
        rows=rows,
        extra={
            "shape": asdict(shape),
            "load_average_at_start": machine_at_start["load_average"],
            "device": args.device,
            "dtype": "float32",
            "quick": args.quick,
            "repeats": args.repeats,
            "loop_repeats": min(args.loop_repeats, args.repeats),
            "warmup_steps": args.warmup,
            "min_seconds_per_measurement": args.min_time,
            "step": "layer.zero_grad(set_to_none=True); output = layer(x)[0];"
            " output.sum().backward()",
            "throughput": "batch * seq_len / seconds per step; median over rounds",
            "ratio": "median over rounds of rnnkit/torch tokens/s measured back to back",
            "fused_vs_torch_median_ratio": (
                statistics.median(row["fused_ratio"] for row in fused) if fused else None
            ),
            "loop_vs_torch_min_ratio": min(loop_ratios) if loop_ratios else None,
            "loop_vs_torch_max_ratio": max(loop_ratios) if loop_ratios else None,
            "plain_loop_vs_torch_median_ratio": (
                statistics.median(plain_loop) if plain_loop else None
            ),
            "layer_norm_lstm_baseline": "torch.nn.LSTM (no layer norm) on the same shapes",
            "table": table,
        },
        path=args.out,
    )
    value = f"{worst['fused_ratio']:.3f}" if worst else "n/a"
    print(f"\nfused_vs_torch_min_ratio = {value}; {seconds:.0f}s; wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
