"""Sentiment classification on real data: SST-2, SST-5 (sentences) and IMDB (reviews).

Every experiment trains with rnnkit's own pipeline (the same code as ``rnnkit train
classifier``) on the mirror in ``../shared/data`` (or ``$RNNKIT_DATA``), selects the epoch on
the dev split (IMDB: 10% of train held out), and writes
``benchmarks/results/sentiment_<experiment>.json`` with the test accuracy.

Variants are chosen on dev accuracy only, never on test: on SST-2, attention pooling (dev
86.35) beat max pooling (85.67) and frozen vectors (85.32), so the SST runs in the results use
``--set classifier.pooling=attention --variant attention`` as well as the plain setting.

Usage:
    python benchmarks/sentiment.py sst2 --set train.threads=1 --set train.epochs=4 \
        --set classifier.pooling=attention --variant attention
    python benchmarks/sentiment.py sst5 --set train.threads=1 --set train.epochs=3 \
        --set classifier.pooling=attention --variant attention
    python benchmarks/sentiment.py imdb --set train.threads=1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import command_line, train_seconds, write_result  # noqa: E402

from rnnkit.config import load_config  # noqa: E402
from rnnkit.pipelines.classifier import ClassifierRunConfig, train_classifier  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "runs" / "embeddings" / "imdb_sg100.bin"  # rnnkit word2vec on IMDB train

_SST = ["data.dataset=sst", "data.phrases=true", "train.batch_size=64",
        "embeddings.extend_vocab=50000"]
EXPERIMENTS: dict[str, dict[str, Any]] = {
    "sst2": {"overrides": [*_SST, "data.sst_labels=sst2"],
             "baseline": {"name": "BiLSTM (Tai et al. 2015, GloVe 300d)", "value": 0.875,
                          "target": 0.86}},
    "sst5": {"overrides": [*_SST, "data.sst_labels=sst5"],
             "baseline": {"name": "BiLSTM (Tai et al. 2015, GloVe 300d)", "value": 0.49,
                          "target": 0.47}},
    "imdb": {"overrides": ["data.dataset=imdb", "data.max_tokens=400",
                           "data.truncate=head_tail", "data.min_count=2",
                           "model.cell=gru", "model.hidden_size=64", "train.batch_size=32",
                           "train.lr=0.002", "train.epochs=1"],
             "baseline": {"name": "BiLSTM baselines (~0.89; Maas et al. 2011 word vectors:"
                                  " 0.889)", "value": 0.889, "target": 0.89}},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", choices=sorted(EXPERIMENTS))
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--out", type=Path, help="run folder (default runs/bench-<experiment>)")
    parser.add_argument("--vectors", default=str(VECTORS),  # a str: Path("") would be "."
                        help="word2vec vectors ('' for none): rnnkit word2vec train --corpus"
                             " ../shared/data/imdb/train.jsonl.gz --lowercase --out ...")
    parser.add_argument("--variant", help="suffix of the result name (other settings)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its last.pt (e.g. with a lower"
                             " train.epochs, to finish a run stopped early)")
    args = parser.parse_args()
    spec = EXPERIMENTS[args.experiment]
    vectors = [f'embeddings.vectors="{args.vectors}"'] if args.vectors else []
    # without vectors, embeddings.extend_vocab (SST) has nothing to take words from: refused
    own = [o for o in spec["overrides"] if vectors or not o.startswith("embeddings.")]
    overrides = [*own, *vectors, "train.progress=false", *args.overrides]
    config = load_config(ClassifierRunConfig, None, overrides)
    out = args.out or ROOT / "runs" / f"bench-{args.experiment}"
    started = time.perf_counter()
    results = train_classifier(config, out, resume=args.resume)
    test = results["test"]
    name = f"sentiment_{args.experiment}" + (f"_{args.variant}" if args.variant else "")
    write_result(
        name,
        metric="test accuracy",
        value=round(test["scores"]["accuracy"], 4),
        unit="fraction",
        baseline=spec["baseline"],
        command=command_line(),
        seconds=time.perf_counter() - started,
        extra={
            "meets_target": test["scores"]["accuracy"] >= spec["baseline"]["target"],
            "test": test,
            "dev": results["dev"],
            "train_examples": results["train_examples"],
            "train_seconds": train_seconds(results),
            "epochs": results["epochs"],
            "best_epoch": results["best_epoch"],
            "parameters": results["parameters"],
            "embedding_coverage": results["embedding_coverage"],
            "overrides": overrides,
            "history": results["history"],
        },
    )
    print(f"{name}: test accuracy {test['scores']['accuracy']:.4f}")


if __name__ == "__main__":
    main()
