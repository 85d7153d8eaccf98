"""``rnnkit train classifier``, and evaluate/predict for classifier bundles."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from rnnkit.commands.classifier_inputs import (
    fields_of_the_model,
    numeric_examples,
    structured,
    text_examples,
)
from rnnkit.commands.common import (
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
from rnnkit.commands.inputs import check_classifier_inputs
from rnnkit.commands.paths import input_lines, make_parent, read_text_input
from rnnkit.commands.saved_settings import check_data_settings
from rnnkit.config import check_choice

FORMATS = ("auto", "jsonl", "csv", "tsv", "sst", "numeric")

DATA_FLAGS = ("dataset", "train", "dev", "test", "format", "data_dir")
CONFIG = "ClassifierDataConfig"  # the data section a bundle's data settings come from


def register(commands: Any, train_tasks: Any) -> None:
    parser = train_tasks.add_parser(
        "classifier", help="sequence classifier: sentiment (SST, IMDB), text files, numeric"
                           " sequences (long CSV)")
    parser.add_argument("--dataset", help="a registry dataset: sst or imdb")
    parser.add_argument("--train", help="training file (instead of a registry dataset)")
    parser.add_argument("--dev", help="development file (default: 10%% of train held out)")
    parser.add_argument("--test", help="test file")
    parser.add_argument("--format", choices=FORMATS,
                        help="format of the files (default: from the file name)")
    parser.add_argument("--data-dir", help="local mirror of the datasets (or set RNNKIT_DATA)")
    add_config_options(parser)
    parser.set_defaults(handler=train)
    EVALUATORS["classifier"] = evaluate
    PREDICTORS["classifier"] = predict


def train(args: argparse.Namespace) -> int:
    from rnnkit.pipelines.classifier import ClassifierRunConfig, check_run, train_classifier

    add_data_flags(args, DATA_FLAGS)
    config = resolve_config(ClassifierRunConfig, args, check_run, check_classifier_inputs)
    if config is None:
        return 0
    name = config.data.dataset or Path(config.data.train).stem
    results = train_classifier(config, args.out or Path("runs") / f"classifier-{name}",
                               args.resume)
    print_json({split: results[split]["scores"] for split in ("dev", "test")
                if split in results} | {"train_seconds": results["train_seconds"]},
               indent=2)
    return 0


def _settings_config(model: Any, data: str, fmt: str | None) -> Any:
    """Read evaluation data the way the model's training data was read."""
    from dataclasses import fields

    from rnnkit.pipelines.classifier_data import ClassifierDataConfig

    names = {f.name for f in fields(ClassifierDataConfig)}
    settings = {k: v for k, v in model.data.items() if k in names}
    if model.multi_label:  # a bundle from before the separator was kept: the documented "|"
        settings.setdefault("label_separator", "|")
    return ClassifierDataConfig(test=data, **{**settings, "format": fmt or settings["format"]})


def _evaluation_data(model: Any, args: argparse.Namespace, datasets: list[str]
                     ) -> tuple[Any, Path]:
    """The settings to read ``--data`` with, and its file: a registry dataset's ``--split``
    (read with the model's training settings, e.g. SST's labels) or the file given."""
    from dataclasses import replace

    from rnnkit.data.registry import dataset_file, get_spec

    if args.data not in datasets:
        return _settings_config(model, args.data, args.format), Path(args.data)
    splits = get_spec(args.data).splits
    if args.split not in splits:
        raise ValueError(f"--split {args.split!r}: {args.data} has the splits "
                         f"{', '.join(splits)}")
    data = replace(_settings_config(model, "", args.format), dataset=args.data,
                   format=args.format or "auto", data_dir=args.data_dir or "")
    return data, dataset_file(args.data, args.split, args.data_dir or None)


def evaluate(args: argparse.Namespace) -> int:
    from rnnkit.pipelines.classifier import load_classifier_bundle
    from rnnkit.pipelines.classifier_checks import check_numbers
    from rnnkit.pipelines.classifier_data import check_labels, name_labels, read_examples
    from rnnkit.pipelines.classifier_scoring import evaluate_examples

    datasets = registry_names("classification")
    if not args.data:
        raise ValueError("rnnkit evaluate on a classifier needs --data: a dataset "
                         f"({', '.join(datasets)}) or a file in the format the model was "
                         "trained on")
    if args.format:
        check_choice(args.format, "--format", FORMATS)
    if args.data not in datasets:
        check_file(args.data, "--data")
    model = load_classifier_bundle(args.model)
    if not args.format:  # the rest of a file's reading has its defaults
        check_data_settings(model, args.model, ("format",), "evaluate", CONFIG)
    data, path = _evaluation_data(model, args, datasets)
    readable = _readable_formats(model, data.resolved_format(), args.data)
    hint = (read_as(data.format, args.format or (args.data in datasets and "registry") or None,
                    readable) if len(readable) > 1 else contextlib.nullcontext())
    with hint, fields_of_the_model():
        examples = read_examples(data, path, training=False)  # a file in a dataset's format
    examples = name_labels(examples, model.data.get("label_names") or {})  # gets its names
    if model.config.output == "linear":
        check_numbers(examples, "evaluation")
    else:
        check_labels(examples, model.labels, "evaluation")
    result = evaluate_examples(model, examples)
    print_json(result, indent=2)
    if args.out is not None:
        _write_evaluation(result, args.out, args.split)
    return 0


