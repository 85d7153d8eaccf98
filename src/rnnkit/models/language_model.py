"""The recurrent language model: predict the next character or word of a text stream.

tokens -> embedding (embedding dropout: whole rows) -> locked dropout -> stacked RNN/LSTM/GRU
layers (weight dropout on each ``W_hh``, locked dropout between layers) -> locked dropout ->
linear decoder, optionally tied to the embedding (Merity et al. 2017, AWD-LSTM; Press & Wolf
2017; Inan et al. 2017). The state of every layer is carried from one window of the stream to
the next (truncated BPTT), so the trainer detaches it between windows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.config import ConfigError, ModelConfig, check_choice, check_section, saved_section
from rnnkit.data.text_stream import LEVELS, StreamBatch
from rnnkit.data.vocab import Vocab
from rnnkit.layers.fused import fused_forward
from rnnkit.layers.recurrent import Recurrent
from rnnkit.models.encoder import build_encoder
from rnnkit.training.bundle import register_model
from rnnkit.training.task import StepOutput, TaskModel, evaluating

State = list[Any]  # one state per layer: a tensor [1, B, H], or (h, c) for an LSTM


@dataclass(frozen=True)
class LMConfig:
    """Tokens, embedding and regularisation of a language model."""

    level: str = "char"  # char | word
    embedding_dim: int = 128
    embedding_dropout: float = 0.0  # drop whole embedding rows (every use of a token)
    input_dropout: float = 0.1  # locked dropout on the embeddings
    hidden_dropout: float = 0.2  # locked dropout between recurrent layers
    output_dropout: float = 0.2  # locked dropout before the decoder
    weight_dropout: float = 0.0  # DropConnect on every hidden-to-hidden matrix
    tie_weights: bool = False  # decoder shares the embedding (last layer size = embedding_dim)


def locked_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """One dropout mask per sequence, reused at every time step.

    Shape:
        x: ``[T, B, F]`` -> ``[T, B, F]``.
    """
    if not training or p == 0.0:
        return x
    mask = x.new_empty(1, x.shape[1], x.shape[2]).bernoulli_(1.0 - p) / (1.0 - p)
    return x * mask  # [1, B, F] broadcast over T


def embedding_dropout(embedding: nn.Embedding, ids: Tensor, p: float, training: bool) -> Tensor:
    """Look up ``ids``, dropping whole rows of the embedding matrix (every use of a token)."""
    weight = embedding.weight
    if training and p > 0.0:
        keep = weight.new_empty(weight.shape[0], 1).bernoulli_(1.0 - p) / (1.0 - p)
        weight = weight * keep
    return F.embedding(ids, weight, embedding.padding_idx)


@register_model("language_model")
class LanguageModel(TaskModel):
    """A character- or word-level recurrent language model over one vocabulary.

    Args:
        vocab: the tokens (characters have no ``<unk>``; words do).
        config: embedding, dropout and tying options.
        encoder: cell, ``hidden_size`` and ``num_layers`` (bidirectional is not allowed: a
            language model reads left to right).
    """

    carries_state = True

    def __init__(self, vocab: Vocab, config: LMConfig, encoder: ModelConfig) -> None:
        super().__init__()
        self.check_options(config, encoder)
        self.vocab, self.config, self.encoder_config = vocab, config, encoder
        self.embedding = nn.Embedding(len(vocab), config.embedding_dim)
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        layers: list[Recurrent] = []
        width = config.embedding_dim
        for index in range(encoder.num_layers):
            last = index == encoder.num_layers - 1
            size = config.embedding_dim if last and config.tie_weights else encoder.hidden_size
            layer_config = replace(encoder, hidden_size=size, num_layers=1, dropout=0.0)
            layers.append(build_encoder(layer_config, width, batch_first=False))
            width = size
        self.layers = nn.ModuleList(layers)
        self.decoder = nn.Linear(width, len(vocab))
        if config.tie_weights:
            self.decoder.weight = self.embedding.weight

    @staticmethod
    def check_options(config: LMConfig, encoder: ModelConfig) -> None:
        """Refuse options a language model cannot be built with, naming the setting: the run
        checks them before the text is read (and ``--print-config`` with it), the model when
        it is built; each value as a run's ``[lm]`` section is (rates in [0, 1), sizes of at
        least 1)."""
        check_section("lm", config)
        if config.level not in LEVELS:
            raise ConfigError(f"lm.level must be one of {', '.join(LEVELS)}, got {config.level!r}")
        if encoder.bidirectional:
            raise ConfigError("a language model reads left to right: set "
                              "model.bidirectional=false")
        if encoder.dropout > 0:
            raise ConfigError(f"model.dropout={encoder.dropout} is not read by a language model:"
                              " its dropout between layers is lm.hidden_dropout (locked, one mask"
                              " per sequence); set that and leave model.dropout at 0")
        if config.weight_dropout > 0 and (encoder.recurrent_dropout > 0 or encoder.layer_norm):
            raise ConfigError("lm.weight_dropout runs on the fused kernel: set"
                              " model.recurrent_dropout=0 and model.layer_norm=false")
        if config.weight_dropout > 0 and encoder.kernel == "loop":
            raise ConfigError("lm.weight_dropout needs the fused kernel: set model.kernel=auto")

    # -- bundle -----------------------------------------------------------------------------
    def bundle_config(self) -> dict[str, Any]:
        return {"vocab": self.vocab.to_json(), "lm": asdict(self.config),
                "encoder": asdict(self.encoder_config)}

    @classmethod
    def check_bundle_config(cls, config: dict[str, Any]) -> None:
        saved_section("model", ModelConfig, config["encoder"])
        lm = saved_section("lm", LMConfig, config["lm"])
        check_choice(lm.level, "lm.level", LEVELS)

    @classmethod
    def from_bundle_config(cls, config: dict[str, Any]) -> LanguageModel:
        return cls(Vocab.from_json(config["vocab"]), LMConfig(**config["lm"]),
                   ModelConfig(**config["encoder"]))

    # -- model ------------------------------------------------------------------------------
    def _run_layer(self, layer: Recurrent, x: Tensor, state: Any) -> tuple[Tensor, Any]:
        p = self.config.weight_dropout
        if not (self.training and p > 0.0):
            output, final = layer(x, state)
            assert isinstance(output, Tensor)
            return output, final
        weights = layer.flat_weights()  # w_ih, w_hh[, b_ih, b_hh]
        weights = [weights[0], F.dropout(weights[1], p, True), *weights[2:]]
        batch = x.shape[1]
        if state is None:
            zeros = x.new_zeros(1, batch, layer.hidden_size)
            states: tuple[Tensor, ...] = (zeros,) * layer.state_size
        else:
            states = tuple(state) if isinstance(state, tuple | list) else (state,)
        output, final = fused_forward(
            layer.cell(0).fused_mode or "", x, states, weights,
            has_biases=len(weights) == 4, num_layers=1, dropout=0.0, training=True,
            bidirectional=False, batch_first=False,
        )
        assert isinstance(output, Tensor)
        return output, final if layer.state_size > 1 else final[0]

    def forward(self, inputs: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Next-token scores for every position, and the final state of every layer.

        Shape:
            inputs: ``[T, B]`` token ids -> scores ``[T, B, V]``.
        """
        c = self.config
        x = embedding_dropout(self.embedding, inputs, c.embedding_dropout, self.training)
        x = locked_dropout(x, c.input_dropout, self.training)  # [T, B, E]
        finals: State = []
        for index, layer in enumerate(self.layers):
            assert isinstance(layer, Recurrent)
            x, final = self._run_layer(layer, x, state[index] if state is not None else None)
            finals.append(final)
            last = index == len(self.layers) - 1
            x = locked_dropout(x, c.output_dropout if last else c.hidden_dropout, self.training)
        return self.decoder(x), finals  # [T, B, H] -> [T, B, V]

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        scores, final = self(batch.inputs, state)
        loss = F.cross_entropy(scores.reshape(-1, scores.shape[-1]), batch.targets.reshape(-1))
        return StepOutput(loss, int(batch.targets.numel()), state=final)

    def windows(self, batch: Any, steps: int) -> Iterator[StreamBatch]:
        for start in range(0, batch.inputs.shape[0], steps):
            yield StreamBatch(batch.inputs[start : start + steps],
                              batch.targets[start : start + steps])

    def metric_names(self) -> list[str]:
        return ["loss", "perplexity"] + (["bpc"] if self.config.level == "char" else [])

    @torch.no_grad()
    def evaluate(self, batches: Iterable[Any]) -> dict[str, float]:
        """Cross-entropy (nats per token), perplexity and, for characters, bits per character.

        The state is carried through the batches, which must be consecutive windows of one
        stream (as :class:`rnnkit.data.text_stream.StreamBatches` gives them).
        """
        with evaluating(self):
            total, count, state = 0.0, 0, None
            for batch in batches:
                out = self.step(batch, state)
                state = out.state
                total += float(out.loss) * out.count
                count += out.count
        loss = total / max(count, 1)
        metrics = {"loss": loss, "perplexity": math.exp(min(loss, 700.0))}
        if self.config.level == "char":
            metrics["bpc"] = loss / math.log(2)
        return metrics
