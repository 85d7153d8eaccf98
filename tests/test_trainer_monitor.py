"""rnnkit.training.Trainer: what validation watches: the monitored metric and its mode, early
stopping, LR reduction, best weights, the weight average, and divergence.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch
from helpers import (
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
from test_trainer_resume import RESUME_CONFIG, val_source
from torch import Tensor

from rnnkit.training import StepOutput, Trainer, TrainingDiverged
from rnnkit.training.checkpoint import load_checkpoint


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
