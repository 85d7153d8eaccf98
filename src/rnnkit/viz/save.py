"""Making and saving figures, shared by every plot in :mod:`rnnkit.viz`.

Figures are made with matplotlib's object API (:class:`~matplotlib.figure.Figure`), not
``pyplot``: nothing is registered in pyplot's global list of open figures (so none is left
open when a plot is refused halfway, and none needs closing), and the user's matplotlib
backend is left alone (``pyplot``'s figures needed the non-interactive Agg backend, which
importing rnnkit's plots switched to, in a notebook too). See matplotlib's "Embedding in a
web application server".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float],
             **options: Any) -> tuple[Figure, Any]:
    """A new figure and its axes, as ``pyplot.subplots`` returns them (``options``: its
    ``squeeze``, ``sharex``, ``sharey``...).

    Example:
        >>> figure, axes = subplots(figsize=(4, 3))
        >>> type(figure).__name__, type(axes).__name__
        ('Figure', 'Axes')
    """
    figure = Figure(figsize=figsize)
    return figure, figure.subplots(nrows, ncols, **options)


def save_figure(figure: Figure, path: str | Path, dpi: int) -> Path:
    """Lay the figure out and write it to ``path`` (its format from the suffix, e.g.
    ``.png``); a missing parent folder is made first, as checkpoints and JSON outputs make
    theirs.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = save_figure(subplots(figsize=(4, 3))[0], Path(folder) / "new" / "plot.png",
        ...                        dpi=50)
        ...     path.is_file()
        True
    """
    from rnnkit.training.checkpoint import write_output

    path = Path(path)
    fmt = path.suffix[1:].lower() or None  # None: matplotlib's default, png
    figure.tight_layout()  # atomically: a crash or Ctrl-C mid-write leaves the old plot whole
    write_output(path, lambda file: figure.savefig(file, dpi=dpi, format=fmt))
    return path
