"""rnnkit.training.Trainer: TBPTT, clipping, exact resume, divergence, schedules, seeds.

Plus the data the trainer is fed: TensorBatches and the synthetic long-range tasks.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import (
    IN,
    ListSource,
    Regressor,
    ScriptedModel,
    make_regressor,
    no_log,
    quiet,
    regression_data,
    regression_source,
    same_weights,
    snapshot_log,
    weights,
)
from torch import Tensor, nn

from rnnkit.config import ConfigError, ModelConfig, load_config
from rnnkit.data.batching import TensorBatches
from rnnkit.data.synthetic import COPY_LENGTH, COPY_SYMBOLS, adding_problem, copy_task, make_split
from rnnkit.models.synthetic import SyntheticTaskModel
from rnnkit.pipelines.synthetic import SyntheticRunConfig
from rnnkit.training import StepOutput, TaskModel, Trainer, TrainingDiverged
from rnnkit.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from rnnkit.training.environment import resolve_device
from rnnkit.training.trainer import make_optimizer

# -- truncated BPTT ----------------------------------------------------------------------------
H = 4


class WindowRNN(TaskModel):
    """A tanh RNN over time-major ``(x [T, B, IN], y [T, B])`` that records what step() gets."""

    carries_state = True  # a stream: the state flows from batch to batch

    def __init__(self) -> None:
        super().__init__()
        self.inp = nn.Linear(IN, H)
        self.rec = nn.Linear(H, H, bias=False)
        self.out = nn.Linear(H, 1)
        self.seen: list[Any] = []  # the state passed into each step() call
        self.finals: list[Tensor] = []  # the final state of each step() call
        self.window_calls = 0

    def run(self, x: Tensor, state: Tensor | None) -> tuple[Tensor, Tensor]:
        h = torch.zeros(x.shape[1], H) if state is None else state
        predictions = []
        for t in range(x.shape[0]):
            h = torch.tanh(self.inp(x[t]) + self.rec(h))
            predictions.append(self.out(h).squeeze(1))
        return torch.stack(predictions), h

    def loss(self, batch: Any, state: Tensor | None) -> tuple[Tensor, Tensor]:
        x, y = batch
        predictions, h = self.run(x, state)
        return F.mse_loss(predictions, y), h

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        self.seen.append(state)
        loss, h = self.loss(batch, state)
        assert h.requires_grad  # the state handed back is attached: detaching is the trainer's job
        self.finals.append(h.detach().clone())
        return StepOutput(loss, int(batch[1].numel()), state=h)

    def windows(self, batch: Any, steps: int) -> Iterator[Any]:
        self.window_calls += 1
        x, y = batch
        for start in range(0, x.shape[0], steps):
            yield x[start : start + steps], y[start : start + steps]


def sequence_batch(seed: int, length: int = 7, batch: int = 2) -> tuple[Tensor, Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(length, batch, IN, generator=generator)
    return x, x.sum(2).cumsum(0).sin()


def window_model() -> WindowRNN:
    torch.manual_seed(0)
    return WindowRNN()


def count_steps(optimizer: torch.optim.Optimizer) -> list[int]:
    calls: list[int] = []
    optimizer.register_step_post_hook(lambda *_: calls.append(1))
    return calls


def record_grads(optimizer: torch.optim.Optimizer) -> list[list[Tensor]]:
    """The gradients each optimizer step sees (after clipping)."""
    grads: list[list[Tensor]] = []

    def hook(opt: torch.optim.Optimizer, *_: Any) -> None:
        grads.append([p.grad.clone() for group in opt.param_groups for p in group["params"]])

    optimizer.register_step_pre_hook(hook)
    return grads


def test_tbptt_carries_detached_state_and_steps_once_per_window() -> None:
    model = window_model()
    source = ListSource([sequence_batch(1), sequence_batch(2)])  # T = 7, k = 3: windows 3, 3, 1
    trainer = Trainer(model, quiet(epochs=2, optimizer="sgd", lr=0.1, tbptt_steps=3), log=no_log)
    steps = count_steps(trainer.optimizer)
    result = trainer.fit(source)

    windows_per_epoch = 2 * 3
    assert model.window_calls == 4  # 2 batches x 2 epochs
    assert len(model.seen) == 2 * windows_per_epoch
    assert len(steps) == result.steps == len(result.grad_norms) == 2 * windows_per_epoch
    for index, state in enumerate(model.seen):
        if index % windows_per_epoch == 0:
            assert state is None, f"call {index}: a new epoch starts from a fresh state"
            continue
        assert isinstance(state, Tensor)
        assert not state.requires_grad and state.grad_fn is None, f"call {index}: not detached"
        assert torch.equal(state, model.finals[index - 1]), f"call {index}: not the last state"


def test_tbptt_gradients_match_window_by_window_manual_computation() -> None:
    model = window_model()
    reference = copy.deepcopy(model)
    batch = sequence_batch(3)
    lr = 0.1
    trainer = Trainer(model, quiet(optimizer="sgd", lr=lr, tbptt_steps=3), log=no_log)
    grads = record_grads(trainer.optimizer)
    trainer.fit(ListSource([batch]))
    assert len(grads) == 3

    params = list(reference.parameters())
    state = None
    for window, (x, y) in enumerate(reference.windows(batch, 3)):
        loss, h = reference.loss((x, y), state)
        expected = torch.autograd.grad(loss, params)
        for got, want in zip(grads[window], expected, strict=True):
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)
        with torch.no_grad():
            for p, g in zip(params, expected, strict=True):
                p -= lr * g
        state = h.detach()
    # window 1's gradient only sees window 1: the full-sequence gradient is different
    initial = window_model()
    full = torch.autograd.grad(initial.loss(batch, None)[0], list(initial.parameters()))
    assert not all(torch.allclose(a, b) for a, b in zip(grads[0], full, strict=True))


def test_full_bptt_is_one_step_over_the_whole_sequence() -> None:
    model = window_model()
    reference = copy.deepcopy(model)
    batch = sequence_batch(4)
    trainer = Trainer(model, quiet(optimizer="sgd", lr=0.1, tbptt_steps=0), log=no_log)
    grads = record_grads(trainer.optimizer)
    result = trainer.fit(ListSource([batch]))
    assert result.steps == len(grads) == 1 and model.window_calls == 0
    assert model.seen == [None]
    expected = torch.autograd.grad(reference.loss(batch, None)[0], list(reference.parameters()))
    for got, want in zip(grads[0], expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)


def test_tbptt_without_windows_is_a_clear_error() -> None:
    trainer = Trainer(make_regressor(), quiet(tbptt_steps=2), log=no_log)
    with pytest.raises(ValueError, match="tbptt_steps"):
        trainer.fit(regression_source())


def test_checkpoint_every_is_not_skipped_by_multi_window_batches(tmp_path: Path) -> None:
    """3 optimizer steps per batch, checkpoint_every=4: steps 4 and 8 fall inside batches."""
    config = quiet(optimizer="sgd", lr=0.1, tbptt_steps=3, checkpoint_every=4)
    trainer = Trainer(window_model(), config, run_dir=tmp_path, log=no_log)
    saved: list[int] = []
    original = trainer.save

    def save(name: str = "last.pt") -> Path | None:
        if name == "last.pt" and trainer.batch_in_epoch > 0:  # saves inside the epoch only
            saved.append(trainer.result.steps)
        return original(name)

    trainer.save = save  # type: ignore[method-assign]
    trainer.fit(ListSource([sequence_batch(i) for i in range(4)]))  # steps 3, 6, 9, 12
    assert saved == [6, 9, 12]  # at the first batch end at or after steps 4, 8 and 12


# -- clipping ----------------------------------------------------------------------------------
def manual_grads(model: Regressor, source: TensorBatches) -> list[list[Tensor]]:
    out = []
    for batch in source.batches(0):
        out.append(list(torch.autograd.grad(model.loss(batch), list(model.parameters()))))
    return out


def total_norm(grads: list[Tensor]) -> float:
    return float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads)))


def test_clip_norm_bounds_the_step_and_records_the_norm_before_clipping() -> None:
    model = make_regressor()
    source = regression_source()
    expected = manual_grads(copy.deepcopy(model), source)
    clip = 0.05
    # lr 1e-30: the float32 weights never move, so every batch's gradient can be recomputed
    trainer = Trainer(model, quiet(optimizer="sgd", lr=1e-30, clip_norm=clip), log=no_log)
    clipped = record_grads(trainer.optimizer)
    result = trainer.fit(source)

    assert len(clipped) == len(expected) == len(result.grad_norms) == 4
    for recorded, grads, after in zip(result.grad_norms, expected, clipped, strict=True):
        norm = total_norm(grads)
        assert norm > clip  # so clipping really happened
        assert recorded == pytest.approx(norm, rel=1e-5)  # measured before clipping
        assert total_norm(after) <= clip * (1 + 1e-5)
        for a, g in zip(after, grads, strict=True):  # same direction, scaled down
            torch.testing.assert_close(a, g * (clip / norm), rtol=1e-4, atol=1e-8)
    assert result.history[0]["train_grad_norm_max"] == pytest.approx(max(result.grad_norms))


def test_clip_value_clamps_every_element() -> None:
    model = make_regressor()
    source = regression_source()
    expected = manual_grads(copy.deepcopy(model), source)
    limit = 0.02
    trainer = Trainer(model, quiet(optimizer="sgd", lr=1e-30, clip_value=limit), log=no_log)
    clipped = record_grads(trainer.optimizer)
    result = trainer.fit(source)

    flat = torch.cat([g.flatten() for grads in expected for g in grads]).abs()
    assert (flat > limit).any() and (flat < limit).any()  # the test bites both ways
    for recorded, grads, after in zip(result.grad_norms, expected, clipped, strict=True):
        assert recorded == pytest.approx(total_norm(grads), rel=1e-5)
        for a, g in zip(after, grads, strict=True):
            torch.testing.assert_close(a, g.clamp(-limit, limit), rtol=1e-5, atol=1e-8)


# -- exact resume ------------------------------------------------------------------------------
RESUME_CONFIG = quiet(
    epochs=3, optimizer="adam", lr=0.05, checkpoint_every=2, lr_patience=1, lr_factor=0.5, seed=7
)


def val_source() -> TensorBatches:
    return TensorBatches(regression_data(8, seed=1), batch_size=4, shuffle=False)


class CrashingSource:
    """Raises when the trainer asks for batch ``at`` of epoch ``epoch`` (a power cut)."""

    def __init__(self, inner: TensorBatches, epoch: int, at: int) -> None:
        self.inner, self.epoch, self.at = inner, epoch, at

    def batches(self, epoch: int) -> Iterator[Any]:
        for index, batch in enumerate(self.inner.batches(epoch)):
            if epoch == self.epoch and index == self.at:
                raise RuntimeError("power cut")
            yield batch

    def __len__(self) -> int:
        return len(self.inner)


def interrupted_run(how: str, run_dir: Path) -> None:
    model = make_regressor(dropout=0.5)
    if how == "after_epoch":  # a shorter run, later extended
        Trainer(model, replace(RESUME_CONFIG, epochs=1), run_dir, log=no_log).fit(
            regression_source(), val_source()
        )
    elif how == "max_steps":  # 4 batches per epoch: stops in the middle of epoch 2
        result = Trainer(model, replace(RESUME_CONFIG, max_steps=6), run_dir, log=no_log).fit(
            regression_source(), val_source()
        )
        assert result.stopped == "max_steps" and result.steps == 6
        state = load_checkpoint(run_dir / "last.pt")
        assert (state["epoch"], state["batch_in_epoch"]) == (1, 2)
    else:  # crashes while fetching the 4th batch of epoch 2; last checkpoint after step 6
        trainer = Trainer(model, RESUME_CONFIG, run_dir, log=no_log)
        with pytest.raises(RuntimeError, match="power cut"):
            trainer.fit(CrashingSource(regression_source(), epoch=1, at=3), val_source())
        assert trainer.result.steps == 7


@pytest.mark.parametrize("how", ["after_epoch", "max_steps", "crash"])
def test_resumed_run_ends_with_the_same_weights(tmp_path: Path, how: str) -> None:
    straight_model = make_regressor(dropout=0.5)
    straight = Trainer(straight_model, RESUME_CONFIG, tmp_path / "straight", log=no_log)
    expected = straight.fit(regression_source(), val_source())

    interrupted_run(how, tmp_path / "resumed")
    fresh = make_regressor(dropout=0.5, seed=99)  # other initial weights: resume must load them
    trainer = Trainer(fresh, RESUME_CONFIG, tmp_path / "resumed", log=no_log)
    assert trainer.resume()
    result = trainer.fit(regression_source(), val_source())

    assert same_weights(weights(fresh), weights(straight_model))
    last = {name: load_checkpoint(tmp_path / name / "last.pt") for name in ("straight", "resumed")}
    assert same_weights(last["straight"]["model"], last["resumed"]["model"])
    assert result.grad_norms == expected.grad_norms
    assert result.steps == expected.steps == 12
    assert records(result) == records(expected)  # train means too: the epoch's sums resume
    assert result.stopped == "completed"
    # the seconds trained before the resume, which a run's total_seconds adds to its own
    assert expected.earlier_seconds == 0
    assert 0 < result.earlier_seconds < result.seconds


def test_a_checkpoint_inside_an_epoch_keeps_the_seconds_trained_so_far(tmp_path: Path) -> None:
    """A checkpoint_every save inside an epoch kept the seconds of the last epoch's end (0 in
    the first epoch): a run killed there and resumed reported a train_seconds (and a
    total_seconds) without the time trained before the kill."""
    trainer = Trainer(make_regressor(dropout=0.5), RESUME_CONFIG, tmp_path, log=no_log)
    with pytest.raises(RuntimeError, match="power cut"):  # after step 2, inside epoch 1
        trainer.fit(CrashingSource(regression_source(), epoch=0, at=3), val_source())
    saved = json.loads(load_checkpoint(tmp_path / "last.pt")["result"])
    assert saved["steps"] == 2 and saved["seconds"] > 0
    resumed = Trainer(make_regressor(dropout=0.5, seed=99), RESUME_CONFIG, tmp_path, log=no_log)
    assert resumed.resume()
    result = resumed.fit(regression_source(), val_source())
    assert result.earlier_seconds == pytest.approx(saved["seconds"])
    assert 0 < result.earlier_seconds < result.seconds


def records(result: Any) -> list[dict[str, float]]:
    """The epoch records without their times."""
    return [{k: v for k, v in r.items() if k != "seconds"} for r in result.history]


def test_max_steps_counts_every_tbptt_window_and_resumes_inside_the_batch(tmp_path: Path
                                                                          ) -> None:
    source = ListSource([sequence_batch(i, length=9) for i in range(3)])  # 3 windows a batch
    config = quiet(epochs=2, optimizer="sgd", lr=0.05, tbptt_steps=3)
    straight_model = window_model()
    expected = Trainer(straight_model, config, tmp_path / "straight", log=no_log).fit(source)
    stopped = Trainer(window_model(), replace(config, max_steps=4), tmp_path / "resumed",
                      log=no_log).fit(source)
    assert (stopped.steps, stopped.stopped) == (4, "max_steps")  # not 6: the batch's end
    state = load_checkpoint(tmp_path / "resumed" / "last.pt")
    assert (state["epoch"], state["batch_in_epoch"], state["window_in_batch"]) == (0, 1, 1)
    model = window_model()
    trainer = Trainer(model, config, tmp_path / "resumed", log=no_log)
    assert trainer.resume()
    result = trainer.fit(source)
    assert result.steps == expected.steps == 18
    assert same_weights(weights(model), weights(straight_model))
    assert records(result) == records(expected)


@pytest.mark.parametrize("other", [0, 5])
def test_a_run_stopped_between_tbptt_windows_refuses_other_windows(tmp_path: Path,
                                                                   other: int) -> None:
    """Stopped after the first of a batch's 3-step windows, a Trainer resumed with another
    train.tbptt_steps went on at window 1 of windows of its own size: 0 (whole sequences)
    skipped the rest of the batch, 5 skipped time steps 3-4, silently (the CLI refuses a
    changed setting on --resume; the Python API did not)."""
    source = ListSource([sequence_batch(i, length=9) for i in range(2)])  # 3 windows a batch
    config = quiet(epochs=1, optimizer="sgd", lr=0.05, tbptt_steps=3)
    Trainer(window_model(), replace(config, max_steps=1), tmp_path, log=no_log).fit(source)
    trainer = Trainer(window_model(), replace(config, tbptt_steps=other), tmp_path, log=no_log)
    with pytest.raises(CheckpointError, match="tbptt_steps=3"):
        trainer.resume()
    assert Trainer(window_model(), config, tmp_path, log=no_log).resume()  # the same: goes on


def test_a_run_stopped_at_a_batch_end_resumes_with_other_tbptt_windows(tmp_path: Path) -> None:
    """Between batches no window is half done: another train.tbptt_steps is the user's call."""
    source = ListSource([sequence_batch(i, length=9) for i in range(2)])
    config = quiet(epochs=1, optimizer="sgd", lr=0.05, tbptt_steps=3)
    Trainer(window_model(), replace(config, max_steps=3), tmp_path, log=no_log).fit(source)
    trainer = Trainer(window_model(), replace(config, tbptt_steps=0), tmp_path, log=no_log)
    assert trainer.resume() and trainer.fit(source).steps == 4


