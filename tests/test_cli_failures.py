"""The command line: a run that fails or is stopped says so in one line (interrupts,
the operating system's refusals, closed pipes, divergence, numbers too large).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_cli import TINY

from rnnkit.cli import main

RESUME = "rnnkit: interrupted; continue with --resume\n"


@pytest.mark.parametrize(("module", "handler", "command", "advice"), [
    ("synthetic", "train", ["train", "synthetic"], RESUME),
    ("stocks", "run", ["stocks"], RESUME),
    ("dqn", "train", ["train", "dqn"],  # its finished seeds are saved, not the one under way
     "rnnkit: interrupted; continue with --resume (the same command): the seeds finished are "
     "read back, the one under way goes on after its last finished episode (its supervised "
     "models from their last.pt)\n"),
    ("language_model", "run_generate", ["generate", "--model", "m.rnnkit"], None),
])
def test_an_interrupt_advises_resume_only_where_the_command_resumes(
        module: str, handler: str, command: list[str], advice: str | None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(f"rnnkit.commands.{module}.{handler}", interrupted)
    assert main(command) == 130
    assert capsys.readouterr().err == (advice or "rnnkit: interrupted\n")
    if advice:  # into an --out that holds no run yet, --resume would be refused
        out = tmp_path / "new"
        assert main([*command, "--out", str(out)]) == 130
        assert capsys.readouterr().err == ("rnnkit: interrupted before the run began (nothing "
                                           "to resume): run the command again\n")
        out.mkdir()
        (out / "config.toml").write_text("")
        assert main([*command, "--out", str(out)]) == 130
        assert capsys.readouterr().err == advice


@pytest.mark.parametrize(("error", "message"), [
    (PermissionError(13, "Permission denied", "runs/x"), "rnnkit: error: cannot read or write "
     "runs/x: Permission denied (no permission, or a read-only place); give a path you may "
     "write to"),
    (OSError(30, "Read-only file system", "runs/x"), "cannot read or write runs/x: Read-only "
                                                     "file system (no permission"),
    (OSError(28, "No space left on device", "runs/x/last.pt"), "rnnkit: error: no space left "
     "to write runs/x/last.pt (No space left on device); free some space, or write the output "
     "to another disk"),
])
def test_an_os_refusal_says_what_to_do(error: OSError, message: str,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """It printed only '[Errno 13] Permission denied: 'runs/x''."""
    def refused(args: object) -> int:
        raise error

    monkeypatch.setattr("rnnkit.commands.synthetic.train", refused)
    assert main(["train", "synthetic"]) == 2
    assert message in capsys.readouterr().err


def test_a_run_whose_output_pipe_closes_says_it_stopped(tmp_path: Path) -> None:
    # `rnnkit train ... | head -1`: the run stops at its next line; exit 0 would claim success
    command = [sys.executable, "-m", "rnnkit", "train", "synthetic", "--out", str(tmp_path / "run"),
               "--set", "train.epochs=4", "--set", "data.train_size=200",
               "--set", "train.progress=false"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"epoch 1:")
    process.stdout.close()  # what `head -1` does
    assert process.wait(timeout=120) == 141
    assert b"standard output was closed (piped into head?), which stopped the run; continue " \
           b"it with --resume" in process.stderr.read()
    process.stderr.close()
    assert not (tmp_path / "run" / "results.json").exists()


def test_a_run_whose_output_and_error_pipe_closes_exits_141(tmp_path: Path) -> None:
    # `rnnkit train ... 2>&1 | head -1`: the message could not be written either, and the
    # BrokenPipeError it raised made the run exit 1 instead of 141
    command = [sys.executable, "-m", "rnnkit", "train", "synthetic", "--out", str(tmp_path / "run"),
               "--set", "train.epochs=4", "--set", "data.train_size=200",
               "--set", "train.progress=false"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    assert process.stdout.readline().startswith(b"epoch 1:")
    process.stdout.close()  # what `head -1` does, to both
    assert process.wait(timeout=120) == 141
    assert not (tmp_path / "run" / "results.json").exists()


def test_print_config_into_a_closed_pipe_is_no_stopped_run(tmp_path: Path) -> None:
    # `rnnkit train ... --print-config | head -1`: settings cut short as asked, no run stopped
    command = [sys.executable, "-m", "rnnkit", "train", "synthetic", "--print-config",
               "--out", str(tmp_path / "run")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # closed before anything is printed
    assert process.wait(timeout=120) == 0
    assert b"stopped the run" not in process.stderr.read()
    process.stderr.close()


def test_a_diverged_run_is_one_error_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """TrainingDiverged is a RuntimeError: main's out-of-memory branch caught it and re-raised
    it (its message says nothing of 'allocate'), a traceback for every diverged run."""
    out = tmp_path / "run"
    code = main(["train", "synthetic", *TINY, "--set", "train.lr=1e30", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnkit: error: loss became") and "lower train.lr" in err


@pytest.mark.parametrize("settings", [
    ["train.lr=1e300"],
    ["train.optimizer=sgd", "train.weight_decay=1e300"],
    ["train.optimizer=adamw", "train.lr=1e300"],
])
def test_a_learning_rate_float32_cannot_hold_is_one_error_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: list[str]
) -> None:
    """train.lr=1e300 ended in torch's 'value cannot be converted to type float without
    overflow' from inside the optimizer's step, a traceback."""
    pairs = [arg for setting in settings for arg in ("--set", setting)]
    code = main(["train", "synthetic", *TINY, *pairs, "--out", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnkit: error: train.lr=") and "overflows the" in err
    assert "lower them" in err and "Traceback" not in err


def test_sizes_whose_product_overflows_are_one_error_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """data.test_size=2**62 (each size below 2**63, as the config checks) times data.length
    overflows torch's storage size: 'RuntimeError: Storage size calculation overflowed' came
    out as a traceback (evaluate --size 2**62 too); it is now the out-of-memory line."""
    out = tmp_path / "run"
    code = main(["train", "synthetic", *TINY, "--set", f"data.test_size={2**62}",
                 "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnkit: error: out of memory") and "lower the sizes" in err
