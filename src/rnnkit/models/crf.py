"""A linear-chain conditional random field with transitions that can be constrained.

The tagger's scores ``emissions[b, t, k]`` say how well tag k fits word t; the CRF adds a learned
score ``transitions[i, j]`` for tag i followed by tag j, plus start and end scores, and trains on
the log-likelihood of the whole gold sequence (Lafferty et al. 2001; Lample et al. 2016).
Decoding is Viterbi. Transitions that a tagging scheme forbids (``O`` then ``I-PER`` in BIO) are
fixed at ``-inf``-like scores, so the decoded sequence is always valid.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rnnkit.data.tags import span_f1_available

FORBIDDEN = -1e4  # added to forbidden transitions: exp(-1e4) is 0 in float32


def allowed_transitions(tags: Sequence[str]) -> tuple[Tensor, Tensor, Tensor]:
    """A tagging scheme's rules as boolean masks: ``allowed[i, j]`` (tag i then tag j), and
    which tags may start and end a sentence.

    BIO: ``I-X`` only after ``B-X`` or ``I-X``. BIOES (when ``E-``/``S-`` tags exist) also: after
    ``B-X``/``I-X`` only ``I-X``/``E-X``; a sentence cannot end inside a span. Tags outside any
    scheme (part-of-speech tags, padding) allow everything, and so does a tag set that only
    holds some span-like tags (``B-NP``, ``I-NP`` beside ``VP``, read with ``data.scheme=none``):
    it is no scheme, and its data may hold ``VP`` then ``I-NP``
    (:func:`~rnnkit.data.tags.span_f1_available`).

    Example:
        >>> allowed, start, end = allowed_transitions(["O", "B-PER", "I-PER"])
        >>> allowed[0, 2].item(), allowed[1, 2].item(), start[2].item()
        (False, True, False)
    """
    scheme = span_f1_available(tags)
    parts = []
    for tag in tags:
        prefix, _, kind = tag.partition("-")
        spans = scheme and kind and prefix in ("B", "I", "E", "S")
        parts.append((prefix, kind) if spans else ("", ""))
    bioes = any(prefix in ("E", "S") for prefix, _ in parts)
    size = len(tags)
    allowed = torch.ones(size, size, dtype=torch.bool)
    start = torch.ones(size, dtype=torch.bool)
    end = torch.ones(size, dtype=torch.bool)
    for j, (prefix_j, kind_j) in enumerate(parts):
        inside_j = prefix_j in ("I", "E")
        start[j] = not inside_j
        end[j] = not (bioes and prefix_j in ("B", "I"))
        for i, (prefix_i, kind_i) in enumerate(parts):
            open_i = prefix_i in ("B", "I")
            if inside_j:
                allowed[i, j] = open_i and kind_i == kind_j
            elif bioes and open_i:
                allowed[i, j] = False  # an open BIOES span must continue with I or E
    return allowed, start, end


class CRF(nn.Module):
    """Linear-chain CRF over ``num_tags`` tags.

    Args:
        num_tags: number of tags (including any padding tag the caller never uses).
        allowed: optional ``[K, K]`` boolean mask of permitted transitions.
        allowed_start: optional ``[K]`` boolean mask of permitted first tags.
        allowed_end: optional ``[K]`` boolean mask of permitted last tags.

    Shape:
        emissions: ``[B, T, K]``; tags: ``[B, T]``; mask: ``[B, T]`` (True on real words; every
        sequence has at least its first word).

    Example:
        >>> crf = CRF(3)
        >>> emissions = torch.randn(2, 4, 3)
        >>> mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]], dtype=torch.bool)
        >>> crf.neg_log_likelihood(emissions, torch.zeros(2, 4, dtype=torch.long), mask).shape
        torch.Size([])
        >>> [len(path) for path in crf.decode(emissions, mask)]
        [4, 2]
    """

    penalty: Tensor
    start_penalty: Tensor
    end_penalty: Tensor

    def __init__(
        self,
        num_tags: int,
        allowed: Tensor | None = None,
        allowed_start: Tensor | None = None,
        allowed_end: Tensor | None = None,
    ) -> None:
        super().__init__()
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))
        penalty = torch.zeros(num_tags, num_tags)
        start_penalty = torch.zeros(num_tags)
        end_penalty = torch.zeros(num_tags)
        # on the meta device (a bundle's size probe: shapes, no values) there is nothing to
        # fill, and a boolean index there runs a Python decomposition that imports Dynamo (1 s)
        if allowed is not None and not penalty.is_meta:
            penalty[~allowed] = FORBIDDEN
        if allowed_start is not None and not start_penalty.is_meta:
            start_penalty[~allowed_start] = FORBIDDEN
        if allowed_end is not None and not end_penalty.is_meta:
            end_penalty[~allowed_end] = FORBIDDEN
        self.register_buffer("penalty", penalty)
        self.register_buffer("start_penalty", start_penalty)
        self.register_buffer("end_penalty", end_penalty)

    def _scores(self) -> tuple[Tensor, Tensor, Tensor]:
        return (
            self.transitions + self.penalty,
            self.start + self.start_penalty,
            self.end + self.end_penalty,
        )

    def neg_log_likelihood(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Mean over the batch of ``-log p(tags | words)``."""
        transitions, start, end = self._scores()
        mask_f = mask.to(emissions.dtype)  # [B, T]
        batch = torch.arange(emissions.shape[0], device=emissions.device)
        # score of the gold path
        gold = start[tags[:, 0]] + emissions[batch, 0, tags[:, 0]]
        for t in range(1, emissions.shape[1]):
            step = transitions[tags[:, t - 1], tags[:, t]] + emissions[batch, t, tags[:, t]]
            gold = gold + step * mask_f[:, t]
        last = tags.gather(1, (mask.sum(1, keepdim=True) - 1).clamp(min=0)).squeeze(1)
        gold = gold + end[last]
        return (self._log_partition(emissions, mask, transitions, start, end) - gold).mean()

    def _log_partition(
        self, emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
    ) -> Tensor:
        alpha = start + emissions[:, 0]  # [B, K]
        for t in range(1, emissions.shape[1]):
            # [B, K, 1] + [K, K] + [B, 1, K] -> logsumexp over the previous tag -> [B, K]
            scores = alpha.unsqueeze(2) + transitions + emissions[:, t].unsqueeze(1)
            alpha = torch.where(mask[:, t : t + 1], torch.logsumexp(scores, dim=1), alpha)
        return torch.logsumexp(alpha + end, dim=1)

    @torch.no_grad()
    def marginals(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """``p(tag_t = k | words)`` of every position and tag: exact marginals by the
        forward-backward algorithm (log space), with the forbidden transitions, starts and ends
        counted as the likelihood and Viterbi count them (their paths weigh ``exp(-1e4)``: 0).

        Computed in float64 and returned in the emissions' dtype: the forward and backward
        sums grow with the sentence (about its length times the mean score, thousands of nats
        on a long sentence), and in float32 ``exp(alpha + beta - log Z)`` of such numbers is
        off by ``exp(ulp(3000)) - 1``, 1e-3 and more, with probabilities above 1. In float64 a
        float32 result is within rounding of the exact marginal. With K tags the sums are
        ``[B, K]`` per step, so the cost is small beside the encoder that gave the emissions.

        Shape:
            emissions: ``[B, T, K]``; mask: ``[B, T]``; returns ``[B, T, K]``, each real
            position's row summing to 1 and padding rows 0, every value in [0, 1].
        """
        dtype = emissions.dtype
        emissions = emissions.double()
        transitions, start, end = (score.double() for score in self._scores())
        steps = emissions.shape[1]
        alpha = start + emissions[:, 0]  # [B, K]: log-sum of the paths ending in k at t
        alphas = [alpha]
        for t in range(1, steps):
            # [B, K, 1] + [K, K] + [B, 1, K] -> logsumexp over the previous tag -> [B, K]
            scores = alpha.unsqueeze(2) + transitions + emissions[:, t].unsqueeze(1)
            alpha = torch.where(mask[:, t : t + 1], torch.logsumexp(scores, dim=1), alpha)
            alphas.append(alpha)
        log_partition = torch.logsumexp(alpha + end, dim=1, keepdim=True)  # [B, 1]
        beta = end.expand_as(alpha)  # [B, K]: log-sum of the paths from k at t to the end
        betas = [beta]
        for t in range(steps - 1, 0, -1):
            # [K, K] + [B, 1, K] -> logsumexp over the next tag -> [B, K]; past a sentence's
            # last word only the end score follows
            scores = transitions + (emissions[:, t] + beta).unsqueeze(1)
            beta = torch.where(mask[:, t : t + 1], torch.logsumexp(scores, dim=2), end)
            betas.append(beta)
        log_marginals = torch.stack(alphas, 1) + torch.stack(betas[::-1], 1)  # [B, T, K]
        marginals = torch.exp(log_marginals - log_partition.unsqueeze(2)).clamp(max=1.0)
        return (marginals * mask.unsqueeze(2).to(marginals.dtype)).to(dtype)

    @torch.no_grad()
    def decode(self, emissions: Tensor, mask: Tensor) -> list[list[int]]:
        """The best tag sequence of each sentence (Viterbi), each as long as its mask."""
        transitions, start, end = self._scores()
        score = start + emissions[:, 0]  # [B, K]
        history = []
        for t in range(1, emissions.shape[1]):
            candidates = score.unsqueeze(2) + transitions  # [B, K_prev, K]
            best, best_prev = candidates.max(dim=1)
            history.append(best_prev)
            score = torch.where(mask[:, t : t + 1], best + emissions[:, t], score)
        score = score + end
        lengths = mask.sum(1).tolist()
        last = score.argmax(dim=1).tolist()
        back = torch.stack(history).tolist() if history else []  # [T-1][B][K], one transfer
        paths = []
        for b, length in enumerate(lengths):
            tag = last[b]
            path = [tag]
            for t in range(int(length) - 1, 0, -1):
                tag = back[t - 1][b][tag]
                path.append(tag)
            paths.append(path[::-1])
        return paths