def test_stopped_inside_the_first_batch_on_two_processes_refuses_one(tmp_path: Path) -> None:
    """Stopped between two TBPTT windows of an epoch's first batch, each process carries its
    own columns' state: resumed on another process count that state would be dropped."""
    source = ListSource([sequence_batch(i, length=9) for i in range(2)])  # 3 windows a batch
    config = quiet(epochs=1, optimizer="sgd", lr=0.05, tbptt_steps=3)
    Trainer(window_model(), replace(config, max_steps=1), tmp_path, log=no_log).fit(source)
    state = load_checkpoint(tmp_path / "last.pt")
    assert (state["batch_in_epoch"], state["window_in_batch"]) == (0, 1)
    one = {"rng": state["rng"], "carried": state["carried"], "sums": state["sums"]}
    state["ranks"] = [one, one]  # as two processes write it
    save_checkpoint(state, tmp_path / "last.pt")
    trainer = Trainer(window_model(), config, tmp_path, log=no_log)
    with pytest.raises(CheckpointError, match="resume it with --nproc 2"):
        trainer.resume()


def test_a_model_that_starts_every_batch_afresh_resumes_a_batch_end_on_another_count(
    tmp_path: Path
) -> None:
    """Its checkpoint after a whole batch still holds the last window's state, which the next
    batch drops: resuming on another process count was refused as if that state went on."""
    class Independent(WindowRNN):
        carries_state = False

    source = ListSource([sequence_batch(i, length=9) for i in range(2)])  # 3 windows a batch
    config = quiet(epochs=1, optimizer="sgd", lr=0.05, tbptt_steps=3)
    torch.manual_seed(0)
    Trainer(Independent(), replace(config, max_steps=3), tmp_path, log=no_log).fit(source)
    state = load_checkpoint(tmp_path / "last.pt")
    assert (state["batch_in_epoch"], state["window_in_batch"]) == (1, 0)
    assert state["carried"] is not None
    one = {"rng": state["rng"], "carried": state["carried"], "sums": state["sums"]}
    state["ranks"] = [one, one]  # as two processes write it
    save_checkpoint(state, tmp_path / "last.pt")
    torch.manual_seed(0)
    trainer = Trainer(Independent(), config, tmp_path, log=no_log)
    assert trainer.resume() and trainer.carried is None
    assert trainer.fit(source).steps == 6


