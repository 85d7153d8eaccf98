"""``rnnkit evaluate`` and ``rnnkit predict``: dispatched on the bundle's model kind."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rnnkit.commands.common import COLUMN_FLAGS, EVALUATORS, PREDICTORS, Handler
from rnnkit.commands.paths import FolderPath, check_output_apart, same_file
from rnnkit.config import ConfigError

# the command that runs each kind of model that ``rnnkit predict`` does not
ELSEWHERE = {
    "forecaster": "use rnnkit forecast --model M (or rnnkit backtest --model M)",
    "signal": "use rnnkit forecast --model M for its classes (or rnnkit backtest --model M)",
    "seq2seq": "use rnnkit translate --model M",
    "language_model": "use rnnkit generate --model M (rnnkit evaluate scores it on a text)",
    "dqn": "use rnnkit backtest --model M",
    "synthetic": "a synthetic-task model is scored with rnnkit evaluate --model M",
}


def register(commands: Any, train_tasks: Any) -> None:
    evaluate = commands.add_parser("evaluate", help="score a saved model bundle on test data")
    evaluate.add_argument("--model", type=Path, required=True, help="a .rnnkit bundle")
    evaluate.add_argument("--data", help="a registry dataset name or a file (task models)")
    evaluate.add_argument("--split", default="test", help="registry split (default test)")
    evaluate.add_argument("--format", help="file format when --data is a file: a tagger's "
                          "conllu or iob, a classifier's auto, jsonl, csv, tsv, sst or numeric "
                          "(default: the model's data.format)")
    evaluate.add_argument("--date-column", default="", help="time series: date column of a "
                          "--data file (default: the model's data.date_column, else date)")
    evaluate.add_argument("--data-dir", help="local mirror of the datasets (or set RNNKIT_DATA)")
    add_column_flags(evaluate)
    evaluate.add_argument("--out", action=FolderPath,
                          help="folder for predictions, tables and plots")
    evaluate.add_argument("--size", type=int, help="synthetic: test sequences (default 2000)")
    evaluate.add_argument("--length", type=int, help="synthetic: sequence length to test on "
                          "(default: the model's data.length, as it trained)")
    evaluate.set_defaults(handler=lambda args: _dispatch(args, EVALUATORS, "evaluate"))

    predict = commands.add_parser("predict", help="run a saved model on new input")
    predict.add_argument("--model", type=Path, required=True, help="a .rnnkit bundle")
    predict.add_argument("--input", help="a file to read ('-' or nothing: standard input)")
    predict.add_argument("--text", help="input given directly on the command line")
    predict.add_argument("--format", help="input format (tagger: text, conllu or iob)")
    add_column_flags(predict)
    predict.add_argument("--output", type=Path, help="where to write (default: standard output)")
    predict.add_argument("--scores", action="store_true", help="tagger: each tag's probability "
                         "too (text: a third column; conllu: TagProb= in MISC; iob: an extra "
                         "last column)")
    predict.set_defaults(handler=lambda args: _dispatch(args, PREDICTORS, "predict"))


def add_column_flags(parser: argparse.ArgumentParser) -> None:
    """``--token-column`` and ``--tag-column``: a tagger's columns of an iob file."""
    parser.add_argument(COLUMN_FLAGS[0], type=int, help="tagger, iob files: the column of the "
                        "token, from 1 (negative: from the end; default: the model's "
                        "data.token_column)")
    parser.add_argument(COLUMN_FLAGS[1], type=int, help="tagger, iob files: the column of the "
                        "tag (default: the model's data.tag_column)")


def _dispatch(args: argparse.Namespace, handlers: dict[str, Handler], verb: str) -> int:
    check_output_apart(getattr(args, "output", None),  # every predictor's output, once here
                       {"--input": getattr(args, "input", None), "--model": str(args.model)})
    if getattr(args, "text", None) is not None and getattr(args, "input", None) is not None:
        raise ConfigError(f"--text and --input {args.input} both give the input; give one of "
                          "them: --text for a few lines, --input for a file ('-': standard "
                          "input)")
    from rnnkit.training.bundle import newer_hint, read_header

    header = read_header(args.model)  # the bundle is checked on the way
    kind = header.get("kind", "")
    if kind not in handlers:
        if kind in ELSEWHERE:
            raise ValueError(f"rnnkit {verb} does not run {kind!r} models: {ELSEWHERE[kind]}")
        known = ", ".join(sorted(handlers)) or "none"
        raise ValueError(f"{args.model} holds a {kind!r} model, and rnnkit {verb} cannot "
                         f"handle {kind!r} models yet (it handles: {known}){newer_hint(header)}")
    columns = [flag for flag in COLUMN_FLAGS
               if getattr(args, flag[2:].replace("-", "_"), None) is not None]
    if columns and kind != "tagger":
        raise ConfigError(f"rnnkit {verb} reads {' and '.join(columns)} only for a tagger model "
                          f"(the columns of an iob file), and {args.model} is a {kind} model; "
                          "leave them out")
    if getattr(args, "scores", False) and kind != "tagger":
        raise ConfigError(f"rnnkit predict reads --scores only for a tagger model, and "
                          f"{args.model} is a {kind} model; leave --scores out"
                          + (" (a classifier's predictions carry every label's probability)"
                             if kind == "classifier" else ""))
    if verb == "evaluate":
        check_flags_read(kind, args)
        check_data_apart(kind, args)
    return handlers[kind](args)


