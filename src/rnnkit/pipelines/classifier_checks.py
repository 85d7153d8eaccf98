"""Checks of a classifier's settings against its data, before training: settings that the
data's kind never reads (SST's labels for other files, text settings for numeric sequences...)
regression labels that are no numbers, and labels that differ only by case."""

from __future__ import annotations

import math
import warnings
from collections import Counter
from pathlib import Path

from rnnkit.config import ConfigError, changed_keys
from rnnkit.data.text_labels import guess_text_format
from rnnkit.pipelines.classifier_data import (
    ClassifierDataConfig,
    Example,
    example_labels,
)
from rnnkit.plural import plural


def _format_read(data: ClassifierDataConfig) -> tuple[str, str]:
    """The data's format as the files will be read (``auto`` when unknown yet), and how it was
    told (`` (guessed from the name ...)`` for a file named so)."""
    fmt = data.resolved_format()
    if fmt == "auto" and data.train:
        try:
            return guess_text_format(data.train), (" (guessed from the name "
                                                   f"{Path(data.train).name})")
        except ValueError:
            pass  # refused, naming data.format, when the file is read
    return fmt, ""


def check_read_settings(data: ClassifierDataConfig, for_texts: list[str]) -> None:
    """Refuse settings the data's kind never reads: those of texts (``for_texts``, the
    changed ones of other sections, and the data's own) for numeric sequences, and the
    sequences' columns for texts; accepted, they changed nothing."""
    fmt, guessed = _format_read(data)
    if fmt == "numeric":
        unread = for_texts + changed_keys("data", data, ClassifierDataConfig(), (
            "text_field", "lowercase", "max_tokens", "truncate", "min_count"))
        read_by = "read only from texts"
    else:
        unread = changed_keys("data", data, ClassifierDataConfig(),
                              ("id_column", "time_column", "feature_columns"))
        read_by = "read only from numeric sequences (data.format=numeric)"
    if fmt != "auto" and unread:
        raise ConfigError(f"{' and '.join(unread)} {'are' if len(unread) > 1 else 'is'} "
                          f"{read_by}, and this data is {fmt}{guessed}: leave "
                          f"{'them' if len(unread) > 1 else 'it'} out")


def check_feature_columns(data: ClassifierDataConfig) -> None:
    """Refuse ``data.feature_columns`` naming the label or id column: numeric labels (or ids)
    were read as inputs, so the model learned the answer, and could predict no file without
    it."""
    named = [c.strip() for c in data.feature_columns.split(",")]
    for role, column in (("label", data.label_field), ("id", data.id_column)):
        if column in named:
            raise ConfigError(f"data.feature_columns names the {role} column {column!r}: "
                              f"the model would read it as an input; leave it out")


def check_dev_fraction(data: ClassifierDataConfig) -> None:
    """Refuse ``data.dev_fraction`` where there is a dev split to validate on: unread."""
    from rnnkit.data.registry import get_spec

    if data.dev_fraction == ClassifierDataConfig().dev_fraction:
        return
    given = ""
    if data.dataset and "dev" in get_spec(data.dataset).splits:
        given = f"{data.dataset} has one"
    elif data.dev and not data.dataset:  # (a file beside a dataset is refused on its own)
        given = "data.dev gives one"
    if given:
        raise ConfigError("data.dev_fraction holds out training examples where there is no dev "
                          f"split, and {given}: leave it out")


def check_sst_settings(data: ClassifierDataConfig) -> None:
    """Refuse ``data.sst_labels`` or ``data.phrases`` for data that are not SST trees: read
    only from trees, they would change nothing."""
    fmt, guessed = _format_read(data)
    if fmt == "auto" and data.train:
        return  # a name that tells no format: refused, naming data.format, when read
    unread = changed_keys("data", data, ClassifierDataConfig(), ("sst_labels", "phrases"))
    if fmt not in ("auto", "sst") and unread:
        raise ConfigError(f"{' and '.join(unread)} {'are' if len(unread) > 1 else 'is'} read "
                          f"only from SST trees (--dataset sst, or data.format=sst), and this "
                          f"data is {fmt}{guessed}: leave {'them' if len(unread) > 1 else 'it'}"
                          " out, or give SST trees"
                          + (" (a file of trees: --format sst)" if guessed else ""))


def check_numbers(examples: list[Example], split: str) -> None:
    """Every label of a regression split (``classifier.output=linear``) must be a finite
    number: a word failed deep in training with Python's float error, and a nan or inf made
    the loss nan, reported as a divergence to be cured by a lower learning rate."""
    bad = sorted({label for e in examples for label in example_labels(e)
                  if not _finite(label)})
    if bad:
        shown = bad[:5] + (["..."] if len(bad) > 5 else [])
        raise ValueError(f"the {split} data has labels that are not finite numbers: {shown}; "
                         "classifier.output=linear learns a number per example: fix the "
                         "labels, or set classifier.output=softmax to learn classes")


def _finite(label: str) -> bool:
    try:
        return math.isfinite(float(label))
    except ValueError:
        return False


def warn_case_variants(examples: list[Example], where: str) -> None:
    """Warn, once, of training labels that differ only by case (``Positive`` and
    ``positive``; JSON's ``true`` read as ``True`` beside a string ``"true"``): each is a
    class of its own, which the data rarely means. They stay apart (a bundle keeps the labels
    as read); the warning names them, with their examples, and how to merge them."""
    counts = Counter(label for e in examples for label in example_labels(e))
    groups: dict[str, list[str]] = {}
    for label in sorted(counts):
        groups.setdefault(label.casefold(), []).append(label)
    variants = [names for names in groups.values() if len(names) > 1]
    if not variants:
        return
    shown = "; ".join(" and ".join(f"{name!r} ({plural(counts[name], 'example')})"
                                   for name in names) for names in variants[:5])
    more = f"; and {len(variants) - 5} more such groups" if len(variants) > 5 else ""
    json = (" (a JSON true or false is read as 'True' or 'False')"
            if any(name in ("True", "False") for names in variants for name in names) else "")
    warnings.warn(f"the training data ({where}) has labels that differ only by case, each "
                  f"trained as a class of its own: {shown}{more}{json}. If they are one "
                  f"class, write it one way in the file (all {variants[0][-1]!r}, say) and "
                  "train again", UserWarning, stacklevel=2)
