"""``rnnkit train tagger``, and evaluate/predict for tagger bundles."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rnnkit.commands.common import (
    COLUMN_FLAGS,
    EVALUATORS,
    PREDICTORS,
    add_config_options,
    add_data_flags,
    check_file,
    print_json,
    read_as,
    registry_names,
    resolve_config,
)
from rnnkit.commands.inputs import check_tagger_inputs
from rnnkit.commands.paths import input_lines, input_name, make_parent, read_text_input
from rnnkit.commands.saved_settings import check_data_settings
from rnnkit.config import ConfigError, check_choice

DATA_FLAGS = ("dataset", "train", "dev", "test", "format", "data_dir")


def register(commands: Any, train_tasks: Any) -> None:
    parser = train_tasks.add_parser(
        "tagger", help="part-of-speech or named-entity tagger (BiLSTM, char features, CRF)"
    )
    parser.add_argument("--dataset", help="a registry dataset (rnnkit datasets list)")
    parser.add_argument("--train", help="training file (instead of a registry dataset)")
    parser.add_argument("--dev", help="development file")
    parser.add_argument("--test", help="test file")
    parser.add_argument("--format", choices=("conllu", "iob"), help="format of the files")
    parser.add_argument("--data-dir", help="local mirror of the datasets (or set RNNKIT_DATA)")
    add_config_options(parser)
    parser.set_defaults(handler=train)
    EVALUATORS["tagger"] = evaluate
    PREDICTORS["tagger"] = predict


def train(args: argparse.Namespace) -> int:
    from rnnkit.pipelines.tagger import TaggerRunConfig, check_run, train_tagger

    add_data_flags(args, DATA_FLAGS)
    config = resolve_config(TaggerRunConfig, args, check_run, check_tagger_inputs)
    if config is None:
        return 0
    name = config.data.dataset or Path(config.data.train).stem
    results = train_tagger(config, args.out or Path("runs") / f"tagger-{name}", args.resume)
    print_json({"dev": results["dev"]["scores"], "test": results["test"]["scores"],
                "train_seconds": results["train_seconds"]}, indent=2)
    return 0


def evaluate(args: argparse.Namespace) -> int:
    from rnnkit.data.registry import REGISTRY
    from rnnkit.pipelines.tagger import load_tagger_bundle
    from rnnkit.pipelines.tagger_data import FORMATS, TaggerDataConfig, read_file, read_split
    from rnnkit.pipelines.tagger_scoring import evaluate_sentences

    if not args.data:
        raise ValueError("rnnkit evaluate on a tagger needs --data (a registry name or a file)")
    check_evaluate_flags(args)
    model = load_tagger_bundle(args.model)
    column = model.data.get("column", "upos")
    scheme = reader_scheme(model)
    if args.data in REGISTRY:
        data = TaggerDataConfig(dataset=args.data, data_dir=args.data_dir or "", column=column,
                                scheme=scheme)
        split, settings = args.split, data.reader_settings()
        sentences = read_split(data, split)
    else:  # read as the model's training data was read (its comment prefix too), as predict
        split = "test"
        if not args.format:
            check_data_settings(model, args.model, ("format",), "evaluate", "TaggerDataConfig")
        settings = file_settings(model, args.format or model.data["format"], args)
        with read_as(settings["format"], args.format, FORMATS):
            sentences = read_file(args.data, settings)
    result = {"split": split,
              **evaluate_sentences(model, sentences, args.out, split, settings)}
    shown = {k: v for k, v in result.items() if k not in ("confusion",)}
    print_json(shown, indent=2)
    return 0


def file_settings(model: Any, fmt: str, args: argparse.Namespace) -> dict[str, Any]:
    """The reader settings for a user's file in format ``fmt``: the model's own (columns,
    comment prefix), with the scheme its tags are read in and the columns ``args`` give."""
    untold = tuple(key for key, given in (("token_column", args.token_column),
                                          ("tag_column", args.tag_column)) if given is None)
    read_with = ("column",) if fmt == "conllu" else ("format", *untold) if untold else ()
    check_data_settings(model, args.model, read_with, args.command, "TaggerDataConfig")
    settings = {**model.data, "format": fmt, "scheme": reader_scheme(model)}
    check_columns(fmt, args)
    if fmt != "iob":
        return settings
    token, tag = args.token_column, args.tag_column
    settings["column_names"] = COLUMN_FLAGS
    for key, flag, value in (("token_column", COLUMN_FLAGS[0], token),
                             ("tag_column", COLUMN_FLAGS[1], tag)):
        if value == 0:
            raise ConfigError(f"{flag} counts from 1 (or from the end with -1), so 0 is not "
                              "a column")
        if value is not None:
            settings[key] = value
    if (token is None or tag is None) and model.data["format"] != "iob":
        # the model trained on CoNLL-U has no iob columns: the first and the last column fit
        # token<TAB>tag lines only (UNER's "1<TAB>What<TAB>O<TAB>-<TAB>-" tagged its IDs)
        settings["max_fields"] = 2
    return settings


def check_columns(fmt: str, args: argparse.Namespace) -> None:
    """Refuse ``--token-column`` or ``--tag-column`` for input not read as an iob file."""
    if fmt != "iob" and (args.token_column is not None or args.tag_column is not None):
        raise ConfigError(f"--token-column and --tag-column choose the columns of an iob file, "
                          f"and the input is read as {fmt}, not iob; leave them out, or give "
                          "--format iob")


def reader_scheme(model: Any) -> str:
    """The ``data.scheme`` to read a model's iob files with: its own, or ``none`` (any tag)
    for a model whose tags are not spans (part of speech trained on CoNLL-U reads POS tags)."""
    from rnnkit.data.tags import span_f1_available

    if not span_f1_available(model.tags.symbols):
        return "none"
    return str(model.data.get("scheme", "bio"))


def check_evaluate_flags(args: argparse.Namespace) -> None:
    """Refuse a ``--data`` that is neither a registry dataset nor a file, and a ``--format``
    the tagger cannot read, before the model is loaded."""
    from rnnkit.pipelines.tagger_data import FORMATS

    if args.format:
        check_choice(args.format, "--format", FORMATS)
    known = registry_names("tagging")
    if args.data not in known and not Path(args.data).is_file():
        raise ConfigError(f"--data {args.data!r} is neither a tagging dataset "
                          f"({', '.join(known)}) nor an existing file")


def predict(args: argparse.Namespace) -> int:
    from rnnkit.data.tagged import check_sentence_length
    from rnnkit.pipelines.tagger import load_tagger_bundle
    from rnnkit.pipelines.tagger_data import FORMATS, read_file, write_predictions
    from rnnkit.pipelines.tagger_scoring import predict_tags, predict_tags_with_scores

    if args.format:
        check_choice(args.format, "--format", ("text", *FORMATS))
    if args.input not in (None, "-"):
        check_file(args.input, "--input")
    model = load_tagger_bundle(args.model)
    if not (args.format or args.text or not args.input):
        check_data_settings(model, args.model, ("format",), "predict", "TaggerDataConfig")
    fmt = args.format or ("text" if args.text or not args.input else model.data["format"])
    if fmt == "text":
        check_columns(fmt, args)
        text = args.text if args.text is not None else read_text_input(args.input)
        split = [line.split() for line in input_lines(text, args)]
        for number, tokens in enumerate(split, 1):
            check_sentence_length(tokens, input_name(args), number)
        token_lists = [tokens for tokens in split if tokens]
        if not token_lists:
            raise ValueError("nothing to tag: the input is empty")
        lines: list[str] = []
        all_tags, all_scores = _predict(model, token_lists, args.scores)
        for tokens, tags, texts in zip(token_lists, all_tags, all_scores, strict=True):
            columns = [tokens, tags] if texts is None else [tokens, tags, texts]
            lines.extend("\t".join(fields) for fields in zip(*columns, strict=True))
            lines.append("")
        _write_output("\n".join(lines) + "\n", args.output)
        return 0
    settings = file_settings(model, fmt, args)
    with read_as(fmt, args.format, ("text", *FORMATS)):
        if args.input in (None, "-"):  # standard input, read whole
            from rnnkit.data.files import split_lines

            lines = split_lines(read_text_input(args.input))
            sentences = read_file("standard input", settings, require_tags=False, lines=lines)
        else:
            sentences = read_file(args.input, settings, require_tags=False)
    token_lists = [s.tokens for s in sentences]
    if args.scores:
        predicted, scores = predict_tags_with_scores(model, token_lists)
    else:
        predicted, scores = predict_tags(model, token_lists), None
    # the file with its tags replaced, to standard output unless --output names a file
    make_parent(args.output)
    write_predictions(sentences, predicted, args.output or sys.stdout, settings, scores)
    if args.output is not None:
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _predict(model: Any, token_lists: list[list[str]], scores: bool
             ) -> tuple[list[list[str]], list[list[str]] | list[None]]:
    """Tags for each sentence, and with ``scores`` each tag's probability as written."""
    from rnnkit.data.tagged import probability_text
    from rnnkit.pipelines.tagger_scoring import predict_tags, predict_tags_with_scores

    if not scores:
        return predict_tags(model, token_lists), [None for _ in token_lists]
    tags, probabilities = predict_tags_with_scores(model, token_lists)
    return tags, [[probability_text(p) for p in row] for row in probabilities]


def _write_output(text: str, path: Path | None) -> None:
    if path is None:
        sys.stdout.write(text)
    else:
        from rnnkit.training.checkpoint import write_output_text

        make_parent(path)
        write_output_text(path, text)  # never half a file, even after a Ctrl-C
