"""The decoder of an encoder-decoder: one target token per step, attending to the source.

With attention (Luong et al. 2015): ``h_t = RNN([y_(t-1); a_(t-1)], h_(t-1))``, the context
``c_t`` = attention(``h_t``, encoder states), the attentional vector
``a_t = tanh(W_c [c_t; h_t])`` and the scores ``W_o a_t``. Feeding ``a_(t-1)`` back into the
input is *input feeding*. The additive score (Bahdanau et al. 2015) plugs into the same step.
Without attention (Sutskever et al. 2014; Cho et al. 2014) the encoder's final state, through
the bridge, is all the decoder gets: ``scores = W_o h_t``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.config import ModelConfig
from rnnkit.data.subword import BOS_ID, PAD_ID, UNK_ID
from rnnkit.layers.attention import Attention
from rnnkit.models.encoder import build_encoder

ATTENTIONS = ("none", "dot", "general", "additive")
Hidden = Tensor | tuple[Tensor, ...]

NEVER_PRODUCED = (PAD_ID, UNK_ID, BOS_ID)  # ids an output never is (own predictions fed back)


class Memory(NamedTuple):
    """The encoded source: states ``[B, S, M]``, precomputed keys ``[B, S, Q]``, mask ``[B, S]``."""

    states: Tensor
    keys: Tensor
    mask: Tensor


class DecoderState(NamedTuple):
    """The recurrent state ``[L, B, H]`` (a tuple ``(h, c)`` for an LSTM) and the fed-back
    attentional vector ``[B, H]`` (empty ``[B, 0]`` without input feeding)."""

    hidden: Hidden
    feed: Tensor


def score_dtype(memory: Memory) -> torch.dtype:
    """The dtype that decoding sums log probabilities in: the model's, at least float32 (a
    bfloat16 model's scores would round at every step)."""
    return torch.promote_types(memory.states.dtype, torch.float32)


def masked_scores(scores: Tensor, dtype: torch.dtype, forbidden: Tensor) -> Tensor:
    """A step's scores ``[R, V]`` in ``dtype`` with the ``forbidden`` ids' columns at -inf,
    in place where the decoder's tensor is a fresh output, as a decoder's ``step`` returns it
    (a masked_fill copied all of it at every step), on a copy where it is a view of another
    tensor (expanded, sliced: one write would change the other's rows). A decoder that keeps
    the very tensor it returns must return a copy of it."""
    scores = scores.to(dtype)
    if scores._base is not None or not scores.is_contiguous():
        scores = scores.clone()
    return scores.index_fill_(1, forbidden, float("-inf"))


def select_state(state: DecoderState, index: Tensor) -> DecoderState:
    """The states of the sentences (or beams) at ``index``, in that order."""
    hidden = state.hidden
    if isinstance(hidden, tuple):
        picked: Hidden = tuple(h.index_select(1, index) for h in hidden)
    else:
        picked = hidden.index_select(1, index)
    return DecoderState(picked, state.feed.index_select(0, index))


