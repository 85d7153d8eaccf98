"""Where a classifier's data comes from: registry datasets (SST, IMDB) or files, per split."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import torch

from rnnkit.data.numeric_sequences import (
    NumericSequence,
    read_header,
    read_numeric_sequences,
)
from rnnkit.data.registry import dataset_file, get_spec, get_task_spec
from rnnkit.data.sst import SST2_LABELS, SST5_LABELS, read_trees, sst_examples
from rnnkit.data.text_labels import (
    LabelledText,
    read_labelled_texts,
    truncate,
)
from rnnkit.data.vocab import Vocab

Example = LabelledText | NumericSequence

T = TypeVar("T")
FORMATS = ("auto", "jsonl", "csv", "tsv", "sst", "numeric")  # auto: the dataset's, or by file name
# the run's check (commands/inputs.py) and read_splits say it in the same words
NO_TRAINING_DATA = "no training data: set data.dataset (sst, imdb) or data.train"


@dataclass(frozen=True)
class ClassifierDataConfig:
    """The classifier's data and how to read it."""

    dataset: str = ""  # a registry name (sst, imdb), or "" with data.train
    train: str = ""
    dev: str = ""  # "" with no dev split: data.dev_fraction of train is held out
    test: str = ""
    format: str = "auto"  # one of FORMATS
    data_dir: str = ""  # local mirror of the registry (else RNNKIT_DATA)
    text_field: str = "text"
    label_field: str = "label"
    label_separator: str = ""  # e.g. "|": several labels per example (multi-label)
    sst_labels: str = "sst5"  # sst5 | sst2
    phrases: bool = False  # SST: train on every labelled phrase, not only whole sentences
    lowercase: bool = True
    max_tokens: int = 0  # keep at most this many tokens per text (0: all)
    truncate: str = "head"  # head | tail | head_tail: which tokens max_tokens keeps
    min_count: int = 1  # rarer training words become <unk>
    dev_fraction: float = 0.1
    id_column: str = "id"  # numeric: the sequence id column
    time_column: str = ""  # numeric: orders the rows of a sequence ("" = file order)
    feature_columns: str = ""  # numeric: comma-separated ("" = every other column)

    def reader_settings(self) -> dict[str, Any]:
        """What prediction needs to read new input the way training read it."""
        return {"format": self.resolved_format(), "lowercase": self.lowercase,
                "max_tokens": self.max_tokens, "truncate": self.truncate,
                "text_field": self.text_field, "label_field": self.label_field,
                "id_column": self.id_column, "time_column": self.time_column,
                "feature_columns": self.feature_columns, "sst_labels": self.sst_labels,
                "label_separator": self.label_separator, "label_names": self.label_names()}

    def label_names(self) -> dict[str, str]:
        """A registry dataset's names of its coded labels (IMDB: 0 negative, 1 positive)."""
        options = get_spec(self.dataset).reader_options if self.dataset else {}
        return dict(options.get("label_names") or {})

    def resolved_format(self) -> str:
        if self.format != "auto" or not self.dataset:
            return self.format
        return get_spec(self.dataset).format


def check_dataset(data: ClassifierDataConfig) -> None:
    """Refuse a ``data.dataset`` that is not a classification dataset: a tagging one was
    refused as 'data.format must be one of jsonl, csv, tsv', a language model's as 'no
    training data: set data.dataset', a translation one with advice for the Python API."""
    if data.dataset:
        get_task_spec(data.dataset, "classification", "a classifier")


def _path(data: ClassifierDataConfig, split: str) -> Path | None:
    if data.dataset:
        spec = get_spec(data.dataset)
        if split not in spec.splits:
            return None
        return dataset_file(data.dataset, split, data.data_dir or None)
    chosen = getattr(data, split)
    return Path(chosen) if chosen else None


def with_named_features(data: ClassifierDataConfig) -> ClassifierDataConfig:
    """Numeric data with its feature columns named (every column of the training file's header
    but the id, time and label ones, when none are set), so that every later file (dev, test,
    prediction input) is read by column name in the training order, not by position.

    Raises:
        ValueError: ``data.label_separator`` with numeric data (one label per sequence), or a
            feature column with a comma in its name (the list is comma-separated).
    """
    if data.resolved_format() != "numeric":
        return data
    if data.label_separator:
        raise ValueError("data.label_separator is for text files: a numeric sequence has one "
                         "label (its label column); leave data.label_separator empty")
    named = [c.strip() for c in data.feature_columns.split(",") if c.strip()]
    path = _path(data, "train")
    if not named and path is not None and path.is_file():
        header = read_header(path)  # as the reader sees it: a byte-order mark is no name
        skip = {data.id_column, data.label_field, data.time_column}
        named = [c for c in header if c not in skip]
        with_comma = [c for c in named if "," in c]  # the list below would split it in two
        if with_comma:
            raise ValueError(f"{path}: column {with_comma[0]!r} has a comma in its name, and "
                             "the feature columns are kept as a comma-separated list: rename "
                             "the column, or list the others in data.feature_columns")
    return replace(data, feature_columns=",".join(named))


