"""The sequence classifier: one label (or several, or numbers) for a whole sequence.

words -> embeddings (random or word2vec) -> dropout -> stacked (bi)RNN/LSTM/GRU over the real
steps only -> pooling over time (last, max, mean, attention) -> dropout -> linear -> softmax
(classes), sigmoid (binary or multi-label) or nothing (regression: the head learns the
standardized target, ``(y - mean) / deviation`` of the training targets, and the model gives
``mean + deviation * head``, so that a target of any size starts at its mean and the loss
is the MSE in deviations). Numeric sequences
``[B, T, F]`` skip the embeddings: their features take the same input dropout
(``embedding_dropout``, 0.5 by default, made for word vectors: with a few numeric features
set it lower, e.g. 0, as benchmarks/weather_sequences.py does) and go into the encoder.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.config import (
    ConfigError,
    ModelConfig,
    check_at_least,
    check_section,
    saved_section,
    saved_value,
)
from rnnkit.data.classifier_batches import ClassBatch
from rnnkit.data.files import shortened
from rnnkit.data.vocab import Vocab
from rnnkit.layers.lengths import padding_mask
from rnnkit.models.classifier_options import (
    OUTPUTS,
    ClassifierConfig,
    check_labels_per_example,
    check_options,
    saved_options,
)
from rnnkit.models.encoder import build_encoder
from rnnkit.models.pooling import Pooling
from rnnkit.training.bundle import register_model
from rnnkit.training.task import StepOutput, TaskModel, evaluating
from rnnkit.training.temperature import bundle_entry, calibrated, saved_temperature


def target_units(state: Any, count: int) -> tuple[Tensor, Tensor]:
    """A regression's ``mean`` and ``scale`` per label from ``data["target_units"]``; 0 and 1
    (values learned as they are) where there is none: other outputs, bundles saved before."""
    if state is None:
        return torch.zeros(count), torch.ones(count)
    try:
        mean = torch.tensor(state["mean"], dtype=torch.float32)
        scale = torch.tensor(state["scale"], dtype=torch.float32)
    except (KeyError, TypeError, ValueError, RuntimeError):
        mean = scale = torch.empty(0)
    if mean.shape != (count,) or scale.shape != (count,) or not bool((scale > 0).all()) \
            or not bool(mean.isfinite().all() & scale.isfinite().all()):
        raise ValueError(f"data.target_units must hold a finite 'mean' and a positive 'scale' "
                         f"for each of the {count} label(s); got {shortened(repr(state), 100)}"
                         ": the bundle is damaged, train it again")
    return mean, scale


@register_model("classifier")
class SequenceClassifier(TaskModel):
    """A many-to-one model over token ids (``words``) or ``num_features`` numbers per step.

    Args:
        labels: class names (softmax, sigmoid) or target names (linear).
        config: features, pooling and output.
        encoder: the recurrent encoder.
        words: the vocabulary of a text classifier; None for numeric input.
        num_features: features per step of a numeric classifier (0 for text).
        multi_label: sigmoid output with any number of labels per example; otherwise a
            two-class sigmoid is binary (one logit for ``labels[1]``).
        class_weights: loss weight per label (None: all 1).
        embeddings: pretrained word vectors ``[len(words), word_dim]``.
        data: how the training data was read (tokenization, scaler...), for prediction;
            ``target_units`` (regression): the training targets' ``mean`` and ``scale``
            (deviation) per label; without it (bundles saved before), 0 and 1.
    """

    def __init__(self, labels: list[str], config: ClassifierConfig, encoder: ModelConfig,
                 words: Vocab | None = None, num_features: int = 0, multi_label: bool = False,
                 class_weights: list[float] | None = None, embeddings: Tensor | None = None,
                 data: dict[str, Any] | None = None) -> None:
        super().__init__()
        check_section("classifier", config)  # rates in [0, 1), sizes of at least 1, by name
        if config.output not in OUTPUTS:
            raise ValueError(f"classifier.output must be one of {', '.join(OUTPUTS)},"
                             f" got {config.output!r}")
        if (words is None) == (num_features <= 0):
            raise ValueError("a classifier reads either words (a vocabulary) or numeric"
                             " features (num_features > 0), exactly one of them")
        repeated = sorted({str(label) for label in labels if list(labels).count(label) > 1})
        if repeated:  # one score per label: a repeated name hides the scores of the others
            raise ValueError(f"the labels must be distinct; {', '.join(repeated)} comes more "
                             "than once")
        if config.output == "softmax" and len(labels) < 2:
            raise ValueError(f"softmax output needs at least 2 classes, got {labels}")
        if config.output == "sigmoid" and not multi_label and len(labels) != 2:
            several = (", or set data.label_separator (e.g. \"|\") for several labels per "
                       "example" if words is not None else
                       " (a numeric sequence has one label, its label column)")
            raise ValueError(f"classifier.output=sigmoid with {len(labels)} classes and one label "
                             f"per example: use softmax{several}")
        check_labels_per_example(config.output, multi_label)
        self.labels, self.config, self.encoder_config = list(labels), config, encoder
        self.words, self.num_features, self.multi_label = words, num_features, multi_label
        self.binary = config.output == "sigmoid" and not multi_label and len(labels) == 2
        self.data = data or {}
        self.class_weights = class_weights
        self.embedding: nn.Embedding | None = None
        width = num_features
        if words is not None:
            self.embedding = nn.Embedding(len(words), config.word_dim, padding_idx=0)
            width = config.word_dim
            if embeddings is not None:
                if tuple(embeddings.shape) != (len(words), config.word_dim):
                    raise ValueError(
                        f"pretrained embeddings have shape {tuple(embeddings.shape)}, the"
                        f" vocabulary needs [{len(words)}, {config.word_dim}]"
                        " (set classifier.word_dim)")
                self.embedding.weight.data.copy_(embeddings)
        self.encoder = build_encoder(encoder, width, batch_first=True)
        directions = 2 if encoder.bidirectional else 1
        size = encoder.hidden_size * directions
        self.pooling = Pooling(config.pooling, size, directions)
        self.head = nn.Linear(size, 1 if self.binary else len(labels))
        weights = torch.tensor(class_weights or [1.0] * len(labels), dtype=torch.float32)
        if len(weights) != len(labels):
            raise ValueError(f"{len(weights)} class weights for {len(labels)} labels")
        self.weights: Tensor
        self.register_buffer("weights", weights, persistent=False)
        mean, scale = target_units(self.data.get("target_units"), len(labels))
        self.target_mean: Tensor
        self.target_scale: Tensor
        self.register_buffer("target_mean", mean, persistent=False)  # from data: the state
        self.register_buffer("target_scale", scale, persistent=False)  # dict is unchanged
        self.temperature = 1.0  # divides the logits of every probability (classifier.calibrate)

    # -- bundle -----------------------------------------------------------------------------
    def bundle_config(self) -> dict[str, Any]:
        return {
            "labels": self.labels, "classifier": saved_options(self.config),
            "encoder": asdict(self.encoder_config),
            "words": self.words.to_json() if self.words is not None else None,
            "num_features": self.num_features, "multi_label": self.multi_label,
            "class_weights": self.class_weights, "data": self.data,
            **bundle_entry(self.temperature),
        }

    @classmethod
    def check_bundle_config(cls, config: dict[str, Any]) -> None:
        saved_section("model", ModelConfig, config["encoder"])
        check_options(saved_section("classifier", ClassifierConfig, config["classifier"]))
        labels = config["labels"]
        if not isinstance(labels, list) or not all(isinstance(name, str) for name in labels):
            raise ConfigError("labels must be a list of the label names (text), as read from "
                              f"the training data; got {shortened(repr(labels), 100)}")
        check_at_least(saved_value("num_features", config["num_features"], int),
                       "num_features", 0)  # 0: a text classifier
        saved_value("multi_label", config["multi_label"], bool)
        saved_temperature(config)

    @classmethod
    def from_bundle_config(cls, config: dict[str, Any]) -> SequenceClassifier:
        words = Vocab.from_json(config["words"]) if config["words"] else None
        model = cls(config["labels"], ClassifierConfig(**config["classifier"]),
                    ModelConfig(**config["encoder"]), words, config["num_features"],
                    config["multi_label"], config["class_weights"], data=config["data"])
        model.temperature = saved_temperature(config)  # older bundles: 1
        return model

    # -- model ------------------------------------------------------------------------------
    def forward(self, batch: ClassBatch) -> Tensor:
        """Scores (logits, or values for regression) of every label.

        Shape:
            inputs ``[B, T]`` ids or ``[B, T, F]`` features -> ``[B, K]`` (``[B]`` binary).
        """
        inputs, lengths = batch.inputs, batch.lengths
        mask = padding_mask(lengths, inputs.shape[1], inputs.device)
        if self.embedding is not None:
            if self.training and self.config.word_dropout > 0 and self.words is not None:
                drop = torch.rand(inputs.shape, device=inputs.device) < self.config.word_dropout
                inputs = inputs.masked_fill(drop & mask, self.words.unk_id)
            features = self.embedding(inputs)  # [B, T] -> [B, T, E]
        else:
            features = inputs.to(next(self.encoder.parameters()).dtype)  # [B, T, F]
        features = F.dropout(features, self.config.embedding_dropout, self.training)
        outputs, final = self.encoder(features, lengths=lengths.cpu())  # [B, T, D*H]
        assert isinstance(outputs, Tensor)
        pooled = self.pooling(outputs, mask, final)  # [B, D*H]
        pooled = F.dropout(pooled, self.config.output_dropout, self.training)
        scores = self.head(pooled)  # [B, D*H] -> [B, K]
        if self.config.output == "linear":  # standardized -> target units
            return scores * self.target_scale + self.target_mean
        return scores.squeeze(1) if self.binary else scores

    def loss(self, scores: Tensor, targets: Tensor) -> Tensor:
        output = self.config.output
        if output == "softmax":
            return F.cross_entropy(scores, targets, weight=self.weights)
        if output == "linear":  # the MSE in training deviations (the mean cancels)
            return F.mse_loss(scores / self.target_scale, targets / self.target_scale)
        if self.binary and self.class_weights is not None:  # as the softmax's: a weighted mean
            losses = F.binary_cross_entropy_with_logits(scores, targets.to(scores.dtype),
                                                        reduction="none")
            weights = self.weights.to(scores.dtype)[targets.long()]
            return (weights * losses).sum() / weights.sum()
        if self.binary:
            return F.binary_cross_entropy_with_logits(scores, targets.to(scores.dtype))
        return F.binary_cross_entropy_with_logits(scores, targets, pos_weight=self.weights)

    def _weighted_mean(self) -> bool:
        """Whether the loss is a mean weighted by each item's class weight: a class-weighted
        softmax (torch's ``CrossEntropyLoss(weight=...)``) or binary sigmoid."""
        return (self.config.output == "softmax" or self.binary) and self.class_weights is not None

    def _loss_share(self, batch: ClassBatch) -> float:
        """What the batch's mean loss is a mean over: its items' class weights for a weighted
        mean (:meth:`_weighted_mean`), else its items."""
        if self._weighted_mean():
            return float(self.weights[batch.targets.long()].sum())
        return float(batch.lengths.shape[0])

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        denominator = None  # a class-weighted mean divides by its items' weights
        if self._weighted_mean():
            denominator = self._loss_share(batch)
        return StepOutput(self.loss(self(batch), batch.targets), int(batch.lengths.shape[0]),
                          denominator=denominator, weighted=denominator is not None)

    @torch.no_grad()
    def predict(self, batch: ClassBatch) -> Tensor:
        """Probabilities ``[B, K]`` of every label (values for regression)."""
        return self.probabilities(self.calibrated(self(batch)))

    def metric_names(self) -> list[str]:
        if self.config.output == "linear":
            return ["loss", "rmse", "mae"]
        if self.multi_label:
            return ["loss", "accuracy", "micro_f1"]
        return ["loss", "accuracy", "macro_f1"]

    @torch.no_grad()
    def evaluate(self, batches: Any) -> dict[str, float]:
        """Loss and task scores over the batches (see :func:`classification_scores`)."""
        from rnnkit.training.classification_metrics import classification_scores

        with evaluating(self):
            loss, count = 0.0, 0.0
            outputs, targets = [], []
            for batch in batches:
                logits = self.calibrated(self(batch))
                share = self._loss_share(batch)  # what this batch's loss is a mean over
                loss += float(self.loss(logits, batch.targets)) * share
                count += share
                outputs.append(self.probabilities(logits))
                targets.append(batch.targets)
        scores = classification_scores(torch.cat(outputs), torch.cat(targets),
                                       self.config.output, self.multi_label)
        return {"loss": loss / count if count > 0 else 0.0, **scores}  # weights may add to < 1

    def calibrated(self, scores: Tensor) -> Tensor:
        """Logits over :attr:`temperature` (1 unless fitted: exactly the logits); a
        regression's values as they are."""
        return scores if self.config.output == "linear" else calibrated(scores, self.temperature)

    def probabilities(self, scores: Tensor) -> Tensor:
        """Probabilities of scores already over the temperature (:meth:`calibrated`)."""
        if self.config.output == "softmax":
            return torch.softmax(scores, dim=1)
        if self.config.output == "linear":
            return scores
        if self.binary:
            positive = torch.sigmoid(scores)
            return torch.stack([1 - positive, positive], dim=1)
        return torch.sigmoid(scores)
