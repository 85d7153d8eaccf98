"""Greedy decoding for :class:`~rnnkit.models.seq2seq.Seq2Seq`: the most likely token each step.

The sentences not yet ended advance in one decoder call per step. A sentence ends at the end
marker or at its length limit (:meth:`~rnnkit.models.seq2seq.Seq2Seq.max_lengths`); its row
then leaves the batch (decoder state and encoder memory), so that later steps decode only the
sentences still running. As in beam search, a step on fewer rows may round differently in the
last bits (as a different batch size does). Beam search (:mod:`rnnkit.models.beam_search`)
keeps more than one hypothesis per sentence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

from rnnkit.data.subword import BOS_ID, EOS_ID
from rnnkit.models.seq2seq_decoder import Memory, masked_scores, score_dtype, select_state

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
    batch, device = source.shape[0], source.device
    limits = model.max_lengths(lengths).to(device)
    forbidden = model.forbidden_mask().nonzero().squeeze(1)  # the ids never produced
    running = torch.arange(batch, device=device)  # the sentences not ended, in row order
    tokens = torch.full((batch,), BOS_ID, dtype=torch.long, device=device)
    dtype = score_dtype(memory)  # the model's (float32 held a float64 model's sums)
    total = torch.zeros(batch, device=device, dtype=dtype)
    steps: list[tuple[Tensor, Tensor, Tensor | None]] = []  # (running, tokens, weights) a step
    for t in range(int(limits.max())):
        scores, state, attention = model.decoder.step(tokens, state, memory)
        # in place, a few columns: a masked_fill of [R, V] took a fresh copy at every step
        log_probs = torch.log_softmax(masked_scores(scores, dtype, forbidden), dim=1)
        tokens = log_probs.argmax(dim=1)  # [R]
        total.index_add_(0, running, log_probs.gather(1, tokens.unsqueeze(1)).squeeze(1))
        steps.append((running, tokens, attention))
        stops = (tokens == EOS_ID) | (t + 1 >= limits.index_select(0, running))  # [R]
        if bool(stops.any()):
            keep = (~stops).nonzero().squeeze(1)  # positions (in running) still decoded
            if keep.numel() == 0:
                break
            running, tokens = running.index_select(0, keep), tokens.index_select(0, keep)
            state = select_state(state, keep)
            memory = Memory(*(part.index_select(0, keep) for part in memory))
    written = torch.full((batch, len(steps)), EOS_ID, dtype=torch.long, device=device)  # [B, T]
    stacked = (torch.zeros(batch, len(steps), source.shape[1], device=device,  # [B, T, S]
                           dtype=memory.states.dtype)
               if steps[0][2] is not None else None)
    for t, (rows, step_tokens, weights) in enumerate(steps):  # the end marker after the end
        written[rows, t] = step_tokens
        if stacked is not None and weights is not None:
            stacked[rows, t] = weights
    ids = written.tolist()
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
