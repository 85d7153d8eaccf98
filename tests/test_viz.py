"""Every PNG writer in rnnkit.viz: the files they write, wherever the path points."""

from __future__ import annotations

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
