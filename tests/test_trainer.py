"""rnnkit.training.Trainer: truncated BPTT and gradient clipping.

The other tests/test_trainer_*.py files test resume, monitoring, setup, the metrics log and the
data the trainer is fed; tests/test_interruption.py imports the TBPTT helpers from here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from helpers import (
    IN,
    ListSource,
    Regressor,
    make_regressor,
    no_log,
    quiet,
    regression_source,
)
from torch import Tensor, nn

from rnnkit.data.batching import TensorBatches
from rnnkit.training import StepOutput, TaskModel, Trainer

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


def test_independent_batches_start_from_a_fresh_state() -> None:
    class Independent(WindowRNN):
        carries_state = False

    torch.manual_seed(0)
    model = Independent()
    source = ListSource([sequence_batch(1), sequence_batch(2)])  # windows 3, 3, 1 per batch
    Trainer(model, quiet(epochs=1, tbptt_steps=3), log=no_log).fit(source)
    assert [state is None for state in model.seen] == [True, False, False] * 2
