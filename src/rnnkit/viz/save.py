"""Saving a finished figure, shared by every plot in :mod:`rnnkit.viz`."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def save_figure(figure: Figure, path: str | Path, dpi: int) -> Path:
    """Lay the figure out, write it to ``path`` (its format from the suffix, e.g. ``.png``) and
    close it; a missing parent folder is made first, as checkpoints and JSON outputs make
    theirs.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = save_figure(plt.figure(), Path(folder) / "new" / "plot.png", dpi=50)
        ...     path.is_file()
        True
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=dpi)
    plt.close(figure)
    return path
