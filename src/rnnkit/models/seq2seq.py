"""Encoder-decoder translation: source subwords -> (bi)RNN encoder -> bridge -> decoder.

source ids -> embeddings -> dropout -> stacked (bi)RNN/LSTM/GRU encoder -> states ``[B, S, M]``
and final states -> bridge (``tanh(W [h_fwd; h_bwd])`` per layer) -> the decoder's initial
state -> :class:`~rnnkit.models.seq2seq_decoder.Decoder` -> target scores. The tokenizers
travel inside the bundle, so a loaded model translates raw text. Decoding is in
:mod:`rnnkit.models.greedy_search` and :mod:`rnnkit.models.beam_search`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, replace
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.config import ModelConfig, saved_section
from rnnkit.data.subword import PAD_ID, SubwordTokenizer
from rnnkit.layers.lengths import padding_mask
from rnnkit.models.encoder import build_encoder
from rnnkit.models.greedy_search import greedy_search
from rnnkit.models.seq2seq_config import Seq2SeqConfig, resolved_config
from rnnkit.models.seq2seq_decoder import NEVER_PRODUCED, Decoder, DecoderState, Hidden, Memory
from rnnkit.training.bundle import register_model
from rnnkit.training.task import StepOutput, TaskModel, evaluating


class Seq2SeqBatch(NamedTuple):
    """Source ``[B, S]`` (end marker included), source lengths ``[B]``, target ``[B, T + 1]``
    (begin marker, tokens, end marker; 0-padded), and the raw target lines for BLEU."""

    source: Tensor
    source_lengths: Tensor
    target: Tensor
    references: tuple[str, ...]


@register_model("seq2seq")
class Seq2Seq(TaskModel):
    """A recurrent encoder-decoder with optional attention, over subword vocabularies.

    The decoder takes the encoder's cell, size, layers, layer norm and ``model.dropout``
    (between layers), reads left to right, and picks its own kernel; ``model.recurrent_dropout``
    is the encoder's alone (the decoder's regularisation is ``seq2seq.dropout``)."""

    steps_seen: Tensor  # training steps so far (a buffer: scheduled teacher forcing resumes)

    def __init__(self, source_tokenizer: SubwordTokenizer, target_tokenizer: SubwordTokenizer,
                 config: Seq2SeqConfig, rnn: ModelConfig, data: dict[str, Any] | None = None
                 ) -> None:
        super().__init__()
        config = resolved_config(config)  # the decoder below makes its own checks
        self.source_tokenizer, self.target_tokenizer = source_tokenizer, target_tokenizer
        self.config, self.rnn_config = config, rnn
        self.data = data or {}  # languages and dataset, for evaluate/translate
        self.source_embedding = nn.Embedding(len(source_tokenizer), config.embedding_dim,
                                             padding_idx=PAD_ID)
        self.encoder = build_encoder(rnn, config.embedding_dim, batch_first=True)
        directions = 2 if rnn.bidirectional else 1
        self.directions = directions
        self.state_count = 2 if rnn.cell == "lstm" else 1
        self.bridges = nn.ModuleList(
            nn.Linear(directions * rnn.hidden_size, rnn.hidden_size)
            for _ in range(self.state_count if config.bridge else 0)
        )
        self.decoder = self._decoder(len(target_tokenizer), config, rnn)
        self.register_buffer("steps_seen", torch.zeros((), dtype=torch.long))

    @staticmethod
    def _decoder(vocab_size: int, config: Seq2SeqConfig, rnn: ModelConfig) -> Decoder:
        decoder_rnn = replace(rnn, bidirectional=False, recurrent_dropout=0.0, kernel="auto")
        directions = 2 if rnn.bidirectional else 1
        return Decoder(vocab_size, config.embedding_dim, decoder_rnn,
                       directions * rnn.hidden_size, config.attention, config.input_feeding,
                       config.tie_embeddings, config.dropout)

    @classmethod
    def check_options(cls, config: Seq2SeqConfig, rnn: ModelConfig) -> None:
        """Refuse a wrong option (a misspelt attention, dot attention over a bidirectional
        encoder) before any data is read or tokenizer made: the model's checks and the
        decoder's own, on a throwaway decoder of a tiny vocabulary."""
        resolved = resolved_config(config)
        if resolved.attention == "dot" and rnn.bidirectional:  # the layer's message names no key
            raise ValueError(
                f"seq2seq.attention=dot needs equal decoder ({rnn.hidden_size}) and encoder "
                f"({2 * rnn.hidden_size}) state sizes, and a bidirectional encoder's are twice "
                "model.hidden_size: set model.bidirectional=false, or seq2seq.attention=general"
                " or additive")
        with torch.random.fork_rng(devices=[]):  # the seeded weights stay as they were
            cls._decoder(8, resolved, rnn)

    # -- bundle -----------------------------------------------------------------------------
    def bundle_config(self) -> dict[str, Any]:
        return {
            "source_tokenizer": self.source_tokenizer.to_json(),
            "target_tokenizer": self.target_tokenizer.to_json(),
            "seq2seq": asdict(self.config),
            "encoder": asdict(self.rnn_config),
            "data": self.data,
        }

    @classmethod
    def check_bundle_config(cls, config: dict[str, Any]) -> None:
        saved_section("model", ModelConfig, config["encoder"])
        resolved_config(saved_section("seq2seq", Seq2SeqConfig, config["seq2seq"]))

    @classmethod
    def from_bundle_config(cls, config: dict[str, Any]) -> Seq2Seq:
        return cls(
            SubwordTokenizer.from_json(config["source_tokenizer"]),
            SubwordTokenizer.from_json(config["target_tokenizer"]),
            Seq2SeqConfig(**config["seq2seq"]),
            ModelConfig(**config["encoder"]),
            data=config.get("data"),
        )

    # -- model ------------------------------------------------------------------------------
    def encode(self, source: Tensor, lengths: Tensor) -> tuple[Memory, DecoderState]:
        """The source memory and the decoder's initial state, for source ids ``[B, S]``."""
        inputs = F.dropout(self.source_embedding(source), self.config.dropout, self.training)
        states, final = self.encoder(inputs, lengths=lengths)  # [B, S, D*H]
        finals = final if isinstance(final, tuple) else (final,)
        hidden = tuple(self._bridge(h, k) for k, h in enumerate(finals))
        # real positions from the lengths, as the encoder reads them, not from the ids: a batch
        # padded with another id attends to its real tokens alone, as when 0-padded
        mask = padding_mask(lengths, source.shape[1], source.device)  # [B, S]
        memory = Memory(states, self.decoder.keys(states), mask)
        start: Hidden = hidden if len(hidden) > 1 else hidden[0]
        feed = states.new_zeros(source.shape[0], self.decoder.feed_size)
        return memory, DecoderState(start, feed)

    def _bridge(self, final: Tensor, index: int) -> Tensor:
        layers, batch = self.rnn_config.num_layers, final.shape[1]
        per_layer = final.view(layers, self.directions, batch, -1)  # [L*D, B, H] -> [L, D, B, H]
        if not self.bridges:
            return per_layer.sum(dim=1)  # [L, B, H]
        joined = per_layer.permute(0, 2, 1, 3).reshape(layers, batch, -1)  # -> [L, B, D*H]
        return torch.tanh(self.bridges[index](joined))  # [L, B, D*H] -> [L, B, H]

    def teacher_forcing_ratio(self) -> float:
        """The current probability of feeding gold tokens (scheduled over training steps)."""
        config = self.config
        if config.teacher_forcing_steps <= 0:
            return config.teacher_forcing
        progress = min(1.0, int(self.steps_seen) / config.teacher_forcing_steps)
        return config.teacher_forcing + progress * (
            config.teacher_forcing_final - config.teacher_forcing)

    def forward(self, batch: Seq2SeqBatch) -> Tensor:
        """Target scores ``[B, T, V]`` given the gold previous tokens."""
        memory, state = self.encode(batch.source, batch.source_lengths)
        ratio = self.teacher_forcing_ratio() if self.training else 1.0
        return self.decoder(batch.target[:, :-1], state, memory, ratio)

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        scores = self(batch)
        gold = batch.target[:, 1:]  # [B, T]
        loss = _token_loss(scores, gold, self.config.label_smoothing)
        if self.training:
            self.steps_seen += 1
        return StepOutput(loss, int(target_lengths(batch).sum()))

    def layer_lengths(self, batch: Any, layer: str) -> Tensor | None:
        """The decoder runs over the padded targets (it is given no lengths): its real steps
        are each sentence's :func:`target_lengths`. The encoder is given the source lengths."""
        return target_lengths(batch) if layer == "decoder.rnn" else None

    def forbidden_mask(self) -> Tensor:
        """Ids never produced: padding, unknown, begin marker (``[V]`` booleans)."""
        mask = torch.zeros(len(self.target_tokenizer), dtype=torch.bool)
        mask[list(NEVER_PRODUCED)] = True
        return mask.to(self.device)

    @property
    def device(self) -> torch.device:
        return self.source_embedding.weight.device

    def max_lengths(self, lengths: Tensor) -> Tensor:
        """The longest output allowed for each source length ``[B]``."""
        return (lengths.float() * self.config.max_length_ratio).long() + 10

    @torch.no_grad()
    def greedy(self, source: Tensor, lengths: Tensor
               ) -> tuple[list[list[int]], list[Tensor | None]]:
        """The most likely token at every step: ids (no markers) and attention weights
        ``[T, S]`` of each sentence (None without attention)."""
        ids, maps, _ = self.greedy_scored(source, lengths)
        return ids, maps

    @torch.no_grad()
    def greedy_scored(self, source: Tensor, lengths: Tensor
                      ) -> tuple[list[list[int]], list[Tensor | None], list[float]]:
        """:meth:`greedy`, and the log probability of each output (its tokens, and the end
        marker where the model wrote it), as beam search gives it
        (:func:`~rnnkit.models.greedy_search.greedy_search`)."""
        return greedy_search(self, source, lengths)

    def metric_names(self) -> list[str]:
        return ["loss", "nll", "perplexity", "bleu", "chrf"]

    @torch.no_grad()
    def evaluate(self, batches: Any) -> dict[str, float]:
        """Loss (with label smoothing, as trained), the negative log-likelihood per target token
        without it (``nll``) and its ``perplexity``, and BLEU/chrF of the decoded batches
        (greedy, or beam per the config).

        A source with no subwords (only its end marker: a blank line) scores as an empty
        translation, as ``rnnkit translate`` and the test scores give it."""
        from rnnkit.models.beam_search import beam_search
        from rnnkit.training.translation_metrics import corpus_scores

        smoothing = self.config.label_smoothing
        with evaluating(self):
            loss, nll, count = 0.0, 0.0, 0
            hypotheses: list[str] = []
            references: list[str] = []
            for batch in batches:
                scores, gold = self(batch), batch.target[:, 1:]
                tokens = int(target_lengths(batch).sum())  # the tokens the loss counts
                smoothed = float(_token_loss(scores, gold, smoothing))
                loss += smoothed * tokens
                nll += (float(_token_loss(scores, gold, 0.0)) if smoothing else smoothed) * tokens
                count += tokens
                if self.config.validation_decoding == "beam":
                    found = beam_search(self, batch.source, batch.source_lengths,
                                        self.config.beam_size, self.config.length_penalty)
                    ids = [hypotheses_of[0].tokens for hypotheses_of in found]
                else:
                    ids, _ = self.greedy(batch.source, batch.source_lengths)
                hypotheses.extend(self.target_tokenizer.decode(row) if length > 1 else ""
                                  for row, length in zip(ids, batch.source_lengths.tolist(),
                                                         strict=True))
                references.extend(batch.references)
        scores = corpus_scores(hypotheses, references, self.data.get("tgt", ""))
        nll /= max(count, 1)
        return {"loss": loss / max(count, 1), "nll": nll, "perplexity": math.exp(min(nll, 700.0)),
                "bleu": scores["bleu"], "chrf": scores["chrf"]}


def target_lengths(batch: Seq2SeqBatch) -> Tensor:
    """The decoder's real steps ``[B]`` for each sentence: its gold tokens and end marker, the
    positions the loss counts (the steps after them read padding)."""
    return (batch.target[:, 1:] != PAD_ID).sum(dim=1)  # [B, T] -> [B]


def _token_loss(scores: Tensor, gold: Tensor, smoothing: float) -> Tensor:
    """Mean cross-entropy of target scores ``[B, T, V]`` against gold ids ``[B, T]``, padding
    left out, with ``smoothing`` (label smoothing; 0: the negative log-likelihood)."""
    return F.cross_entropy(scores.reshape(-1, scores.shape[-1]), gold.reshape(-1),
                           ignore_index=PAD_ID, label_smoothing=smoothing)