def read_examples(data: ClassifierDataConfig, path: Path, training: bool) -> list[Example]:
    """One file's examples as the configuration says."""
    fmt = data.resolved_format()
    if fmt == "sst":
        from_trees = _sst(data, read_trees(path), data.phrases and training)
        if not from_trees:
            raise ValueError(_all_neutral(path))
        return from_trees
    if fmt == "numeric":
        columns = [c.strip() for c in data.feature_columns.split(",") if c.strip()] or None
        sequences, _ = read_numeric_sequences(path, data.id_column, data.time_column,
                                              data.label_field, columns)
        return list(sequences)
    options = get_spec(data.dataset).reader_options if data.dataset else {}
    examples = read_labelled_texts(
        path, fmt, options.get("text_field", data.text_field),
        options.get("label_field", data.label_field), data.label_separator, data.lowercase,
        data.max_tokens, data.truncate,
    )
    return name_labels(list(examples), data.label_names())


def _sst(data: ClassifierDataConfig, trees: list[Any], phrases: bool) -> list[Example]:
    """SST trees' examples (every labelled phrase with ``phrases``), lowercased and cut to
    ``data.max_tokens`` as any text is (and as ``rnnkit predict`` reads a sentence)."""
    lower = data.lowercase
    return [LabelledText(tuple(truncate([t.lower() if lower else t for t in tokens],
                                        data.max_tokens, data.truncate)), (label,))
            for tokens, label in sst_examples(trees, data.sst_labels, phrases)]


def _all_neutral(path: Path) -> str:
    """The error for an SST file with no sentence to learn or score: SST-2 drops neutral ones."""
    return (f"{path} holds no sentence that SST-2 can label: data.sst_labels=sst2 drops neutral "
            "(2) sentences, and every tree here is neutral at its root; give a file with "
            "positive or negative trees, or set data.sst_labels=sst5")


def name_labels(examples: list[Example], names: dict[str, str]) -> list[Example]:
    """The examples with coded labels named (``names``: code -> name; others kept)."""
    if not names:
        return examples
    return [LabelledText(e.tokens, tuple(names.get(label, label) for label in e.labels))
            if isinstance(e, LabelledText) else e for e in examples]


def read_splits(data: ClassifierDataConfig, seed: int, log: Any = print
                ) -> dict[str, list[Example]]:
    """``train``, ``dev`` and (when there is one) ``test`` examples.

    Without a dev split, a seeded ``dev_fraction`` of the training examples is held out. SST
    with ``data.phrases`` adds ``train_text``: each training tree's words once (those that some
    training example holds), for the vocabulary to count (a word is in every phrase around it:
    counted per phrase, a word seen once in the text passed any ``data.min_count``).
    """
    paths = {split: _path(data, split) for split in ("train", "dev", "test")}
    if paths["train"] is None:
        raise ValueError(NO_TRAINING_DATA)
    splits: dict[str, list[Example]] = {}
    train_trees = None
    if paths["dev"] is not None:
        splits["train"] = read_examples(data, paths["train"], training=True)
        splits["dev"] = read_examples(data, paths["dev"], training=False)
    else:
        if not 0.0 < data.dev_fraction < 1.0:
            raise ValueError(f"data.dev_fraction must be in (0, 1), got {data.dev_fraction}")
        if data.resolved_format() == "sst":  # whole trees held out; the others' phrases train
            trees = read_trees(paths["train"])  # a held-out tree must give a sentence (SST-2
            usable = [bool(sst_examples([t], data.sst_labels, False)) for t in trees]  # drops
            if not any(usable):  # neutral roots)
                raise ValueError(_all_neutral(paths["train"]))
            held, kept = _hold_out(trees, usable, data.dev_fraction, seed)
            train_trees = kept
            splits["dev"], splits["train"] = _sst(data, held, False), _sst(data, kept,
                                                                           data.phrases)
        else:
            train = read_examples(data, paths["train"], training=True)
            splits["dev"], splits["train"] = _hold_out(train, [True] * len(train),
                                                       data.dev_fraction, seed)
        if not splits["dev"] or not splits["train"]:
            available = len(splits["dev"]) + len(splits["train"])
            raise ValueError(f"{available} training example(s) are too few to hold out "
                             "data.dev_fraction for validation and train on the rest; give "
                             "more examples or a dev file (data.dev)")
        log(f"held out {len(splits['dev'])} training examples for validation "
            "(data.dev_fraction)")
    if paths["test"] is not None:
        splits["test"] = read_examples(data, paths["test"], training=False)
    if data.resolved_format() == "sst" and data.phrases:
        trees = read_trees(paths["train"]) if train_trees is None else train_trees
        trained = {word for e in splits["train"] for word in example_tokens(e)}
        splits["train_text"] = [  # the words that some training example holds
            LabelledText(tuple(w for w in (t.lower() if data.lowercase else t
                                           for t in tree.tokens) if w in trained), ())
            for tree in trees]
    return splits


