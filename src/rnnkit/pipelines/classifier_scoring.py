"""A classifier on its examples: each encoded as the model's input and target, in
length-bucketed batches, predicted, and scored beside the majority class."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnkit.data.batching import (
    BatchSource,
    BucketBatches,
    bucket_order,
    within_budget,
)
from rnnkit.data.classifier_batches import Encoded, collate
from rnnkit.data.numeric_sequences import NumericSequence
from rnnkit.models.classifier import SequenceClassifier
from rnnkit.pipelines.classifier_data import Example, example_labels
from rnnkit.timeseries.metrics import confusion_matrix
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.training.calibration import calibration_report, class_calibration
from rnnkit.training.classification_metrics import classification_scores
from rnnkit.training.task import evaluating, move_to


@lru_cache(maxsize=8)
def _scaler(state: str) -> StandardScaler:
    return StandardScaler.from_json(state)


def encode(model: SequenceClassifier, example: Example, with_target: bool = True) -> Encoded:
    """One example as model input (ids or scaled features) and target."""
    if isinstance(example, NumericSequence):
        scaler = _scaler(model.data["scaler"])  # fitted on the training rows only
        inputs = torch.from_numpy(scaler.transform(example.features).astype(np.float32))
    else:
        assert model.words is not None
        inputs = torch.tensor(model.words.encode(example.tokens), dtype=torch.long)
    if not with_target:
        return Encoded(inputs, None)
    labels = example_labels(example)
    output = model.config.output
    if output == "linear":
        target = torch.tensor([float(label) for label in labels], dtype=torch.float32)
    elif model.multi_label:
        target = torch.zeros(len(model.labels))
        target[[model.labels.index(label) for label in labels]] = 1.0
    else:
        target = torch.tensor(model.labels.index(labels[0]))
    return Encoded(inputs, target)


def source(model: SequenceClassifier, examples: list[Example], batch_size: int,
           shuffle: bool, seed: int = 0) -> BatchSource:
    """Length-bucketed batches (shuffled buckets for training, sorted for evaluation)."""
    encoded = [encode(model, e) for e in examples]
    return BucketBatches(encoded, collate, [len(e.inputs) for e in encoded], batch_size,
                         shuffle, seed)


def predict_probabilities(model: SequenceClassifier, examples: Sequence[Example],
                          batch_size: int = 256) -> Tensor:
    """Probabilities ``[N, K]`` (values for regression), in the examples' order; ``[0, K]``
    for no examples."""
    if not examples:
        return torch.empty(0, len(model.labels))
    with evaluating(model):  # its mode (train or eval) is given back after
        encoded = [encode(model, e, with_target=False) for e in examples]
        rows: list[Tensor | None] = [None] * len(encoded)
        device = next(model.parameters()).device
        lengths = [len(e.inputs) for e in encoded]
        for chunk in within_budget(bucket_order(lengths, batch_size, None), lengths):
            batch = move_to(collate([encoded[i] for i in chunk]), device)
            for index, row in zip(chunk, model.predict(batch).cpu(), strict=True):
                rows[index] = row
        return torch.stack([row for row in rows if row is not None])


def evaluate_examples(model: SequenceClassifier, examples: list[Example]) -> dict[str, Any]:
    """Scores, a constant baseline, (for labels) the confusion matrix and the calibration of
    the probabilities (:func:`probability_calibration`; none for a regression).

    The baseline is the accuracy of always answering the most common class of ``examples``
    themselves: the best constant guess on them, never below a training majority's. For a
    regression, ``constant_baseline``: the RMSE of always answering the examples' mean and
    the MAE of their median, each the best constant for its score."""
    started = time.perf_counter()
    outputs = predict_probabilities(model, examples)
    seconds = time.perf_counter() - started
    targets = torch.stack([t for e in examples if (t := encode(model, e).target) is not None])
    output = model.config.output
    result: dict[str, Any] = {
        "examples": len(examples),
        "scores": classification_scores(outputs, targets, output, model.multi_label),
        "examples_per_second": round(len(examples) / max(seconds, 1e-9), 1),
    }
    if output != "linear" and len(examples):
        result["calibration"] = probability_calibration(outputs, targets, model.multi_label)
    if output != "linear" and not model.multi_label:
        counts = Counter(int(t) for t in targets)
        result["majority_class_accuracy"] = max(counts.values()) / len(examples)
        result["confusion"] = {"labels": model.labels, "matrix": confusion_matrix(
            targets.long().numpy(), outputs.argmax(dim=1).numpy(),
            range(len(model.labels))).tolist()}
    if output == "linear":
        values = targets.double()  # [N, K]
        result["constant_baseline"] = {
            "rmse": float((values - values.mean(dim=0)).pow(2).mean().sqrt()),
            "mae": float((values - values.median(dim=0).values).abs().mean())}
    return result


def probability_calibration(outputs: Tensor, targets: Tensor, multi_label: bool
                            ) -> dict[str, Any]:
    """How well the probabilities match how often they are right
    (:func:`~rnnkit.training.calibration.calibration_report`: ECE over 10 bins, and the share
    and accuracy of the predictions at or above 0.5, 0.9 and 0.99).

    One prediction per example, its predicted class's probability (the argmax the scores
    take; a binary sigmoid's as its two classes), right when it is the gold class; a
    multi-label classifier's are its label decisions, one per example and label, each
    ``max(p, 1 - p)`` and right when ``p >= 0.5`` says what the gold does, so their accuracy
    is the share of label decisions right, not the exact-match accuracy of the scores."""
    if not multi_label:
        return class_calibration(outputs, targets.long())
    probabilities = outputs.double().flatten()
    correct = (probabilities >= 0.5) == (targets.flatten() >= 0.5)
    return calibration_report(torch.maximum(probabilities, 1 - probabilities).tolist(),
                              correct.tolist())
