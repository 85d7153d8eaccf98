"""Tagging metrics: token accuracy, span F1 via seqeval, and the confusion matrix."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any


def tag_scores(
    gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], spans: bool
) -> dict[str, float]:
    """Token accuracy; with ``spans`` also span-level micro precision, recall and F1."""
    pairs = [(g, p) for gs, ps in zip(gold, predicted, strict=True)
             for g, p in zip(gs, ps, strict=True)]
    scores = {"accuracy": sum(g == p for g, p in pairs) / max(len(pairs), 1)}
    if spans:
        from seqeval.metrics import f1_score, precision_score, recall_score

        gold_lists, predicted_lists = [list(g) for g in gold], [list(p) for p in predicted]
        # no predicted (or gold) span scores 0, without seqeval's warning on the console
        scores["precision"] = float(precision_score(gold_lists, predicted_lists,
                                                    zero_division=0))
        scores["recall"] = float(recall_score(gold_lists, predicted_lists, zero_division=0))
        scores["f1"] = float(f1_score(gold_lists, predicted_lists, zero_division=0))
    return scores


def span_report(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]
                ) -> dict[str, dict[str, float]]:
    """Per entity type precision, recall, F1 and support (seqeval, strict=False as CoNLL)."""
    from seqeval.metrics import classification_report

    report: dict[str, Any] = classification_report(
        [list(g) for g in gold], [list(p) for p in predicted], output_dict=True, zero_division=0
    )
    return {name: {k: float(v) for k, v in row.items()} for name, row in report.items()}


def confusion(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]
              ) -> tuple[list[str], list[list[int]]]:
    """Labels (by gold frequency) and counts ``matrix[gold][predicted]`` over tokens."""
    pairs = Counter((g, p) for gs, ps in zip(gold, predicted, strict=True)
                    for g, p in zip(gs, ps, strict=True))
    frequency = Counter(g for gs in gold for g in gs)
    labels = [t for t, _ in frequency.most_common()]
    labels += sorted({p for _, p in pairs} - set(labels))
    matrix = [[pairs.get((g, p), 0) for p in labels] for g in labels]
    return labels, matrix


def confusion_table(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> str:
    """The confusion matrix as a markdown table (rows gold, columns predicted)."""
    lines = ["| gold \\ predicted | " + " | ".join(labels) + " |",
             "|---" * (len(labels) + 1) + "|"]
    for label, row in zip(labels, matrix, strict=True):
        lines.append(f"| {label} | " + " | ".join(str(n) for n in row) + " |")
    return "\n".join(lines)
