"""How sure a tagger is of the entities it finds: a confidence for each predicted span.

A span's confidence is the **mean** of its tokens' probabilities (each token's marginal
``p(tag_t = k | sentence)`` of its predicted tag, from
:func:`~rnnkit.pipelines.tagger_scoring.predict_tags_with_scores`), as Flair scores a span. The
product would be a joint probability only if the tokens were independent, which under a CRF they
are not (``I-PER`` after ``B-PER`` is nearly certain once ``B-PER`` is), and it falls with the
span's length, so a long name would look less sure than a short one for the same evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rnnkit.data.tags import split_tag
from rnnkit.models.tagger import Tagger


@dataclass(frozen=True)
class ScoredSpan:
    """One predicted entity: its type, the tokens ``start:end`` (end excluded), its words and
    its confidence (the mean of its tokens' probabilities)."""

    type: str
    start: int
    end: int
    text: str
    confidence: float


def span_confidences(tokens: Sequence[str], tags: Sequence[str],
                     probabilities: Sequence[float]) -> list[ScoredSpan]:
    """The entity spans of one sentence's BIO ``tags``, each with the mean probability of its
    tokens. Tags outside any span (``O``) give no span.

    Raises:
        ValueError: the three sequences differ in length.

    Example:
        >>> spans = span_confidences(["Anna", "Smith", "left"], ["B-PER", "I-PER", "O"],
        ...                          [0.9, 0.7, 0.99])
        >>> [(s.type, s.start, s.end, s.text, round(s.confidence, 6)) for s in spans]
        [('PER', 0, 2, 'Anna Smith', 0.8)]
    """
    if not len(tokens) == len(tags) == len(probabilities):
        raise ValueError(f"span_confidences needs one tag and one probability per token: "
                         f"{len(tokens)} tokens, {len(tags)} tags, {len(probabilities)} "
                         "probabilities")
    spans: list[ScoredSpan] = []
    start, kind = -1, ""

    def close(end: int) -> None:
        if start >= 0:
            mean = sum(probabilities[start:end]) / (end - start)
            spans.append(ScoredSpan(kind, start, end, " ".join(tokens[start:end]), mean))

    for position, tag in enumerate(tags):
        prefix, tag_kind = split_tag(tag)
        if prefix == "I" and start >= 0 and tag_kind == kind:
            continue  # the open span goes on
        close(position)
        start, kind = (position, tag_kind) if prefix in ("B", "I") else (-1, "")
    close(len(tags))
    return spans


def predict_spans(model: Tagger, token_lists: Sequence[Sequence[str]]
                  ) -> list[list[ScoredSpan]]:
    """The entities a span tagger (BIO/BIOES tags) finds in each tokenized sentence, each
    with its confidence.

    Raises:
        ValueError: the model's tags are not entity spans (a part-of-speech tagger: use
            :func:`~rnnkit.pipelines.tagger_scoring.predict_tags_with_scores`).
    """
    from rnnkit.data.tags import span_f1_available
    from rnnkit.pipelines.tagger_scoring import predict_tags_with_scores

    if not span_f1_available(model.tags.symbols):
        raise ValueError("predict_spans needs a tagger of entity spans (BIO or BIOES tags), "
                         "and this one tags without spans (e.g. parts of speech); use "
                         "predict_tags_with_scores for each token's probability")
    token_lists = [list(tokens) for tokens in token_lists]
    tags, probabilities = predict_tags_with_scores(model, token_lists)
    return [span_confidences(tokens, row, scores)
            for tokens, row, scores in zip(token_lists, tags, probabilities, strict=True)]
