"""The vanishing/exploding gradient problem, made visible: an end-to-end experiment.

:func:`run_demonstration` trains a vanilla RNN, an LSTM and a GRU with the same size, init,
optimizer and budget on a long-range synthetic task and measures ``||dL/dh_t||`` for every step
before and after training; then trains a vanilla RNN with large recurrent weights with plain SGD,
without and with gradient clipping. It writes ``gradient_flow.png``, ``training_curves.png``,
``exploding.png``, ``summary.json`` (every number) and ``summary.md`` (the tables, from
:mod:`rnnkit.pipelines.demonstration_report`).

Example (about 5 minutes on 2 shared CPU cores: 274 s for the recorded run, so not run as a
doctest)::

    summary = run_demonstration(length=100, out_dir="runs/diagnose")
    summary["results"]["gru"]["solved"], summary["results"]["rnn"]["solved"]  # (True, False)
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from rnnkit.cells import RNNCell
from rnnkit.config import CELLS, ConfigError, ModelConfig, TrainConfig
from rnnkit.data.batching import TensorBatches
from rnnkit.data.synthetic import describe, make_split
from rnnkit.models.synthetic import SyntheticTaskModel
from rnnkit.pipelines.demonstration_report import summary_markdown, task_length_text
from rnnkit.pipelines.run import drawing
from rnnkit.training.checkpoint import atomic_write_text
from rnnkit.training.diagnostics import GradientFlow, gradient_flow, json_safe
from rnnkit.training.monitor import TrainingDiverged
from rnnkit.training.trainer import Trainer
from rnnkit.viz.gradient_flow import Curve, plot_exploding, plot_gradient_flow, plot_training_curves

SOLVED_FRACTION = 0.05  # adding: solved when test MSE < 5% of the baseline's (R^2 > 0.95)
SOLVED_ACCURACY = 0.9  # copy: solved when at least 90% of the recalled symbols are right


@dataclass(frozen=True)
class ExplodeSettings:
    """The exploding-gradient run: a vanilla RNN, ``W_hh`` orthogonal times ``gain``, plain SGD.

    With gain 2 (spectral radius 2) the tanh network is chaotic: ``||dL/dh_t||`` grows about
    seven orders of magnitude over 100 steps back, an unclipped SGD step is catapulted far away
    and the run ends in NaN/inf within about 20 steps; clipped to norm 1 it stays finite and
    its loss falls towards the baseline (0.25-0.32 after 600 steps for seeds 0-3, length 100).
    """

    nonlinearity: str = "tanh"
    gain: float = 2.0
    lr: float = 0.1
    steps: int = 600
    clip_norm: float = 1.0


EXPLODE = ExplodeSettings()
FEW_ORDERS = 3  # gated cells "keep the gradient": first/last within 3 orders of magnitude
TEST_SIZE, VAL_SIZE = 1000, 500
Log = Callable[[str], Any]


class _Stream:
    """Fresh batches for every epoch, fixed by ``(seed, epoch)``: an endless training set."""

    def __init__(self, task: str, length: int, batch_size: int, batches: int, seed: int) -> None:
        self.task, self.length, self.seed = task, length, seed
        self.batch_size, self.batches_per_epoch = batch_size, batches

    def __len__(self) -> int:
        return self.batches_per_epoch

    def batches(self, epoch: int) -> Iterator[tuple[Tensor, Tensor]]:
        size = self.batch_size * self.batches_per_epoch
        inputs, targets = make_split(self.task, size, self.length, _seed(self.seed, 0, epoch))
        for start in range(0, size, self.batch_size):
            yield inputs[start : start + self.batch_size], targets[start : start + self.batch_size]


def _seed(seed: int, part: int, epoch: int = 0) -> int:
    """Distinct data seeds for training (part 0, one per epoch), validation (1) and test (2)."""
    return seed * 1_000_003 + part * 100_003 + epoch


def check_cells(cells: Sequence[str], key: str = "cells") -> None:
    """Refuse an empty, unknown or repeated list of cells, naming the setting ``key`` (or a
    flag)."""
    if not cells or any(cell not in CELLS for cell in cells):
        raise ConfigError(f"{key} must be some of {', '.join(CELLS)} separated by commas, e.g. "
                          f"lstm,gru; got {','.join(cells)!r}")
    repeated = [cell for cell in CELLS if list(cells).count(cell) > 1]
    if repeated:
        raise ConfigError(f"{key} repeats {', '.join(repeated)}: every cell trains with the same "
                          "seed and settings, so a repeated one trains the same model again and "
                          "overwrites its results and gradient flow in summary.json; give each "
                          f"cell once, e.g. {','.join(dict.fromkeys(cells))}")


def run_demonstration(
    task: str = "adding",
    cells: Sequence[str] = ("rnn", "lstm", "gru"),
    length: int = 100,
    hidden_size: int = 64,
    steps: int = 1200,
    batch_size: int = 64,
    lr: float = 1e-2,
    seed: int = 0,
    out_dir: str | Path = "runs/diagnose",
    log: Log = print,
    eval_every: int = 50,
    threads: int | None = 1,
    explode: ExplodeSettings = EXPLODE,
) -> dict[str, Any]:
    """Run the whole experiment; write plots, tables and ``summary.json``; return the summary.

    Every cell gets the same hidden size, init (``"recurrent"``: orthogonal ``W_hh``, LSTM forget
    bias 1), seed, Adam with ``lr`` and ``clip_norm=1``, and ``steps`` optimizer steps on fresh
    batches; the weights with the best validation loss are scored on a held-out test split.

    Args:
        task: ``"adding"`` or ``"copy"``.
        cells: which of ``rnn``, ``lstm``, ``gru`` to compare.
        length: the task's length (the copy task's sequences are ``length + 20`` long).
        hidden_size: hidden units of every cell.
        steps: optimizer steps per cell: exactly ``steps`` up to ``eval_every``, above it
            rounded up to a multiple of ``eval_every``.
        batch_size: sequences per step.
        lr: Adam's learning rate.
        seed: seeds the weights and every data split.
        out_dir: where the files go.
        log: receives progress lines and the tables.
        eval_every: validation (a point of the training curves) every this many steps.
        threads: torch CPU threads for the run (restored after); 1 is far faster than 2 for
            these small matrices on a busy machine, where threads wait for each other. None
            leaves the setting alone.
        explode: the exploding-gradient run's settings.

    Returns:
        the summary written to ``summary.json`` (NaN and infinities as None).
    """
    spec = describe(task)
    check_cells(cells)
    if steps < 1 or eval_every < 1:
        raise ValueError(f"steps and eval_every must be >= 1, got {steps} and {eval_every}")
    started, previous_threads = time.perf_counter(), torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        eval_every = min(eval_every, steps)
        epochs = math.ceil(steps / eval_every)
        val = TensorBatches(make_split(task, VAL_SIZE, length, _seed(seed, 1)), 250, shuffle=False)
        test_split = make_split(task, TEST_SIZE, length, _seed(seed, 2))
        test = TensorBatches(test_split, 250, shuffle=False)
        probe = (test_split[0][:batch_size], test_split[1][:batch_size])
        summary: dict[str, Any] = {
            "task": task, "length": length, "sequence_length": int(probe[0].shape[1]),
            "cells": list(cells), "baseline": spec.baseline, "baseline_name": spec.baseline_name,
            "settings": {"hidden_size": hidden_size, "steps": epochs * eval_every, "lr": lr,
                         "batch_size": batch_size, "optimizer": "adam", "clip_norm": 1.0,
                         "init": "recurrent", "seed": seed, "threads": torch.get_num_threads()},
            "solved_rule": (f"test MSE < {SOLVED_FRACTION} x baseline" if task == "adding"
                            else f"test accuracy >= {SOLVED_ACCURACY}"),
            "results": {},
        }
        flows: dict[str, list[GradientFlow]] = {"at initialisation": [], "after training": []}
        curves = []
        for cell in cells:
            torch.manual_seed(seed)
            model = SyntheticTaskModel(task, ModelConfig(cell=cell, hidden_size=hidden_size))
            flows["at initialisation"].append(gradient_flow(model, probe, name=cell))
            log(f"[{cell}] training {epochs * eval_every} steps on {task}, "
                f"{task_length_text(task, length)} ...")
            config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, clip_norm=1.0,
                                 seed=seed, device="cpu", progress=False)
            stream = _Stream(task, length, batch_size, eval_every, seed)
            result = Trainer(model, config, log=lambda line: None).fit(stream, val)
            scores = model.evaluate(test.batches(0))
            flows["after training"].append(gradient_flow(model, probe, name=cell))
            solved = (scores["loss"] < SOLVED_FRACTION * spec.baseline if task == "adding"
                      else scores.get("accuracy", 0.0) >= SOLVED_ACCURACY)
            summary["results"][cell] = {
                "test_loss": scores["loss"], "test_accuracy": scores.get("accuracy"),
                "loss_vs_baseline": scores["loss"] / spec.baseline, "solved": solved,
                "steps": result.steps, "seconds": round(result.seconds, 1),
                "history": result.history,
            }
            curves.append(Curve(cell, [int(h["steps"]) for h in result.history],
                                [h["val_loss"] for h in result.history]))
            log(f"[{cell}] test loss {scores['loss']:.4g} (baseline {spec.baseline:.4g})"
                f" solved={solved} in {result.seconds:.0f}s")
        exploded = _exploding(explode, task, length, hidden_size, batch_size, seed, probe, log)
        summary["exploding"] = exploded.pop("summary")
        flows["at initialisation"].append(exploded["flow"])
        summary["gradient_flow"] = {
            panel: {f.name: f.to_dict() for f in items} for panel, items in flows.items()
        }
        summary["claims"] = _claims(summary, flows)
        summary["seconds"] = round(time.perf_counter() - started, 1)
        threshold = SOLVED_FRACTION * spec.baseline if task == "adding" else None
        span = task_length_text(task, length)
        with drawing(out / "gradient_flow.png"):
            plot_gradient_flow(flows, out / "gradient_flow.png",
                               title=f"‖dL/dh_t‖ on the {task} task, {span}")
        with drawing(out / "training_curves.png"):
            plot_training_curves(curves, out / "training_curves.png", spec.baseline,
                                 f"baseline: {spec.baseline_name}", threshold,
                                 title=f"{task}, {span}: validation loss")
        with drawing(out / "exploding.png"):
            plot_exploding(exploded["norms"], exploded["losses"], out / "exploding.png",
                           explode.clip_norm, spec.baseline, title=exploded["title"])
        report = summary_markdown(summary, flows)
        atomic_write_text(out / "summary.md", report)
        summary = json_safe(summary)  # no NaN/inf: the returned summary is the JSON file's
        atomic_write_text(out / "summary.json", json.dumps(summary, indent=1))
        log(report)
        log(f"wrote {out}/gradient_flow.png, training_curves.png, exploding.png, summary.json,"
            f" summary.md in {summary['seconds']:.0f}s")
        return summary
    finally:
        torch.set_num_threads(previous_threads)


def _exploding(explode: ExplodeSettings, task: str, length: int, hidden_size: int,
               batch_size: int, seed: int, probe: tuple[Tensor, Tensor], log: Log
               ) -> dict[str, Any]:
    """Plain SGD on a vanilla RNN with ``W_hh`` orthogonal times a gain, unclipped and clipped."""
    torch.manual_seed(seed)
    config = ModelConfig(cell="rnn", hidden_size=hidden_size,
                         nonlinearity=explode.nonlinearity)
    initial = SyntheticTaskModel(task, config)
    with torch.no_grad():
        for index in range(len(initial.encoder.cells)):
            cell = initial.encoder.cell(index)
            assert isinstance(cell, RNNCell)
            torch.nn.init.orthogonal_(cell.weight_hh, gain=explode.gain)
    name = f"rnn, W_hh x{explode.gain:g}"
    flow = gradient_flow(initial, probe, name=name)
    runs, norms, losses = {}, [], []
    for clip in (0.0, explode.clip_norm):
        label = f"clip_norm={clip:g}" if clip else "no clipping"
        log(f"[exploding] {name}, SGD lr {explode.lr}, {label} ...")
        train = TrainConfig(epochs=explode.steps, batch_size=batch_size,
                            optimizer="sgd", lr=explode.lr, clip_norm=clip,
                            seed=seed, device="cpu", progress=False, monitor="train_loss")
        trainer = Trainer(copy.deepcopy(initial), train, log=lambda line: None)
        error = None
        try:  # one batch per epoch, so the history holds every step's loss
            trainer.fit(_Stream(task, length, batch_size, 1, seed + 1))
        except TrainingDiverged as diverged:
            error = str(diverged)
        record = trainer.result
        step_losses = [h["train_loss"] for h in record.history]
        diverged_at = record.steps + 1 if error else None
        finite_losses = [v for v in step_losses if math.isfinite(v)]
        runs[label] = {
            "clip_norm": clip, "steps_run": record.steps, "diverged": error is not None,
            "diverged_at_step": diverged_at, "error": error, "grad_norms": record.grad_norms,
            "losses": step_losses, "max_grad_norm": max(record.grad_norms, default=0.0),
            "final_loss": (sum(finite_losses[-10:]) / len(finite_losses[-10:])
                           if finite_losses else None),
        }
        log(f"[exploding] {label}: " + (  # the trainer's advice names train.* settings
            f"diverged at step {diverged_at}: {error.split(';')[0]}" if error else
            f"finite after {record.steps} steps, loss {runs[label]['final_loss']:.4g}"))
        steps_axis = list(range(1, len(record.grad_norms) + 1))
        norms.append(Curve(label, steps_axis, record.grad_norms, diverged_at))
        losses.append(Curve(label, list(range(1, len(step_losses) + 1)), step_losses, diverged_at))
    title = (f"{name} ({explode.nonlinearity}), SGD lr {explode.lr}, {task}, "
             f"{task_length_text(task, length)}")
    summary = {"settings": {**asdict(explode), "hidden_size": hidden_size}, "runs": runs,
               "gradient_flow_at_init": flow.rows()}
    return {"summary": summary, "flow": flow, "norms": norms, "losses": losses, "title": title}


def _claims(summary: dict[str, Any], flows: dict[str, list[GradientFlow]]) -> dict[str, Any]:
    """The issue's claims, checked on this run's numbers."""
    trained = {f.name: f.rows()[0]["orders"] for f in flows["after training"]}
    results = summary["results"]
    gated = [c for c in ("lstm", "gru") if c in results]
    runs = summary["exploding"]["runs"]
    exploded = runs["no clipping"]["diverged"]  # else clipping had nothing to prevent
    clipped = [r for r in runs.values() if r["clip_norm"]]
    return {
        "log10_first_over_last_after_training": trained,
        "rnn_vanishes": None if "rnn" not in trained else trained["rnn"] < -FEW_ORDERS,
        "gated_within_few_orders": (None if not gated
                                    else all(trained[c] >= -FEW_ORDERS for c in gated)),
        "rnn_fails": None if "rnn" not in results else not results["rnn"]["solved"],
        "gated_solve": None if not gated else all(results[c]["solved"] for c in gated),
        "explodes_without_clipping": exploded,
        "clipping_prevents_it": (None if not exploded
                                 else not any(r["diverged"] for r in clipped)),
    }
