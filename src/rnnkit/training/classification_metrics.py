"""Scores of a sequence classifier: accuracy and F1 for labels, RMSE and MAE for numbers."""

from __future__ import annotations

from torch import Tensor


def macro_f1(predicted: Tensor, gold: Tensor, classes: int) -> float:
    """The mean over classes of F1 (a class never predicted nor present is left out).

    Example:
        >>> import torch
        >>> macro_f1(torch.tensor([0, 1, 1]), torch.tensor([0, 1, 0]), 2)
        0.6666666666666666
    """
    scores = []
    for label in range(classes):
        tp = int(((predicted == label) & (gold == label)).sum())
        fp = int(((predicted == label) & (gold != label)).sum())
        fn = int(((predicted != label) & (gold == label)).sum())
        if tp + fp + fn:
            scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else 0.0


def hit_share(correct: Tensor) -> float:
    """The fraction of True in ``correct``, counted exactly (NaN for none, as a mean's)."""
    return int(correct.sum()) / correct.numel() if correct.numel() else float("nan")


def classification_scores(outputs: Tensor, targets: Tensor, output: str,
                          multi_label: bool) -> dict[str, float]:
    """Scores from probabilities (or values) ``[N, K]`` and targets.

    softmax / binary sigmoid: accuracy and macro F1; multi-label: exact-match accuracy and
    micro F1 at probability 0.5; linear: RMSE and MAE over every target value. An accuracy is
    the exact fraction ``correct / N`` (a float32 mean was off from it in the 8th digit).

    Example:
        >>> import torch
        >>> classification_scores(torch.eye(3), torch.tensor([0, 2, 1]), "softmax", False)
        {'accuracy': 0.3333333333333333, 'macro_f1': 0.3333333333333333}
    """
    if output == "linear":
        error = outputs - targets
        return {"rmse": float(error.pow(2).mean().sqrt()), "mae": float(error.abs().mean())}
    if multi_label:
        predicted = outputs >= 0.5
        gold = targets >= 0.5
        tp = int((predicted & gold).sum())
        denominator = int(predicted.sum()) + int(gold.sum())
        return {"accuracy": hit_share((predicted == gold).all(dim=1)),
                "micro_f1": 2 * tp / denominator if denominator else 1.0}
    predicted = outputs.argmax(dim=1)
    gold = targets.long()
    return {"accuracy": hit_share(predicted == gold),
            "macro_f1": macro_f1(predicted, gold, outputs.shape[1])}