class ShortLength(ListSource):
    """Says it has one batch fewer than it yields (as a stream whose epoch offset splits its
    last window may)."""

    def __len__(self) -> int:
        return super().__len__() - 1


def test_max_steps_on_a_batch_that_len_did_not_count_does_not_end_the_epoch(tmp_path: Path
                                                                           ) -> None:
    source = ShortLength([regression_data(4, seed=i) for i in range(4)])
    config = quiet(epochs=2, optimizer="sgd", lr=0.05)
    straight_model = make_regressor()
    expected = Trainer(straight_model, config, tmp_path / "straight", log=no_log).fit(source)
    stopped = Trainer(make_regressor(), replace(config, max_steps=3), tmp_path / "resumed",
                      log=no_log).fit(source)
    assert stopped.history == []  # 3 of the epoch's 4 batches: not over, though len says 3
    model = make_regressor()
    trainer = Trainer(model, config, tmp_path / "resumed", log=no_log)
    assert trainer.resume()
    assert trainer.fit(source).steps == expected.steps == 8
    assert same_weights(weights(model), weights(straight_model))


def test_weight_average_is_the_ema_of_every_step_and_is_what_validation_sees() -> None:
    decay = 0.8
    plain = make_regressor()
    recorded: list[dict[str, Tensor]] = []
    trainer = Trainer(plain, quiet(epochs=2, optimizer="sgd", lr=0.1), log=no_log)
    step = trainer.optimizer.step
    trainer.optimizer.step = lambda *a, **k: (step(*a, **k), recorded.append(weights(plain)))[0]
    trainer.fit(regression_source())
    expected = weights(make_regressor())  # the average starts from the initial weights
    for after in recorded:
        expected = {k: decay * expected[k] + (1 - decay) * after[k] for k in expected}

    averaged = make_regressor()
    config = quiet(epochs=2, optimizer="sgd", lr=0.1, ema_decay=decay)
    result = Trainer(averaged, config, log=no_log).fit(regression_source(), val_source())
    assert all(torch.allclose(weights(averaged)[k], expected[k], atol=1e-6) for k in expected)
    data = regression_data(8, seed=1)
    with torch.no_grad():  # validation scored the averaged weights, which the model now holds
        assert result.best_epoch == 2
        loss = float(averaged.step(data).loss)
    assert result.history[-1]["val_loss"] == pytest.approx(loss, rel=1e-5)
    with pytest.raises(ValueError, match=r"train.ema_decay must be at least 0 and below 1"):
        Trainer(make_regressor(), quiet(ema_decay=1.5), log=no_log)


