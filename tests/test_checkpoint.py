"""rnnkit.training.checkpoint: atomic writes, safe reads with clear errors, RNG capture."""

from __future__ import annotations

import errno
import os
import random
import stat
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from helpers import make_regressor, no_log, quiet, regression_source, same_weights

from rnnkit.training import Trainer
from rnnkit.training import checkpoint as ckpt
from rnnkit.training.checkpoint import (
    CheckpointError,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    seed_everything,
    set_rng_state,
)


def state(value: float) -> dict[str, Any]:
    return {"model": {"w": torch.full((3,), value)}, "epoch": 2, "rng": rng_state()}


def crash_mid_write(error: BaseException) -> Any:
    """A torch.save that writes half a file, then fails like a full disk or a Ctrl-C."""

    def save(obj: Any, file: Any, *args: Any, **kwargs: Any) -> None:
        file.write(b"PK\x03\x04 half a checkpoint")
        raise error

    return save


def test_round_trip(tmp_path: Path) -> None:
    path = save_checkpoint(state(1.5), tmp_path / "sub" / "last.pt")
    assert path == tmp_path / "sub" / "last.pt"
    loaded = load_checkpoint(path)
    assert torch.equal(loaded["model"]["w"], torch.full((3,), 1.5)) and loaded["epoch"] == 2
    assert sorted(p.name for p in path.parent.iterdir()) == ["last.pt"]


