"""An attention heat map: which source pieces each output piece looked at."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from torch import Tensor

from rnnkit.viz.save import save_figure, subplots


def plot_attention(weights: Tensor, source: Sequence[str], target: Sequence[str],
                   path: str | Path, title: str = "attention") -> Path:
    """Save weights ``[len(target), len(source)]`` (rows sum to 1) as a PNG."""
    matrix = np.asarray(weights.detach().cpu().float())
    if matrix.shape != (len(target), len(source)):
        raise ValueError(f"attention weights have shape {matrix.shape}; the labels need"
                         f" ({len(target)}, {len(source)}) (target pieces, source pieces)")
    if not matrix.size:  # imshow drew a blank, axis-less image without a word
        raise ValueError(f"no attention weights to plot: {len(target)} target and "
                         f"{len(source)} source piece(s)")
    figure, axes = subplots(figsize=(max(4.0, 0.4 * len(source) + 2),
                                         max(3.0, 0.35 * len(target) + 1.5)))
    image = axes.imshow(matrix, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    axes.set_xticks(range(len(source)), list(source), rotation=90)
    axes.set_yticks(range(len(target)), list(target))
    axes.set_xlabel("source")
    axes.set_ylabel("translation")
    axes.set_title(title)
    figure.colorbar(image, ax=axes, fraction=0.046, label="weight")
    return save_figure(figure, path, dpi=120)
