"""Multi30k translation (test_2016_flickr): the gain of attention and of beam search.

Each variant trains with rnnkit's own pipeline (the same code as ``rnnkit train seq2seq``) into
``runs/translation/<variant>``, one torch thread. The report then decodes each variant's best
checkpoint (chosen on validation BLEU) greedily and with beam search, scores the detokenized,
cased output with sacreBLEU, and writes ``benchmarks/results/translation_multi30k.json``. The
length penalty of beam search is chosen on the validation set, never on test.

Usage:
    python benchmarks/translation_multi30k.py train de-en-attention   # ~1 hour on one core
    python benchmarks/translation_multi30k.py train de-en-plain
    python benchmarks/translation_multi30k.py train en-de-attention
    python benchmarks/translation_multi30k.py report                  # decode, score, write

On a GPU, ``train VARIANT --set train.device=cuda --set ... --out runs/translation/NAME`` trains
a variant with more settings (each run folder keeps its command in ``command.txt``) and
``report --device cuda --variants NAME ... --result translation_multi30k_cuda`` decodes there and
writes its own results file beside the CPU one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import command_line, markdown_table, write_result  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "runs" / "translation"
TARGET_BLEU = 35.0
COMMON = ["train.threads=1", "train.progress=false", "data.vocab_size=4000",
          "train.batch_size=128", "train.lr=0.002", "train.lr_patience=1",
          "seq2seq.input_feeding=false"]
VARIANTS: dict[str, dict[str, Any]] = {
    "de-en-attention": {"src": "de", "tgt": "en", "label": "bi-GRU + Luong general attention",
                        "overrides": ["seq2seq.attention=general", "train.epochs=10"]},
    "de-en-plain": {"src": "de", "tgt": "en", "label": "bi-GRU, context vector only",
                    "overrides": ["seq2seq.attention=none", "train.epochs=4"]},
    "en-de-attention": {"src": "en", "tgt": "de", "label": "bi-GRU + Luong general attention",
                        "overrides": ["seq2seq.attention=general", "train.epochs=8"]},
}


def train_command(name: str) -> str:
    """The ``rnnkit train seq2seq`` command line that trains a variant."""
    variant = VARIANTS[name]
    settings = " ".join(f"--set {item}" for item in COMMON + variant["overrides"])
    return (f"RNNKIT_DATA=../shared/data rnnkit train seq2seq --src {variant['src']} --tgt"
            f" {variant['tgt']} --out runs/translation/{name} {settings}")


def train(name: str, out: Path, extra: list[str]) -> None:
    from rnnkit.cli import main

    variant = VARIANTS[name]
    settings = [f"--set={item}" for item in COMMON + variant["overrides"] + extra]
    out.mkdir(parents=True, exist_ok=True)
    (out / "command.txt").write_text(command_line() + "\n", encoding="utf-8")
    code = main(["train", "seq2seq", "--src", variant["src"], "--tgt", variant["tgt"],
                 "--out", str(out), *settings])
    if code != 0:
        raise SystemExit(code)


def _weights_stamp(folder: Path) -> str:
    """Which weights a run folder holds now (its bundle, else its best checkpoint)."""
    for name in ("model.rnnkit", "best.pt"):
        if (folder / name).is_file():
            status = (folder / name).stat()
            return f"{name}:{status.st_size}:{status.st_mtime_ns}"
    return ""


def label(name: str, folder: Path) -> str:
    """A variant's name in the table: the built-in label, else read from its settings."""
    if name in VARIANTS:
        return str(VARIANTS[name]["label"])
    from rnnkit.config import load_config
    from rnnkit.pipelines.seq2seq import Seq2SeqRunConfig

    config = load_config(Seq2SeqRunConfig, folder / "config.toml")
    cell = ("bi-" if config.model.bidirectional else "") + config.model.cell.upper()
    attention = config.seq2seq.attention
    return (f"{cell} {config.model.hidden_size}x{config.model.num_layers}, embeddings"
            f" {config.seq2seq.embedding_dim}"
            + (f" + Luong {attention} attention" if attention != "none" else "")
            + (", input feeding" if config.seq2seq.input_feeding else ""))


def train_commands(runs: Path, names: list[str]) -> dict[str, str]:
    """How each variant was trained: its run's ``command.txt``, else the built-in command."""
    commands = {}
    for name in names:
        saved = runs / name / "command.txt"
        if saved.is_file():
            commands[name] = saved.read_text(encoding="utf-8").strip()
        elif name in VARIANTS:
            commands[name] = train_command(name)
    return commands


