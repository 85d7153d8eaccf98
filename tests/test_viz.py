"""Every PNG writer in rnnkit.viz: the files they write, wherever the path points (the
time-series and seed-equity plots' layout and refusals: test_viz_timeseries.py)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from rnnkit.training.diagnostics import GradientFlow
from rnnkit.viz.attention import plot_attention
from rnnkit.viz.confusion import plot_confusion
from rnnkit.viz.gradient_flow import (
    Curve,
    plot_exploding,
    plot_gradient_flow,
    plot_training_curves,
)
from rnnkit.viz.seed_equity import plot_seed_equity, plot_seed_equity_grid
from rnnkit.viz.timeseries import plot_drawdown, plot_equity, plot_forecast

PNG = b"\x89PNG\r\n\x1a\n"
EQUITY = {"model": np.array([1.0, 1.1, 0.9])}
SEEDS = {"agent": [np.array([1.0, 1.1]), np.array([1.0, 0.9])]}
FLOW = GradientFlow("gru", [[[1e-3, 1e-2, 1e-1]]], loss=0.2)
CURVE = Curve("gru", [1, 2], [0.2, 0.1])

PLOTS: dict[str, Callable[[Path], Any]] = {
    "attention": lambda path: plot_attention(torch.eye(2), ["a", "b"], ["c", "d"], path),
    "confusion": lambda path: plot_confusion(["a", "b"], [[3, 1], [0, 2]], path),
    "gradient_flow": lambda path: plot_gradient_flow({"init": [FLOW]}, path),
    "training_curves": lambda path: plot_training_curves([CURVE], path, baseline=0.3),
    "exploding": lambda path: plot_exploding([CURVE], [CURVE], path),
    "seed_equity": lambda path: plot_seed_equity(SEEDS, path),
    "seed_equity_grid": lambda path: plot_seed_equity_grid({"AAPL": (SEEDS, None)}, path),
    "forecast": lambda path: plot_forecast(np.arange(3.0), {"model": np.arange(3.0)}, path),
    "equity": lambda path: plot_equity(EQUITY, path),
    "drawdown": lambda path: plot_drawdown(EQUITY, path),
}


@pytest.mark.parametrize("name", PLOTS)
def test_a_plot_makes_its_missing_parent_folder(name: str, tmp_path: Path) -> None:
    # confusion, seed_equity and timeseries failed with Errno 2 where the folder was new
    path = tmp_path / "new" / "deeper" / f"{name}.png"
    assert PLOTS[name](path) == path
    assert path.read_bytes()[:8] == PNG


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_a_plot_interrupted_while_saved_keeps_the_old_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    """A plot was saved in place: a Ctrl-C mid-write left a truncated image."""
    from matplotlib.figure import Figure

    path = PLOTS["confusion"](tmp_path / f"confusion{suffix}")
    before = path.read_bytes()
    assert before.startswith(PNG if suffix == ".png" else b"<?xml")  # format from the suffix
    save = Figure.savefig

    def half(self: Figure, target: Any, *args: Any, **kwargs: Any) -> None:
        save(self, target, *args, **kwargs)
        if hasattr(target, "truncate"):
            target.truncate(100)
        else:
            Path(target).write_bytes(before[:100])
        raise KeyboardInterrupt

    monkeypatch.setattr(Figure, "savefig", half)
    with pytest.raises(KeyboardInterrupt):
        PLOTS["confusion"](path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


REFUSED: dict[str, Callable[[Path], Any]] = {
    "confusion, labels fewer than rows": lambda path: plot_confusion(
        ["a", "b"], [[1, 0, 0], [0, 1, 0], [0, 0, 1]], path),
    "confusion, labels more than rows": lambda path: plot_confusion(
        ["a", "b", "c"], [[1, 0], [0, 1]], path),
    "forecast, band of another length": lambda path: plot_forecast(
        np.arange(3.0), {"model": np.arange(3.0)}, path, lower=np.zeros(2), upper=np.ones(2)),
    "equity, times of another length": lambda path: plot_equity(
        EQUITY, path, times=np.arange(2)),
    "drawdown, times of another length": lambda path: plot_drawdown(
        EQUITY, path, times=np.arange(2)),
    "seed equity, times of another length": lambda path: plot_seed_equity(
        SEEDS, path, times=np.arange(3)),
    "seed equity grid, times of another length": lambda path: plot_seed_equity_grid(
        {"AAPL": (SEEDS, np.arange(3))}, path),
    "training curves, steps of another length": lambda path: plot_training_curves(
        [Curve("gru", [1, 2, 3], [0.2, 0.1])], path, baseline=0.3),
    "exploding, steps of another length": lambda path: plot_exploding(
        [Curve("gru", [1], [0.2, 0.1])], [CURVE], path),
}


@pytest.mark.parametrize("name", REFUSED)
def test_a_refused_plot_leaves_no_figure_open(name: str, tmp_path: Path) -> None:
    """A plot refused halfway kept its figure open in pyplot: one more figure for every
    failed call of a loop (and matplotlib's 'more than 20 figures' warning)."""
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    with pytest.raises(ValueError):
        REFUSED[name](tmp_path / "plot.png")
    assert set(plt.get_fignums()) == before
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("labels, matrix", [
    (["a", "b"], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]),  # drew three rows, two labelled
    (["a", "b", "c"], [[1, 0], [0, 1]]),  # IndexError: index 2 is out of bounds
    (["a", "b"], [[1, 0, 0], [0, 1, 0]]),  # not square
])
def test_confusion_refuses_a_matrix_that_does_not_fit_its_labels(
        labels: list[str], matrix: list[list[int]], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"one row \(gold\) and one column \(predicted\)"):
        plot_confusion(labels, matrix, tmp_path / "c.png")