def test_a_train_config_built_in_python_is_checked_as_the_cli_checks_it() -> None:
    """Trainer took a TrainConfig from Python unchecked: lr_factor without lr_patience was
    ignored, momentum with Adam dropped, epochs=0 trained nothing, with no word."""
    for options, message in [({"epochs": 0}, "train.epochs must be"),
                             ({"lr": -1.0}, "train.lr must be a finite number above 0"),
                             ({"momentum": 0.9}, "train.momentum is read only with"),
                             ({"lr_factor": 0.1}, "train.lr_factor=0.1 is read only when")]:
        with pytest.raises(ConfigError, match=message):
            Trainer(make_regressor(), quiet(**options), log=no_log)


def test_a_run_stopped_before_its_first_epoch_ends_keeps_the_average() -> None:
    model = make_regressor()
    trainer = Trainer(model, quiet(max_steps=3, ema_decay=0.5), log=no_log)
    result = trainer.fit(regression_source(), val_source())
    assert result.best_epoch <= 0 and trainer.average is not None
    assert same_weights(weights(model), trainer.average.shadow)


def test_a_resumed_run_keeps_its_weight_average(tmp_path: Path) -> None:
    config = replace(RESUME_CONFIG, ema_decay=0.9)
    straight = make_regressor()
    Trainer(straight, config, tmp_path / "straight", log=no_log).fit(regression_source(),
                                                                   val_source())
    stopped = replace(config, max_steps=6)
    Trainer(make_regressor(), stopped, tmp_path / "resumed", log=no_log).fit(
        regression_source(), val_source())
    resumed = make_regressor(seed=99)
    trainer = Trainer(resumed, config, tmp_path / "resumed", log=no_log)
    assert trainer.resume()
    trainer.fit(regression_source(), val_source())
    assert same_weights(weights(resumed), weights(straight))
    last = {name: load_checkpoint(tmp_path / name / "last.pt") for name in ("straight", "resumed")}
    assert same_weights(last["straight"]["average"], last["resumed"]["average"])


def test_max_steps_mid_epoch_does_not_end_the_epoch(tmp_path: Path) -> None:
    config = replace(RESUME_CONFIG, max_steps=6)
    result = Trainer(make_regressor(), config, tmp_path, log=no_log).fit(
        regression_source(), val_source()
    )
    assert [r["epoch"] for r in result.history] == [1]  # epoch 2 was only half done
    assert len((tmp_path / "metrics.jsonl").read_text(encoding="utf-8").splitlines()) == 1
    said: list[str] = []
    again = Trainer(make_regressor(), config, tmp_path, log=said.append)  # same limit: nothing
    assert again.resume()  # to do, and the log says why (it stopped again without a word)
    assert again.fit(regression_source(), val_source()).steps == 6
    assert any("train.max_steps=6 is reached already (6 steps)" in line and
               "--set train.max_steps=N" in line for line in said), said
    said.clear()
    further = Trainer(make_regressor(), replace(config, max_steps=7), tmp_path, log=said.append)
    assert further.resume() and further.fit(regression_source(), val_source()).steps == 7
    assert not any("reached already" in line for line in said), said


def test_resuming_a_finished_run_says_it_is_finished(tmp_path: Path) -> None:
    """It said "resumed from last.pt: epoch 3, batch 0" of a 2-epoch run, as if it trained on."""
    config = replace(RESUME_CONFIG, epochs=2)
    Trainer(make_regressor(), config, tmp_path, log=no_log).fit(regression_source(),
                                                               val_source())
    said: list[str] = []
    again = Trainer(make_regressor(), config, tmp_path, log=said.append)
    assert again.resume()
    assert again.fit(regression_source(), val_source()).steps == 8  # nothing more trained
    assert any("the run is finished already (it trained 2 of train.epochs=2 epochs)" in line
               and "--set train.epochs=N (more than 2)" in line for line in said), said
    assert not any("epoch 3" in line for line in said), said

    stopping = quiet(epochs=12, optimizer="sgd", lr=0.2, seed=7, patience=2)
    Trainer(make_regressor(dropout=0.5), stopping, tmp_path / "early", log=no_log).fit(
        regression_source(), val_source())
    said.clear()
    again = Trainer(make_regressor(dropout=0.5), stopping, tmp_path / "early", log=said.append)
    assert again.resume()
    assert again.fit(regression_source(), val_source()).stopped == "early_stopping"
    assert any("early stopping ended it after epoch" in line and "train.patience=2" in line
               and "--set train.patience=N" in line for line in said), said


class Killed(BaseException):
    """A SIGKILL between two writes of an epoch's end."""


def kill_at(monkeypatch: pytest.MonkeyPatch, name: str, epoch: int) -> None:
    """Stop the run when it is about to write ``name`` at the end of ``epoch``."""
    import rnnkit.training.trainer_checkpoints as saving

    real = saving.save_checkpoint

    def save(state: dict[str, Any], path: Path) -> Path:
        if Path(path).name == name and state.get("epoch", epoch) == epoch:
            raise Killed
        return real(state, path)

    monkeypatch.setattr(saving, "save_checkpoint", save)


@pytest.mark.parametrize("killed_before", ["last.pt", "best.pt"])
def test_a_run_killed_between_last_and_best_keeps_the_best_of_its_record(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, killed_before: str) -> None:
    """best.pt was written before last.pt: killed between the two, the folder held the best
    weights of epoch 2 and a last.pt of epoch 1, and a run resumed with train.epochs=1 (or a
    patience spent) ended with epoch 2's weights, which its record does not hold."""
    config = replace(RESUME_CONFIG, epochs=2, checkpoint_every=0, lr=0.01)
    expected = {}
    for epochs in (1, 2):  # each epoch improves: best_epoch == epochs
        straight = make_regressor()
        result = Trainer(straight, replace(config, epochs=epochs), tmp_path / f"s{epochs}",
                         log=no_log).fit(regression_source(), val_source())
        assert result.best_epoch == epochs
        expected[epochs] = weights(straight)
    run = tmp_path / "killed"
    kill_at(monkeypatch, killed_before, epoch=2)
    with pytest.raises(Killed):
        Trainer(make_regressor(), config, run, log=no_log).fit(regression_source(), val_source())
    monkeypatch.undo()
    epochs = load_checkpoint(run / "last.pt")["epoch"]  # 1: resumes into epoch 2; 2: done
    for asked in sorted({epochs, 2}):
        model = make_regressor(seed=99)
        trainer = Trainer(model, replace(config, epochs=asked), run, log=no_log)
        assert trainer.resume()
        assert trainer.fit(regression_source(), val_source()).best_epoch == asked
        assert same_weights(weights(model), expected[asked])
        assert same_weights(load_checkpoint(run / "best.pt")["model"], expected[asked])


def test_resume_rewrites_the_metrics_log_to_match_the_checkpoint(tmp_path: Path) -> None:
    config = replace(RESUME_CONFIG, epochs=2)
    Trainer(make_regressor(), config, tmp_path, log=no_log).fit(regression_source(),
                                                               val_source())
    log = tmp_path / "metrics.jsonl"
    first = log.read_text(encoding="utf-8").splitlines()
    log.write_text("\n".join([first[0], first[1], first[1]]) + "\n")  # a line repeated
    trainer = Trainer(make_regressor(), replace(config, epochs=3), tmp_path, log=no_log)
    assert trainer.resume()
    result = trainer.fit(regression_source(), val_source())
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3] and records == result.history


