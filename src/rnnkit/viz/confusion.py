"""A confusion-matrix heat map (rows gold, columns predicted), normalised per gold row."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from rnnkit.viz.save import save_figure  # noqa: E402


def plot_confusion(labels: Sequence[str], matrix: Sequence[Sequence[int]], path: str | Path,
                   title: str = "confusion matrix") -> Path:
    """Save the matrix as a PNG; each cell is the share of its gold row, counts written in."""
    counts = np.asarray(matrix, dtype=float)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(4.0, 0.45 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size + 1, size))
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(labels)), labels, rotation=90)
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(title)
    if len(labels) <= 25:
        for i in range(len(labels)):
            for j in range(len(labels)):
                if counts[i, j]:
                    colour = "white" if shares[i, j] > 0.5 else "black"
                    axes.text(j, i, f"{int(counts[i, j])}", ha="center", va="center",
                              fontsize=6, color=colour)
    figure.colorbar(image, ax=axes, fraction=0.046, label="share of gold row")
    return save_figure(figure, path, dpi=120)
