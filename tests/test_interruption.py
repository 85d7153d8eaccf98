"""Ctrl-C during training: a checkpoint between two optimizer steps, then a clean stop; the
resumed run ends as an uninterrupted one (rnnkit.training.interruption)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch
from helpers import ListSource, make_regressor, no_log, quiet, regression_source, same_weights
from helpers import weights as model_weights
from test_trainer import sequence_batch, window_model
from test_trainer_resume import val_source

from rnnkit.cli import main
from rnnkit.training import Trainer
from rnnkit.training.bundle import read_bundle
from rnnkit.training.checkpoint import load_checkpoint
from rnnkit.training.interruption import TrainingInterrupted, announce, catch_interrupt

CONFIG = quiet(epochs=3, optimizer="adam", lr=0.05, lr_patience=1, lr_factor=0.5, seed=7)


class CtrlC:
    """A source that sends this process SIGINT ``times`` times as the trainer asks for batch
    ``at`` of epoch ``epoch`` (``at`` = the batch count: once the epoch's last was trained)."""

    def __init__(self, inner: Any, epoch: int, at: int, times: int = 1) -> None:
        self.inner, self.epoch, self.at, self.times = inner, epoch, at, times

    def batches(self, epoch: int) -> Iterator[Any]:
        for index, batch in enumerate([*self.inner.batches(epoch), None]):
            if epoch == self.epoch and index == self.at:
                for _ in range(self.times):
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(0.01)  # the handler runs before the next one is sent
            if batch is not None:
                yield batch

    def __len__(self) -> int:
        return len(self.inner)


def fit(model: Any, config: Any, run_dir: Path | None, train: Any, val: Any = None,
        resume: bool = False) -> Any:
    trainer = Trainer(model, config, run_dir, log=no_log)
    if resume:
        assert trainer.resume()
    return trainer.fit(train, val)


@pytest.mark.parametrize(("at", "steps", "where"), [
    (3, 7, "in epoch 2, after batch 3"),  # before the 4th of 4 batches of epoch 2
    (4, 8, "in epoch 2, after batch 4"),  # its last batch trained: before validation
    (0, 4, "after epoch 1"),  # as epoch 2 starts: epoch 1's own checkpoint is the point
])
def test_ctrl_c_saves_between_two_steps_and_the_resumed_run_ends_as_an_uninterrupted_one(
        tmp_path: Path, at: int, steps: int, where: str) -> None:
    expected_model = make_regressor(dropout=0.5)
    expected = fit(expected_model, CONFIG, tmp_path / "straight", regression_source(),
                   val_source())

    run = tmp_path / "run"
    with pytest.raises(TrainingInterrupted) as stopped:
        fit(make_regressor(dropout=0.5), CONFIG, run, CtrlC(regression_source(), 1, at),
            val_source())
    assert str(stopped.value) == (f"interrupted after optimizer step {steps} ({where}); "
                                  f"saved {run / 'last.pt'}")
    assert (stopped.value.steps, stopped.value.checkpoint) == (steps, run / "last.pt")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    state = load_checkpoint(run / "last.pt")
    assert json.loads(state["result"])["steps"] == steps
    assert (state["epoch"], state["batch_in_epoch"]) == (1, at)
    assert len((run / "metrics.jsonl").read_text().splitlines()) == state["epoch"]

    model = make_regressor(dropout=0.5, seed=99)  # other weights: resume loads them
    result = fit(model, CONFIG, run, regression_source(), val_source(), resume=True)
    assert same_weights(model_weights(model), model_weights(expected_model))
    assert result.grad_norms == expected.grad_norms and result.steps == 12
    drop = "seconds"
    assert ([{k: v for k, v in r.items() if k != drop} for r in result.history]
            == [{k: v for k, v in r.items() if k != drop} for r in expected.history])


class DrawingCtrlC:
    """A validation (or observed) source that draws a random number for each batch, as a
    sampling validation would, and sends SIGINT as the trainer asks for batch ``at`` of its
    ``call``-th pass (one a validation)."""

    def __init__(self, inner: Any, call: int, at: int) -> None:
        self.inner, self.call, self.at, self.calls = inner, call, at, 0

    def batches(self, epoch: int) -> Iterator[Any]:
        self.calls += 1
        for index, batch in enumerate(self.inner.batches(epoch)):
            if (self.calls, index) == (self.call, self.at):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.01)
            torch.rand(1)
            yield batch

    def __len__(self) -> int:
        return len(self.inner)