def test_a_resumed_run_takes_its_own_lr_schedule_settings(tmp_path: Path) -> None:
    Trainer(make_regressor(), replace(RESUME_CONFIG, epochs=1), tmp_path, log=no_log).fit(
        regression_source(), val_source())
    changed = replace(RESUME_CONFIG, lr_patience=3, lr_factor=0.1, min_lr=1e-4)
    trainer = Trainer(make_regressor(), changed, tmp_path, log=no_log)
    assert trainer.resume()
    scheduler = trainer.monitor.scheduler
    assert scheduler is not None
    assert (scheduler.patience, scheduler.factor, scheduler.min_lrs) == (2, 0.1, [1e-4])
    assert scheduler.last_epoch == 1  # the counters are the checkpoint's


def test_lr_patience_set_on_resume_counts_from_the_runs_best_epoch(tmp_path: Path) -> None:
    """Added on resume, the LR plateau judges against the run's best score and its epochs
    without improvement so far (as early stopping does); it started from scratch, taking the
    first resumed epoch (worse than the best) for a new best, and never lowered the LR."""
    config = quiet(epochs=3, optimizer="sgd", lr=0.1)
    Trainer(ScriptedModel([1.0, 2.0, 3.0]), config, tmp_path, log=no_log).fit(
        ONE_BATCH, ListSource([0]))
    model = ScriptedModel([9.0, 9.0, 9.0, 1.5, 1.6])  # only the 4th and 5th are read
    model.calls = 3
    trainer = Trainer(model, replace(config, epochs=5, lr_patience=2), tmp_path, log=no_log)
    assert trainer.resume()
    scheduler = trainer.monitor.scheduler
    assert scheduler is not None and scheduler.best == 1.0 and scheduler.num_bad_epochs == 2
    result = trainer.fit(ONE_BATCH, ListSource([0]))
    assert [r["lr"] for r in result.history] == [0.1, 0.1, 0.1, 0.1, 0.05]
    assert result.best_epoch == 1


def test_last_checkpoint_keeps_the_last_weights_not_the_best(tmp_path: Path) -> None:
    """fit() restores the best weights in memory, but last.pt must stay the resume point."""
    model = ScriptedModel([1.0, 2.0, 3.0])  # best at epoch 1, then worse
    snapshots: list[dict[str, Tensor]] = []
    config = quiet(epochs=3, optimizer="sgd", lr=0.1)
    Trainer(model, config, tmp_path, log=snapshot_log(model, snapshots)).fit(
        ListSource([torch.tensor([1.0, -2.0])]), ListSource([0])
    )
    assert same_weights(weights(model), snapshots[0])
    last = load_checkpoint(tmp_path / "last.pt")
    assert last["epoch"] == 3
    assert same_weights(last["model"], snapshots[2])
    assert same_weights(load_checkpoint(tmp_path / "best.pt")["model"], snapshots[0])


# -- divergence --------------------------------------------------------------------------------
class DivergesAt(Regressor):
    """Loss (``what="loss"``) or gradient (``"grad"``) becomes NaN at the n-th training step."""

    def __init__(self, at: int, what: str) -> None:
        torch.manual_seed(0)
        super().__init__()
        self.at, self.what, self.calls = at, what, 0

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        self.calls += 1
        loss = self.loss(batch)
        if self.calls == self.at:
            if self.what == "loss":
                loss = loss * float("nan")
            else:  # the value stays 0, the gradient of sqrt at 0 is inf * 0 = nan
                loss = loss + torch.sqrt(self.outer.bias.sum() * 0.0)
        return StepOutput(loss, int(batch[0].shape[0]))


@pytest.mark.parametrize("what", ["loss", "grad"])
def test_nan_raises_training_diverged_and_keeps_the_last_good_checkpoint(
    tmp_path: Path, what: str
) -> None:
    model = DivergesAt(at=6, what=what)  # 4 batches per epoch: step 6 is in epoch 2
    snapshots: list[dict[str, Tensor]] = []
    trainer = Trainer(model, quiet(epochs=3, lr=0.01), tmp_path, log=snapshot_log(model, snapshots))
    with pytest.raises(TrainingDiverged) as caught:
        trainer.fit(regression_source())
    message = str(caught.value)
    assert "epoch 2, step 6" in message
    assert ("loss" if what == "loss" else "gradient norm") in message and "nan" in message
    assert str(tmp_path / "last.pt") in message
    # resuming cannot take the advice: it keeps the settings and diverges at the same step
    assert "(--resume would repeat these steps: it keeps train.lr and train.clip_norm)" in message

    state = load_checkpoint(tmp_path / "last.pt")
    assert (state["epoch"], state["batch_in_epoch"]) == (1, 0)
    assert len(snapshots) == 1 and same_weights(state["model"], snapshots[0])
    assert all(torch.isfinite(v).all() for v in state["model"].values())
    assert Trainer(make_regressor(), quiet(epochs=3), tmp_path, log=no_log).resume()


def test_divergence_with_clipping_on_does_not_advise_turning_clipping_on() -> None:
    """With train.clip_norm already set, the hint said 'lower train.lr or set
    train.clip_norm'."""
    hints = {}
    for clip in (0.0, 0.5):
        trainer = Trainer(DivergesAt(at=2, what="loss"), quiet(lr=0.01, clip_norm=clip),
                          log=no_log)
        with pytest.raises(TrainingDiverged) as caught:
            trainer.fit(regression_source())
        hints[clip] = str(caught.value)
    assert "lower train.lr or set train.clip_norm" in hints[0.0]
    assert "set train.clip_norm" not in hints[0.5]
    assert "lower train.lr or train.clip_norm (now 0.5)" in hints[0.5]


# -- early stopping, LR reduction, best weights --------------------------------------------------
ONE_BATCH = ListSource([torch.tensor([1.0, -2.0])])


def test_early_stopping_stops_after_patience_epochs_without_improvement() -> None:
    model = ScriptedModel([5.0, 4.0, 3.0, 3.5, 3.2, 1.0, 0.5])
    config = quiet(epochs=10, optimizer="sgd", lr=0.1, patience=2)
    result = Trainer(model, config, log=no_log).fit(ONE_BATCH, ListSource([0]))
    assert result.stopped == "early_stopping"
    assert [r["epoch"] for r in result.history] == [1, 2, 3, 4, 5]
    assert (result.best, result.best_epoch) == (3.0, 3)


def test_a_resumed_run_with_a_patience_already_spent_trains_no_further_epoch(tmp_path: Path
                                                                             ) -> None:
    """A run without early stopping, extended with a patience its epochs without improvement
    already reach, stops where a run with that patience from the start would have."""
    def run(config: Any, resume: bool) -> Any:
        trainer = Trainer(make_regressor(dropout=0.5), config, tmp_path, log=no_log)
        assert trainer.resume() == resume
        return trainer.fit(regression_source(), val_source()), trainer

    config = quiet(epochs=5, optimizer="sgd", lr=0.2, seed=7)
    first, trainer = run(config, resume=False)
    assert first.stopped == "completed" and trainer.monitor.bad_epochs >= 2
    result, _ = run(replace(config, epochs=12, patience=2), resume=True)
    assert result.stopped == "early_stopping"
    assert len(result.history) == 5  # not a 6th epoch trained before stopping


def test_reduce_lr_on_plateau_lowers_the_lr_down_to_min_lr() -> None:
    model = ScriptedModel([5.0, 4.0, 4.5, 4.6, 4.7, 4.8, 4.9, 5.0])
    config = quiet(epochs=8, optimizer="sgd", lr=1.0, lr_patience=2, lr_factor=0.1, min_lr=0.005)
    trainer = Trainer(model, config, log=no_log)
    result = trainer.fit(ONE_BATCH, ListSource([0]))
    # bad epochs 3, 4 -> reduce; 5, 6 -> reduce; 7, 8 -> reduce, floored at min_lr
    lrs = [r["lr"] for r in result.history]
    assert lrs == pytest.approx([1.0, 1.0, 1.0, 1.0, 0.1, 0.1, 0.01, 0.01])
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.005)
    assert result.stopped == "completed"


