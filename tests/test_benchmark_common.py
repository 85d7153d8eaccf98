"""benchmarks/common.py: how a benchmark's result file is written."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

FOLDER = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(FOLDER))

import common  # noqa: E402


def test_a_benchmark_killed_while_writing_its_result_keeps_the_recorded_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """write_result truncated the recorded results/<name>.json in place and then wrote it: a
    benchmark killed (or a disk full) mid-write left a half-written file instead of the
    recorded result."""
    path = tmp_path / "gradient_flow_adding_100.json"
    path.write_text('{"recorded": true}\n')

    def killed(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("rnnkit.training.checkpoint.os.fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        common.write_result("gradient_flow_adding_100", metric="m", value=1.0, unit="u",
                            baseline={"name": "b", "value": 0.5}, command="c", seconds=1.0,
                            path=path)
    assert path.read_text() == '{"recorded": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    monkeypatch.undo()
    common.write_result("gradient_flow_adding_100", metric="m", value=1.0, unit="u",
                        baseline={"name": "b", "value": 0.5}, command="c", seconds=1.0,
                        path=path)
    assert path.read_text().startswith('{\n  "name": "gradient_flow_adding_100",\n')
    assert path.read_text().endswith("\n}\n")
