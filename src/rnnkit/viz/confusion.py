"""A confusion-matrix heat map (rows gold, columns predicted), normalised per gold row."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rnnkit.viz.save import save_figure, subplots


def plot_confusion(labels: Sequence[str], matrix: Sequence[Sequence[int]], path: str | Path,
                   title: str = "confusion matrix") -> Path:
    """Save the matrix as a PNG; each cell is the share of its gold row, counts written in.

    Raises:
        ValueError: a matrix that is not ``[len(labels), len(labels)]`` (it failed with an
            IndexError deep in the drawing, or drew rows and columns without labels), or an
            empty one (no examples scored).
    """
    counts = np.asarray(matrix, dtype=float)
    size = len(labels)
    if not size and not counts.size:
        raise ValueError(f"nothing to plot in {path}: the confusion matrix is empty (no "
                         "examples were scored)")
    if counts.shape != (size, size):
        raise ValueError(f"the confusion matrix has shape {counts.shape}, and its {size} "
                         f"label(s) need ({size}, {size}): one row (gold) and one column "
                         "(predicted) per label")
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    side = max(4.0, 0.45 * size + 2)
    figure, axes = subplots(figsize=(side + 1, side))
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(size), labels, rotation=90)
    axes.set_yticks(range(size), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(title)
    if size <= 25:
        for i in range(size):
            for j in range(size):
                if counts[i, j]:
                    colour = "white" if shares[i, j] > 0.5 else "black"
                    axes.text(j, i, f"{int(counts[i, j])}", ha="center", va="center",
                              fontsize=6, color=colour)
    figure.colorbar(image, ax=axes, fraction=0.046, label="share of gold row")
    return save_figure(figure, path, dpi=120)
