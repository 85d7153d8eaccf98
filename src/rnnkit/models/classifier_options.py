"""The ``classifier`` section: a sequence classifier's features, pooling and output, and the
checks of its choices, as a run checks them before any data is read and a bundle's load
before its model is built (:mod:`rnnkit.models.classifier`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rnnkit.config import ConfigError, check_choice
from rnnkit.models.pooling import POOLINGS

OUTPUTS = ("softmax", "sigmoid", "linear")
CLASS_WEIGHTS = ("none", "balanced")
CALIBRATIONS = ("none", "temperature")


@dataclass(frozen=True)
class ClassifierConfig:
    """Input features, pooling and output of a sequence classifier."""

    word_dim: int = 100
    pooling: str = "max"  # last | max | mean | attention
    output: str = "softmax"  # softmax (one of K) | sigmoid (binary or multi-label) | linear
    embedding_dropout: float = 0.5  # on the encoder's inputs: word vectors or numeric features
    output_dropout: float = 0.5
    word_dropout: float = 0.0  # replace a training word by <unk> with this probability
    class_weights: str = "none"  # none | balanced (inverse class frequency in training)
    calibrate: str = "none"  # none | temperature: fit T on the dev set after training


def check_options(options: ClassifierConfig) -> None:
    """The ``classifier`` section's choices (its values: :func:`rnnkit.config.check_section`),
    as a run checks them before any data is read and a bundle's load before its model is
    built."""
    check_choice(options.pooling, "classifier.pooling", POOLINGS)
    check_choice(options.output, "classifier.output", OUTPUTS)
    check_choice(options.class_weights, "classifier.class_weights", CLASS_WEIGHTS)
    check_choice(options.calibrate, "classifier.calibrate", CALIBRATIONS)
    if options.calibrate != "none":
        check_calibration(options.output, options.calibrate)


def check_calibration(output: str, calibrate: str = "temperature") -> None:
    """Refuse temperature scaling of a regression, whose numbers are no logits."""
    if output == "linear":
        raise ConfigError(f"classifier.calibrate={calibrate} scales the logits of class "
                          "probabilities, and classifier.output=linear gives numbers "
                          "(a regression): leave classifier.calibrate out")


def saved_options(options: ClassifierConfig) -> dict[str, Any]:
    """The ``classifier`` section a bundle keeps: all but ``calibrate``, which acts after
    training only (the model keeps its ``temperature``), so that an uncalibrated bundle is the
    one an rnnkit before temperature scaling wrote and reads."""
    return {key: value for key, value in asdict(options).items() if key != "calibrate"}


def check_labels_per_example(output: str, multi_label: bool) -> None:
    """Refuse several labels per example with an output that gives one class (softmax) or
    numbers (linear): only a sigmoid gives each label its own probability."""
    if multi_label and output != "sigmoid":
        raise ConfigError(f"several labels per example (data.label_separator) need "
                          f"classifier.output=sigmoid, one probability per label; got "
                          f"{output!r}. Set classifier.output=sigmoid, or leave "
                          "data.label_separator empty for one label per example")
