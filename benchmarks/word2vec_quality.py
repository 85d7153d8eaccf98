"""Quality of word2vec vectors trained on IMDB reviews and on UD English-EWT, on gensim's test sets.

Two skip-gram models with the same settings (lowercased tokens, 100 dimensions, window 5,
min_count 5, 5 negative samples, 5 epochs, 2 threads, seed 0):

* **IMDB**: the 25 000 *training* reviews of ``shared/data/imdb/train.jsonl.gz`` (``<br />``
  removed, rnnkit's tokenizer). The test reviews are left out so that a sentiment classifier
  built on these vectors never saw its test texts, not even unlabeled.
* **UD English-EWT**: the FORM column of ``en_ewt-ud-train.conllu`` (12 500 sentences, 204 000
  words): small, so this is the "in-domain but tiny" baseline.

Each is scored on WordSim-353 and SimLex-999 (Spearman correlation, OOV share) and on the
19 544 analogy questions (accuracy among the 30 000 most frequent words), all bundled with
gensim. Also measured: how much of the EWT training vocabulary (and running text) the IMDB
vectors cover, which is what the POS tagger gets when it starts from them.

The IMDB vectors are saved to ``runs/embeddings/imdb_sg100.bin`` (and the EWT ones beside
them) for the tagger. The headline ``value`` is the IMDB vectors' WordSim-353 Spearman; the
baseline is the EWT vectors' one.

Full run (about 5-10 minutes on 2 shared CPU cores), from the repository root:

    .venv/bin/python benchmarks/word2vec_quality.py

Smoke test (first 2 000 reviews, 1 epoch; written to ``word2vec_quality_quick.json``): ``--quick``.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from common import command_line, markdown_table, write_result

from rnnkit.data.vocab import Vocab
from rnnkit.embeddings import (
    ConlluCorpus,
    JsonlCorpus,
    Word2VecOptions,
    embedding_matrix,
    evaluate,
    save_vectors,
    train_word2vec,
)

ROOT = Path(__file__).resolve().parent.parent
# $RNNKIT_DATA, as every other benchmark and rnnkit itself, else the ../shared/data mirror
DATA = Path(os.environ.get("RNNKIT_DATA") or ROOT.parent / "shared" / "data")
IMDB = DATA / "imdb" / "train.jsonl.gz"
EWT = DATA / "ud_english_ewt" / "en_ewt-ud-train.conllu"
OUT = ROOT / "runs" / "embeddings"


class Head:
    """The first ``limit`` sentences of a corpus, re-iterable (None: all of them)."""

    def __init__(self, corpus: Iterable[Sequence[str]], limit: int | None) -> None:
        self.corpus, self.limit = corpus, limit

    def __iter__(self) -> Iterator[Sequence[str]]:
        return itertools.islice(iter(self.corpus), self.limit)


def measure(name: str, corpus: Iterable[Sequence[str]], options: Word2VecOptions,
            path: Path) -> tuple[dict[str, Any], Any]:
    """Train, save and evaluate one model; its row of results and the vectors."""
    print(f"== {name}: training", flush=True)
    start = time.perf_counter()
    vectors = train_word2vec(corpus, options, progress=True)
    train_seconds = time.perf_counter() - start
    save_vectors(vectors, path)
    start = time.perf_counter()
    scores = evaluate(vectors, restrict_vocab=30_000)
    evaluate_seconds = time.perf_counter() - start
    similarity, analogy = scores["similarity"], scores["analogy"]
    row = {
        "corpus": name,
        "words": scores["words"],
        "wordsim353_spearman": similarity["wordsim353"]["spearman"],
        "wordsim353_oov": similarity["wordsim353"]["oov_ratio"],
        "simlex999_spearman": similarity.get("simlex999", {}).get("spearman"),
        "simlex999_oov": similarity.get("simlex999", {}).get("oov_ratio"),
        "analogy_accuracy": analogy["accuracy"],
        "analogy_semantic": analogy["semantic"],
        "analogy_syntactic": analogy["syntactic"],
        "analogy_answered": analogy["answered"],
        "analogy_questions": analogy["questions"],
        "train_seconds": round(train_seconds, 1),
        "evaluate_seconds": round(evaluate_seconds, 1),
        "vectors": str(path.relative_to(ROOT)),
    }
    print(f"   {row}", flush=True)
    return row, vectors


def _cell(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 000 reviews, 1 epoch")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    began = time.perf_counter()

    epochs = 1 if args.quick else args.epochs
    options = Word2VecOptions(dim=100, window=5, min_count=5, epochs=epochs,
                              architecture="skipgram", negative=5, workers=args.workers,
                              seed=0, lowercase=True)
    suffix = "_quick" if args.quick else ""
    imdb_row, imdb_vectors = measure(
        f"imdb-train ({'the first 2,000' if args.quick else '25k'} reviews)",
        Head(JsonlCorpus(IMDB), 2000 if args.quick else None),
        options, OUT / f"imdb_sg100{suffix}.bin",
    )
    ewt = ConlluCorpus(EWT)
    ewt_row, _ = measure("ud-english-ewt-train", ewt, options, OUT / f"ewt_sg100{suffix}.bin")

    vocab = Vocab.build(ewt, min_count=1)  # EWT's training words, original case, with counts
    _, coverage = embedding_matrix(vocab.symbols, imdb_vectors, vocab.counts)
    print(f"== IMDB vectors on the EWT training vocabulary: {coverage.summary()}")

    rows = [imdb_row, ewt_row]
    headers = ["corpus", "words", "wordsim353_spearman", "simlex999_spearman",
               "analogy_accuracy", "analogy_semantic", "analogy_syntactic", "train_seconds"]
    print(markdown_table(headers, [[_cell(row[h]) for h in headers] for row in rows]))
    seconds = time.perf_counter() - began
    path = write_result(
        f"word2vec_quality{suffix}",
        metric="WordSim-353 Spearman of skip-gram 100d vectors trained on IMDB train reviews",
        value=imdb_row["wordsim353_spearman"],
        unit="spearman rho",
        baseline={"name": "same settings trained on UD English-EWT train",
                  "value": ewt_row["wordsim353_spearman"]},
        command=command_line(),
        seconds=seconds,
        rows=rows,
        extra={
            "settings": {"dim": 100, "window": 5, "min_count": 5, "negative": 5,
                         "sample": options.sample, "epochs": epochs, "workers": args.workers,
                         "seed": 0, "lowercase": True, "architecture": "skipgram",
                         "analogy_restrict_vocab": 30_000},
            "imdb_coverage_of_ewt_train_vocab": coverage.to_dict(),
            "notes": "IMDB: the 25k training reviews only (test reviews left out). Similarity "
                     "and analogy lookups ignore case. Timings on a CPU shared with other jobs.",
        },
    )
    print(f"{seconds:.0f} s -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