# the kinds of model that read each optional ``rnnkit evaluate`` flag
READ_BY = {
    "--size": ("synthetic",),
    "--length": ("synthetic",),
    "--format": ("tagger", "classifier"),
    "--date-column": ("forecaster", "signal"),
    "--data-dir": ("forecaster", "signal", "tagger", "classifier", "seq2seq"),
}
# the flags that a kind's own evaluation refuses, saying more (how that kind is scored)
REFUSED_BY_EVALUATION = {"synthetic": ("--format",), "forecaster": ("--format", "--length"),
                         "signal": ("--format", "--length")}
FROM_REGISTRY = ("tagger", "classifier", "seq2seq")  # --split, --data-dir: a dataset's


def check_flags_read(kind: str, args: argparse.Namespace) -> None:
    """Refuse ``rnnkit evaluate`` flags that a ``kind`` model would ignore without a word
    (``--size 500`` on a tagger, ``--split dev`` with a file for ``--data``), before the
    model is loaded."""
    from rnnkit.data.registry import REGISTRY

    given = {"--size": args.size is not None, "--length": args.length is not None,
             "--format": args.format is not None, "--date-column": bool(args.date_column),
             "--data-dir": args.data_dir is not None}
    for flag, kinds in READ_BY.items():
        if given[flag] and kind not in kinds and flag not in REFUSED_BY_EVALUATION.get(kind, ()):
            raise ConfigError(f"rnnkit evaluate reads {flag} only for a {' or '.join(kinds)} "
                              f"model, and {args.model} is a {kind} model; leave {flag} out")
    if kind in FROM_REGISTRY and args.data in REGISTRY:
        for flag, value in (("--format", given["--format"]),
                            ("--token-column", args.token_column is not None),
                            ("--tag-column", args.tag_column is not None)):
            if value:
                raise ConfigError(f"{flag} says how to read a --data file, and --data "
                                  f"{args.data} is a registry dataset, read in its own format; "
                                  f"leave {flag} out")
    if kind in FROM_REGISTRY and args.data and args.data not in REGISTRY:
        dataset_only = [flag for flag, value in (("--split", args.split != "test"),
                                                 ("--data-dir", given["--data-dir"])) if value]
        if dataset_only:
            them = "it" if len(dataset_only) == 1 else "them"
            raise ConfigError(f"{' and '.join(dataset_only)} {_verb(dataset_only, 'picks')} "
                              f"from a registry dataset, and --data {args.data} is none (a "
                              f"file is read whole); leave {them} out, or give a dataset "
                              "name as --data")


def _verb(flags: list[str], singular: str) -> str:
    """``singular`` (``picks``) for one flag, its plural (``pick``) for several."""
    return singular if len(flags) == 1 else singular.removesuffix("s")


# what rnnkit evaluate writes in --out for each kind of model that reads a --data file ({split}:
# the split scored, test for a file), as their writers name them: commands/classifier.py
# _write_evaluation, pipelines/tagger_scoring.py evaluate_sentences (predictions in the file's
# format), commands/language_model.py evaluate, pipelines/forecaster.py and pipelines/signal.py
EVALUATION_FILES = {
    "classifier": ("{split}.json", "{split}_confusion.png"),
    "tagger": ("{split}_confusion.md", "{split}_confusion.png", "{split}.predictions.conllu",
               "{split}.predictions.iob"),
    "language_model": ("evaluation.json",),
    "forecaster": ("results.json", "forecast.png"),
    "signal": ("results.json", "confusion.png", "equity.png", "drawdown.png"),
}


def check_data_apart(kind: str, args: argparse.Namespace) -> None:
    """Refuse an ``--out`` where the evaluation of a ``kind`` model would write a file over the
    ``--data`` file it scores (``--data d/test.json --out d``: a classifier's test.json), before
    the model is loaded."""
    if args.out is None or not args.data or not Path(args.data).is_file():
        return
    for name in EVALUATION_FILES.get(kind, ()):
        written = args.out / name.format(split=args.split)
        if same_file(written, Path(args.data)):
            raise ConfigError(f"--out {args.out}: rnnkit evaluate writes its {written.name} "
                              f"there, which is the --data file {args.data}: the {kind} "
                              "model's scores would be written over the data; give --out "
                              f"another folder, e.g. {args.out / 'evaluation'}")
