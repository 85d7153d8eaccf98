"""Greedy decoding for :class:`~rnnkit.models.seq2seq.Seq2Seq`: the most likely token each step.

All ``B`` sentences advance in one decoder call per step. A sentence ends at the end marker or
at its length limit (:meth:`~rnnkit.models.seq2seq.Seq2Seq.max_lengths`); after that it is fed
the end marker, which adds nothing to its log probability, until every sentence has ended.
Beam search (:mod:`rnnkit.models.beam_search`) keeps more than one hypothesis per sentence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

from rnnkit.data.subword import BOS_ID, EOS_ID

if TYPE_CHECKING:
    from rnnkit.models.seq2seq import Seq2Seq


@torch.no_grad()
def greedy_search(model: Seq2Seq, source: Tensor, lengths: Tensor
                  ) -> tuple[list[list[int]], list[Tensor | None], list[float]]:
    """The greedy translation of each source sentence.

    Args:
        model: the translation model (put in eval mode by the caller).
        source: source ids ``[B, S]``; lengths: ``[B]``.

    Returns:
        The ids of each output (no markers), its attention weights ``[T, S]`` (a row per
        output token and the end marker where the model wrote it; None without attention),
        and its log probability (its tokens, and the end marker where the model wrote it), as
        beam search gives it.
    """
    memory, state = model.encode(source, lengths)
    batch = source.shape[0]
    limits = model.max_lengths(lengths).to(source.device)
    forbidden = model.forbidden_mask()
    tokens = torch.full((batch,), BOS_ID, dtype=torch.long, device=source.device)
    done = torch.zeros(batch, dtype=torch.bool, device=source.device)
    total = torch.zeros(batch, device=source.device)
    outputs: list[Tensor] = []
    weights: list[Tensor] = []
    for t in range(int(limits.max())):
        scores, state, attention = model.decoder.step(tokens, state, memory)
        log_probs = torch.log_softmax(scores.masked_fill(forbidden, float("-inf")), dim=1)
        tokens = log_probs.argmax(dim=1)  # [B]
        chosen = log_probs.gather(1, tokens.unsqueeze(1)).squeeze(1)  # [B]
        forced = done | (t >= limits)
        total = total + torch.where(forced, torch.zeros_like(chosen), chosen)
        tokens = torch.where(forced, torch.full_like(tokens, EOS_ID), tokens)
        outputs.append(tokens)
        if attention is not None:
            weights.append(attention)
        done = done | (tokens == EOS_ID)
        if bool(done.all()):
            break
    ids = torch.stack(outputs, dim=1).tolist()  # T x [B] -> [B, T]
    stacked = torch.stack(weights, dim=1) if weights else None  # [B, T, S]
    results: list[list[int]] = []
    maps: list[Tensor | None] = []
    for row, sequence in enumerate(ids):
        length = sequence.index(EOS_ID) if EOS_ID in sequence else len(sequence)
        results.append(sequence[:length])
        source_length = int(lengths[row])
        ended = length < int(limits[row])  # the model wrote the end (not the limit)
        maps.append(stacked[row, : length + ended, :source_length] if stacked is not None
                    else None)
    return results, maps, total.tolist()
