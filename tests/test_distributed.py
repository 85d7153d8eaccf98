"""Data-parallel training: two real runs of 2 processes (gloo on this machine) train the same
weights as one process, whatever the task, and resume on another number of processes.

Sharded batches, the one-process Workers, the launcher's report and the failures of real runs
are tested in tests/test_distributed_*.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from rnnkit.cli import main
from rnnkit.pipelines.synthetic import evaluate_synthetic
from rnnkit.training.bundle import read_bundle
from rnnkit.training.checkpoint import load_checkpoint

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


# -- real runs of two processes ------------------------------------------------------------------


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
