"""The Python front door: ``train``, ``load`` and ``predict``, each what the command line does
(``forecast``: :mod:`rnnkit.api_series`; ``generate``, ``translate``: :mod:`rnnkit.api_text`).

``train`` builds the arguments of ``rnnkit train TASK`` and runs them through the command
line's own parser, checks, config resolution and pipeline; a bad input raises the error the
command line prints as ``rnnkit: error: ...`` (a ``ConfigError``, a ``ValueError``...)
instead of ending the process. ``predict`` takes Python values (sentences, texts) and gives
back what ``rnnkit predict --text`` prints, through the same checks and scoring functions; for
a numeric classifier it reads the long CSV whose path it is given, as ``--input`` does.

Example:
    >>> run = train("tagger", out="runs/pos", train="train.conllu")  # doctest: +SKIP
    >>> predict(load(run.model_path), [["The", "cat", "sat"]])  # doctest: +SKIP
    [['DET', 'NOUN', 'VERB']]
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnkit.config import ConfigError

# the function of rnnkit that runs a model of each kind that rnnkit.predict does not
PYTHON_ELSEWHERE = {
    "forecaster": "use rnnkit.forecast(model) (as rnnkit forecast --model M)",
    "signal": "use rnnkit.forecast(model) for its classes (as rnnkit forecast --model M)",
    "language_model": "use rnnkit.generate(model) (as rnnkit generate --model M)",
    "seq2seq": "use rnnkit.translate(model, sentences) (as rnnkit translate --model M)",
}


@dataclass(frozen=True)
class TrainedRun:
    """A finished training run: its folder, its bundle (None for a task that saves none) and
    its ``results.json``."""

    out: Path
    model_path: Path | None
    results: dict[str, Any]


def command_line(task: str, out: str | Path, settings: Mapping[str, Any] | None,
                 inputs: Mapping[str, Any]) -> list[str]:
    """The arguments of ``rnnkit train`` for these values: ``inputs`` by flag name
    (``data_dir=`` is ``--data-dir=``), ``settings`` as ``--set=key=value`` (see
    :func:`setting_text`; a None setting is left out). Each flag is written ``--flag=value``,
    so a value starting with ``-`` is read as the value, not as another flag.

    Example:
        >>> command_line("tagger", "runs/x", {"train.epochs": 2}, {"data_dir": "d"})
        ['train', 'tagger', '--out=runs/x', '--data-dir=d', '--set=train.epochs=2']
    """
    if settings is not None and not isinstance(settings, Mapping):
        raise TypeError(f"settings is a {type(settings).__name__}: give a dict of dotted keys, "
                        'e.g. settings={"train.epochs": 2}')
    argv = ["train", str(task), f"--out={out}"]
    for name, value in inputs.items():
        if isinstance(value, list | tuple | set | dict):
            raise ConfigError(f"{name}={value!r}: {name}= is one value (one file or name), "
                              f"not a {type(value).__name__}; give one, e.g. {name}='a.txt'")
        if value is not None:
            argv.append(f"--{name.replace('_', '-')}={value}")
    for key, value in (settings or {}).items():
        if value is not None:
            argv.append(f"--set={key}={setting_text(key, value)}")
    return argv


def setting_text(key: str, value: Any) -> str:
    """``value`` as the text of ``--set key=...``: true/false, a number, a string (a Path as its
    text), a list or tuple of strings comma-joined (as list settings are written on the
    command line); anything else is refused, naming ``key``.

    Example:
        >>> setting_text("data.features", ["temp", "wind"]), setting_text("train.lr", 0.01)
        ('"temp,wind"', '0.01')
    """
    from rnnkit.config import toml_text

    if isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, str | Path):
        return toml_text(str(value))
    if isinstance(value, list | tuple) and all(
            isinstance(item, str | Path | int | float) and not isinstance(item, bool)
            for item in value):
        return toml_text(",".join(str(item) for item in value))
    raise ConfigError(f"settings[{key!r}] is {value!r}: give true/false, a number, text, a "
                      "path or a list of text (list settings are comma-joined), or None to "
                      "leave it out")


def parse(argv: list[str]) -> Any:
    """The command line's reading of ``argv``; its refusal (an unknown task or input, with the
    nearest valid one) raised as a ConfigError, not printed with the usage and exited."""
    from rnnkit.cli import build_parser

    told = io.StringIO()
    try:
        with contextlib.redirect_stderr(told):
            return build_parser().parse_args(argv)
    except SystemExit:
        message = told.getvalue().strip().splitlines()[-1] if told.getvalue().strip() else ""
        raise ConfigError(message.partition("error: ")[2] or message
                          or f"cannot read {argv}") from None


def train(task: str, out: str | Path, settings: Mapping[str, Any] | None = None,
          **inputs: Any) -> TrainedRun:
    """Train as ``rnnkit train TASK --out OUT`` does, and return the run.

    ``settings``: the dotted keys of ``--set`` (``{"train.epochs": 2}``); ``inputs``: the
    task's flags by name (``dataset=``, ``train=``, ``dev=``, ``test=``, ``format=``,
    ``data_dir=``..., ``resume=True``). Raises the error the command line would print.

    Ctrl-C stops the run between two optimizer steps after writing ``OUT/last.pt`` and raises
    :class:`rnnkit.training.interruption.TrainingInterrupted` (a ``KeyboardInterrupt``; its
    ``checkpoint`` is that file, None before the first step); ``train`` again with the same
    ``out`` and ``resume=True`` continues from it, as ``rnnkit train ... --resume`` does."""
    from rnnkit.cli import check_arguments, expand_home

    if out is None:
        raise ConfigError(f"rnnkit.train({task!r}, out=None): give the run folder, where the "
                          "bundle and results.json are written")
    for name in inputs:
        if name in ("help", "version", "set", "overrides"):
            raise ConfigError(f"{name}= is not an input of rnnkit.train: give the task's flags "
                              "by name (train=, dev=, test=, format=, data_dir=...; see "
                              f"rnnkit train {task} --help) and --set keys in settings=")
    flags = {name: value for name, value in inputs.items() if not isinstance(value, bool)}
    switches = [f"--{name.replace('_', '-')}" for name, value in inputs.items()
                if value is True]  # resume=True, as --resume
    args = parse(command_line(task, out, settings, flags) + switches)
    for name, value in (("print_config", False), ("nproc", 1)):
        if getattr(args, name, value) != value:
            raise ConfigError(f"{name}= is for the command line (rnnkit train {task} "
                              f"--{name.replace('_', '-')}); rnnkit.train trains in this "
                              "process: leave it out")
    expand_home(args)
    check_arguments(args)
    with caller_state_kept():
        args.handler(args)  # prints what the command line prints: each epoch, the scores
    folder = Path(args.out)
    bundle = folder / "model.rnnkit"
    results_file = folder / "results.json"
    results = json.loads(results_file.read_text(encoding="utf-8")) \
        if results_file.is_file() else {}
    return TrainedRun(folder, bundle if bundle.is_file() else None, results)


@contextlib.contextmanager
def caller_state_kept() -> Iterator[None]:
    """Give the caller back torch's thread count and the Python, NumPy and torch random
    generators as they were, however the block ends (a run sets train.threads and seeds them)."""
    import torch

    from rnnkit.training.checkpoint import rng_state, set_rng_state

    threads, generators = torch.get_num_threads(), rng_state()
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        set_rng_state(generators)


def load(path: str | Path | None) -> Any:
    """The model of a bundle (``model.rnnkit``), in eval mode on the CPU. ``path`` may be a
    ``TrainedRun.model_path``: None (a run that saved no bundle, as dqn) is refused."""
    from rnnkit.training.bundle import load_bundle

    if path is None:
        raise ValueError("rnnkit.load(None): no bundle to load (TrainedRun.model_path is None "
                         "for a task that saves no model.rnnkit, as dqn); give a bundle's path")
    return load_bundle(Path(path).expanduser())


def predict(model: Any, inputs: Sequence[Any], scores: bool = False) -> Any:
    """What ``rnnkit predict`` gives, as Python values, for a model or a bundle's path.

    A tagger: a list of sentences, each a list of tokens (or a string, split at spaces as a
    ``--text`` line is), gives a list of tag lists; with ``scores=True``, the tags and each
    tag's probability, ``(tags, probabilities)``. A classifier: a list of texts gives for each
    the record a line of ``rnnkit predict --text`` holds (``input``: the text as given,
    ``line``: its number in ``inputs``, from 1; ``label`` and ``probabilities``...; an item
    holding line breaks is one text, as a quoted CSV field or a JSONL text is, not one a line
    as ``--text`` reads them); a
    numeric one, the path of the long CSV ``--input`` reads gives the record of each
    sequence (its ``input`` the sequence's id)."""
    from rnnkit.models.classifier import SequenceClassifier
    from rnnkit.models.tagger import Tagger

    name = str(model) if isinstance(model, str | Path) else "the model"
    model = loaded(model, ("tagger", "classifier"), "predict")
    if scores and not isinstance(model, Tagger):
        raise ValueError("scores=True is a tagger's option; a classifier's predictions "
                         "always hold every label's probability: leave it out")
    if isinstance(model, SequenceClassifier) and model.data.get("format") == "numeric":
        return classify_sequences(model, inputs, name)
    if isinstance(inputs, str):
        raise ValueError("inputs is one string; give a list of them (one item a sentence "
                         "or text): [text]")
    if not inputs:
        raise ValueError("nothing to predict: inputs is empty")
    if isinstance(model, Tagger):
        return tag(model, inputs, scores)
    return classify(model, inputs, name)


def loaded(model_or_path: Any, kinds: Sequence[str], function: str) -> Any:
    """The model of a bundle's path, or the model given, checked to be of one of ``kinds``
    (:func:`check_kind`) for ``rnnkit.function``."""
    model = load(model_or_path) if isinstance(model_or_path, str | Path) else model_or_path
    check_kind(model, kinds, function)
    return model


def check_kind(model: Any, kinds: Sequence[str], function: str) -> None:
    """Refuse a model (loaded from a path or given loaded: the same message) of a kind other
    than ``kinds``, naming what runs it.

    Example:
        >>> check_kind(object(), ("tagger",), "predict")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: rnnkit.predict does not run 'object' models: rnnkit.predict runs taggers...
    """
    kind = str(getattr(model, "kind", type(model).__name__))
    if kind not in kinds:
        raise ValueError(f"rnnkit.{function} does not run {kind!r} models: {elsewhere(kind)}")


def elsewhere(kind: str) -> str:
    """Which function (else which command) runs a model of ``kind``, for a refusal."""
    from rnnkit.commands.evaluate import ELSEWHERE

    return PYTHON_ELSEWHERE.get(kind) or ELSEWHERE.get(kind) or (
        "rnnkit.predict runs taggers and classifiers, rnnkit.forecast forecasters and signal "
        "models, rnnkit.generate language models, rnnkit.translate seq2seq models")


def tag(model: Any, inputs: Sequence[Any], scores: bool) -> Any:
    """Tags of each sentence (and their probabilities), as ``rnnkit predict`` on a tagger."""
    from rnnkit.data.tagged import check_sentence_length
    from rnnkit.pipelines.tagger_scoring import predict_tags, predict_tags_with_scores

    token_lists = [item.split() if isinstance(item, str) else list(item) for item in inputs]
    for number, tokens in enumerate(token_lists, 1):
        check_sentence_length(tokens, "inputs", number)
        if not tokens or not all(isinstance(token, str) and token for token in tokens):
            raise ValueError(f"inputs item {number} is {inputs[number - 1]!r}: each sentence "
                             "is a list of tokens, non-empty strings (or one string of them)")
    if scores:
        return predict_tags_with_scores(model, token_lists)
    return predict_tags(model, token_lists)


def classify(model: Any, inputs: Sequence[Any], name: str) -> list[dict[str, Any]]:
    """Each text's record, as a line of ``rnnkit predict`` on a classifier of texts (``name``:
    the bundle's path, for an error)."""
    from rnnkit.commands.classifier import CONFIG, prediction_records
    from rnnkit.commands.classifier_inputs import text_examples
    from rnnkit.commands.saved_settings import check_data_settings
    from rnnkit.pipelines.classifier_scoring import predict_probabilities

    check_data_settings(model, name, ("format",), "predict", CONFIG)
    for number, text in enumerate(inputs, 1):
        if not isinstance(text, str):
            raise ValueError(f"inputs item {number} is {text!r}: give each text as a string")
    check_data_settings(model, name, ("lowercase", "max_tokens", "truncate"), "predict", CONFIG)
    examples = text_examples(list(enumerate(inputs, 1)), model.data, "inputs, ")
    return prediction_records(model, list(inputs), predict_probabilities(model, examples),
                              list(range(1, len(inputs) + 1)))  # "inputs, line N" in errors


def classify_sequences(model: Any, path: Any, name: str) -> list[dict[str, Any]]:
    """Each sequence's record, as a line of ``rnnkit predict --input PATH`` on a numeric
    classifier (``path``: its long CSV; ``name``: the bundle's path, for an error)."""
    from rnnkit.commands.classifier import CONFIG, prediction_records
    from rnnkit.commands.classifier_inputs import numeric_examples
    from rnnkit.commands.common import check_file
    from rnnkit.commands.saved_settings import check_data_settings
    from rnnkit.pipelines.classifier_scoring import predict_probabilities

    check_data_settings(model, name, ("format", "id_column", "time_column", "label_field",
                                      "feature_columns"), "predict", CONFIG)
    if not isinstance(path, str | Path):
        raise ValueError(f"inputs is a {type(path).__name__}: a numeric classifier reads its "
                         "sequences from a long CSV, as rnnkit predict --input does; give the "
                         "file's path (a DataFrame: write it with frame.to_csv(path, "
                         "index=False) first)")
    check_file(str(path), "--input")
    examples, ids = numeric_examples(path, model.data)
    return prediction_records(model, ids, predict_probabilities(model, examples))
