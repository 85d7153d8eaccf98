"""Data-parallel training: the launcher's report and its options, checked before any process
starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from test_distributed import SYNTHETIC

from rnnkit.cli import main
from rnnkit.training.distributed import WorkerLost
from rnnkit.training.launch import describe_failure


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


def test_a_worker_leaves_without_the_interpreter_s_finalization(tmp_path: Path) -> None:
    """A process of --nproc that left through Python's finalization with gloo's threads alive
    (Ctrl-C mid-step) could die there of SIGABRT, reported by the launcher in place of its own
    exit. It now ends with os._exit after the command returns: its exit code and output kept,
    no atexit hook run (a sitecustomize registers one here)."""
    from rnnkit.training.launch import WORKER

    (tmp_path / "sitecustomize.py").write_text(
        "import atexit, sys\natexit.register(lambda: print('finalized', file=sys.stderr))\n")
    src = str(Path(__file__).resolve().parent.parent / "src")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), src])}
    environment.pop("RANK", None)
    done = subprocess.run([sys.executable, "-c", WORKER, "info"], env=environment,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "torch" in done.stdout and "finalized" not in done.stderr
    done = subprocess.run([sys.executable, "-c", WORKER, "train", "tagger", "--set",
                           "train.epochz=1"], env=environment, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "rnnkit: error:" in done.stderr, done.stderr
    assert "finalized" not in done.stderr
