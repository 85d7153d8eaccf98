"""Beijing prediction intervals: does the forecaster's 90% interval hold 90% of the test hours?

The task of ``forecast_beijing.py`` (temperature 24 h ahead from 120 h of every weather column,
train 2010-2012, validation 2013, test 2014, the same recipe) with the two probabilistic losses:
``gaussian`` (a mean and a log-variance head, the interval mean +- 1.645 sd) and ``quantile``
(the 0.05, 0.5 and 0.95 quantiles, the interval the outer two); and with the recipe's own
``mae``, which has no interval of its own and gets only the conformal ones. On the test year,
at step 24 and over all 24 steps: coverage (the share of actual values inside), mean width, and the
interval score (Winkler's: the width plus 2/alpha times how far a value falls outside; lower is
better, and it rewards neither a too-narrow nor a too-wide interval).

Beside each model's own interval, three split-conformal intervals calibrated on the validation
year only (each step its own: the ``ceil((n + 1) 0.9)``-th smallest of n scores), computed by
:mod:`rnnkit.timeseries.conformal`, as ``--set forecast.conformal=true`` gives them (``cqr``
for a model with an interval, ``conformal`` for one without):
- ``cqr``: the model's interval widened (or narrowed) by conformalized quantile regression
  (Romano et al., 2019): by the 90% quantile of ``max(lower - y, y - upper)`` on validation;
- ``conformal``: the model's point forecast +- the 90% quantile of its validation |errors|;
- ``persistence conformal``: the temperature now +- the 90% quantile of persistence's
  validation |errors| (no model at all: what an interval costs without one).

    .venv/bin/python benchmarks/forecast_intervals.py --seeds 0 1 2 --threads 1 \
        --losses gaussian quantile mae
"""

from __future__ import annotations

import argparse
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

from rnnkit.timeseries.conformal import calibrate, conformalize  # noqa: E402
from rnnkit.timeseries.conformal import interval_report as report  # noqa: E402

LEVEL = 0.9
LOSSES = {"gaussian": ["forecast.loss=gaussian", f"forecast.interval={LEVEL}"],
          "quantile": ["forecast.loss=quantile", "forecast.quantiles=0.05,0.5,0.95"],
          "mae": ["forecast.loss=mae"]}  # the recipe's: no interval of its own


def interval_report(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                    level: float = LEVEL) -> dict[str, float]:
    """Coverage, mean width and mean interval score of ``[N, H]`` intervals, at the last step
    and over all steps (:func:`rnnkit.timeseries.conformal.interval_report`)."""
    last = report(actual[:, -1], lower[:, -1], upper[:, -1], level)
    every = report(actual, lower, upper, level)
    return {f"{name}_{part}": numbers[key] for part, numbers in (("last", last), ("all", every))
            for name, key in (("coverage", "coverage"), ("width", "mean_width"),
                              ("score", "interval_score"))}


def intervals(model: Any, validation: Any, test: Any) -> dict[str, dict[str, float]]:
    """Every interval of one trained model on ``test``, the conformal ones fitted on
    ``validation`` (see the module docstring); a model without an interval of its own (mse,
    mae) gets the conformal ones only."""
    from rnnkit.timeseries.baselines import persistence

    assert model.conformal is None  # its own interval, calibrated here only
    val, out = (model.predict_windows(part, interval=LEVEL) for part in (validation, test))
    y_val, y_test = validation.targets, test.targets

    def conformal(fitted: dict[str, np.ndarray], applied: dict[str, np.ndarray]
                  ) -> tuple[dict[str, float], dict[str, Any]]:
        calibration = calibrate(y_val, fitted, LEVEL)
        band = conformalize(applied, calibration)
        return interval_report(y_test, band["lower"], band["upper"]), calibration

    point = {"mean": val["mean"]}, {"mean": out["mean"]}
    last = {"mean": persistence(validation)}, {"mean": persistence(test)}
    rows = {"conformal": conformal(*point)[0], "persistence conformal": conformal(*last)[0]}
    extra: dict[str, dict[str, float]] = {
        "point": {"mae_last": float(np.abs(y_test - out["mean"])[:, -1].mean())}}
    if "lower" in out:
        rows["cqr"], widened = conformal(val, out)
        rows["model"] = interval_report(y_test, out["lower"], out["upper"])
        extra["validation"] = {
            "model_coverage_last": interval_report(y_val, val["lower"], val["upper"])[
                "coverage_last"],
            "cqr_widening_last": float(widened["widen"][-1])}
    order = ("model", "cqr", "conformal", "persistence conformal")
    return {**{kind: rows[kind] for kind in order if kind in rows}, **extra}


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
    loss = "gaussian" if "gaussian" in summary else args.losses[0]
    kind = "model" if "model" in summary[loss] else "conformal"  # an MAE model has no own
    path = write_result(
        "forecast_intervals", metric=f"test coverage of the 90% interval, 24 h ahead ({loss} "
        f"model{'' if kind == 'model' else ' +- conformal'}, mean over seeds)",
        value=summary[loss][kind]["coverage_last"], unit="share of test hours",
        baseline={"name": "nominal level", "value": LEVEL},
        command=command_line(), seconds=time.perf_counter() - started, rows=rows,
        extra={"summary": summary, "seeds": args.seeds}, path=args.out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
