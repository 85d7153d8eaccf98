"""Batched beam search for :class:`~rnnkit.models.seq2seq.Seq2Seq`.

Every sentence keeps ``K`` live hypotheses; those of all the sentences still searched advance
in one decoder call per step. Of the ``2K`` best extensions of a sentence, those among the best
``K`` that end in the end marker are set aside as finished, and the best ``K`` others live on
(so a beam of 1 is greedy). A sentence is done once ``K`` hypotheses finished (or its length
limit is reached: the live ones are then cut there, as many as it still lacks of ``K``, best
first); its rows then leave the search (decoder state and encoder memory), as in fairseq and
OpenNMT, so that later steps decode only the sentences still searched. Finished hypotheses are
ranked by the GNMT length-normalized score ``log p / ((5 + |y|) / 6) ** alpha`` (Wu et al.
2016); ``alpha = 0`` is the raw log probability, which favours short outputs.

A sentence's result does not depend on the other sentences of its batch except in the last
bits of its floats: a decoder step on fewer rows may round differently (as a different batch
size does), so scores can move by about 1e-6, and a near-tie may, rarely, rank the other way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from rnnkit.config import ConfigError
from rnnkit.data.subword import BOS_ID, EOS_ID
from rnnkit.models.seq2seq_decoder import Memory, masked_scores, score_dtype, select_state

if TYPE_CHECKING:
    from rnnkit.models.seq2seq import Seq2Seq


@dataclass
class Hypothesis:
    """One translation: token ids (no markers), its normalized score and log probability, and
    attention weights ``[len + 1, S]`` (a row per output token and the end marker)."""

    tokens: list[int]
    score: float
    log_probability: float
    attention: Tensor | None = None


def length_penalty(length: int, alpha: float) -> float:
    """GNMT's ``((5 + length) / 6) ** alpha``."""
    return ((5.0 + length) / 6.0) ** alpha


def check_beam_width(beam_size: int, vocabulary: int, name: str) -> None:
    """Refuse a beam wider than the target vocabulary; ``name``: the flag or setting giving it.

    Example:
        >>> check_beam_width(200, 120, "--beam-size")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: --beam-size 200 is larger than the target vocabulary (120 ...
    """
    if beam_size > vocabulary:
        raise ConfigError(f"{name} {beam_size} is larger than the target vocabulary "
                          f"({vocabulary} subwords); use at most {vocabulary} (5 is usual)")


@torch.no_grad()
def beam_search(model: Seq2Seq, source: Tensor, lengths: Tensor, beam_size: int = 5,
                alpha: float = 1.0, n_best: int = 1) -> list[list[Hypothesis]]:
    """The ``n_best`` translations of each source sentence, best first.

    Args:
        model: the translation model (put in eval mode by the caller).
        source: source ids ``[B, S]``; lengths: ``[B]``.
        beam_size: live hypotheses per sentence (1 is greedy search with length ranking).
        alpha: the length penalty's exponent.
        n_best: how many finished hypotheses to return per sentence (at most ``beam_size``).
    """
    if beam_size < 1:
        raise ValueError(f"beam size must be >= 1, got {beam_size}")
    if not 1 <= n_best <= beam_size:
        raise ValueError(f"n_best must be between 1 and the beam size {beam_size}, got {n_best}")
    batch, width = source.shape[0], beam_size
    memory, state = model.encode(source, lengths)
    spread = torch.arange(batch, device=source.device).repeat_interleave(width)  # [B*K]
    memory = Memory(*(part.index_select(0, spread) for part in memory))
    state = select_state(state, spread)
    limits = model.max_lengths(lengths).tolist()
    forbidden = model.forbidden_mask().nonzero().squeeze(1)  # the ids never produced
    dtype = score_dtype(memory)  # the model's: float32 rounded a float64 model's sums
    scores = torch.full((batch, width), float("-inf"), device=source.device, dtype=dtype)
    scores[:, 0] = 0.0  # one live hypothesis at first; the others are copies
    tokens = torch.full((batch * width,), BOS_ID, dtype=torch.long, device=source.device)
    history = torch.zeros(batch * width, 0, dtype=torch.long, device=source.device)
    attention = torch.zeros(batch * width, 0, source.shape[1], device=source.device,
                            dtype=memory.states.dtype)
    finished: list[list[Hypothesis]] = [[] for _ in range(batch)]
    active = list(range(batch))  # the sentences still searched; rows i*K .. i*K+K-1: active[i]
    for t in range(max(limits)):
        step_scores, state, weights = model.decoder.step(tokens, state, memory)
        # in place, a few columns: a masked_fill and a sum of [A*K, V] each took a fresh copy
        step_scores = masked_scores(step_scores, dtype, forbidden)
        log_probs = torch.log_softmax(step_scores, dim=1)
        vocab = log_probs.shape[1]
        total = log_probs.add_(scores.view(-1, 1)).view(len(active), width * vocab)  # [A, K*V]
        best, flat = total.topk(2 * width, dim=1)  # [A, 2K]
        origin, token = flat // vocab, flat % vocab  # beam within the sentence, token id
        if weights is not None:
            attention = torch.cat([attention, weights.unsqueeze(1)], dim=1)  # [A*K, t+1, S]
        next_beams: list[int] = []
        next_tokens: list[int] = []
        next_scores: list[float] = []
        searched: list[int] = []  # positions in active of the sentences not done after this step
        best_list, origin_list, token_list = best.tolist(), origin.tolist(), token.tolist()
        for i, b in enumerate(active):
            last = t + 1 >= limits[b]
            live: list[tuple[int, int, float]] = []  # (row, token, score) of the next step
            for rank, (value, beam, word) in enumerate(zip(best_list[i], origin_list[i],
                                                           token_list[i], strict=True)):
                row = i * width + beam
                if word == EOS_ID and rank >= width:
                    continue  # an ending ranked below the K best does not finish
                if word != EOS_ID and last and len(finished[b]) >= width:
                    continue  # cut at the limit only to fill the K the sentence still lacks
                if (word == EOS_ID or last) and value > float("-inf"):
                    ids = history[row].tolist() + ([] if word == EOS_ID else [word])
                    finished[b].append(Hypothesis(
                        ids, value / length_penalty(len(ids), alpha), value,
                        attention[row, : len(ids) + 1, : int(lengths[b])].clone()
                        if weights is not None else None))
                    continue
                if len(live) < width and word != EOS_ID:
                    live.append((row, word, value))
            if len(finished[b]) >= width or last:
                continue  # done: its rows leave the search
            searched.append(i)
            live += [(i * width, EOS_ID, float("-inf"))] * (width - len(live))  # dead copies
            for row, word, value in live:
                next_beams.append(row)
                next_tokens.append(word)
                next_scores.append(value)
        if not searched:
            break
        if len(searched) < len(active):  # the done sentences' encoder memory leaves too
            rows = torch.tensor([i * width + k for i in searched for k in range(width)],
                                device=source.device)
            memory = Memory(*(part.index_select(0, rows) for part in memory))
            active = [active[i] for i in searched]
        index = torch.tensor(next_beams, device=source.device)
        tokens = torch.tensor(next_tokens, device=source.device)
        scores = torch.tensor(next_scores, device=source.device, dtype=dtype).view(len(active),
                                                                                   width)
        state = select_state(state, index)
        history = torch.cat([history.index_select(0, index), tokens.unsqueeze(1)], dim=1)
        attention = attention.index_select(0, index)
    return [sorted(found, key=lambda h: h.score, reverse=True)[:n_best] for found in finished]
