"""Saving a finished figure, shared by every plot in :mod:`rnnkit.viz`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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
    from rnnkit.training.checkpoint import write_output

    path = Path(path)
    fmt = path.suffix[1:].lower() or None  # None: matplotlib's default, png
    try:  # atomically: a crash or Ctrl-C mid-write leaves the old plot whole
        figure.tight_layout()
        write_output(path, lambda file: figure.savefig(file, dpi=dpi, format=fmt))
    finally:
        plt.close(figure)
    return path


@contextmanager
def drawing(figure: Figure) -> Iterator[Figure]:
    """Close ``figure`` if drawing it fails: a plot refused halfway (curves of another length
    than their times, say) left its figure open in pyplot, one more on every failed call.

    Example:
        >>> figure = plt.figure()
        >>> try:
        ...     with drawing(figure):
        ...         raise ValueError("refused")
        ... except ValueError:
        ...     pass
        >>> plt.fignum_exists(figure.number)
        False
    """
    try:
        yield figure
    except BaseException:
        plt.close(figure)
        raise