def report(runs: Path, names: list[str], alphas: list[float], beam_size: int,
           device: str = "cpu", result: str = "translation_multi30k",
           result_path: Path | None = None) -> None:
    import torch

    from rnnkit.pipelines.seq2seq import (
        TranslationDataConfig,
        model_from_run,
        read_split,
        score_lines,
    )
    from rnnkit.pipelines.translation import load_translator

    torch.set_num_threads(1)
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for name in names:
        folder = runs / name
        cached = folder / "report.json"  # rows already scored for these settings and weights
        key = {"alphas": alphas, "beam_size": beam_size, "weights": _weights_stamp(folder)}
        if cached.is_file() and json.loads(cached.read_text())["key"] == key:
            rows.extend(json.loads(cached.read_text())["rows"])
            print(f"{name}: scores reused from {cached}")
            continue
        if (folder / "model.rnnkit").is_file():
            model, finished = load_translator(folder / "model.rnnkit"), True
        elif (folder / "best.pt").is_file():  # a run stopped early: its best epoch so far
            model, finished = model_from_run(folder), False
        else:
            print(f"{name}: no model in {folder}; skipped", file=sys.stderr)
            continue
        model.to(device)
        history = [json.loads(line) for line in
                   (folder / "metrics.jsonl").read_text().splitlines() if line.strip()]
        best = max(history, key=lambda record: record["val_bleu"])
        data = TranslationDataConfig(src=model.data["src"], tgt=model.data["tgt"])
        dev, test = read_split(data, "dev"), read_split(data, "test")
        chosen, best_dev = alphas[0], -1.0
        dev_scores: dict[str, float] = {}
        for alpha in alphas if len(alphas) > 1 else []:
            model.config = type(model.config)(**{**model.config.__dict__,
                                                 "length_penalty": alpha})
            dev_bleu = score_lines(model, *dev, beam_size)["bleu"]
            dev_scores[str(alpha)] = round(dev_bleu, 2)
            print(f"{name}: dev BLEU {dev_bleu:.2f} with length penalty {alpha}", flush=True)
            if dev_bleu > best_dev:
                chosen, best_dev = alpha, dev_bleu
        model.config = type(model.config)(**{**model.config.__dict__, "length_penalty": chosen})
        for decoding, beam in (("greedy", 1), ("beam", beam_size)):
            scores = score_lines(model, *test, beam, folder, f"test.{decoding}")
            row = {
                "variant": name, "pair": f"{data.src}->{data.tgt}",
                "model": label(name, folder), "device": str(device), "decoding": decoding,
                "beam_size": beam, "length_penalty": chosen if beam > 1 else None,
                "bleu": round(scores["bleu"], 2), "chrf": round(scores["chrf"], 2),
                "bleu_signature": scores["bleu_signature"],
                "chrf_signature": scores["chrf_signature"],
                "decode_seconds": scores["decode_seconds"],
                "train_seconds": history[-1]["seconds"], "epochs": len(history),
                "best_epoch": best["epoch"], "best_val_bleu_greedy": round(best["val_bleu"], 2),
                "run_finished": finished, "dev_bleu_beam_by_length_penalty": dev_scores,
                "parameters": sum(p.numel() for p in model.parameters()),
                "val_bleu_per_epoch": [round(record["val_bleu"], 2) for record in history],
            }
            rows.append(row)
            print(f"{name} {decoding}: BLEU {row['bleu']}, chrF {row['chrf']}")
        cached.write_text(json.dumps({"key": key, "rows": rows[-2:]}, indent=2) + "\n")
    headline = max((r["bleu"] for r in rows  # the best de->en model with beam search
                    if r["pair"] == "de->en" and r["decoding"] == "beam"), default=None)
    common = min((r["epochs"] for r in rows), default=1)  # dev BLEU after equal training
    table = markdown_table(
        ["pair", "model", "decoding", "test BLEU", "test chrF", "train minutes", "epochs",
         f"dev BLEU after epoch {common} (greedy)"],
        [[r["pair"], r["model"], f"{r['decoding']} ({r['beam_size']})", r["bleu"], r["chrf"],
          round((r["train_seconds"] or 0) / 60, 1), r["epochs"],
          r["val_bleu_per_epoch"][common - 1]] for r in rows])
    print(table)
    path = write_result(
        result, metric="sacreBLEU, test_2016_flickr de->en, attention + beam",
        value=headline, unit="BLEU",
        baseline={"name": "issue target", "value": TARGET_BLEU,
                  "published": "GRU + additive attention tutorial: 28.3 (another scorer)"},
        command=command_line(), seconds=time.perf_counter() - started, rows=rows,
        extra={"table": table, "common_settings": COMMON,
               "train_commands": train_commands(runs, names),
               "length_penalties_tried_on_dev": alphas},
        path=result_path,
    )
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    trainer = commands.add_parser("train")
    trainer.add_argument("variant", choices=sorted(VARIANTS))
    trainer.add_argument("--out", type=Path, help="run folder (default runs/translation/NAME)")
    trainer.add_argument("--set", dest="overrides", action="append", default=[],
                         help="another setting after the variant's own (e.g. train.device=cuda)")
    reporter = commands.add_parser("report")
    reporter.add_argument("--runs", type=Path, default=RUNS)
    reporter.add_argument("--variants", nargs="+", default=list(VARIANTS))
    reporter.add_argument("--alphas", type=float, nargs="+", default=[1.0],
                          help="length penalties to try on dev (the best is used on test)")
    reporter.add_argument("--beam-size", type=int, default=5)
    reporter.add_argument("--device", default="cpu", help="decode here (cuda on a GPU)")
    reporter.add_argument("--result", default="translation_multi30k",
                          help="the results file's name (translation_multi30k_cuda on a GPU)")
    reporter.add_argument("--result-path", type=Path, help="write the result here instead")
    args = parser.parse_args()
    if args.command == "report" and args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():  # else it fails inside torch, after reading the runs
            parser.error(f"--device {args.device}: no CUDA GPU is available here; decode with"
                         " --device cpu")
    if args.command == "train":
        train(args.variant, args.out or RUNS / args.variant, args.overrides)
    else:
        report(args.runs, args.variants, args.alphas, args.beam_size, args.device, args.result,
               args.result_path)


if __name__ == "__main__":
    main()