@pytest.mark.parametrize("error", [OSError("No space left on device"), KeyboardInterrupt()])
def test_crash_mid_write_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    path = save_checkpoint(state(1.0), tmp_path / "last.pt")
    before = path.read_bytes()
    monkeypatch.setattr(ckpt.torch, "save", crash_mid_write(error))
    with pytest.raises(type(error)):
        save_checkpoint(state(2.0), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert torch.equal(load_checkpoint(path)["model"]["w"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temporary file left


def test_crash_while_the_trainer_saves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trainer = Trainer(make_regressor(), quiet(epochs=1, lr=0.05), tmp_path, log=no_log)
    trainer.fit(regression_source())
    good = load_checkpoint(tmp_path / "last.pt")
    monkeypatch.setattr(ckpt.torch, "save", crash_mid_write(OSError("disk full")))
    trainer.config = quiet(epochs=2, lr=0.05)
    with pytest.raises(OSError, match="disk full"):
        trainer.fit(regression_source())  # trains epoch 2, then fails writing best.pt/last.pt
    monkeypatch.undo()
    kept = load_checkpoint(tmp_path / "last.pt")
    assert kept["epoch"] == 1 and same_weights(kept["model"], good["model"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "last.pt", "metrics.jsonl"]


def test_garbage_file_is_a_checkpoint_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "last.pt"
    path.write_bytes(b"\x00\x01 this is not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot be read") as caught:
        load_checkpoint(path)
    assert str(path) in str(caught.value)


def test_truncated_file_is_a_checkpoint_error_naming_the_file(tmp_path: Path) -> None:
    path = save_checkpoint(state(1.0), tmp_path / "last.pt")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    assert str(path) in str(caught.value)


def test_missing_file_and_foreign_content(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist") as caught:
        load_checkpoint(tmp_path / "nope.pt")
    assert str(tmp_path / "nope.pt") in str(caught.value)
    torch.save({"weights": torch.ones(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not an rnnkit training checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="not an rnnkit training checkpoint"):
        load_checkpoint(tmp_path / "list.pt")


CALLED: list[str] = []


def _side_effect(text: str) -> str:
    CALLED.append(text)
    return text


class Payload:
    """Unpickling this would call a function: weights_only loading must refuse it."""

    def __reduce__(self) -> Any:
        return (_side_effect, ("executed",))


def test_loading_never_runs_pickled_code(tmp_path: Path) -> None:
    torch.save({"model": {}, "evil": Payload()}, tmp_path / "evil.pt")
    CALLED.clear()
    with pytest.raises(CheckpointError, match="cannot be read") as caught:
        load_checkpoint(tmp_path / "evil.pt")
    assert CALLED == []
    assert "weights_only=False" not in str(caught.value)  # torch's advice is not ours
    assert "Delete it to train from scratch" in str(caught.value)
    assert "\n" not in str(caught.value)


def draws() -> tuple[float, float, float, torch.Tensor]:
    """One draw from each generator (numpy's randn after an odd count uses its cached value)."""
    return random.random(), float(np.random.rand()), float(np.random.randn()), torch.rand(3)


def test_rng_state_survives_a_checkpoint(tmp_path: Path) -> None:
    seed_everything(5)
    random.random(), np.random.rand(), np.random.randn(), torch.rand(2)  # advance
    save_checkpoint({"model": {}, "rng": rng_state()}, tmp_path / "rng.pt")
    expected = draws()
    seed_everything(123)  # scramble
    set_rng_state(load_checkpoint(tmp_path / "rng.pt")["rng"])
    got = draws()
    assert got[:3] == expected[:3] and torch.equal(got[3], expected[3])


def test_seed_everything() -> None:
    seed_everything(3)
    first = draws()
    seed_everything(3)
    again = draws()
    seed_everything(4)
    other = draws()
    assert first[:3] == again[:3] and torch.equal(first[3], again[3])
    assert first[0] != other[0] and first[1] != other[1] and not torch.equal(first[3], other[3])


@pytest.mark.parametrize("writer", ["config", "results"])
def test_a_run_killed_while_writing_its_config_or_results_keeps_the_old_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str) -> None:
    # --resume reads config.toml back: a half-written one would strand the run
    from rnnkit.config import save_config
    from rnnkit.pipelines.run import write_results
    from rnnkit.pipelines.synthetic import SyntheticRunConfig

    path = tmp_path / "out.txt"
    path.write_text("the old file\n")

    def killed(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("rnnkit.training.checkpoint.os.fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        if writer == "config":
            save_config(SyntheticRunConfig(), path)
        else:
            write_results({"test": {"loss": 1.0}}, path)
    assert path.read_text() == "the old file\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary file left


def test_random_state_saved_with_more_gpus_restores_those_in_view(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A checkpoint written with 4 GPUs in view, resumed with 1: torch's set_rng_state_all
    would index the missing GPUs (a failure inside torch); only the visible ones are set."""
    state = ckpt.rng_state()
    state["cuda"] = [torch.zeros(8, dtype=torch.uint8) + i for i in range(4)]
    restored: list[Any] = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", restored.extend)
    ckpt.set_rng_state(state)
    assert len(restored) == 1 and torch.equal(restored[0], state["cuda"][0])


def half_then(error: BaseException) -> Any:
    """A writer that writes part of a file, then fails like a full disk or a Ctrl-C."""

    def write(file: Any) -> None:
        file.write(b"half of the ne")
        raise error

    return write


@pytest.mark.parametrize("error", [OSError("No space left on device"), KeyboardInterrupt()])
def test_an_output_interrupted_mid_write_keeps_the_old_file(tmp_path: Path,
                                                            error: BaseException) -> None:
    """Predictions, forecasts and plots were written in place: a Ctrl-C left half a file."""
    path = tmp_path / "predictions.txt"
    path.write_text("the old file\n")
    path.chmod(0o640)
    with pytest.raises(type(error)):
        ckpt.write_output(path, half_then(error))
    assert path.read_text() == "the old file\n"
    assert [p.name for p in tmp_path.iterdir()] == ["predictions.txt"]  # no temporary file
    ckpt.write_output_text(path, "the new file\n")
    assert path.read_text() == "the new file\n"
    assert path.stat().st_mode & 0o777 == 0o640  # replaced, with the mode it had


def test_an_output_through_a_link_replaces_its_target(tmp_path: Path) -> None:
    target = tmp_path / "real" / "out.txt"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    assert ckpt.write_output_text(link, "new\n") == link
    assert link.is_symlink() and target.read_text() == "new\n"


def test_an_output_through_a_link_to_a_pipe_is_written_into_the_pipe(tmp_path: Path) -> None:
    """A link to /dev/stdout with stdout a pipe: it said 'no such file or directory:
    /proc/PID/fd/pipe:[N]' (the link's target taken for a file to replace)."""
    read_end, write_end = os.pipe()
    try:
        link = tmp_path / "out.csv"
        link.symlink_to(f"/dev/fd/{write_end}")
        ckpt.write_output_text(link, "a,b\n")
        assert os.read(read_end, 100) == b"a,b\n"
        assert link.is_symlink()
    finally:
        os.close(read_end)
        os.close(write_end)


def test_an_output_in_a_folder_that_cannot_be_written_is_written_in_place(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mine.txt"  # a file of one's own in a folder of others'
    path.write_text("old\n")
    access = os.access  # chmod does not stop root: the permission is faked
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != tmp_path and access(p, mode))
    ckpt.write_output_text(path, "new\n")
    assert path.read_text() == "new\n"


def test_a_pipe_or_device_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    """A rename over /dev/null (as root) replaced the device with a file."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    ckpt.atomic_write_bytes(pipe, lambda file: file.write(b"through the pipe"))
    reader.join(timeout=10)
    assert received == [b"through the pipe"] and stat.S_ISFIFO(pipe.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_a_write_refused_by_the_os_names_the_file_not_the_temporary_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It said 'no such file or folder: /proc/.out.csv.hfi_info.tmp'."""

    def refused(**kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", f"{kwargs['dir']}/.out.csv.x1y2.tmp")

    monkeypatch.setattr(ckpt.tempfile, "mkstemp", refused)
    with pytest.raises(PermissionError) as caught:
        ckpt.write_output_text(tmp_path / "out.csv", "a,b\n")
    assert caught.value.filename == str(tmp_path / "out.csv")


def test_an_output_one_may_not_write_is_refused_not_replaced(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write-protected file (chmod a-w) was replaced by the atomic rename, which the
    folder's permission allows; writing it in place, as before, was refused."""
    path = tmp_path / "kept.txt"
    path.write_text("protected\n")
    path.chmod(0o444)
    access = os.access  # root may write anything: the permission is faked
    monkeypatch.setattr(os, "access", lambda p, mode: access(p, mode) and not (
        Path(p).resolve() == path.resolve() and mode & os.W_OK))
    with pytest.raises(PermissionError) as caught:
        ckpt.write_output_text(path, "new\n")
    assert caught.value.filename == str(path)
    assert path.read_text() == "protected\n"
    assert [p.name for p in tmp_path.iterdir()] == ["kept.txt"]


def test_a_full_disk_while_saving_names_the_checkpoint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """torch.save's write fails with ENOSPC and no file name: the CLI said 'no space left to
    write  (No space left on device)', naming no file."""
    from rnnkit.cli import os_error_message

    path = save_checkpoint(state(1.0), tmp_path / "last.pt")
    monkeypatch.setattr(ckpt.torch, "save", crash_mid_write(
        OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(OSError) as caught:
        save_checkpoint(state(2.0), path)
    assert (caught.value.errno, caught.value.filename) == (errno.ENOSPC, str(path))
    assert os_error_message(caught.value).startswith(f"no space left to write {path} (")
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]
