"""Character-level language model on tiny-shakespeare (the last 10% validates).

Trains with rnnkit's own pipeline (the same code as ``rnnkit train lm``), then writes
``benchmarks/results/lm_tinyshakespeare.json`` with the validation loss in nats per character,
bits per character, the training time and a 500-character sample.

The reported run (2 x 384 LSTM, 64-d character embeddings, dropout 0.1 between layers and
before the decoder, Adam 3e-3, batch 32 x 100 steps, 12 epochs on one shared CPU thread):

    python benchmarks/language_model.py --out runs/lm-shakespeare --set train.threads=1 \
        --set train.epochs=12 --set train.batch_size=32 --set model.hidden_size=384 \
        --set train.lr=0.003 --set lm.input_dropout=0.0 --set lm.hidden_dropout=0.1 \
        --set lm.output_dropout=0.1 --set lm.embedding_dim=64 --set train.checkpoint_every=50 \
        --set sample.prime='"ROMEO:"'

On a GPU (``--set train.device=cuda``), the README's three runs each wrote ``--result
lm_tinyshakespeare_cuda`` to a ``--result-path`` of its own, filed afterwards as
``lm_tinyshakespeare_cuda.json`` (the 3 x 512 LSTM: ``--set model.num_layers=3 --set
model.hidden_size=512 --set lm.hidden_dropout=0.25 --set lm.output_dropout=0.25 --set
lm.embedding_dim=128 --set lm.input_dropout=0.0 --set train.batch_size=64 --set train.lr=0.002
--set train.epochs=30``), ``lm_tinyshakespeare_cuda_2x1024.json`` and
``lm_tinyshakespeare_cuda_cpu_recipe.json`` (the defaults, which are the CPU run's recipe), so
all three hold ``"name": "lm_tinyshakespeare_cuda"``; each result's command says exactly how it
ran. The 3 x 512 and 2 x 1024 runs shared the GPU (about 5.5 minutes each).

A run stopped early is finished from its checkpoints with ``--resume --set train.epochs=N``
(N = the epochs it completed; the run's own ``config.toml`` gives the other settings);
``--report RUN`` rewrites the result of a finished run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import command_line, train_seconds, write_result  # noqa: E402

from rnnkit.config import load_config  # noqa: E402
from rnnkit.pipelines.language_model import LMRunConfig, train_language_model  # noqa: E402

TARGET = 1.50  # nats per character, set by the issue
TRANSFORMER = 1.47  # a small character transformer (nanoGPT's shakespeare_char) on this split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/lm-shakespeare"))
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--report", type=Path, help="only write the result of a finished run")
    parser.add_argument("--result", default="lm_tinyshakespeare",
                        help="the results file's name (lm_tinyshakespeare_cuda for a GPU run)")
    parser.add_argument("--result-path", type=Path, help="write the result here instead")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.report:
        results = json.loads((args.report / "results.json").read_text(encoding="utf-8"))
    else:
        saved = args.out / "config.toml"
        own = args.resume and saved.is_file()  # as `rnnkit train lm --resume`: the run's own
        config = load_config(LMRunConfig, saved if own else None,
                             ["train.progress=false", *args.overrides])
        results = train_language_model(config, args.out, args.resume)
    config_text = (args.report or args.out) / "config.toml"
    loss = results["validation"]["loss"]
    path = write_result(
        args.result,
        metric="validation cross-entropy (last 10% of tiny-shakespeare)",
        value=round(loss, 4),
        unit="nats/char",
        baseline={"name": "target of the issue (a small char transformer reaches 1.47)",
                  "value": TARGET, "transformer": TRANSFORMER},
        command=command_line(),
        seconds=time.perf_counter() - started,
        extra={
            "bits_per_character": round(results["validation"]["bpc"], 4),
            "perplexity": round(results["validation"]["perplexity"], 4),
            "meets_target": loss <= TARGET,
            "train_seconds": train_seconds(results),
            "epochs": results["epochs"],
            "best_epoch": results["best_epoch"],
            "parameters": results["parameters"],
            "chars_per_second": results["tokens_per_second"],
            "sample_settings": results["sample_settings"],
            "sample": results["sample"],
            "history": results["history"],
            "config": config_text.read_text(encoding="utf-8") if config_text.exists() else "",
        },
        path=args.result_path,
    )
    print(f"wrote {path}")
    print(f"validation {loss:.4f} nats/char, {results['validation']['bpc']:.4f} bpc")


if __name__ == "__main__":
    main()
