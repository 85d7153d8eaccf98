"""Data-parallel training: sharded batches and streams, the one-process Workers, the launcher's
report, and two real runs of 2 processes (gloo on this machine): the same weights as one
process, and a killed worker that stops the run clearly and resumes from the last checkpoint.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import ListSource, Regressor, no_log, quiet, regression_source

from rnnkit.cli import main
from rnnkit.data.batching import BucketBatches, TensorBatches, shard_stream, stream_columns
from rnnkit.pipelines.synthetic import evaluate_synthetic
from rnnkit.training.bundle import read_bundle
from rnnkit.training.checkpoint import load_checkpoint
from rnnkit.training.distributed import WorkerLost, Workers
from rnnkit.training.launch import describe_failure
from rnnkit.training.task import StepOutput, TaskModel
from rnnkit.training.trainer import Trainer

T = TypeVar("T")

# 69 examples in batches of 16: the last global batch (5) splits unevenly, 3 + 2; clipping is
# active (gradient norms reach ~4), so it must act on the gradients DDP has averaged
SYNTHETIC = [
    "train", "synthetic", "--set", "data.length=12", "--set", "data.train_size=69",
    "--set", "data.val_size=32", "--set", "data.test_size=32", "--set", "model.hidden_size=8",
    "--set", "train.epochs=2", "--set", "train.batch_size=16", "--set", "train.clip_norm=0.5",
    "--set", "train.progress=false", "--set", "train.device=cpu", "--set", "train.threads=1",
]
# float32: DDP sums the two halves' gradients where one process sums all the items at once,
# so the weights agree to rounding (3e-8 measured on this machine), not bit for bit
TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}


def bundle_weights(run: Path) -> dict[str, torch.Tensor]:
    return read_bundle(run / "model.rnnkit")[1]


def assert_same_weights(got: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    assert got.keys() == expected.keys()
    for name, tensor in expected.items():
        torch.testing.assert_close(got[name], tensor, **TOLERANCE, msg=name)


# -- shards of batches and streams -------------------------------------------------------------
def test_tensor_shards_split_each_global_batch_of_one_process() -> None:
    tensors = (torch.arange(21), torch.arange(21) * 10)
    whole = TensorBatches(tensors, batch_size=8, seed=3)  # batches of 8, 8, 5
    shards = [whole.shard(rank, 3) for rank in range(3)]
    for epoch in (0, 1):
        batches = list(whole.batches(epoch))
        parts = [list(shard.batches(epoch)) for shard in shards]
        assert [len(p) for p in parts] == [3, 3, 3] == [len(s) for s in shards]
        for index, (x, y) in enumerate(batches):
            assert torch.equal(torch.cat([p[index][0] for p in parts]).sort().values,
                               x.sort().values), f"epoch {epoch} batch {index}"
            assert torch.equal(parts[1][index][0], x[1::3]) and torch.equal(
                parts[1][index][1], y[1::3])
    assert not torch.equal(next(whole.batches(0))[0], next(whole.batches(1))[0])  # reshuffled


def test_a_global_batch_smaller_than_the_process_count_is_left_out() -> None:
    whole = TensorBatches((torch.arange(17),), batch_size=8, shuffle=False)  # 8, 8, 1
    assert len(whole) == 3 and len(whole.shard(0, 2)) == 2
    assert [len(x) for x, in whole.shard(1, 2).batches(0)] == [4, 4]
    with pytest.raises(ValueError, match=r"batch size \(2\) is smaller than the number of"
                                         r" processes \(3\).*raise train.batch_size"):
        TensorBatches((torch.arange(9),), batch_size=2).shard(0, 3)
    with pytest.raises(ValueError, match="rank must be in 0..1, got rank 2"):
        whole.shard(2, 2)


def test_fewer_training_items_than_processes_are_refused_not_trained_on_by_none(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """One example on two processes: every epoch had no batch, 0 steps, train_loss 0, and the
    untrained model was saved as the run's."""
    for source in (TensorBatches((torch.arange(3),), batch_size=8),
                   BucketBatches([1, 2, 3], list, [1, 2, 3], batch_size=8)):
        with pytest.raises(ValueError, match=r"the training data has 3 item\(s\), fewer than"
                                             r" the 4 processes.*use --nproc 3 or fewer"):
            source.shard(0, 4)
        assert len(source.shard(0, 3)) == 1
    args = [*SYNTHETIC, "--set", "data.train_size=1", "--out", str(tmp_path / "run")]
    assert main([*args, "--nproc", "2"]) == 2
    err = capfd.readouterr().err
    assert "the training data has 1 item(s), fewer than the 2 processes that share every " \
        "batch, so none would train on anything; train in one process, or on more " \
        "training data" in err and "stopped on the error above; fix it" in err
    assert not (tmp_path / "run" / "model.rnnkit").exists()


def test_bucket_shards_keep_length_buckets() -> None:
    lengths = [3, 9, 4, 8, 3, 9, 4, 8, 5, 5, 6, 7, 2]
    items = list(range(len(lengths)))
    whole = BucketBatches(items, list, lengths, batch_size=4, seed=1)
    shards = [whole.shard(rank, 2) for rank in range(2)]
    batches = list(whole.batches(2))
    parts = [list(shard.batches(2)) for shard in shards]
    assert len(batches) == len(parts[0]) == len(parts[1]) == len(whole.shard(0, 2)) == 4
    for batch, first, second in zip(batches, *parts, strict=True):
        if len(batch) < 2:  # the batch of 1 is left out, its place kept
            assert first is second is None
            continue
        assert first == batch[0::2] and second == batch[1::2]
        spread = max(lengths[i] for i in batch) - min(lengths[i] for i in batch)
        assert max(lengths[i] for i in first) - min(lengths[i] for i in first) <= spread


