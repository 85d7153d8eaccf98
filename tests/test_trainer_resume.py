"""rnnkit.training.Trainer: exact resume from checkpoints, max_steps and kills between saves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
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
from test_trainer import WindowRNN, sequence_batch, window_model
from torch import Tensor

from rnnkit.data.batching import TensorBatches
from rnnkit.training import Trainer
from rnnkit.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

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