def test_a_nan_score_is_never_the_best() -> None:
    """A first epoch scored NaN (a metric over no present target) must not become a best that
    no later score can beat."""
    model = ScriptedModel([math.nan, 2.0, 1.0, math.nan])
    config = quiet(epochs=4, optimizer="sgd", lr=0.1, patience=2)
    result = Trainer(model, config, log=no_log).fit(ONE_BATCH, ListSource([0]))
    assert (result.best, result.best_epoch, result.stopped) == (1.0, 3, "completed")


@pytest.mark.parametrize("keep", ["memory", "run_dir"])
def test_monitor_in_max_mode_and_best_weights_restored(tmp_path: Path, keep: str) -> None:
    model = ScriptedModel([0.5, 0.7, 0.6, 0.65, 0.9])
    snapshots: list[dict[str, Tensor]] = []
    config = quiet(
        epochs=10, optimizer="sgd", lr=0.1, monitor="val_accuracy", mode="max", patience=2
    )
    run_dir = tmp_path if keep == "run_dir" else None
    trainer = Trainer(model, config, run_dir, log=snapshot_log(model, snapshots))
    result = trainer.fit(ONE_BATCH, ListSource([0]))
    assert result.stopped == "early_stopping" and len(result.history) == 4
    assert (result.best, result.best_epoch) == (0.7, 2)
    assert not same_weights(snapshots[1], snapshots[3])  # training did move the weights
    assert same_weights(weights(model), snapshots[1])


def test_bad_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="mode"):
        Trainer(make_regressor(), quiet(mode="maximum"), log=no_log)


@pytest.mark.parametrize(("monitor", "mode", "needed"), [
    ("val_accuracy", "min", "max"), ("val_macro_f1", "min", "max"),
    ("val_loss", "max", "min"), ("val_mae_last", "max", "min")])
def test_a_mode_against_the_monitored_metric_is_refused(monitor: str, mode: str, needed: str
                                                        ) -> None:
    """A monitor changed without its mode (val_loss on the tagger's default mode max) would keep
    the worst epoch as the best and stop early when the run improves."""
    with pytest.raises(ValueError, match=f"set train.mode={needed} with it"):
        Trainer(make_regressor(), quiet(monitor=monitor, mode=mode), log=no_log)
    Trainer(make_regressor(), quiet(monitor=monitor, mode=needed), log=no_log)
    Trainer(make_regressor(), quiet(monitor="val_skill", mode=mode), log=no_log)  # no guess


@pytest.mark.parametrize("monitor", ["val_neg_loss", "val_loss_reduction", "val_mae_skill",
                                     "val_f1_gap"])
@pytest.mark.parametrize("mode", ["min", "max"])
def test_a_metric_of_ones_own_is_not_judged_by_the_words_in_its_name(monitor: str,
                                                                    mode: str) -> None:
    """A custom model's metric whose name holds 'loss' or 'mae' may be one to maximise (a
    negated loss, a skill score): only rnnkit's own metric names say which way is better."""
    Trainer(make_regressor(), quiet(monitor=monitor, mode=mode), log=no_log)


# -- seeds, devices, optimizers -----------------------------------------------------------------
def train_with_seed(seed: int) -> dict[str, Tensor]:
    model = make_regressor(dropout=0.5)  # identical initial weights every time
    torch.rand(17)  # disturb the global RNG: only the trainer's seed may matter
    Trainer(model, quiet(epochs=2, lr=0.05, seed=seed), log=no_log).fit(regression_source())
    return weights(model)


def test_same_seed_same_weights_different_seed_different_weights() -> None:
    first = train_with_seed(1)
    assert same_weights(first, train_with_seed(1))
    assert not same_weights(first, train_with_seed(2))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_cuda_without_gpu_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no CUDA GPU is available"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="cuda"):
        Trainer(make_regressor(), quiet(device="cuda"), log=no_log)
    assert resolve_device("auto") == torch.device("cpu")


def test_the_trainer_module_still_offers_its_old_names() -> None:
    from rnnkit.training import environment, monitor, trainer

    assert trainer.resolve_device is environment.resolve_device
    assert trainer.TrainResult is monitor.TrainResult


def test_device_names() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    for wrong in ("tpu", "cudax", "cuda:a"):  # the configuration's words; torch's never
        with pytest.raises(ValueError, match=r"train.device must be auto, cpu, cuda or cuda:N"):
            resolve_device(wrong)
    with pytest.raises(ValueError, match="train.device must be"):
        Trainer(make_regressor(), quiet(device="cudax"), log=no_log)  # built without a file


def test_cpu_0_is_the_cpu_and_cpu_1_is_refused_naming_cpu() -> None:
    """torch takes cpu:0 (and any cpu:N, all on the one CPU device); the check refused cpu:0
    as an unknown device. cpu:0 now trains on the CPU; cpu:1 and up say to use cpu."""
    assert resolve_device("cpu:0") == torch.device("cpu")
    trainer = Trainer(make_regressor(), quiet(device="cpu:0"), log=no_log)
    assert trainer.device == torch.device("cpu")
    for wrong in ("cpu:1", "cpu:7"):
        with pytest.raises(ValueError, match=r"one CPU device.*use cpu"):
            resolve_device(wrong)
    for wrong in ("cpu:", "cpu:a", "cpu0"):
        with pytest.raises(ValueError, match=r"train.device must be auto, cpu, cuda or cuda:N"):
            resolve_device(wrong)


def test_optimizers() -> None:
    model = make_regressor()
    adamw = make_optimizer(model, quiet(optimizer="adamw", lr=0.3, weight_decay=0.1))
    assert isinstance(adamw, torch.optim.AdamW) and adamw.param_groups[0]["lr"] == 0.3
    sgd = make_optimizer(model, quiet(optimizer="sgd", momentum=0.9))
    assert isinstance(sgd, torch.optim.SGD) and sgd.param_groups[0]["momentum"] == 0.9
    with pytest.raises(ValueError, match="adam, adamw or sgd.*'rmsprop'"):
        make_optimizer(model, quiet(optimizer="rmsprop"))


@pytest.mark.parametrize("settings", [
    {"optimizer": "adam", "lr": 0.01}, {"optimizer": "adam", "lr": 0.01, "weight_decay": 0.1},
    {"optimizer": "adamw", "lr": 0.3, "weight_decay": 0.1},
    {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}])
def test_the_optimizer_steps_all_weights_at_once_with_the_same_result(
        settings: dict[str, Any]) -> None:
    """On the CPU torch's default step loops over the weights in Python; the multi-tensor
    (foreach) step is faster and gives the same weights to the bit."""
    config = quiet(**settings)
    models = [make_regressor(), make_regressor()]
    ours = make_optimizer(models[0], config)
    assert ours.defaults["foreach"] is True
    looped = make_optimizer(models[1], config)
    looped.param_groups[0]["foreach"] = False  # torch's default on the CPU
    x, y = regression_data(size=8)
    for _ in range(5):
        for model, optimizer in zip(models, (ours, looped), strict=True):
            optimizer.zero_grad()
            model.step((x, y)).loss.backward()
            optimizer.step()
    for mine, theirs in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert torch.equal(mine, theirs)


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_momentum_with_an_optimizer_that_reads_none_is_refused(optimizer: str) -> None:
    """Adam and AdamW have no momentum argument: train.momentum=0.9 with them was dropped."""
    assert load_config(SyntheticRunConfig, overrides=["train.optimizer=sgd",
                                                      "train.momentum=0.9"]).train.momentum
    with pytest.raises(ConfigError, match=re.escape(
            f"train.momentum is read only with train.optimizer=sgd, and it is {optimizer}: "
            "leave it out, or set train.optimizer=sgd")):
        load_config(SyntheticRunConfig, overrides=[f"train.optimizer={optimizer}",
                                                   "train.momentum=0.9"])