def test_confusion_and_attention_refuse_nothing_to_plot(tmp_path: Path) -> None:
    """An empty matrix failed with numpy's 'axis 1 is out of bounds'; empty attention wrote a
    blank image."""
    with pytest.raises(ValueError, match="empty"):
        plot_confusion([], [], tmp_path / "c.png")
    with pytest.raises(ValueError, match="no attention weights"):
        plot_attention(torch.zeros(2, 0), [], ["c", "d"], tmp_path / "a.png")
    assert not list(tmp_path.iterdir())


def test_forecast_band_needs_both_bounds_of_the_actual_length(tmp_path: Path) -> None:
    actual = np.arange(3.0)
    with pytest.raises(ValueError, match="both lower and upper"):  # silently no band
        plot_forecast(actual, {"model": actual}, tmp_path / "f.png", lower=actual - 1)
    with pytest.raises(ValueError, match="upper bound has shape"):  # matplotlib's 'y2' size
        plot_forecast(actual, {"model": actual}, tmp_path / "f.png", lower=actual - 1,
                      upper=np.ones((3, 1)))


def test_gradient_flow_marks_0_below_every_panels_values_on_the_shared_axis(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The panels share their y axis, but each drew its 0 (and inf) from its own range: a 0
    in one panel sat at 1e-4, far above the other panel's real 1e-30, reading as a gradient
    larger than that one."""
    import rnnkit.viz.gradient_flow as module

    kept: list[Any] = []
    monkeypatch.setattr(module, "save_figure", lambda figure, path, dpi: kept.append(figure))
    init = GradientFlow("rnn", [[[0.0, 1e-3, 1e-2]]], loss=0.2)
    trained = GradientFlow("rnn", [[[1e-30, math.inf, 1e-2]]], loss=0.1)
    plot_gradient_flow({"at initialisation": [init], "after training": [trained]},
                       tmp_path / "flow.png")
    left, right = kept[0].axes[:2]
    zero = left.collections[0].get_offsets()[0][1]  # the "0: no gradient" marker
    overflow = right.collections[0].get_offsets()[0][1]  # the "inf: overflow" marker
    assert zero < 1e-30 < 1e-2 < overflow
    assert left.lines[0].get_ydata()[0] == zero
    assert right.lines[0].get_ydata()[1] == overflow


def test_gradient_flow_without_panels_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no panels to plot"):  # was matplotlib's 'Number of
        plot_gradient_flow({}, tmp_path / "flow.png")  # columns must be a positive integer'


def test_plots_leave_the_users_matplotlib_backend_alone(tmp_path: Path) -> None:
    """Importing a plot module ran matplotlib.use("Agg"): a notebook that had drawn with its
    own backend showed nothing after its first rnnkit plot. Figures are now made without
    pyplot, so the backend is never touched (a fresh process: the backend is global)."""
    import subprocess
    import sys

    script = (
        "import matplotlib; matplotlib.use('svg'); import matplotlib.pyplot as plt; "
        "from rnnkit.viz.confusion import plot_confusion; "
        f"plot_confusion(['a', 'b'], [[3, 1], [0, 2]], {str(tmp_path / 'c.png')!r}); "
        "print(matplotlib.get_backend(), len(plt.get_fignums()))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["svg", "0"]
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
