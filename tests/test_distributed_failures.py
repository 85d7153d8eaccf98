"""Data-parallel training: real runs of 2 processes that warn, are interrupted, lose a worker or
are started by hand: one clear line, and the last checkpoint resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from test_distributed import SYNTHETIC, assert_same_weights, bundle_weights, worker_pid

from rnnkit.cli import main
from rnnkit.training.checkpoint import load_checkpoint


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