def _readable_formats(model: Any, fmt: str, data: str) -> list[str]:
    """The formats ``model`` reads (a numeric classifier long CSVs only, a text one the
    others); ``fmt``, the one ``data`` would be read in, must be one of them: read in another,
    the examples failed deep in encoding with an AssertionError or KeyError traceback."""
    numeric = model.words is None
    if numeric and fmt != "numeric":
        raise ValueError(f"this classifier reads numeric sequences (a long CSV, --format "
                         f"numeric), and {data} would be read as {fmt}: give a long CSV with "
                         "the columns it was trained on")
    if not numeric and fmt == "numeric":
        raise ValueError(f"this classifier reads texts, and {data} would be read as numeric "
                         "sequences: give a file of texts (--format jsonl, csv, tsv or sst)")
    return ["numeric"] if numeric else [n for n in FORMATS if n not in ("auto", "numeric")]


def _write_evaluation(result: dict[str, Any], out: Path, name: str) -> None:
    """``<name>.json`` and, for labels, ``<name>_confusion.png`` in ``out``."""
    from rnnkit.pipelines.run import drawing, write_results
    from rnnkit.viz.confusion import plot_confusion

    out.mkdir(parents=True, exist_ok=True)
    print(f"wrote {write_results(result, out / f'{name}.json')}", file=sys.stderr)
    if "confusion" in result:
        confusion = result["confusion"]
        with drawing(out / f"{name}_confusion.png"):
            path = plot_confusion(confusion["labels"], confusion["matrix"],
                                  out / f"{name}_confusion.png", title=f"{name} confusion")
            print(f"wrote {path}", file=sys.stderr)


def predict(args: argparse.Namespace) -> int:
    """One JSON line per input: the text as given and its line (a sequence: its id), its
    label(s) and every label's probability."""
    from rnnkit.data.text_labels import read_labelled_texts, row_texts
    from rnnkit.pipelines.classifier import load_classifier_bundle
    from rnnkit.pipelines.classifier_scoring import predict_probabilities

    if args.input not in (None, "-"):
        check_file(args.input, "--input")
    model = load_classifier_bundle(args.model)
    settings = model.data
    check_data_settings(model, args.model, ("format", *(
        ("id_column", "time_column", "label_field", "feature_columns")
        if settings.get("format") == "numeric" else ("lowercase", "max_tokens", "truncate"))),
        "predict", CONFIG)
    reads = "numeric" if settings["format"] == "numeric" else "text"
    if args.format not in (None, reads):
        raise ValueError(f"--format {args.format!r}: this classifier's predict reads "
                         + ("a long CSV of numeric sequences (--format numeric)"
                            if reads == "numeric" else "one text per line (--format text)")
                         + "; to score a labelled file, use rnnkit evaluate --data FILE")
    examples: list[Any]
    lines: list[int] | None = None  # each text's line: of the text, or where its row starts
    if reads == "numeric":
        if not args.input or args.input == "-":
            raise ValueError("a numeric classifier reads a long CSV: give --input PATH")
        examples, names = numeric_examples(args.input, settings)
    elif args.input not in (None, "-") and args.format is None and structured(args.input):
        with fields_of_the_model():
            examples = read_labelled_texts(  # a CSV/TSV/JSONL file: its text field, by row
                args.input, text_field=settings.get("text_field", "text"),
                lowercase=settings["lowercase"],
                max_tokens=settings["max_tokens"], how=settings["truncate"], labelled=False)
        numbered = row_texts(args.input, settings.get("text_field", "text"))
    else:
        text = args.text if args.text is not None else read_text_input(args.input)
        numbered = [(number, line) for number, line in  # blank lines skipped, counted
                    enumerate(input_lines(text, args), 1) if line.strip()]
        if not numbered:
            raise ValueError("nothing to classify: the input is empty (one text per line)")
        examples = text_examples(numbered, settings,
                                 "" if args.input in (None, "-") else f"{args.input}, ")
    if reads == "text":  # each text as given
        names, lines = [text for _, text in numbered], [number for number, _ in numbered]
    records = prediction_records(model, names, predict_probabilities(model, examples), lines)
    out = [json.dumps(record, ensure_ascii=False) for record in records]
    text_out = "\n".join(out) + "\n"
    if args.output:
        from rnnkit.training.checkpoint import write_output_text

        make_parent(args.output)
        write_output_text(args.output, text_out)  # never half a file, even after a Ctrl-C
    else:
        sys.stdout.write(text_out)
    return 0


def prediction_records(model: Any, ids: list[str], probabilities: Any,
                       lines: list[int] | None = None) -> list[dict[str, Any]]:
    """What predict gives for each input (named by ``ids``: a text as given, a sequence's id;
    with ``lines``, the line it came from): its label (its labels, for several; its values,
    for a regression) and every label's probability."""
    records = []
    for number, (key, row) in enumerate(zip(ids, probabilities.tolist(), strict=True)):
        record: dict[str, Any] = {"input": key}
        if lines is not None:
            record["line"] = lines[number]
        if model.config.output == "linear":
            record["values"] = dict(zip(model.labels, row, strict=True))
        elif model.multi_label:
            record["labels"] = [label for label, p in zip(model.labels, row, strict=True)
                                if p >= 0.5]
        else:
            record["label"] = model.labels[max(range(len(row)), key=row.__getitem__)]
        if model.config.output != "linear":
            record["probabilities"] = {label: round(p, 6)
                                       for label, p in zip(model.labels, row, strict=True)}
        records.append(record)
    return records