@pytest.mark.parametrize("observed", [False, True])
def test_ctrl_c_during_validation_drops_it_and_the_resumed_run_validates_the_epoch(
        tmp_path: Path, observed: bool) -> None:
    """SIGINT as epoch 2's validation (or its observed test source) asks for its 2nd batch:
    the validation stops there, last.pt holds the point before it (the random generators too),
    and the resumed run validates epoch 2 and ends as an uninterrupted one."""
    def sources(interrupted: bool) -> dict[str, Any]:
        test = DrawingCtrlC(val_source(), 2 if interrupted and observed else 0, 1)
        val = DrawingCtrlC(val_source(), 2 if interrupted and not observed else 0, 1)
        return {"val": val, "observe": {"test": test}}

    def fit_observing(model: Any, run: Path, interrupted: bool, resume: bool = False) -> Any:
        trainer = Trainer(model, CONFIG, run, log=no_log)
        if resume:
            assert trainer.resume()
        return trainer.fit(regression_source(), **sources(interrupted))

    expected_model = make_regressor(dropout=0.5)
    expected = fit_observing(expected_model, tmp_path / "straight", False)
    run = tmp_path / "run"
    with pytest.raises(TrainingInterrupted) as stopped:
        fit_observing(make_regressor(dropout=0.5), run, True)
    assert str(stopped.value) == ("interrupted after optimizer step 8 (in epoch 2, after batch "
                                  f"4); saved {run / 'last.pt'}")
    state = load_checkpoint(run / "last.pt")
    assert (state["epoch"], state["batch_in_epoch"]) == (1, 4)
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 1  # epoch 2: not logged

    model = make_regressor(dropout=0.5, seed=99)
    result = fit_observing(model, run, False, resume=True)
    assert same_weights(model_weights(model), model_weights(expected_model))
    assert result.grad_norms == expected.grad_norms and result.steps == 12
    assert without_seconds(run / "metrics.jsonl") == [
        {k: v for k, v in r.items() if k != "seconds"} for r in expected.history]


def test_ctrl_c_inside_a_batch_of_windows_stops_after_the_window_under_way(tmp_path: Path
                                                                           ) -> None:
    batches = [sequence_batch(i, length=9) for i in range(3)]  # 3 windows a batch
    config = quiet(epochs=2, optimizer="sgd", lr=0.05, tbptt_steps=3)
    expected_model = window_model()
    fit(expected_model, config, tmp_path / "straight", ListSource(batches))
    run = tmp_path / "run"
    model = window_model()
    step = model.step

    def step_5_interrupted(batch: Any, state: Any = None) -> Any:  # batch 2's 2nd window
        if len(model.seen) == 4:
            os.kill(os.getpid(), signal.SIGINT)
        return step(batch, state)

    model.step = step_5_interrupted  # type: ignore[method-assign]
    with pytest.raises(TrainingInterrupted, match=r"step 5 \(in epoch 1, after batch 1 and "
                                                  r"window 2 of the next\)"):
        fit(model, config, run, ListSource(batches))
    state = load_checkpoint(run / "last.pt")
    assert (state["epoch"], state["batch_in_epoch"], state["window_in_batch"]) == (0, 1, 2)
    model = window_model()
    assert fit(model, config, run, ListSource(batches), resume=True).steps == 18
    assert same_weights(model_weights(model), model_weights(expected_model))