def test_a_bucket_batch_too_small_to_share_keeps_its_place_in_the_epoch() -> None:
    """Unlike TensorBatches' last batch, the bucket remainder is shuffled anywhere: left out
    of a shard's batches, it moved every later batch's number, so a run resumed on another
    number of processes went on at the wrong batch."""
    lengths = [3, 9, 4, 8, 3, 9, 4, 8, 5]  # buckets of 4, 4 and 1
    whole = BucketBatches(list(range(9)), list, lengths, batch_size=4, seed=0)
    assert [len(batch) for batch in whole.batches(0)] == [1, 4, 4]  # the 1 comes first
    assert list(whole.shard(1, 2).batches(0)) == [None, *(b[1::2] for b in
                                                         list(whole.batches(0))[1:])]
    assert len(whole.shard(1, 2)) == len(whole) == 3


class Recorder(TaskModel):
    """Records the items of every batch it trains on (a batch: a list of item numbers)."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(1))
        self.seen: list[list[int]] = []

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        self.seen.append(list(batch))
        return StepOutput((self.weight ** 2).sum(), len(batch))


class RankZeroOfTwo(Workers):
    """Rank 0 of two processes, with the collectives of one (no process group)."""

    def __init__(self) -> None:
        super().__init__(rank=0, world_size=2)

    def sum(self, values: Sequence[float]) -> list[float]:
        return [2 * value for value in values]

    def on_main(self, function: Callable[[], T]) -> T:
        return function()

    def gather(self, value: Any) -> list[Any] | None:
        return [value, value]

    def wrap(self, model: TaskModel) -> Callable[[Any, Any], StepOutput]:
        return model.step


def test_resumed_on_two_processes_the_epoch_goes_on_at_its_next_bucket_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lengths = [3, 9, 4, 8, 3, 9, 4, 8, 5]  # epoch 0: the batch of 1 first, then 4 and 4
    source = BucketBatches(list(range(9)), list, lengths, batch_size=4, seed=0)
    batches = list(source.batches(0))
    one = Recorder()
    Trainer(one, quiet(max_steps=2), run_dir=tmp_path, log=no_log).fit(source)
    assert one.seen == batches[:2]  # stopped mid-epoch: the last batch is left
    monkeypatch.setattr("rnnkit.training.trainer.join", lambda device: RankZeroOfTwo())
    two = Recorder()
    trainer = Trainer(two, quiet(), run_dir=tmp_path, log=no_log)
    assert trainer.resume()
    trainer.fit(source)
    assert two.seen == [batches[2][0::2]]  # rank 0's share of the last batch (with the
    # batch of 1 left out, the last was numbered 2, taken for trained: none was)
    assert trainer.result.steps == 3 and trainer.batch_in_epoch == 0


class LostPeer(RankZeroOfTwo):
    """Rank 0 of two whose peer is gone: its collectives fail as gloo's do."""

    def on_main(self, function: Callable[[], T]) -> T:
        raise RuntimeError("[../third_party/gloo/gloo/transport/tcp/pair.cc:553] Connection "
                           "closed by peer [127.0.0.1]:43211")


def test_a_peer_lost_before_training_is_a_clear_error_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rank 0 failing after rank 1 started to resume (its run folder unwritable, say): rank 1
    printed gloo's traceback from inside broadcast_object_list; fit() alone named it."""
    monkeypatch.setattr("rnnkit.training.trainer.join", lambda device: RankZeroOfTwo())
    trainer = Trainer(Recorder(), quiet(), run_dir=tmp_path, log=no_log)
    trainer.workers = LostPeer()  # lost after the processes compared their settings
    handler = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(WorkerLost, match="process 0 of 2 lost contact with the others.*"
                                             "Connection closed by peer"):
            trainer.resume()
    finally:
        signal.signal(signal.SIGTERM, handler)


def test_stream_shards_are_contiguous_and_the_columns_of_one_process() -> None:
    stream = torch.arange(103)
    columns = stream_columns(stream, 4)  # [25, 4]: column j = stream[25 j : 25 (j + 1)]
    assert columns.shape == (25, 4) and torch.equal(columns[:, 2], torch.arange(50, 75))
    parts = [shard_stream(stream, rank, 2, columns=4) for rank in range(2)]
    assert all(part.shape == (25, 2) for part in parts)
    assert torch.equal(torch.cat(parts, dim=1), columns)
    assert torch.equal(parts[1].T.reshape(-1), torch.arange(50, 100))  # one contiguous part
    features = torch.randn(40, 3)  # a stream of vectors: [N, F] -> [R, C, F]
    assert torch.equal(torch.cat([shard_stream(features, r, 2, 4) for r in range(2)], dim=1),
                       stream_columns(features, 4))
    with pytest.raises(ValueError, match="5 columns cannot be shared equally by 2 processes"):
        shard_stream(stream, 0, 2, columns=5)