def _hold_out(items: list[T], usable: list[bool], fraction: float, seed: int
              ) -> tuple[list[T], list[T]]:
    """A seeded ``fraction`` of the usable items, and every other item, each in file order."""
    eligible = [i for i, ok in enumerate(usable) if ok]
    order = torch.randperm(len(eligible), generator=torch.Generator().manual_seed(seed))
    chosen = {eligible[i] for i in order[:max(1, int(len(eligible) * fraction))].tolist()}
    return ([item for i, item in enumerate(items) if i in chosen],
            [item for i, item in enumerate(items) if i not in chosen])


def label_order(data: ClassifierDataConfig, labels: set[str]) -> list[str]:
    """The label list: SST in scale order, numbers numerically (names of one number, '1' and
    '1.0', alphabetically), other names alphabetically. Never the set's own order, which
    Python's string hashing changes from process to process."""
    if data.resolved_format() == "sst":
        scale = SST5_LABELS if data.sst_labels == "sst5" else SST2_LABELS
        return [name for name in scale if name in labels]
    try:
        values = {label: float(label) for label in labels}
    except ValueError:
        return sorted(labels)
    if any(math.isnan(value) for value in values.values()):  # no place among the numbers
        return sorted(labels)
    return sorted(labels, key=lambda label: (values[label], label))


def word_vocab(train: list[Example], min_count: int, texts: list[Example] | None = None
               ) -> Vocab:
    """The training words, most frequent in ``train`` first, less those seen fewer than
    ``min_count`` times in ``texts`` (``train`` itself when None). SST phrases count in the
    training sentences, each once (``train_text`` of :func:`read_splits`): counted per phrase
    around it, a word seen once passed any ``min_count``. The ids keep the phrases' order, so
    ``min_count=1`` builds the vocabulary the recorded SST benchmarks trained with."""
    words = Vocab.build([example_tokens(e) for e in train], min_count=1 if texts else min_count)
    if texts:
        seen = Counter(word for e in texts for word in example_tokens(e))
        counts = words.counts  # the phrase counts, which weigh the vectors' coverage
        words = Vocab([word for word in words.symbols[2:] if seen[word] >= min_count])
        words.counts = counts
    return words


def example_tokens(example: Example) -> tuple[str, ...]:
    return example.tokens if isinstance(example, LabelledText) else ()


def example_labels(example: Example) -> tuple[str, ...]:
    return example.labels if isinstance(example, LabelledText) else (example.label,)


def check_labels(examples: list[Example], known: list[str], split: str,
                 held_out: bool = False) -> None:
    """Every label of an evaluation split must be one the model knows; ``held_out``: the split
    was drawn from the training data (``data.dev_fraction``), which took every example of
    the labels missing."""
    unknown = sorted({label for e in examples for label in example_labels(e)} - set(known))
    if unknown and held_out:
        raise ValueError(f"data.dev_fraction held out every training example of {unknown} for"
                         " validation, so the model could not learn them; give a dev file"
                         " (data.dev), more examples of them, or another train.seed")
    if unknown:
        which = [i for i, e in enumerate(examples, 1) if set(example_labels(e)) & set(unknown)]
        raise ValueError(f"the {split} data has labels the model never saw in training:"
                         f" {unknown} ({len(which)} of its {len(examples)} examples; the first is"
                         f" example {which[0]}); known labels: {known}. Fix the data, or train"
                         " on data that has them")


def has_dev_file(data: ClassifierDataConfig) -> bool:
    """Whether the dev split is a file (``data.dev``, or the dataset's own); else
    ``data.dev_fraction`` of the training data is held out."""
    return _path(data, "dev") is not None

