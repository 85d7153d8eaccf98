"""Review checks of the classifier and translation data paths (see each test's docstring)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.cli import main


@pytest.mark.parametrize("flags", [
    ["--set", "data.train=files"],
    ["--dev", "files"],
    ["--set", "data.test=files"],
])
def test_seq2seq_files_with_the_registry_dataset_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str]) -> None:
    """data.train/dev/test beside data.dataset (the default multi30k) were never read: the
    dataset's splits trained and scored, silently."""
    out = tmp_path / "run"
    assert main(["train", "seq2seq", *flags, "--out", str(out), "--print-config"]) == 2
    err = capsys.readouterr().err
    assert "data.dataset=multi30k reads that dataset's own splits" in err
    assert "would not be read" in err
    assert not out.exists()
