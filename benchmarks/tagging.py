"""Tagging on real data: UD English-EWT UPOS, UNER English-EWT and WNUT-17 NER, the
one-thread time-to-accuracy race, and the ablation table.

Every experiment trains with rnnkit's own pipeline (the same code as ``rnnkit train tagger``)
on the mirror in ``../shared/data`` (or ``$RNNKIT_DATA``) and writes
``benchmarks/results/tagging_<experiment>.json``.

Usage:
    python benchmarks/tagging.py ud          # UPOS accuracy, training time, tokens/s
    python benchmarks/tagging.py uner        # span F1
    python benchmarks/tagging.py wnut        # span F1
    python benchmarks/tagging.py speed       # one thread: time to 92.1% test UPOS
    python benchmarks/tagging.py ablation    # cell x direction x output x word2vec x chars
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import command_line, markdown_table, write_result  # noqa: E402

from rnnkit.config import load_config  # noqa: E402
from rnnkit.pipelines.tagger import TaggerRunConfig, train_tagger  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "runs" / "embeddings" / "imdb_sg100.bin"
FLAIR_TARGET = 0.921  # Flair 0.15 BiLSTM-CRF, one thread: 92.1% test UPOS after 25 minutes
FLAIR_SECONDS = 25 * 60

EXPERIMENTS: dict[str, dict[str, Any]] = {
    "ud": {"dataset": "ud_english_ewt", "metric": "accuracy",
           "baseline": {"name": "published bi-LSTM taggers on UD 1.3 (Plank et al. 2016)",
                        "value": 0.950, "target": 0.955}},
    "uner": {"dataset": "uner_english_ewt", "metric": "f1",
             "overrides": ["train.monitor=val_f1"],
             "baseline": {"name": "target set by the issue", "value": 0.80}},
    "wnut": {"dataset": "wnut17", "metric": "f1",
             "overrides": ["train.monitor=val_f1"],
             "baseline": {"name": "WNUT-17 shared task best (Aguilar et al. 2017)",
                          "value": 0.419}},
}

ABLATION: list[tuple[str, list[str]]] = [
    ("BiLSTM-CRF + chars + word2vec", []),
    ("BiLSTM-softmax + chars + word2vec", ["tagger.output=softmax"]),
    ("BiGRU-CRF + chars + word2vec", ["model.cell=gru"]),
    ("BiRNN-CRF + chars + word2vec", ["model.cell=rnn"]),
    ("LSTM (unidirectional)-CRF + chars + word2vec", ["model.bidirectional=false"]),
    ("BiLSTM-CRF + chars, no word2vec", ["embeddings.vectors=\"\""]),
    ("BiLSTM-CRF + word2vec, no chars", ["tagger.char_dim=0"]),
    ("BiLSTM-CRF, words only", ["tagger.char_dim=0", "embeddings.vectors=\"\""]),
]


def _vectors_overrides() -> list[str]:
    if not VECTORS.exists():
        raise SystemExit(f"{VECTORS} is missing: train it first with\n  rnnkit word2vec train"
                         " --corpus ../shared/data/imdb/train.jsonl.gz --lowercase"
                         f" --out {VECTORS}")
    return [f'embeddings.vectors="{VECTORS}"']


def run_one(dataset: str, overrides: list[str], out: Path) -> dict[str, Any]:
    config = load_config(TaggerRunConfig, None, [f'data.dataset="{dataset}"', *overrides])
    started = time.perf_counter()
    results = train_tagger(config, out)
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    return results


def first_time_reaching(history: list[dict[str, float]], key: str, target: float
                        ) -> float | None:
    """Seconds of training when ``key`` first reached ``target`` (None: never)."""
    for record in history:
        if record.get(key, 0.0) >= target:
            return float(record["seconds"])
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", choices=(*EXPERIMENTS, "speed", "ablation"))
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--epochs", type=int, help="ablation/speed: epochs per run")
    parser.add_argument("--variant", help="suffix of the result name, for a variant's settings")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "bench-tagging")
    parser.add_argument("--from", dest="source", type=Path,
                        help="speed: read the per-epoch history of a finished one-thread UD run"
                             " (benchmarks/results/tagging_ud.json) instead of training again")
    args = parser.parse_args()
    os.environ.setdefault("RNNKIT_DATA", str(ROOT.parent / "shared" / "data"))
    started = time.perf_counter()
    if args.experiment in EXPERIMENTS:
        spec = EXPERIMENTS[args.experiment]
        overrides = _vectors_overrides() + spec.get("overrides", []) + args.overrides
        name = f"tagging_{args.experiment}" + (f"_{args.variant}" if args.variant else "")
        results = run_one(spec["dataset"], overrides, args.runs / name)
        test, dev = results["test"]["scores"], results["dev"]["scores"]
        row = {"dataset": spec["dataset"], "test": test, "dev": dev,
               "train_seconds": results["train_seconds"], "epochs": results["epochs"],
               "tokens_per_second": results["tokens_per_second"],
               "coverage": results["embedding_coverage"], "overrides": overrides}
        if "per_type" in results["test"]:
            row["per_type"] = results["test"]["per_type"]
        write_result(name, metric=f"test_{spec['metric']}",
                     value=test[spec["metric"]], unit="fraction", baseline=spec["baseline"],
                     command=command_line(), seconds=time.perf_counter() - started,
                     rows=[row], extra={"history": results["history"]})
        print(f"test {spec['metric']} {test[spec['metric']]:.4f}; {results['train_seconds']} s")
        return 0
    if args.experiment == "speed":
        if args.source:
            recorded = json.loads(args.source.read_text())
            threads = [o for o in recorded["rows"][0]["overrides"] if o.startswith("train.thr")]
            if threads != ["train.threads=1"]:
                raise SystemExit(f"{args.source} was not trained with train.threads=1")
            results = {"history": recorded["extra"]["history"],
                       "tokens_per_second": recorded["rows"][0]["tokens_per_second"]}
        else:
            epochs = args.epochs or 6
            overrides = _vectors_overrides() + [f"train.epochs={epochs}", "train.patience=0",
                                                "train.threads=1", *args.overrides]
            results = run_one("ud_english_ewt", overrides, args.runs / "speed")
        reached = first_time_reaching(results["history"], "test_accuracy", FLAIR_TARGET)
        speedup = FLAIR_SECONDS / reached if reached else None
        curve = [{"epoch": r["epoch"], "seconds": r["seconds"],
                  "test_accuracy": r.get("test_accuracy")} for r in results["history"]]
        write_result("tagging_speed", metric="speedup_to_92.1pct_test_upos_one_thread",
                     value=round(speedup, 2) if speedup else None, unit="x",
                     baseline={"name": "Flair 0.15 BiLSTM-CRF, one thread, 92.1% after 25 min",
                               "value": FLAIR_SECONDS, "unit": "seconds"},
                     command=command_line(), seconds=time.perf_counter() - started,
                     rows=curve, extra={"seconds_to_target": reached,
                                        "tokens_per_second": results["tokens_per_second"],
                                        "threads": 1,
                                        "source": str(args.source) if args.source else None})
        print(f"reached {FLAIR_TARGET:.1%} after {reached} s ({speedup}x sooner than Flair)"
              if reached else f"did not reach {FLAIR_TARGET:.1%} test UPOS in "
              f"{len(results['history'])} epoch(s)")
        return 0
    epochs = args.epochs or 8
    rows = []
    for name, extra in ABLATION:
        overrides = [*_vectors_overrides(), f"train.epochs={epochs}", *extra, *args.overrides]
        results = run_one("ud_english_ewt", overrides, args.runs / f"ablation-{len(rows)}")
        rows.append({"model": name, "test_accuracy": results["test"]["scores"]["accuracy"],
                     "dev_accuracy": results["dev"]["scores"]["accuracy"],
                     "train_seconds": results["train_seconds"], "epochs": results["epochs"],
                     "overrides": extra})
        print(markdown_table(list(rows[0]), [list(r.values()) for r in rows]))
    best = max(r["test_accuracy"] for r in rows)
    write_result("tagging_ablation", metric="best_test_upos_accuracy", value=best,
                 unit="fraction", baseline={"name": "BiLSTM-CRF + chars + word2vec",
                                            "value": rows[0]["test_accuracy"]},
                 command=command_line(), seconds=time.perf_counter() - started, rows=rows,
                 extra={"epochs_per_run": epochs, "dataset": "ud_english_ewt"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