def test_a_second_ctrl_c_stops_at_once_without_saving(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt) as stopped:
        fit(make_regressor(), CONFIG, tmp_path, CtrlC(regression_source(), 0, 2, times=2))
    assert type(stopped.value) is KeyboardInterrupt  # Python's, from inside the data source
    assert not (tmp_path / "last.pt").exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_without_a_run_folder_the_error_says_nothing_was_saved(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(TrainingInterrupted, match=r"step 2 \(in epoch 1, after batch 2\); "
                                                  r"nothing saved \(no run folder\)"):
        fit(make_regressor(), CONFIG, None, CtrlC(regression_source(), 0, 2))
    # and so does the note at Ctrl-C, on sys.stderr where it was replaced (Jupyter, capsys)
    assert capsys.readouterr().err == (
        "\nrnnkit: interrupted: finishing the optimizer step or validation batch under way, "
        "then stopping (no run folder: nothing is saved); Ctrl-C again stops at once\n")


def test_the_note_at_ctrl_c_says_a_checkpoint_is_saved_where_one_is(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(TrainingInterrupted):
        fit(make_regressor(), CONFIG, tmp_path, CtrlC(regression_source(), 0, 2))
    assert capsys.readouterr().err == (
        "\nrnnkit: interrupted: finishing the optimizer step or validation batch under way "
        "to save a checkpoint; Ctrl-C again stops at once, without it\n")


def test_the_note_goes_to_descriptor_2_where_sys_stderr_fails_or_is_the_process_s_own(
        monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    class Reentered:
        def write(self, text: str) -> int:
            raise RuntimeError("reentrant call inside <_io.BufferedWriter name='<stderr>'>")

    monkeypatch.setattr(sys, "stderr", Reentered())
    announce("a note\n")  # no error into the training
    monkeypatch.setattr(sys, "stderr", sys.__stderr__)
    written: list[bytes] = []
    monkeypatch.setattr(os, "write", lambda fd, data: written.append(data) or len(data))
    announce("another\n")
    monkeypatch.undo()
    assert capfd.readouterr().err == "a note\n" and written == [b"another\n"]


def test_ctrl_c_before_the_first_step_says_nothing_was_saved(tmp_path: Path) -> None:
    with pytest.raises(TrainingInterrupted) as stopped:
        fit(make_regressor(), CONFIG, tmp_path, CtrlC(regression_source(), 0, 0), val_source())
    assert str(stopped.value) == ("interrupted before the first optimizer step; nothing saved "
                                  "(nothing trained yet)")
    assert (stopped.value.checkpoint, stopped.value.steps) == (None, 0)
    assert not (tmp_path / "last.pt").exists()


def test_a_fit_inside_another_stops_on_ctrl_c_and_so_does_the_outer_one(tmp_path: Path
                                                                         ) -> None:
    """A model trained inside another's training (here in its data source) shares its flag:
    Ctrl-C at the inner run's 2nd batch stops it there, saved, and the outer run with it."""
    class Outer:
        def __init__(self) -> None:
            self.inner = regression_source()

        def batches(self, epoch: int) -> Iterator[Any]:
            for index, batch in enumerate(self.inner.batches(epoch)):
                if (epoch, index) == (0, 1):
                    fit(make_regressor(), CONFIG, tmp_path / "inner",
                        CtrlC(regression_source(), 0, 1))
                yield batch

        def __len__(self) -> int:
            return len(self.inner)

    with pytest.raises(TrainingInterrupted) as stopped:
        fit(make_regressor(), CONFIG, None, Outer())
    inner = tmp_path / "inner" / "last.pt"
    assert str(stopped.value) == (f"interrupted after optimizer step 1 (in epoch 1, after "
                                  f"batch 1); saved {inner}")
    assert load_checkpoint(inner)["batch_in_epoch"] == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_a_handler_that_is_not_python_s_own_is_left_alone(tmp_path: Path) -> None:
    """A program's own SIGINT handler keeps SIGINT (an ignored one, too): the trainer's flag
    replaces only Python's default; and none in a distributed run (enabled False)."""
    seen: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        result = fit(make_regressor(), CONFIG, tmp_path, CtrlC(regression_source(), 0, 2))
        assert result.steps == 12 and seen == [signal.SIGINT]  # trained on to the end
    finally:
        signal.signal(signal.SIGINT, previous)
    with catch_interrupt(enabled=False) as flag:
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert not flag.requested
    result = fit(make_regressor(), replace(CONFIG, epochs=1), None, regression_source())
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # a run that ended


def test_train_dqn_interrupted_in_its_supervised_runs_offers_resume(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(args: object) -> int:
        raise TrainingInterrupted("interrupted after optimizer step 3 (...); saved x/last.pt",
                                  Path("x/last.pt"), 3)

    monkeypatch.setattr("rnnkit.commands.dqn.train", interrupted)
    assert main(["train", "dqn"]) == 130
    assert capsys.readouterr().err == (  # finished seeds are kept, the seed under way is not
        "rnnkit: interrupted after optimizer step 3 (...); saved x/last.pt; continue with "
        "--resume (the same command): the seeds finished are read back, the one under way "
        "goes on after its last finished episode (its supervised models from their last.pt)\n")


# -- the command line, a real SIGINT -----------------------------------------------------------
BATCHES = 150  # an epoch: 2400 sequences / 16, about half a second
COMMAND = [
    "train", "synthetic", "--set", "data.length=10", "--set", f"data.train_size={16 * BATCHES}",
    "--set", "data.val_size=32", "--set", "data.test_size=32", "--set", "model.hidden_size=8",
    "--set", "model.dropout=0.3", "--set", "train.epochs=2", "--set", "train.batch_size=16",
    "--set", "train.progress=false", "--set", "train.device=cpu", "--set", "train.threads=1",
]
EPOCH_2_UNDER_WAY = re.compile(rf"epoch 2/2:[^\r\n]*\| *[1-9][0-9]*/{BATCHES}")  # tqdm's bar


def bundle_weights(run: Path) -> dict[str, torch.Tensor]:
    return read_bundle(run / "model.rnnkit")[1]


def without_seconds(path: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [{k: v for k, v in line.items() if k != "seconds"} for line in lines]


def interrupt_in_epoch_2(run: Path) -> tuple[int, str]:
    """Run COMMAND in a process of its own and send it SIGINT (Ctrl-C) as soon as its
    progress bar shows a batch of epoch 2 trained; its exit code and standard error."""
    process = subprocess.Popen(
        [sys.executable, "-m", "rnnkit", *COMMAND, "--set", "train.progress=true",
         "--out", str(run)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert process.stderr is not None
    seen = b""
    while not EPOCH_2_UNDER_WAY.search(seen.decode(errors="replace")):
        chunk = os.read(process.stderr.fileno(), 4096)
        assert chunk, f"the run ended before epoch 2: {seen.decode(errors='replace')}"
        seen += chunk
    process.send_signal(signal.SIGINT)
    rest = process.communicate(timeout=120)[1]
    return process.returncode, (seen + rest).decode()


def test_ctrl_c_on_rnnkit_train_saves_mid_epoch_and_resume_ends_as_an_uninterrupted_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run, straight = tmp_path / "run", tmp_path / "straight"
    code, errors = interrupt_in_epoch_2(run)
    assert code == 130, errors
    assert "Traceback" not in errors and not (run / "model.rnnkit").exists()
    assert "Ctrl-C again stops at once" in errors
    state = load_checkpoint(run / "last.pt")
    steps = json.loads(state["result"])["steps"]
    batch = state["batch_in_epoch"]
    assert state["epoch"] == 1 and 0 < batch < BATCHES  # inside epoch 2, after its batch k
    assert steps == BATCHES + batch  # saved at that step, not at epoch 1's end
    assert errors.endswith(f"rnnkit: interrupted after optimizer step {steps} (in epoch 2, "
                           f"after batch {batch}); saved {run / 'last.pt'}; continue with "
                           "--resume (the same command)\n")

    capsys.readouterr()
    assert main([*COMMAND, "--out", str(run), "--resume"]) == 0
    assert f"resumed from {run / 'last.pt'}: epoch 2, batch {batch}" in capsys.readouterr().out
    assert main([*COMMAND, "--out", str(straight)]) == 0
    assert same_weights(bundle_weights(run), bundle_weights(straight))
    assert without_seconds(run / "metrics.jsonl") == without_seconds(straight / "metrics.jsonl")
    results = [json.loads((folder / "results.json").read_text()) for folder in (run, straight)]
    assert results[0]["steps"] == results[1]["steps"] == 2 * BATCHES
    assert results[0]["test"] == results[1]["test"]


def test_ctrl_c_on_rnnkit_train_before_its_first_step_says_resume_starts_from_scratch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import rnnkit.pipelines.synthetic as synthetic

    train_in_run_dir = synthetic.train_in_run_dir

    def interrupted(model: Any, config: Any, out: Any, train: Any, *rest: Any) -> Any:
        return train_in_run_dir(model, config, out, CtrlC(train, 0, 0), *rest)

    monkeypatch.setattr(synthetic, "train_in_run_dir", interrupted)
    run, command = tmp_path / "run", [*COMMAND, "--set", "data.train_size=64"]
    assert main([*command, "--out", str(run)]) == 130
    assert capsys.readouterr().err.endswith(
        "rnnkit: interrupted before the first optimizer step; nothing saved (nothing trained "
        "yet); run the same command with --resume, which starts it from scratch\n")
    assert not (run / "last.pt").exists() and (run / "config.toml").is_file()
    monkeypatch.setattr(synthetic, "train_in_run_dir", train_in_run_dir)
    assert main([*command, "--out", str(run), "--resume"]) == 0
    assert "starting the run again from scratch" in capsys.readouterr().out
    assert json.loads((run / "results.json").read_text())["steps"] == 2 * 4
