"""rnnkit.training.Trainer: the data it is fed: TensorBatches and the synthetic long-range tasks."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from helpers import (
    make_regressor,
    no_log,
    quiet,
    regression_data,
    regression_source,
)

from rnnkit.config import ModelConfig
from rnnkit.data.batching import TensorBatches
from rnnkit.data.synthetic import COPY_LENGTH, COPY_SYMBOLS, adding_problem, copy_task, make_split
from rnnkit.models.synthetic import SyntheticTaskModel
from rnnkit.training import Trainer


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


@pytest.mark.parametrize("name", ["val", "train"])
def test_an_observed_source_may_not_take_the_name_of_training_or_validation(name: str) -> None:
    """observed sources are for the record only; named val or train, their scores replaced
    val_loss (steering the best epoch) or train_loss in silence"""
    trainer = Trainer(make_regressor(), quiet(), log=no_log)
    with pytest.raises(ValueError, match=f"observe names a source '{name}'.*another name"):
        trainer.fit(regression_source(), regression_source(),
                    observe={name: regression_source(seed=1)})
    assert trainer.result.steps == 0  # refused before a step