def test_plateau_settings_without_a_plateau_schedule_are_refused() -> None:
    """train.lr_factor/min_lr with train.lr_patience=0 (the synthetic task's default) were
    dropped: the learning rate never changed, with no word."""
    config = load_config(SyntheticRunConfig, overrides=["train.lr_patience=2",
                                                        "train.lr_factor=0.1", "train.min_lr=1e-4"])
    assert (config.train.lr_factor, config.train.min_lr) == (0.1, 1e-4)
    assert load_config(SyntheticRunConfig, overrides=["train.lr_factor=0.5"])  # the default
    with pytest.raises(ConfigError, match=re.escape(
            "train.lr_factor=0.1 and train.min_lr=0.0001 are read only when the learning rate "
            "is lowered on a plateau, and train.lr_patience is 0 (off): set train.lr_patience "
            "(e.g. 2), or leave them out")):
        load_config(SyntheticRunConfig, overrides=["train.lr_factor=0.1", "train.min_lr=1e-4"])
    with pytest.raises(ConfigError, match=r"^train.min_lr=0.001 is read only"):
        load_config(SyntheticRunConfig, overrides=["train.min_lr=0.001"])


# -- metrics.jsonl -------------------------------------------------------------------------------
def test_metrics_jsonl_has_one_line_per_epoch_and_grows_on_resume(tmp_path: Path) -> None:
    trainer = Trainer(make_regressor(), quiet(epochs=3, lr=0.01), tmp_path, log=no_log)
    result = trainer.fit(regression_source(), val_source())
    lines = (tmp_path / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert records == result.history
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert [r["steps"] for r in records] == [4, 8, 12]
    for record in records:
        assert {"train_loss", "val_loss", "lr", "train_grad_norm_max"} <= record.keys()
        assert math.isfinite(record["train_loss"]) and math.isfinite(record["val_loss"])

    resumed = Trainer(make_regressor(), quiet(epochs=4, lr=0.01), tmp_path, log=no_log)
    assert resumed.resume()
    resumed.fit(regression_source(), val_source())
    lines = (tmp_path / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4]


def test_a_fresh_run_in_a_used_folder_logs_its_own_epochs_only(tmp_path: Path) -> None:
    """Trained again into the same run_dir (without resume), metrics.jsonl held the earlier
    run's epochs, then this one's: 1, 2, 1, 2."""
    for _ in range(2):
        Trainer(make_regressor(), quiet(epochs=2), tmp_path, log=no_log).fit(
            regression_source())
    lines = (tmp_path / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]


def test_a_resumed_run_counts_the_time_of_the_epochs_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = iter(range(0, 10_000, 10))  # every reading of the clock is 10 s later
    monkeypatch.setattr("rnnkit.training.trainer.time.perf_counter", lambda: float(next(clock)))
    first = Trainer(make_regressor(), quiet(epochs=2, lr=0.01), tmp_path, log=no_log)
    done = first.fit(regression_source(), val_source()).history[-1]["seconds"]
    resumed = Trainer(make_regressor(), quiet(epochs=3, lr=0.01), tmp_path, log=no_log)
    assert resumed.resume()
    assert resumed.result.seconds == done  # the checkpoint holds the time of its last epoch
    again = resumed.fit(regression_source(), val_source())
    assert again.history[-1]["seconds"] > done and again.seconds > done


def test_no_run_dir_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    trainer = Trainer(make_regressor(), quiet(epochs=2), log=no_log)
    trainer.fit(regression_source())
    assert trainer.save() is None and not trainer.resume()
    assert list(tmp_path.iterdir()) == []


# -- the data the trainer is fed ----------------------------------------------------------------
def test_tensor_batches_order_depends_only_on_seed_and_epoch() -> None:
    data = torch.arange(10)
    source = TensorBatches((data, data * 2), batch_size=4, seed=5)
    assert len(source) == 3
    epoch0 = [x for x, _ in source.batches(0)]
    assert [len(x) for x in epoch0] == [4, 4, 2]
    assert sorted(torch.cat(epoch0).tolist()) == list(range(10))  # every row exactly once
    assert all(torch.equal(y, x * 2) for x, y in source.batches(0))  # rows stay aligned
    again = TensorBatches((data, data * 2), batch_size=4, seed=5)
    assert all(torch.equal(a, b) for (a, _), b in zip(again.batches(0), epoch0, strict=True))
    assert not torch.equal(torch.cat([x for x, _ in source.batches(1)]), torch.cat(epoch0))
    dropped = TensorBatches((data,), batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [len(x) for (x,) in dropped.batches(0)] == [4, 4]
    ordered = TensorBatches((data,), batch_size=4, shuffle=False)
    assert torch.equal(torch.cat([x for (x,) in ordered.batches(3)]), data)
    with pytest.raises(ValueError, match="first dimension"):
        TensorBatches((data, torch.arange(9)), batch_size=2)


@pytest.mark.parametrize("length", [2, 5, 10])
def test_adding_problem_targets_are_the_sum_of_the_two_marked_values(length: int) -> None:
    inputs, targets = adding_problem(64, length, torch.Generator().manual_seed(0))
    assert inputs.shape == (64, length, 2) and targets.shape == (64,)
    values, markers = inputs[..., 0], inputs[..., 1]
    assert ((values >= 0) & (values < 1)).all()
    assert set(markers.unique().tolist()) <= {0.0, 1.0}
    assert (markers.sum(1) == 2).all()
    half = length // 2
    assert (markers[:, :half].sum(1) == 1).all() and (markers[:, half:].sum(1) == 1).all()
    torch.testing.assert_close(targets, (values * markers).sum(1))
    with pytest.raises(ValueError, match="length >= 2"):
        adding_problem(4, 1, torch.Generator())


def test_copy_task_shapes_and_targets() -> None:
    length = 5
    inputs, targets = copy_task(16, length, torch.Generator().manual_seed(0))
    total = length + 2 * COPY_LENGTH
    assert inputs.shape == (16, total, COPY_SYMBOLS + 2) and targets.shape == (16, total)
    assert (inputs.sum(2) == 1).all()  # one-hot
    tokens = inputs.argmax(2)
    symbols = tokens[:, :COPY_LENGTH]
    assert (symbols < COPY_SYMBOLS).all()
    blank, delimiter = COPY_SYMBOLS, COPY_SYMBOLS + 1
    assert (tokens[:, COPY_LENGTH + length - 1] == delimiter).all()
    assert ((tokens == delimiter).sum(1) == 1).all()
    assert (tokens[:, COPY_LENGTH:][tokens[:, COPY_LENGTH:] != delimiter] == blank).all()
    assert torch.equal(targets[:, -COPY_LENGTH:], symbols)  # repeat the symbols at the end
    assert (targets[:, :-COPY_LENGTH] == -100).all()  # nothing asked before
    assert torch.equal(make_split("copy", 16, length, seed=0)[1], targets)
    with pytest.raises(ValueError, match="unknown synthetic task"):
        make_split("reverse", 4, 3, seed=0)


@pytest.mark.parametrize("task", ["adding", "copy"])
def test_synthetic_task_model_trains(task: str) -> None:
    torch.manual_seed(0)
    model = SyntheticTaskModel(task, ModelConfig(cell="gru", hidden_size=8))
    source = TensorBatches(make_split(task, 16, 4, seed=0), batch_size=8)
    result = Trainer(model, quiet(epochs=2, lr=0.01), log=no_log).fit(source, source)
    assert result.steps == 4 and all(math.isfinite(n) for n in result.grad_norms)
    assert ("val_accuracy" in result.history[-1]) == (task == "copy")


def test_the_copy_task_s_accuracy_is_the_exact_share_of_hits() -> None:
    torch.manual_seed(0)
    model = SyntheticTaskModel("copy", ModelConfig(cell="gru", hidden_size=8))
    inputs, targets = make_split("copy", 7, 4, seed=0)  # 70 asked steps: a float32 mean is off
    with torch.no_grad():
        asked = targets != -100
        hits = int((model(inputs)[asked].argmax(-1) == targets[asked]).sum())
        assert model.step((inputs, targets)).metrics["accuracy"] == hits / 70


def test_a_mistyped_monitor_fails_before_training() -> None:
    from rnnkit.config import ModelConfig
    from rnnkit.data.batching import TensorBatches
    from rnnkit.data.synthetic import make_split
    from rnnkit.models.synthetic import SyntheticTaskModel

    model = SyntheticTaskModel("adding", ModelConfig(cell="gru", hidden_size=4))
    data = TensorBatches(make_split("adding", 16, 5, seed=0), batch_size=8)
    config = quiet(epochs=1, monitor="val_acc")
    trainer = Trainer(model, config, log=lambda _: None)
    with pytest.raises(ValueError, match="'val_acc' is not a validation metric.*val_loss"):
        trainer.fit(data, data)
    assert trainer.result.steps == 0


@pytest.mark.parametrize("monitor", ["loss", "accuracy", "", "lr"])
def test_a_monitor_that_is_no_metric_fails_before_training(monitor: str) -> None:
    """A name without val_ or train_ ('loss' for val_loss) was refused only after the first
    epoch had trained, when its record lacked it."""
    from rnnkit.config import ModelConfig
    from rnnkit.data.batching import TensorBatches
    from rnnkit.data.synthetic import make_split
    from rnnkit.models.synthetic import SyntheticTaskModel

    model = SyntheticTaskModel("adding", ModelConfig(cell="gru", hidden_size=4))
    data = TensorBatches(make_split("adding", 16, 5, seed=0), batch_size=8)
    trainer = Trainer(model, quiet(epochs=1, monitor=monitor), log=lambda _: None)
    with pytest.raises(ValueError, match=f"'{monitor}' is not a metric: name a validation "
                       r"metric \(val_loss\) or a training one \(train_loss\)"):
        trainer.fit(data, data)
    assert trainer.result.steps == 0


def test_training_data_that_gives_no_batch_is_refused_not_recorded_as_a_perfect_epoch(
        tmp_path: Path) -> None:
    """Fewer items than the batch size with drop_last: the epochs trained nothing, recorded
    train_loss 0 and judged it the best score."""
    empty = TensorBatches(regression_data(5), batch_size=8, drop_last=True)
    trainer = Trainer(make_regressor(), quiet(epochs=2), tmp_path, log=no_log)
    with pytest.raises(ValueError, match="the training data gave no batch in epoch 1"):
        trainer.fit(empty)
    assert trainer.result.history == [] and trainer.result.best is None
    assert not (tmp_path / "best.pt").exists()


def test_independent_batches_start_from_a_fresh_state() -> None:
    class Independent(WindowRNN):
        carries_state = False

    torch.manual_seed(0)
    model = Independent()
    source = ListSource([sequence_batch(1), sequence_batch(2)])  # windows 3, 3, 1 per batch
    Trainer(model, quiet(epochs=1, tbptt_steps=3), log=no_log).fit(source)
    assert [state is None for state in model.seen] == [True, False, False] * 2


class SetConfigured(Regressor):
    """A model of one's own whose bundle configuration is no JSON (a set, a NumPy integer)."""

    def bundle_config(self) -> dict[str, Any]:
        return {"labels": {"a", "b"}, "size": np.int64(3)}


def test_a_model_whose_bundle_config_is_no_json_still_checkpoints_and_resumes(
        tmp_path: Path) -> None:
    """Trainer.save stored the bundle configuration as JSON to check it on resume, and failed
    with json's 'Object of type set is not JSON serializable' at the first checkpoint of a
    model that trained before (and is never bundled)."""
    torch.manual_seed(0)
    stopped = replace(RESUME_CONFIG, max_steps=6)
    Trainer(SetConfigured(), stopped, tmp_path, log=no_log).fit(regression_source(),
                                                               val_source())
    assert (tmp_path / "last.pt").is_file()
    trainer = Trainer(SetConfigured(), RESUME_CONFIG, tmp_path, log=no_log)
    assert trainer.resume()
    trainer.fit(regression_source(), val_source())


def test_metrics_jsonl_is_strict_json_when_a_score_is_nan(tmp_path: Path) -> None:
    """A NaN validation score was written as a bare NaN, which strict JSON readers refuse."""
    x, y = regression_data(8, seed=1)
    y[0] = float("nan")  # validation targets with a gap: the validation loss is NaN
    val = TensorBatches((x, y), batch_size=4, shuffle=False)
    Trainer(make_regressor(), quiet(epochs=2), tmp_path, log=no_log).fit(
        regression_source(), val)
    text = (tmp_path / "metrics.jsonl").read_text(encoding="utf-8")
    records = [json.loads(line, parse_constant=lambda name: pytest.fail(name)) for line in
               text.splitlines()]
    assert [record["val_loss"] for record in records] == [None, None]


def test_a_copy_to_the_cpu_waits_for_its_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """move_to copied with non_blocking=True to the CPU too, where the trainer then saved the
    carried state in a checkpoint: from a GPU such a copy may not have finished when read."""
    from rnnkit.training.task import move_to

    calls: list[tuple[str, bool]] = []
    real_to = torch.Tensor.to

    def recording_to(tensor: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        calls.append((str(args[0]), bool(kwargs.get("non_blocking", False))))
        return real_to(tensor, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "to", recording_to)
    moved = move_to({"h": (torch.ones(2), [torch.zeros(1)])}, torch.device("cpu"))
    assert calls == [("cpu", False), ("cpu", False)]
    assert torch.equal(moved["h"][0], torch.ones(2)) and torch.equal(moved["h"][1][0],
                                                                     torch.zeros(1))
    calls.clear()
    move_to(torch.ones(1), torch.device("meta"))  # another device: asynchronous as before
    assert calls == [("meta", True)]



@pytest.mark.parametrize("name", ["val", "train"])
def test_an_observed_source_may_not_take_the_name_of_training_or_validation(name: str) -> None:
    """observed sources are for the record only; named val or train, their scores replaced
    val_loss (steering the best epoch) or train_loss in silence"""
    trainer = Trainer(make_regressor(), quiet(), log=no_log)
    with pytest.raises(ValueError, match=f"observe names a source '{name}'.*another name"):
        trainer.fit(regression_source(), regression_source(),
                    observe={name: regression_source(seed=1)})
    assert trainer.result.steps == 0  # refused before a step
