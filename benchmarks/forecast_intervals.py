"""Beijing prediction intervals: does the forecaster's 90% interval hold 90% of the test hours?

The task of ``forecast_beijing.py`` (temperature 24 h ahead from 120 h of every weather column,
train 2010-2012, validation 2013, test 2014, the same recipe) with the two probabilistic losses:
``gaussian`` (a mean and a log-variance head, the interval mean +- 1.645 sd) and ``quantile``
(the 0.05, 0.5 and 0.95 quantiles, the interval the outer two). On the test year, at step 24
and over all 24 steps: coverage (the share of actual values inside), mean width, and the
interval score (Winkler's: the width plus 2/alpha times how far a value falls outside; lower is
better, and it rewards neither a too-narrow nor a too-wide interval).

Beside each model's own interval, three split-conformal intervals calibrated on the validation
year only (each step its own: the ``ceil((n + 1) 0.9)``-th smallest of n scores):
- ``cqr``: the model's interval widened (or narrowed) by conformalized quantile regression
  (Romano et al., 2019): by the 90% quantile of ``max(lower - y, y - upper)`` on validation;
- ``conformal``: the model's point forecast +- the 90% quantile of its validation |errors|;
- ``persistence conformal``: the temperature now +- the 90% quantile of persistence's
  validation |errors| (no model at all: what an interval costs without one).

    .venv/bin/python benchmarks/forecast_intervals.py --seeds 0 1 2 --threads 1
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import command_line, write_result  # noqa: E402
from forecast_beijing import beijing_settings, train_model  # noqa: E402

LEVEL = 0.9
LOSSES = {"gaussian": ["forecast.loss=gaussian", f"forecast.interval={LEVEL}"],
          "quantile": ["forecast.loss=quantile", "forecast.quantiles=0.05,0.5,0.95"]}


def interval_report(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                    level: float = LEVEL) -> dict[str, float]:
    """Coverage, mean width and mean interval score of ``[N, H]`` intervals, at the last step
    and over all steps."""
    alpha = 1 - level
    below, above = np.maximum(lower - actual, 0), np.maximum(actual - upper, 0)
    score = (upper - lower) + 2 / alpha * (below + above)
    inside = (actual >= lower) & (actual <= upper)
    return {"coverage_last": float(inside[:, -1].mean()), "coverage_all": float(inside.mean()),
            "width_last": float((upper - lower)[:, -1].mean()),
            "width_all": float((upper - lower).mean()),
            "score_last": float(score[:, -1].mean()), "score_all": float(score.mean())}


def conformal_quantile(scores: np.ndarray, level: float = LEVEL) -> np.ndarray:
    """``[H]``: per column, the split-conformal quantile of ``[N, H]`` calibration scores: the
    ``ceil((N + 1) level)``-th smallest (the largest where that exceeds ``N``; strictly, the
    guarantee would then need an infinite interval)."""
    rank = min(math.ceil((len(scores) + 1) * level), len(scores))
    return np.sort(scores, axis=0)[rank - 1]


def intervals(model: Any, validation: Any, test: Any) -> dict[str, dict[str, float]]:
    """Every interval of one trained model on ``test``, the conformal ones fitted on
    ``validation`` (see the module docstring)."""
    from rnnkit.timeseries.baselines import persistence

    val, out = (model.predict_windows(part, interval=LEVEL) for part in (validation, test))
    y_val, y_test = validation.targets, test.targets
    widen = conformal_quantile(np.maximum(val["lower"] - y_val, y_val - val["upper"]))
    half = conformal_quantile(np.abs(y_val - val["mean"]))
    last_val, last_test = persistence(validation), persistence(test)
    flat = conformal_quantile(np.abs(y_val - last_val))
    return {
        "model": interval_report(y_test, out["lower"], out["upper"]),
        "cqr": interval_report(y_test, out["lower"] - widen, out["upper"] + widen),
        "conformal": interval_report(y_test, out["mean"] - half, out["mean"] + half),
        "persistence conformal": interval_report(y_test, last_test - flat, last_test + flat),
        "validation": {"model_coverage_last": float(((y_val >= val["lower"])
                                                      & (y_val <= val["upper"]))[:, -1].mean()),
                       "cqr_widening_last": float(widen[-1])},
        "point": {"mae_last": float(np.abs(y_test - out["mean"])[:, -1].mean())},
    }


def summarize(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """Per loss and interval kind, the mean of every measure over the seeds."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for loss in LOSSES:
        runs = [row["intervals"] for row in rows if row["loss"] == loss]
        if not runs:
            continue
        out[loss] = {kind: {key: statistics.fmean(run[kind][key] for run in runs)
                            for key in runs[0][kind]} for kind in runs[0]}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--losses", nargs="+", default=list(LOSSES), choices=list(LOSSES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=14)
    parser.add_argument("--out", type=Path, help="write the result here instead")
    args = parser.parse_args()
    os.environ.setdefault("RNNKIT_DATA", str(ROOT.parent / "shared" / "data"))
    from rnnkit.config import load_config
    from rnnkit.pipelines.forecaster import ForecastRunConfig
    from rnnkit.pipelines.sources import prepare

    started = time.perf_counter()
    split = prepare(load_config(ForecastRunConfig, None, beijing_settings()).data).split
    rows = []
    for loss in args.losses:
        for seed in args.seeds:
            settings = beijing_settings(epochs=args.epochs, threads=args.threads,
                                        overrides=[*LOSSES[loss], f"train.seed={seed}"])
            clock = time.perf_counter()
            model, results, _ = train_model(settings, log=lambda line: None)
            row = {"loss": loss, "seed": seed, "best_epoch": results["best_epoch"],
                   "seconds": round(time.perf_counter() - clock, 1),
                   "intervals": intervals(model, split.validation, split.test)}
            print(loss, seed, {kind: {k: round(v, 3) for k, v in report.items()}
                               for kind, report in row["intervals"].items()}, flush=True)
            rows.append(row)
    summary = summarize(rows)
    headline = summary.get("gaussian", next(iter(summary.values())))
    path = write_result(
        "forecast_intervals", metric="test coverage of the 90% interval, 24 h ahead "
        f"({'gaussian' if 'gaussian' in summary else args.losses[0]} model, mean over seeds)",
        value=headline["model"]["coverage_last"], unit="share of test hours",
        baseline={"name": "nominal level", "value": LEVEL},
        command=command_line(), seconds=time.perf_counter() - started, rows=rows,
        extra={"summary": summary, "seeds": args.seeds}, path=args.out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