# -- one process: every collective is the identity ---------------------------------------------
def test_one_process_workers_change_nothing() -> None:
    workers = Workers()
    model = Regressor()
    source = regression_source()
    assert workers.is_main and not workers.distributed
    assert workers.sum([1.5, 2.0]) == [1.5, 2.0]
    assert workers.on_main(lambda: "rank 0 decides") == "rank 0 decides"
    assert workers.gather({"x": 1}) == [{"x": 1}]
    assert workers.shard(source) is source
    assert workers.wrap(model) == model.step


def test_a_source_without_shard_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="ListSource cannot be split among 2 processes.*"
                                         "shard\\(rank, world_size\\)"):
        Workers(rank=0, world_size=2).shard(ListSource([]))


# -- the launcher's report and options -----------------------------------------------------------
def failure(exitcode: int, pid: int, timestamp: int) -> SimpleNamespace:
    name = signal.Signals(-exitcode).name if exitcode < 0 else "<N/A>"
    return SimpleNamespace(exitcode=exitcode, pid=pid, timestamp=timestamp,
                           signal_name=lambda: name)


def test_the_report_names_the_process_that_failed_not_those_stopped_for_it() -> None:
    # rank 0 was stopped by the launcher (SIGTERM) in the same second rank 1 was killed
    report = describe_failure({0: failure(-15, 100, 7), 1: failure(-9, 101, 7)})
    assert report.startswith("training process rank 1 (pid 101) was killed by SIGKILL")
    assert "run the same command with --resume" in report
    report = describe_failure({1: failure(3, 101, 5), 0: failure(1, 100, 6)})
    assert "rank 0 (pid 100) exited with code 1 (its error is printed above)" in report
    report = describe_failure({1: failure(3, 101, 5), 0: failure(2, 100, 6)})  # a refusal
    assert report == ("training process rank 0 (pid 100) stopped on the error above; fix it "
                      "and run the command again")


def test_an_interrupted_launch_says_so_in_rnnkit_s_line_alone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture
) -> None:
    """torch's launcher logs through loggers of its own level: 'Received 15 death signal,
    shutting down workers' came above rnnkit's line."""
    from torch.distributed.elastic.multiprocessing.api import SignalException

    from rnnkit.training.launch import launch

    def interrupted(config: object, entrypoint: object) -> Callable[..., None]:
        def run(*args: str) -> None:
            from torch.distributed.elastic.agent.server import api
            api.logger.warning("Received %s death signal, shutting down workers", "SIGTERM")
            raise SignalException("interrupted", signal.SIGTERM)
        return run

    monkeypatch.setattr("torch.distributed.launcher.api.elastic_launch", interrupted)
    assert launch(2, ["train", "synthetic"]) == 130
    assert capsys.readouterr().err == (
        "rnnkit: interrupted (SIGTERM); continue with --resume, from the last checkpoint (an "
        "epoch's end, or train.checkpoint_every): a run on several processes saves none when "
        "interrupted\n")
    assert not caplog.records
    # and the workers it stops say the run may have been interrupted, not only that another
    # process "usually" failed
    from rnnkit.training.distributed import _stopped_by_launcher

    handler = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(WorkerLost, match=r"stopped by the launcher \(SIGTERM\): the run was"
                                             " interrupted, or another process of it failed"):
            _stopped_by_launcher(signal.SIGTERM, None)
    finally:
        signal.signal(signal.SIGTERM, handler)


