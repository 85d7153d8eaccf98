"""An input file given as a pipe (``--file <(cat lm.txt)``, a FIFO) trains in one process;
``--nproc``, whose processes each read the files, refuses it saying why."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from test_language_model import TEXT
from test_tagger_cli import IOB, TINY

from rnnkit.cli import main


def test_train_lm_reads_its_text_from_a_pipe(tmp_path: Path) -> None:
    """Refused 'data.file (--file) ...: no such file' since the one-process input check: the
    check asked for a regular file."""
    path = tmp_path / "text.fifo"
    os.mkfifo(path)
    threading.Thread(target=lambda: path.write_text(TEXT * 3, encoding="utf-8"),
                     daemon=True).start()
    assert main(["train", "lm", "--file", str(path), "--out", str(tmp_path / "run"),
                 "--set", "train.epochs=1", "--set", "model.hidden_size=8", "--set",
                 "train.batch_size=4", "--set", "data.steps=20", "--set",
                 "data.eval_batch_size=2", "--set", "sample.length=5", "--set",
                 "train.progress=false", "--set", "train.device=cpu"]) == 0
    assert (tmp_path / "run" / "model.rnnkit").exists()


def test_train_tagger_reads_its_training_file_from_a_pipe(tmp_path: Path) -> None:
    path = tmp_path / "train.fifo"
    os.mkfifo(path)
    threading.Thread(target=lambda: path.write_text(IOB, encoding="utf-8"), daemon=True).start()
    other = tmp_path / "dev.iob"
    other.write_text(IOB)
    assert main(["train", "tagger", "--train", str(path), "--dev", str(other), "--test",
                 str(other), "--format", "iob", "--out", str(tmp_path / "run"), *TINY]) == 0


def test_nproc_refuses_a_pipe_saying_why(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Each of --nproc's processes reads the file, and a pipe can be read once: it was refused
    as 'no such file', which it is not."""
    path = tmp_path / "text.fifo"
    os.mkfifo(path)  # nothing opens it: the check looks at what it is only
    assert main(["train", "lm", "--file", str(path), "--nproc", "2", "--set",
                 "train.device=cpu", "--out", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err
    assert (f"data.file (--file) {path}: not a regular file (a pipe, such as <(...), or a "
            "device), which can be read once, but each of --nproc's processes reads its input "
            "files; save it to a file and give that, or train in one process") in error
    assert "no such file" not in error and not (tmp_path / "run").exists()
