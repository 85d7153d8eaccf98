"""rnnkit.training.Trainer: the metrics.jsonl log of a run folder."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import (
    make_regressor,
    no_log,
    quiet,
    regression_data,
    regression_source,
)
from test_trainer_resume import RESUME_CONFIG, val_source

from rnnkit.data.batching import TensorBatches
from rnnkit.training import Trainer


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