def test_nproc_must_match_the_processes_torchrun_started(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {"WORLD_SIZE": "4", "LOCAL_WORLD_SIZE": "4", "RANK": "0",
                        "TORCHELASTIC_RUN_ID": "run"}.items():
        monkeypatch.setenv(name, value)
    assert main([*SYNTHETIC, "--nproc", "2"]) == 2
    assert "--nproc 2 but torchrun started 4 processes" in capsys.readouterr().err


def test_torchrun_s_variables_left_in_the_environment_are_named_not_waited_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """WORLD_SIZE, RANK, MASTER_ADDR and MASTER_PORT exported in the shell (not by torchrun,
    which also sets TORCHELASTIC_RUN_ID): --nproc 2 took them for its own processes' and
    waited in silence for a rank 1 that nothing started; without RANK it advised --nproc N,
    which had been given."""
    for name, value in {"WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "127.0.0.1",
                        "MASTER_PORT": "29555"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)

    def wait(*_: object, **__: object) -> None:
        raise AssertionError("waited for the other processes")

    monkeypatch.setattr(torch.distributed, "init_process_group", wait)
    assert main([*SYNTHETIC, "--nproc", "2"]) == 2
    assert capsys.readouterr().err == (
        "rnnkit: error: --nproc 2 starts 2 processes, but the environment variable WORLD_SIZE "
        "is already 2 here, as in a process torchrun started (an export left over from another"
        " run?); unset WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR and MASTER_PORT, or drop "
        "--nproc if a launcher started this command\n")
    monkeypatch.delenv("RANK")
    assert main(SYNTHETIC) == 2
    assert "but RANK is not set, as torchrun sets them all in the processes it starts" in \
        capsys.readouterr().err
    monkeypatch.setenv("RANK", "first")
    assert main(SYNTHETIC) == 2
    assert capsys.readouterr().err == (
        "rnnkit: error: the environment variable RANK must be a whole number, got 'first'; "
        "unset it unless a launcher such as torchrun set it\n")


def test_a_wrong_setting_is_reported_once_before_any_process_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import rnnkit.cli

    def no_launch(*_: object) -> int:
        raise AssertionError("the processes started")

    monkeypatch.setattr(rnnkit.cli, "launch", no_launch)
    assert main([*SYNTHETIC, "--nproc", "2", "--set", "model.hidden_size=0"]) == 2
    err = capsys.readouterr().err
    assert err == "rnnkit: error: model.hidden_size must be at least 1; got 0\n"
    for task, setting, message in (  # the task's own checks too, not only the file's
            (["seq2seq", "--src", "de", "--tgt", "en"], "seq2seq.attention=luong",
             "seq2seq.attention must be one of"),
            (["forecaster"], "forecast.interval=0.5", "forecast.interval is read only with"),
            (["lm"], "sample.top_p=2", "sample.top_p must be above 0"),
            # files of no registry dataset, in no format said: each process said so, then
            # the launcher (the files are not read: they need not exist to be refused)
            (["tagger", "--train", "a.txt", "--dev", "a.txt"], 'data.dataset=""',
             "data.format must be one of conllu, iob (got '')")):
        assert main(["train", *task, "--nproc", "2", "--set", setting]) == 2
        assert message in capsys.readouterr().err
    with pytest.raises(AssertionError, match="the processes started"):  # good settings launch
        main([*SYNTHETIC, "--nproc", "2"])
    assert capsys.readouterr().out == ""  # the check printed no configuration


def test_a_refused_resume_is_reported_once_before_any_process_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused in rank 0 alone, once the processes ran, rank 1 crashed with a gloo traceback."""
    import rnnkit.cli

    def no_launch(*_: object) -> int:
        raise AssertionError("the processes started")

    monkeypatch.setattr(rnnkit.cli, "launch", no_launch)
    empty = tmp_path / "empty"
    assert main([*SYNTHETIC, "--nproc", "2", "--out", str(empty), "--resume"]) == 2
    assert capsys.readouterr().err == (f"rnnkit: error: --resume: {empty} holds no run to "
                                       "resume (no config.toml); drop --resume to start one "
                                       "there, or check the --out folder\n")
    assert not empty.exists()
    run = tmp_path / "run"
    run.mkdir()
    assert main([*SYNTHETIC, "--print-config"]) == 0  # the settings of a run of SYNTHETIC
    (run / "config.toml").write_text(capsys.readouterr().out, encoding="utf-8")
    args = [*SYNTHETIC, "--nproc", "2", "--out", str(run), "--resume"]
    assert main([*args, "--set", "model.hidden_size=9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnkit: error: --resume: model.hidden_size (8 -> 9) differs from "
                          f"the run in {run}") and err.count("\n") == 1
    with pytest.raises(AssertionError, match="the processes started"):  # a change it may make
        main([*args, "--set", "train.epochs=3"])


@pytest.mark.parametrize("task", [["synthetic"], ["tagger"], ["classifier", "--dataset", "sst"],
                                  ["lm"],
                                  ["forecaster"], ["signal"],
                                  ["seq2seq", "--src", "de", "--tgt", "en"]])
def test_more_processes_than_cores_are_refused_before_any_starts(
    task: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """100 processes on a 2-core machine were killed for memory, then advised --resume."""
    import rnnkit.cli
    import rnnkit.training.launch

    def no_launch(*_: object) -> int:
        raise AssertionError("the processes started")

    monkeypatch.setattr(rnnkit.cli, "launch", no_launch)
    monkeypatch.setattr(rnnkit.training.launch, "usable_cores", lambda: 2)
    args = ["train", *task, "--set", "train.device=cpu", "--nproc", "3"]
    assert main(args) == 2
    assert capsys.readouterr().err == ("rnnkit: error: --nproc 3 is more than the 2 CPU core(s) "
                                       "this machine lets rnnkit use, and each process needs "
                                       "one; use --nproc 2 or fewer\n")


def test_commands_that_train_in_one_process_are_refused_under_torchrun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """train dqn ran in every process torchrun started, each writing the same files; stocks
    trained its first model on all, then failed with a traceback at the second."""
    def ran(*_: object, **__: object) -> None:
        raise AssertionError("it ran")

    monkeypatch.setattr("rnnkit.pipelines.dqn.run_dqn", ran)
    monkeypatch.setattr("rnnkit.pipelines.stocks_job.run_stocks", ran)
    for name, value in {"WORLD_SIZE": "2", "RANK": "1", "LOCAL_WORLD_SIZE": "2",
                        "TORCHELASTIC_RUN_ID": "run"}.items():
        monkeypatch.setenv(name, value)
    for command, name in ((["train", "dqn"], "train dqn"), (["stocks"], "stocks")):
        assert main([*command, "--out", str(tmp_path / "run")]) == 2
        assert capsys.readouterr().err == (
            f"rnnkit: error: rnnkit {name} trains in one process only, but this one was "
            "started (by torchrun?) as process 1 of 2 (the environment variables RANK and "
            "WORLD_SIZE); run it without torchrun, with WORLD_SIZE unset\n")
    assert not (tmp_path / "run").exists()


def test_nproc_given_to_a_one_process_command_is_refused_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # argparse said only 'unrecognized arguments: --nproc 2'
    for command, name in ((["train", "dqn"], "train dqn"), (["stocks"], "stocks")):
        assert main([*command, "--nproc", "2", "--out", str(tmp_path / "run")]) == 2
        assert capsys.readouterr().err == (
            f"rnnkit: error: rnnkit {name} trains in one process only, so --nproc (which "
            "every other train task takes) does not apply; leave it out\n")
    assert not (tmp_path / "run").exists()


def test_more_processes_than_gpus_are_refused_on_cuda(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import rnnkit.cli
    import rnnkit.training.launch

    monkeypatch.setattr(rnnkit.cli, "launch", lambda nproc, argv: 0)
    monkeypatch.setattr(rnnkit.training.launch, "usable_cores", lambda: 2)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    args = [*SYNTHETIC[:-4], "--set", "train.device=auto"]  # auto: CUDA when there is one
    assert main([*args, "--nproc", "4"]) == 0  # a GPU each, whatever the cores
    assert main([*args, "--nproc", "5"]) == 2
    assert "--nproc 5 is more than the 4 GPU(s) visible here, and each process trains on its " \
        "own (train.device=auto); use --nproc 4 or fewer, or set train.device=cpu" in \
        capsys.readouterr().err


# -- real runs of two processes ------------------------------------------------------------------
def test_rank_0_alone_prints_the_warnings(tmp_path: Path, capfd: pytest.CaptureFixture[str]
                                          ) -> None:
    """rnnkit's own warnings (here: recurrent dropout runs the time loop) came once per
    process, the same line twice on two; the README says the others print nothing."""
    assert main([*SYNTHETIC, "--set", "model.recurrent_dropout=0.1", "--out",
                 str(tmp_path / "run"), "--nproc", "2"]) == 0
    errors = capfd.readouterr().err
    assert errors.count("rnnkit: warning: rnnkit LSTM: recurrent_dropout > 0") == 1, errors


def test_rank_0_alone_prints_the_logged_warnings(tmp_path: Path,
                                                 capfd: pytest.CaptureFixture[str]) -> None:
    """Warnings through logging (here: a vectors file's repeated words) went past the silencing
    of warnings on ranks above 0, through logging's last-resort handler: once per process."""
    data, vectors = tmp_path / "ner.iob", tmp_path / "v.txt"
    data.write_text("John\tB-PER\nlives\tO\nin\tO\nParis\tB-LOC\n\nMary\tB-PER\nleft\tO\n\n")
    vectors.write_text("John 1 2\nParis 3 4\nJohn 5 6\n")
    settings = [f'embeddings.vectors="{vectors}"', "tagger.word_dim=2", "tagger.char_dim=2",
                "tagger.char_hidden=2", "model.hidden_size=4", "train.epochs=1",
                "train.progress=false", "train.device=cpu", "train.threads=1"]
    assert main(["train", "tagger", "--train", str(data), "--dev", str(data), "--test", str(data),
                 "--format", "iob", "--out", str(tmp_path / "run"), "--nproc", "2",
                 *(part for setting in settings for part in ("--set", setting))]) == 0
    errors = capfd.readouterr().err
    assert errors.count("holds 1 repeated words; each word's first vector is kept") == 1, errors


def test_two_processes_train_the_weights_of_one(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert main([*SYNTHETIC, "--out", str(one)]) == 0
    assert main([*SYNTHETIC, "--out", str(two), "--nproc", "2"]) == 0
    printed = capfd.readouterr().out
    assert printed.count("epoch 2:") == 2, "rank 1 must print nothing: one line per run"
    assert_same_weights(bundle_weights(two), bundle_weights(one))
    records = [[json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
               for run in (one, two)]
    assert len(records[1]) == 2  # rank 0 alone writes the log
    for single, double in zip(*records, strict=True):  # losses are reduced over processes
        assert single["steps"] == double["steps"] == 5 * single["epoch"]
        for key in ("train_loss", "train_grad_norm_max", "val_loss"):
            assert double[key] == pytest.approx(single[key], rel=1e-5), key
    # the bundle trained on two processes loads and predicts on one CPU, like the other
    scored = [evaluate_synthetic(run / "model.rnnkit", size=64) for run in (one, two)]
    assert scored[1]["loss"] == pytest.approx(scored[0]["loss"], rel=1e-5)


def worker_pid(launcher: int, rank: int) -> int:
    """The pid of the worker of ``rank`` among the launcher's child processes."""
    children = []
    for task in Path(f"/proc/{launcher}/task").iterdir():
        children += (task / "children").read_text().split()
    for pid in children:
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        if f"RANK={rank}".encode() in environment:
            return int(pid)
    raise AssertionError(f"no worker of rank {rank} among {children}")


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_a_killed_worker_stops_the_run_clearly_and_the_last_checkpoint_resumes(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    args = [*SYNTHETIC, "--set", "data.train_size=1600", "--set", "train.epochs=2",
            "--set", "train.checkpoint_every=10", "--out", str(out)]
    launcher = subprocess.Popen([sys.executable, "-m", "rnnkit", *args, "--nproc", "2"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "last.pt").exists() and launcher.poll() is None:
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.02)
    assert launcher.poll() is None, "the run ended before a worker could be killed"
    os.kill(worker_pid(launcher.pid, rank=1), signal.SIGKILL)
    _, errors = launcher.communicate(timeout=120)

    assert launcher.returncode == 1, errors
    assert "rnnkit: error: training process rank 1" in errors and "SIGKILL" in errors
    assert "run the same command with --resume" in errors and "Traceback" not in errors
    assert not (out / "model.rnnkit").exists()  # it stopped mid-run
    saved = json.loads(load_checkpoint(out / "last.pt")["result"])["steps"]
    total = 2 * 100  # 1600 / 16 batches an epoch
    assert 0 < saved < total and saved % 10 == 0  # every 10 steps, and at epoch ends

    capfd.readouterr()
    assert main([*args, "--nproc", "2", "--resume"]) == 0
    printed = capfd.readouterr().out
    assert f"resumed from {out / 'last.pt'}" in printed
    results = json.loads((out / "results.json").read_text())
    assert results["steps"] == total and results["epochs"] == 2
    # killed, resumed on two processes: the weights of one uninterrupted process
    assert main([*args[:-1], str(tmp_path / "one")]) == 0
    assert_same_weights(bundle_weights(out), bundle_weights(tmp_path / "one"))


def start_and_interrupt(out: Path, send: Callable[[subprocess.Popen[str]], None]
                        ) -> tuple[int, str]:
    """Start SYNTHETIC on two processes, and ``send`` it SIGINT once it saved a checkpoint;
    its exit code and standard error."""
    args = [*SYNTHETIC, "--set", "data.train_size=4800", "--set", "train.epochs=3",
            "--set", "train.checkpoint_every=10", "--out", str(out), "--nproc", "2"]
    launcher = subprocess.Popen([sys.executable, "-m", "rnnkit", *args], text=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)  # a process group of its own
    deadline = time.monotonic() + 120
    while not (out / "last.pt").exists() and launcher.poll() is None:
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.02)
    assert launcher.poll() is None, "the run ended before it could be interrupted"
    send(launcher)
    errors = launcher.communicate(timeout=120)[1]
    return launcher.returncode, errors


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_ctrl_c_on_two_processes_prints_one_line_not_one_per_process(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the terminal's process group: the launcher and its workers) printed
    'rnnkit: interrupted; continue with --resume' once per worker above the launcher's own
    line; the launcher alone reports it now."""
    code, errors = start_and_interrupt(tmp_path / "run",
                                       lambda launcher: os.killpg(launcher.pid, signal.SIGINT))
    assert code == 130, errors
    assert errors.count("rnnkit: interrupted") == 1, errors
    assert errors == ("rnnkit: interrupted (SIGINT); continue with --resume, from the last "
                      "checkpoint (an epoch's end, or train.checkpoint_every): a run on several "
                      "processes saves none when interrupted\n")
    # SIGINT to one worker alone: the launcher's line says so, as the worker prints none
    code, errors = start_and_interrupt(
        tmp_path / "one", lambda launcher: os.kill(worker_pid(launcher.pid, 1), signal.SIGINT))
    assert code == 1, errors
    assert "rnnkit: error: training process rank 1" in errors and "was interrupted (SIGINT)" in (
        errors) and "rnnkit: interrupted" not in errors and "Traceback" not in errors


def test_under_torchrun_rank_0_alone_prints_the_interruption(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from rnnkit.training.launch import LAUNCHER_WORKER, reports_interruption

    assert reports_interruption()  # one process
    monkeypatch.setenv("WORLD_SIZE", "2")
    for rank, reports in (("0", True), ("1", False)):
        monkeypatch.setenv("RANK", rank)
        assert reports_interruption() is reports
    monkeypatch.setenv(LAUNCHER_WORKER, "1")  # a process of --nproc: its launcher reports
    monkeypatch.setenv("RANK", "0")
    assert not reports_interruption()


def test_a_language_model_trained_on_two_processes_has_the_weights_of_one(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Truncated BPTT with the state carried across batches: each process reads its own
    contiguous part of the stream (StreamBatches.shard) and carries its own columns' state."""
    text = tmp_path / "text.txt"
    text.write_text("the quick brown fox jumps over the lazy dog. " * 40, encoding="utf-8")
    args = ["train", "lm", "--set", f"data.file={json.dumps(str(text))}",
            "--set", 'data.dataset=""', "--set", "data.steps=10",
            "--set", "data.eval_batch_size=2", "--set", "model.hidden_size=16",
            "--set", "model.num_layers=1", "--set", "lm.embedding_dim=8",
            "--set", "lm.input_dropout=0", "--set", "lm.hidden_dropout=0",
            "--set", "lm.output_dropout=0", "--set", "train.epochs=2",
            "--set", "train.batch_size=4", "--set", "train.progress=false",
            "--set", "train.threads=1", "--set", "sample.length=5", "--set", "sample.prime=the",
            "--set", "train.device=cpu"]  # two processes on a machine with one GPU: gloo
    one, two = tmp_path / "one", tmp_path / "two"
    assert main([*args, "--out", str(one)]) == 0
    assert main([*args, "--out", str(two), "--nproc", "2"]) == 0
    capfd.readouterr()
    assert_same_weights(bundle_weights(two), bundle_weights(one))
    # stopped inside an epoch, each process carries its own columns' state: the same count
    # of processes must resume it
    part = tmp_path / "part"
    assert main([*args, "--out", str(part), "--nproc", "2", "--set", "train.max_steps=3"]) == 0
    capfd.readouterr()
    assert main([*args, "--out", str(part), "--resume", "--set", "train.max_steps=0"]) == 2
    assert "resume it with --nproc 2, or from a checkpoint at the end of an epoch" in \
        capfd.readouterr().err


def test_class_weighted_losses_give_one_process_s_weights_on_two(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A class-weighted cross-entropy is a mean over its items' class weights, not their count:
    each process's share of the gradient is weighted by that (train signal: balanced)."""
    rng = np.random.default_rng(0)
    prices = pd.DataFrame({"close": 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 300)))},
                          index=pd.date_range("2015-01-01", periods=300, name="date"))
    prices.to_csv(tmp_path / "prices.csv")
    args = ["train", "signal"]
    settings = [f"data.source={json.dumps(str(tmp_path / 'prices.csv'))}", "data.target=close",
                "data.lookback=10", "data.horizon=1", "data.calendar=", "model.hidden_size=8",
                "train.epochs=2", "train.batch_size=17", "train.progress=false",
                "train.device=cpu", "train.threads=1"]
    # the epoch's train_loss too: each share's weighted mean times its count did not add up
    # to the batch's (1.15580 on two processes, 1.15589 on one)
    assert_one_process_as_two(args, settings, tmp_path, capfd, rel=1e-6)


def assert_one_process_as_two(args: list[str], settings: Sequence[str], tmp_path: Path,
                              capfd: pytest.CaptureFixture[str], rel: float) -> str:
    """The run of ``args`` with ``settings`` (each given as ``--set``) on one process and on
    two: the same weights, and each epoch's train_loss within ``rel``. Returns what the run
    on two processes wrote to standard error."""
    args = [*args, *(part for setting in settings for part in ("--set", setting))]
    one, two = tmp_path / "one", tmp_path / "two"
    assert main([*args, "--out", str(one)]) == 0
    capfd.readouterr()
    assert main([*args, "--out", str(two), "--nproc", "2"]) == 0
    errors = capfd.readouterr().err
    assert_same_weights(bundle_weights(two), bundle_weights(one))
    records = [[json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
               for run in (one, two)]
    for single, double in zip(*records, strict=True):
        assert double["train_loss"] == pytest.approx(single["train_loss"], rel=rel)
    return errors


def test_a_recursive_forecaster_with_missing_next_rows_has_one_process_s_weights_on_two(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A recursive forecaster's loss is a mean over the next row's values that are there (a
    gap in another feature leaves some out), not over its windows: each process's share of
    the gradient was weighted by its windows, and two processes trained other weights than
    one (0.0025 apart)."""
    rng = np.random.default_rng(0)
    extra = rng.normal(size=400)
    extra[rng.choice(400, 60, replace=False)] = np.nan
    pd.DataFrame({"date": pd.date_range("2020-01-01", periods=400), "y": np.cumsum(
        rng.normal(size=400)), "x": extra}).to_csv(tmp_path / "data.csv", index=False)
    args = ["train", "forecaster"]
    settings = [f"data.source={json.dumps(str(tmp_path / 'data.csv'))}", "data.target=y",
                "data.lookback=1", "data.horizon=2", "data.calendar=",
                "forecast.strategy=recursive", "model.hidden_size=4", "train.epochs=2",
                "train.batch_size=16", "train.progress=false", "train.device=cpu",
                "train.threads=1"]
    assert_one_process_as_two(args, settings, tmp_path, capfd, rel=1e-5)


def test_resumed_on_fewer_processes_the_epoch_keeps_every_process_s_sums(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert main([*SYNTHETIC, "--out", str(one)]) == 0
    assert main([*SYNTHETIC, "--out", str(two), "--nproc", "2", "--set",
                 "train.max_steps=3"]) == 0  # stopped inside epoch 1 (5 steps an epoch)
    assert main([*SYNTHETIC, "--out", str(two), "--resume", "--set", "train.max_steps=0"]) == 0
    capfd.readouterr()
    records = [[json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
               for run in (one, two)]
    for single, resumed in zip(*records, strict=True):
        assert resumed["train_loss"] == pytest.approx(single["train_loss"], rel=1e-5)


def test_resumed_on_more_processes_after_a_crash_in_validation_finishes_the_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A checkpoint written after an epoch's last batch (checkpoint_every), then a crash while
    validating: resumed on 2 processes no batch is left, so rank 1 never adds the copy task's
    accuracy to its sums; the epoch's end must still sum the same names on both (it waited in
    all_reduce forever, 2 values against 3)."""
    args = [*SYNTHETIC, "--set", "data.task=copy", "--set", "data.train_size=64",
            "--set", "train.checkpoint_every=4"]  # 4 batches an epoch
    one, run = tmp_path / "one", tmp_path / "run"
    assert main([*args, "--out", str(one)]) == 0

    def power_cut(*_: object) -> None:
        raise RuntimeError("power cut")

    with monkeypatch.context() as patch:
        patch.setattr("rnnkit.training.trainer.Trainer._evaluate", power_cut)
        with pytest.raises(RuntimeError, match="power cut"):
            main([*args, "--out", str(run)])
    state = load_checkpoint(run / "last.pt")
    assert (state["epoch"], state["batch_in_epoch"]) == (0, 4)
    assert sorted(state["sums"]["totals"]) == ["accuracy", "loss"]
    capfd.readouterr()
    launcher = subprocess.Popen([sys.executable, "-m", "rnnkit", *args, "--out", str(run),
                                 "--resume", "--nproc", "2"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, errors = launcher.communicate(timeout=90)
    except subprocess.TimeoutExpired:  # the workers run in sessions of their own
        for rank in (0, 1):
            os.kill(worker_pid(launcher.pid, rank), signal.SIGKILL)
        launcher.kill()
        launcher.communicate()
        pytest.fail("the resumed run on 2 processes hung at the end of the epoch")
    assert launcher.returncode == 0, errors
    records = [[json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]
               for path in (one, run)]
    for single, resumed in zip(*records, strict=True):
        for key in ("train_loss", "train_accuracy", "val_loss"):
            assert resumed[key] == pytest.approx(single[key], rel=1e-5), key
    assert_same_weights(bundle_weights(run), bundle_weights(one))


def test_a_crf_tagger_whose_share_has_one_word_sentences_only_trains_on_two(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A CRF's transitions get no gradient from sentences of one word: a share (or a whole
    global batch) of such sentences left a parameter unused, and DDP stopped the run with
    'Expected to have finished reduction in the prior iteration' (rank 1, a torch traceback).
    Length buckets of 4: [1, 1, 1, 1] (unused by both processes), [1, 1, 1, 2] (unused by
    rank 0 alone: it takes items 0 and 2) and [3, 4, 5, 6]. DDP's find_unused_parameters,
    which this needs, has torch warn of it once a step uses every parameter: once per process
    (the same line twice); rank 0 alone prints torch's C++ warnings now."""
    lengths = [1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6]
    words, tags = ["the", "dog", "runs", "fast", "today", "here"], ["DET", "NOUN", "VERB", "ADV",
                                                                     "NOUN", "ADV"]
    sentences = []
    for index, length in enumerate(lengths):
        rows = [f"{i + 1}\t{words[(i + index) % 6]}\t_\t{tags[(i + index) % 6]}\t_\t_\t0\t_\t_\t_"
                for i in range(length)]
        sentences.append(f"# sent_id = s{index}\n" + "\n".join(rows) + "\n")
    data = tmp_path / "tiny.conllu"
    data.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    args = ["train", "tagger", "--train", str(data), "--dev", str(data), "--test", str(data),
            "--format", "conllu"]
    settings = ['data.dataset=""', "tagger.word_dim=8", "tagger.char_dim=4",
                "tagger.char_hidden=4", "model.hidden_size=8", "tagger.embedding_dropout=0",
                "tagger.output_dropout=0", "tagger.word_dropout=0", "train.epochs=3",
                "train.batch_size=4", "train.progress=false", "train.device=cpu",
                "train.threads=1"]
    errors = assert_one_process_as_two(args, settings, tmp_path, capfd, rel=1e-6)
    assert errors.count("find_unused_parameters=True was specified") == 1, errors
    assert "[rank0]" in errors and "[rank1]" not in errors


@pytest.mark.parametrize(("setting", "named"), [
    ("train.lr=0.01", "train.lr is 0.001 in process 0 but 0.01 in process 1"),  # drifted apart
    ("train.batch_size=8", "train.batch_size is 16 in process 0 but 8 in process 1"),  # hung
    ("model.hidden_size=6", "the shape of the model's encoder.cells.0.weight_ih is (32, 2) in"
     " process 0 but (24, 2) in process 1 (and 4 more)"),  # DDP: 'DDP expects same model...'
])
def test_processes_started_with_other_settings_are_stopped_with_what_differs(
    tmp_path: Path, setting: str, named: str
) -> None:
    """torchrun starts each process with its own command line (and, on several machines, its
    own files): rank 1 with another train.lr trained on, its replica drifting from rank 0's
    (rc 0), and with another batch size the processes waited on each other until killed."""
    command = " ".join(f"'{arg}'" for arg in [sys.executable, "-m", "rnnkit", *SYNTHETIC,
                                              "--out", str(tmp_path / "run")])
    script = f'extra=""; [ "$RANK" = 1 ] && extra="--set {setting}"; exec {command} $extra'
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc-per-node", "2", "--no-python", "sh", "-c", script],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert f"rnnkit: error: the training processes differ: {named}; every process must run " \
        "the same command with the same settings and data" in done.stderr
    assert "rnnkit/training" not in done.stderr  # no traceback of rnnkit's (torchrun's own)
    assert not (tmp_path / "run" / "model.rnnkit").exists()


@pytest.mark.parametrize("rank", [0, 1])
def test_torchrun_s_variables_set_by_hand_without_the_other_processes_stop_in_time(
    monkeypatch: pytest.MonkeyPatch, rank: int
) -> None:
    """WORLD_SIZE, RANK, MASTER_ADDR and MASTER_PORT set by hand, and no other process: the
    process waited for the others in silence (torch's 30 minutes)."""
    import socket

    import torch.distributed as dist

    import rnnkit.training.rendezvous
    from rnnkit.training.distributed import join

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    for name, value in {"WORLD_SIZE": "2", "RANK": str(rank), "LOCAL_RANK": str(rank),
                        "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)
    monkeypatch.setattr(rnnkit.training.rendezvous, "JOIN_TIMEOUT_S", 1.0)
    whom = "the other processes to join it" if rank == 0 else "process 0 to listen"
    started = time.monotonic()
    with pytest.raises(ValueError, match=f"process {rank} of 2 waited 1 s for {whom} at "
                                         f"127.0.0.1:{port} .*unset them"):
        join(torch.device("cpu"))
    assert time.monotonic() - started < 30
    assert not dist.is_initialized()


def test_processes_started_by_hand_on_a_port_in_use_are_told_so(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rank 0 on a busy MASTER_PORT failed at once, and was said to have 'waited 300 s for the
    other processes to join it in vain'."""
    import socket

    import torch.distributed as dist

    from rnnkit.training.distributed import join

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for name, value in {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0",
                            "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)
        with pytest.raises(ValueError, match=f"process 0 of 2 could not listen at 127.0.0.1:"
                                             f"{port} .*is the port in use by another run\\? "
                                             "Set MASTER_PORT to a free port"):
            join(torch.device("cpu"))
    assert not dist.is_initialized()