class Decoder(nn.Module):
    """A stacked RNN/LSTM/GRU decoder with optional attention, input feeding and tied embeddings.

    Args:
        vocab_size: target vocabulary size ``V``.
        embedding_dim: target embedding size ``E``.
        rnn: cell, hidden size ``H``, layers, dropout between layers.
        memory_size: encoder state size ``M`` (``2H`` for a bidirectional encoder).
        attention: ``none``, ``dot``, ``general`` or ``additive``.
        input_feeding: feed the attentional vector back into the next step's input.
        tie_embeddings: the output layer reuses the target embedding matrix.
        dropout: on embeddings and on the vector before the output layer.

    Shape:
        - tokens: ``[B, T]`` input ids (begin marker first); output scores ``[B, T, V]``.
    """

    def __init__(self, vocab_size: int, embedding_dim: int, rnn: ModelConfig, memory_size: int,
                 attention: str = "general", input_feeding: bool = True,
                 tie_embeddings: bool = True, dropout: float = 0.3) -> None:
        super().__init__()
        if attention not in ATTENTIONS:
            raise ValueError(f"seq2seq.attention must be one of {', '.join(ATTENTIONS)}, got"
                             f" {attention!r}")
        if input_feeding and attention == "none":
            raise ValueError("seq2seq.input_feeding needs attention; set seq2seq.attention to"
                             " general, dot or additive, or seq2seq.input_feeding=false")
        hidden = rnn.hidden_size
        self.hidden_size = hidden
        self.feed_size = hidden if input_feeding else 0
        self.dropout = dropout
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.rnn = build_encoder(rnn, embedding_dim + self.feed_size, batch_first=True)
        self.attention: Attention | None = None
        if attention != "none":
            self.attention = Attention(hidden, memory_size, attention)
            self.combine = nn.Linear(memory_size + hidden, hidden, bias=False)
        self.projection: nn.Linear | None = None
        if tie_embeddings:
            self.projection = nn.Linear(hidden, embedding_dim, bias=False)  # [.., H] -> [.., E]
            self.output_bias = nn.Parameter(torch.zeros(vocab_size))
        else:
            self.output = nn.Linear(hidden, vocab_size)

    def keys(self, states: Tensor) -> Tensor:
        """Source-only attention terms, once per sentence (the states themselves without)."""
        return states if self.attention is None else self.attention.keys(states)

    def scores(self, vectors: Tensor) -> Tensor:
        """Output scores: ``[..., H] -> [..., V]``."""
        vectors = F.dropout(vectors, self.dropout, self.training)
        if self.projection is None:
            return self.output(vectors)
        return F.linear(self.projection(vectors), self.embedding.weight, self.output_bias)

    def step(self, tokens: Tensor, state: DecoderState, memory: Memory
             ) -> tuple[Tensor, DecoderState, Tensor | None]:
        """One step: tokens ``[B]`` -> scores ``[B, V]``, the new state, weights ``[B, S]``."""
        vector, state, weights = self._advance(tokens, state, memory)
        return self.scores(vector), state, weights

    def _advance(self, tokens: Tensor, state: DecoderState, memory: Memory
                 ) -> tuple[Tensor, DecoderState, Tensor | None]:
        inputs = F.dropout(self.embedding(tokens), self.dropout, self.training)  # [B, E]
        if self.feed_size:
            inputs = torch.cat([inputs, state.feed], dim=1)  # -> [B, E + H]
        output, hidden = self.rnn(inputs.unsqueeze(1), state.hidden)  # [B, 1, H]
        top = output.squeeze(1)  # [B, 1, H] -> [B, H]
        if self.attention is None:
            return top, DecoderState(hidden, state.feed), None
        context, weights = self.attention(top, memory.states, memory.keys, memory.mask)
        vector = torch.tanh(self.combine(torch.cat([context, top], dim=1)))  # [B, M + H] -> [B, H]
        feed = vector if self.feed_size else state.feed
        return vector, DecoderState(hidden, feed), weights

    def forward(self, tokens: Tensor, state: DecoderState, memory: Memory,
                teacher_forcing: float = 1.0) -> Tensor:
        """Scores ``[B, T, V]`` for inputs ``[B, T]``.

        With ``teacher_forcing`` < 1 (scheduled sampling, Bengio et al. 2015), each step's
        input is the gold token with that probability and otherwise the model's own previous
        prediction.
        """
        if not self.feed_size and teacher_forcing >= 1.0:  # one fused call over all steps
            inputs = F.dropout(self.embedding(tokens), self.dropout, self.training)  # [B, T, E]
            output, _ = self.rnn(inputs, state.hidden)  # [B, T, H]
            if self.attention is None:
                return self.scores(output)
            context, _ = self.attention.attend_all(output, memory.states, memory.keys,
                                                   memory.mask)  # [B, T, M]
            combined = torch.tanh(self.combine(torch.cat([context, output], dim=2)))  # [B, T, H]
            return self.scores(combined)
        vectors: list[Tensor] = []
        step_scores: list[Tensor] = []
        previous = tokens[:, 0]
        never_fed = torch.tensor(NEVER_PRODUCED, device=tokens.device)  # as greedy decoding
        for t in range(tokens.shape[1]):
            current = tokens[:, t]
            if teacher_forcing < 1.0 and t > 0:
                use_gold = torch.rand(current.shape, device=current.device) < teacher_forcing
                current = torch.where(use_gold, current, previous)
            vector, state, _ = self._advance(current, state, memory)
            if teacher_forcing < 1.0:
                scores = self.scores(vector)  # [B, V]
                step_scores.append(scores)
                previous = scores.detach().index_fill(1, never_fed, float("-inf")).argmax(1)
            else:
                vectors.append(vector)
        if step_scores:
            return torch.stack(step_scores, dim=1)  # T x [B, V] -> [B, T, V]
        return self.scores(torch.stack(vectors, dim=1))  # T x [B, H] -> [B, T, H] -> [B, T, V]
