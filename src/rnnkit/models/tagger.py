"""The sequence tagger: every word gets a tag (part of speech, named-entity BIO tag).

words -> word embeddings (+ character features) -> dropout -> stacked (bi)RNN/LSTM/GRU ->
dropout -> linear scores per tag -> softmax, or a CRF with Viterbi decoding (Huang et al. 2015;
Lample et al. 2016; Plank et al. 2016).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.config import (
    ModelConfig,
    check_at_least,
    check_choice,
    check_section,
    saved_section,
)
from rnnkit.data.tagger_batches import TaggerBatch
from rnnkit.data.tags import bioes_to_bio, repair_bio, span_f1_available
from rnnkit.data.vocab import Vocab
from rnnkit.layers.lengths import padding_mask
from rnnkit.models.char_encoder import CHAR_ENCODERS, CharEncoder
from rnnkit.models.crf import CRF, allowed_transitions
from rnnkit.models.encoder import build_encoder
from rnnkit.training.bundle import register_model
from rnnkit.training.task import StepOutput, TaskModel, evaluating

OUTPUTS = ("crf", "softmax")


@dataclass(frozen=True)
class TaggerConfig:
    """Word features and the output layer of a tagger."""

    word_dim: int = 100
    char_dim: int = 30  # 0 switches character features off
    char_hidden: int = 50  # per direction (lstm) or filters (cnn)
    char_encoder: str = "lstm"  # lstm | cnn
    lowercase: bool = True  # word vocabulary in lower case (characters keep the case)
    embedding_dropout: float = 0.5
    output_dropout: float = 0.5
    word_dropout: float = 0.05  # replace a training word by <unk> with this probability
    output: str = "crf"  # crf | softmax


def check_options(config: TaggerConfig) -> None:
    """Refuse a ``tagger`` section the model cannot be built from, naming the key (the
    character encoder's own error names none), and each value as a run's ``[tagger]``
    section is (rates in [0, 1), sizes of at least 1)."""
    check_section("tagger", config)
    check_choice(config.output, "tagger.output", OUTPUTS)
    check_at_least(config.char_dim, "tagger.char_dim", 0)
    if config.char_dim > 0:  # 0: no character features, the encoder is not read
        check_choice(config.char_encoder, "tagger.char_encoder", CHAR_ENCODERS)
        check_at_least(config.char_hidden, "tagger.char_hidden", 1)


@register_model("tagger")
class Tagger(TaskModel):
    """A many-to-many tagger over vocabularies of words, characters and tags."""

    def __init__(
        self,
        words: Vocab,
        chars: Vocab,
        tags: Vocab,
        config: TaggerConfig,
        encoder: ModelConfig,
        embeddings: Tensor | None = None,
        freeze_embeddings: bool = False,
        data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        check_options(config)
        self.words, self.chars, self.tags = words, chars, tags
        self.config, self.encoder_config = config, encoder
        self.data = data or {}  # how the training data was read (format, column), for predict
        self.word_embedding = nn.Embedding(len(words), config.word_dim, padding_idx=0)
        if embeddings is not None:
            if tuple(embeddings.shape) != (len(words), config.word_dim):
                raise ValueError(
                    f"pretrained embeddings have shape {tuple(embeddings.shape)}, the vocabulary"
                    f" needs [{len(words)}, {config.word_dim}] (set tagger.word_dim)"
                )
            self.word_embedding.weight.data.copy_(embeddings)
            self.word_embedding.weight.requires_grad_(not freeze_embeddings)
        self.char_encoder: CharEncoder | None = None
        width = config.word_dim
        if config.char_dim > 0:
            self.char_encoder = CharEncoder(
                len(chars), config.char_dim, config.char_hidden, config.char_encoder
            )
            width += self.char_encoder.output_size
        self.encoder = build_encoder(encoder, width, batch_first=True)
        directions = 2 if encoder.bidirectional else 1
        self.head = nn.Linear(encoder.hidden_size * directions, len(tags))
        allowed, start, end = allowed_transitions(tags.symbols)  # no rules for B-NP beside VP
        allowed[:, 0] = False  # the padding tag is never predicted
        start[0] = end[0] = False
        self.crf = CRF(len(tags), allowed, start, end) if config.output == "crf" else None
        self.may_skip_parameters = self.crf is not None  # transitions: unused by 1-word batches

    # -- bundle -----------------------------------------------------------------------------
    def bundle_config(self) -> dict[str, Any]:
        return {
            "words": self.words.to_json(),
            "chars": self.chars.to_json(),
            "tags": self.tags.to_json(),
            "tagger": asdict(self.config),
            "encoder": asdict(self.encoder_config),
            "data": self.data,
        }

    @classmethod
    def check_bundle_config(cls, config: dict[str, Any]) -> None:
        saved_section("model", ModelConfig, config["encoder"])
        check_options(saved_section("tagger", TaggerConfig, config["tagger"]))

    @classmethod
    def from_bundle_config(cls, config: dict[str, Any]) -> Tagger:
        return cls(
            Vocab.from_json(config["words"]),
            Vocab.from_json(config["chars"]),
            Vocab.from_json(config["tags"]),
            TaggerConfig(**config["tagger"]),
            ModelConfig(**config["encoder"]),
            data=config.get("data"),
        )

    # -- model ------------------------------------------------------------------------------
    def emissions(self, batch: TaggerBatch) -> Tensor:
        """Scores ``[B, T, K]`` of every tag for every word."""
        mask = _mask(batch)
        words = batch.words
        if self.training and self.config.word_dropout > 0 and self.words.unknown:
            drop = torch.rand(words.shape, device=words.device) < self.config.word_dropout
            words = words.masked_fill(drop & mask, self.words.unk_id)
        features = self.word_embedding(words)  # [B, T, E]
        if self.char_encoder is not None:
            chars = self.char_encoder(batch.chars, mask)  # [B, T, C]
            features = torch.cat([features, chars], dim=2)  # -> [B, T, E + C]
        features = F.dropout(features, self.config.embedding_dropout, self.training)
        outputs, _ = self.encoder(features, lengths=batch.lengths)  # [B, T, D*H]
        outputs = F.dropout(outputs, self.config.output_dropout, self.training)
        return self.head(outputs)  # [B, T, D*H] -> [B, T, K]

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        return self._loss(self.emissions(batch), batch)

    def _loss(self, scores: Tensor, batch: TaggerBatch) -> StepOutput:
        mask = _mask(batch)
        if self.crf is not None:
            loss = self.crf.neg_log_likelihood(scores, batch.tags, mask)
            return StepOutput(loss, int(batch.words.shape[0]))
        loss = F.cross_entropy(scores[mask], batch.tags[mask])
        return StepOutput(loss, int(mask.sum()))

    @torch.no_grad()
    def predict_ids(self, batch: TaggerBatch) -> list[list[int]]:
        """The best tag ids of each sentence (Viterbi with a CRF), as long as the sentence."""
        return self._decode(self.emissions(batch), batch)

    def _decode(self, scores: Tensor, batch: TaggerBatch) -> list[list[int]]:
        mask = _mask(batch)
        if self.crf is not None:
            return self.crf.decode(scores, mask)
        best = (scores[:, :, 1:].argmax(dim=2) + 1).tolist()  # never the padding tag (id 0)
        return [row[: int(n)] for row, n in zip(best, batch.lengths.tolist(), strict=True)]

    @torch.no_grad()
    def predict_with_confidence(self, batch: TaggerBatch) -> tuple[list[list[int]],
                                                                    list[list[float]]]:
        """The best tag ids of each sentence (as :meth:`predict_ids`) and the probability of
        each one given the sentence (:meth:`tag_marginals`), both as long as the sentence."""
        scores = self.emissions(batch)
        ids = self._decode(scores, batch)
        marginals = self.tag_marginals(scores, batch)  # [B, T, K]
        chosen = torch.zeros(marginals.shape[:2], dtype=torch.long, device=scores.device)
        for row, path in enumerate(ids):
            chosen[row, : len(path)] = torch.tensor(path, device=scores.device)
        # [B, T, K] -> [B, T]; each in [0, 1] (CRF.marginals clamps its float64 sums' last
        # ulp above 1; a softmax divides by a sum that holds the value itself)
        picked = marginals.gather(2, chosen.unsqueeze(2)).squeeze(2).tolist()
        return ids, [row[: len(path)] for row, path in zip(picked, ids, strict=True)]

    def tag_marginals(self, scores: Tensor, batch: TaggerBatch) -> Tensor:
        """``p(tag_t = k | words)`` for every word and tag: the CRF's exact marginals
        (forward-backward), or the softmax over the real tags (the padding tag, never
        predicted, gets 0, as the CRF gives it).

        Shape:
            scores: ``[B, T, K]`` emissions; returns ``[B, T, K]``, each word's row summing
            to 1, padding rows 0.
        """
        mask = _mask(batch)
        if self.crf is not None:
            return self.crf.marginals(scores, mask)
        probabilities = torch.zeros_like(scores)
        probabilities[:, :, 1:] = torch.softmax(scores[:, :, 1:], dim=2)
        return probabilities * mask.unsqueeze(2).to(scores.dtype)

    def metric_names(self) -> list[str]:
        spans = ["precision", "recall", "f1"] if span_f1_available(self.tags.symbols) else []
        return ["loss", "accuracy", *spans]

    def output_tags(self, ids: Sequence[int]) -> list[str]:
        """The tags of ``ids`` as they are reported: a BIOES model's as BIO, and for span tags
        a valid BIO sequence (an I-X that starts a span read as B-X)."""
        tags = self.tags.decode(ids)
        if self.data.get("scheme", "bio") == "bioes":
            tags = bioes_to_bio(tags)
        return repair_bio(tags) if span_f1_available(self.tags.symbols) else tags

    @torch.no_grad()
    def evaluate(self, batches: Any) -> dict[str, float]:
        """Loss, token accuracy and (for BIO tags) span F1 over the batches, on the tags as
        they are reported (:meth:`output_tags`), so validation measures what dev and test do."""
        from rnnkit.training.tag_metrics import tag_scores

        with evaluating(self):
            loss, count = 0.0, 0
            gold: list[list[str]] = []
            predicted: list[list[str]] = []
            for batch in batches:
                emissions = self.emissions(batch)  # one forward pass for the loss and the decode
                out = self._loss(emissions, batch)
                loss += float(out.loss) * out.count
                count += out.count
                for row, ids, n in zip(batch.tags.tolist(), self._decode(emissions, batch),
                                       batch.lengths.tolist(), strict=True):
                    gold.append(self.output_tags(row[: int(n)]))
                    predicted.append(self.output_tags(ids))
        scores = tag_scores(gold, predicted, spans=span_f1_available(self.tags.symbols))
        return {"loss": loss / max(count, 1), **scores}


def _mask(batch: TaggerBatch) -> Tensor:
    """``[B, T]`` True at each sentence's real tokens (from its length, not its word ids)."""
    return padding_mask(batch.lengths, batch.words.shape[1], batch.words.device)
