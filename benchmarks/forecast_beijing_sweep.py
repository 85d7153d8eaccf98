"""Beijing t+24 temperature: does a bigger recurrent model close the gap to the issue's bars?

Each configuration is the recipe of ``forecast_beijing.py`` with other sizes, cells or training
windows; every (configuration, seed) pair is one process, run ``--jobs`` at a time. Reported per
configuration: test MAE at step 24, mean and spread over seeds, and the MAE of its seeds' mean
forecast; and the MAE of the mean forecast of every model in the sweep. Persistence and ridge
are the same as in ``forecast_beijing.py``.

Made for a GPU machine (18 runs in ~3 minutes on one H100 with 16 CPU cores); on a 2-core CPU a
256-unit model on every training hour takes about an hour per seed.

    .venv/bin/python benchmarks/forecast_beijing_sweep.py --device cuda --jobs 16
    .venv/bin/python benchmarks/forecast_beijing_sweep.py --device cuda --round lr   # round 2
    .venv/bin/python benchmarks/forecast_beijing_sweep.py --device cuda --round reg  # round 3

The README's rounds ran with ``--jobs 15`` (size: 18 runs, 215 s; lr: 15 runs, 326 s) and
``--jobs 12 --timeout 270`` (reg: 12 runs, 231 s); each result's command says exactly.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import command_line, markdown_table, write_result  # noqa: E402
from forecast_beijing import beijing_settings, train_one  # noqa: E402

STRIDE_1 = ["data.stride=1", "train.epochs=20", "train.patience=5"]  # "hourly": every window
BIG = ["model.hidden_size=256", "model.num_layers=2", "model.dropout=0.2", *STRIDE_1]
BEST = [*BIG, "train.lr=0.0005", "train.optimizer=adamw", "train.weight_decay=0.05"]
CONFIGS: dict[str, list[str]] = {  # gru64 is the recipe itself; x2: two layers
    "gru64": [],
    "gru128x2-hourly": [
        "model.hidden_size=128", "model.num_layers=2", "model.dropout=0.1", *STRIDE_1],
    "gru256-hourly": ["model.hidden_size=256", *STRIDE_1],
    "gru256x2-hourly": [
        "model.hidden_size=256", "model.num_layers=2", "model.dropout=0.2", *STRIDE_1],
    "gru256x2-hourly-lr5e-4": [
        "model.hidden_size=256", "model.num_layers=2", "model.dropout=0.2", "train.lr=0.0005",
        *STRIDE_1],
    "lstm256-hourly": ["model.cell=lstm", "model.hidden_size=256", *STRIDE_1],
    # round 2 (--round lr): the big GRU at lower learning rates, wider, deeper, longer averaged
    "gru256x2-hourly-lr2.5e-4": [*BIG, "train.lr=0.00025"],
    "gru256x2-hourly-lr5e-4-ema0.998": [*BIG, "train.lr=0.0005", "train.ema_decay=0.998"],
    "gru384x2-hourly-lr3e-4": [
        *BIG, "model.hidden_size=384", "model.dropout=0.3", "train.lr=0.0003"],
    "gru256x3-hourly-lr5e-4": [*BIG, "model.num_layers=3", "train.lr=0.0005"],
    "gru256x2-hourly-lr5e-4-wd": BEST,
    # round 3 (--round reg): the best of round 2 with more regularisation or other weighting
    "best-noise0.2": [*BEST, "forecast.input_noise=0.2"],
    "best-dropout0.35": [*BEST, "model.dropout=0.35"],
    "best-batch64-lr3.5e-4": [*BEST, "train.batch_size=64", "train.lr=0.00035"],
    "best-last-step-weight4": [*BEST, "forecast.last_step_weight=4"],
}
ROUNDS = {"size": list(CONFIGS)[:6], "lr": list(CONFIGS)[6:11], "reg": list(CONFIGS)[11:]}


def run_one(name: str, seed: int, device: str, folder: Path) -> None:
    """Train one model; write its step-24 test forecasts and scores into ``folder``."""
    import numpy as np

    from rnnkit.config import load_config
    from rnnkit.pipelines.forecaster import ForecastRunConfig
    from rnnkit.pipelines.sources import prepare

    settings = beijing_settings(threads=1, overrides=[
        *CONFIGS[name], f"train.device={device}", f"train.seed={seed}"])
    test = prepare(load_config(ForecastRunConfig, None, settings).data).split.test
    results, last_step, history = train_one(settings, test, log=lambda line: None)
    stem = folder / f"{CONFIGS_INDEX[name]}_{seed}"
    np.save(f"{stem}.npy", last_step)
    if not (folder / "targets.npy").exists():  # the same for every run; written whole or not
        np.save(folder / f"targets-{name}-{seed}.npy", test.targets[:, -1])
        os.replace(folder / f"targets-{name}-{seed}.npy", folder / "targets.npy")
    step = results["test"]["step_24"]
    Path(f"{stem}.json").write_text(json.dumps({
        "config": name, "seed": seed, "model_mae": step["model"]["mae"],
        # the selection metric (train.monitor, in the scaled target's units) at the kept epoch
        "val_mae_last": history[results["best_epoch"] - 1]["val_mae_last"],
        "persistence_mae": step["persistence"]["mae"], "ridge_mae": step["ridge"]["mae"],
        "epochs": results["epochs"], "best_epoch": results["best_epoch"],
        "seconds": results["seconds"], "settings": settings}))


CONFIGS_INDEX = {name: index for index, name in enumerate(CONFIGS)}


def summarize(folder: Path, names: list[str]) -> tuple[list[dict], dict]:
    import numpy as np

    from rnnkit.timeseries.metrics import mae

    if not (folder / "targets.npy").exists():
        raise SystemExit("forecast_beijing_sweep: no run finished; nothing to report")
    targets = np.load(folder / "targets.npy")
    rows, forecasts = [], []
    for name in names:
        runs = sorted((json.loads(p.read_text()) for p in
                       folder.glob(f"{CONFIGS_INDEX[name]}_*.json")), key=lambda r: r["seed"])
        if not runs:
            continue
        mine = [np.load(folder / f"{CONFIGS_INDEX[name]}_{r['seed']}.npy") for r in runs]
        forecasts += mine
        maes = [r["model_mae"] for r in runs]
        rows.append({
            "config": name, "seeds": [r["seed"] for r in runs],
            "val_mae_mean": statistics.fmean(r["val_mae_last"] for r in runs), "model_mae_mean":
            statistics.fmean(maes), "model_mae_std": statistics.stdev(maes) if len(maes) > 1
            else 0.0, "seed_ensemble_mae": mae(targets, np.mean(mine, 0)),
            "best_epochs": [r["best_epoch"] for r in runs],
            "train_seconds_mean": statistics.fmean(r["seconds"] for r in runs),
            "overrides": CONFIGS[name], "runs": runs})
    first = rows[0]["runs"][0]
    overall = {"persistence_mae": first["persistence_mae"], "ridge_mae": first["ridge_mae"],
               "models": len(forecasts),
               "all_models_mean_forecast_mae": mae(targets, np.mean(forecasts, 0))}
    return rows, overall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cuda")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (one thread each)")
    parser.add_argument("--round", choices=list(ROUNDS), default="size",
                        help="configurations: size (cells, sizes), lr (round 2) or reg (3)")
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), help="instead of --round")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds a run may take; a longer one is left out")
    parser.add_argument("--one", nargs=3, metavar=("CONFIG", "SEED", "FOLDER"),
                        help=argparse.SUPPRESS)  # a worker process
    parser.add_argument("--out", type=Path, help="write the result here instead")
    args = parser.parse_args()
    if args.one:
        os.environ.setdefault("RNNKIT_DATA", str(ROOT.parent / "shared" / "data"))
        run_one(args.one[0], int(args.one[1]), args.device, Path(args.one[2]))
        return 0
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():  # else every run fails alike
        parser.error("--device cuda: no CUDA GPU is available here; use --device cpu (slow: "
                     "about an hour per seed for a 256-unit model on 2 cores)")
    os.environ.setdefault("RNNKIT_DATA", str(ROOT.parent / "shared" / "data"))

    label = "custom" if args.configs else args.round  # --configs: not a round's file
    args.configs = args.configs or ROUNDS[args.round]
    started = time.perf_counter()
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)

        def work(job: tuple[str, int]) -> None:
            command = [sys.executable, __file__, "--device", args.device,
                       "--one", job[0], str(job[1]), str(folder)]
            try:
                done = subprocess.run(command, capture_output=True, text=True,
                                      env={**os.environ, "OMP_NUM_THREADS": "1"},
                                      timeout=args.timeout)
                status = "done" if done.returncode == 0 else f"FAILED\n{done.stderr[-2000:]}"
            except subprocess.TimeoutExpired:
                status = f"stopped after {args.timeout} s (left out)"
            if status != "done":
                failed.append(f"{job[0]}, seed {job[1]}: {status.splitlines()[0]}")
            print(f"[{time.perf_counter() - started:.0f}s] {job[0]}, seed {job[1]}: {status}",
                  flush=True)

        jobs = [(name, seed) for name in args.configs for seed in args.seeds]
        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(work, jobs))
        rows, overall = summarize(folder, args.configs)

    table = [[r["config"], f"{r['val_mae_mean']:.3f}",
              f"{r['model_mae_mean']:.3f} ± {r['model_mae_std']:.3f}",
              f"{r['model_mae_mean'] / overall['persistence_mae']:.3f}",
              f"{r['model_mae_mean'] / overall['ridge_mae']:.3f}",
              f"{r['seed_ensemble_mae']:.3f}", str(r["best_epochs"])] for r in rows]
    print(markdown_table(["config", "val MAE (scaled)", "test MAE", "x persistence", "x ridge",
                          "seeds' mean forecast", "best epochs"], table))
    print(json.dumps(overall))
    path = write_result(
        "forecast_beijing_sweep" + ("" if label == "size" else f"_{label}"),
        metric="test MAE of temperature 24 h ahead: the mean forecast"
        " of every model in the sweep", value=overall["all_models_mean_forecast_mae"],
        unit="degC", baseline={"name": "persistence", "value": overall["persistence_mae"],
                               "ridge": overall["ridge_mae"]},
        command=command_line(), seconds=time.perf_counter() - started, rows=rows,
        extra={"overall": overall, "device": args.device, "jobs": args.jobs,
               "round": label, "failed_runs": failed}, path=args.out)
    print(f"wrote {path}")
    if failed:
        print(f"{len(failed)} run(s) left out:\n" + "\n".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
