"""``rnnkit train lm`` and ``rnnkit generate``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rnnkit.commands.common import (
    EVALUATORS,
    add_config_options,
    check_file,
    print_json,
    registry_names,
    resolve_config,
)
from rnnkit.commands.inputs import check_text_input


def register(commands: Any, train_tasks: Any) -> None:
    parser = train_tasks.add_parser(
        "lm", help="character- or word-level language model (truncated BPTT, sampling)"
    )
    parser.add_argument("--dataset", help="a registry text dataset (default tinyshakespeare)")
    parser.add_argument("--file", help="a UTF-8 text file instead of a registry dataset (the"
                        " default --out is then runs/lm-NAME, NAME the file's stem)")
    parser.add_argument("--data-dir", help="local mirror of the datasets (or set RNNKIT_DATA)")
    add_config_options(parser)
    parser.set_defaults(handler=train)

    generate = commands.add_parser("generate", help="generate text with a language model")
    generate.add_argument("--model", type=Path, required=True, help="a language_model bundle")
    generate.add_argument("--prime", default="", help="text to start from (default: a newline);"
                          " a word model reads words it does not know as <unk>, a character"
                          " model refuses characters it never saw")
    generate.add_argument("--length", type=int, default=500,
                          help="tokens to generate: characters, or for a word model words"
                          " and line breaks, each line break one of them (default 500)")
    generate.add_argument("--temperature", type=float, default=0.8,
                          help="softer (>1) or sharper (<1) sampling; 0 is greedy (default 0.8)")
    generate.add_argument("--top-k", type=int, default=0,
                          help="sample from the k most likely (default 0: from all)")
    generate.add_argument("--top-p", type=float, default=1.0,
                          help="sample from the smallest set reaching probability p "
                               "(default 1: from all)")
    generate.add_argument("--seed", type=int, default=0,
                          help="same seed, same text (default 0)")
    generate.add_argument("--show-vocabulary", action="store_true",
                          help="print the model's tokens and exit")
    generate.set_defaults(handler=run_generate)
    EVALUATORS["language_model"] = evaluate


def train(args: argparse.Namespace) -> int:
    from rnnkit.config import ConfigError, toml_text
    from rnnkit.pipelines.language_model import LMRunConfig, check_settings, train_language_model

    if args.file and args.dataset:
        raise ConfigError(f"--file {args.file} and --dataset {args.dataset} both give the text;"
                          " give one of them (a file is read instead of any dataset)")
    shorthand = []
    if args.file:
        shorthand += [f"data.file={toml_text(args.file)}", 'data.dataset=""']
    if args.dataset:
        shorthand.append(f"data.dataset={toml_text(args.dataset)}")
    if args.data_dir:
        shorthand.append(f"data.data_dir={toml_text(args.data_dir)}")
    args.overrides = shorthand + list(args.overrides)
    config = resolve_config(LMRunConfig, args, check_settings, check_text_input)
    if config is None:
        return 0
    # named after the text read_text reads: data.file wins over data.dataset (its default too)
    name = Path(config.data.file).stem if config.data.file else config.data.dataset
    out = args.out or Path("runs") / f"lm-{name}"
    results = train_language_model(config, out, args.resume)
    print_json({"validation": results["validation"],
                "train_seconds": results["train_seconds"]}, indent=2)
    print(results["sample"])
    return 0


def run_generate(args: argparse.Namespace) -> int:
    from rnnkit.models.generate import check_prime, generate
    from rnnkit.pipelines.language_model import load_language_model

    config = sampling(args.prime, args.length, args.temperature, args.top_k, args.top_p,
                      args.seed)
    model = load_language_model(args.model)
    if args.show_vocabulary:
        print_json(model.vocab.symbols[1:], ensure_ascii=False)
        return 0
    check_prime(model, args.prime, key=f"--prime {args.prime!r}")

    def stream(piece: str) -> None:
        sys.stdout.write(piece)
        sys.stdout.flush()

    generate(model, config, on_text=stream)
    sys.stdout.write("\n")
    return 0


def sampling(prime: str, length: int, temperature: float, top_k: int, top_p: float,
             seed: int) -> Any:
    """``rnnkit generate``'s sampling settings, checked: a value out of range is an error
    naming its flag (``--top-p``)."""
    from rnnkit.models.generate import SamplingConfig, check_sampling

    config = SamplingConfig(prime=prime, length=length, temperature=temperature,
                            top_k=top_k, top_p=top_p, seed=seed)
    check_sampling(config, key=lambda name: "--" + name.replace("_", "-"))  # the flags' names
    return config


def evaluate(args: argparse.Namespace) -> int:
    """``rnnkit evaluate --model LM --data FILE``: loss, perplexity (and bits per character)
    of a saved language model on the whole text of a file."""
    from rnnkit.config import ConfigError
    from rnnkit.pipelines.language_model import evaluate_text, load_language_model
    from rnnkit.pipelines.run import write_results

    if not args.data:
        raise ConfigError("rnnkit evaluate on a language model needs --data: a UTF-8 text file"
                          " to score (e.g. held-out text the model never trained on)")
    if args.split != "test":
        raise ConfigError("--split is not read for a language model: --data is a text file, "
                          "scored whole; leave it out")
    if args.data in registry_names("language_model") and not Path(args.data).exists():
        raise ConfigError(f"--data {args.data} is a registry dataset; a language model is "
                          "scored on a text file: give a file of held-out text (the dataset's "
                          f"own file is `rnnkit datasets path {args.data}`, which the model "
                          "may have trained on)")
    check_file(args.data, "--data")
    result = evaluate_text(load_language_model(args.model), args.data)
    print_json(result, indent=2)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        write_results(result, args.out / "evaluation.json")
    return 0

