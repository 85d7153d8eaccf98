"""The README's Python quickstart runs as written, and says what it prints."""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_python_quickstart_runs_and_prints_what_its_comments_say() -> None:
    section = README.read_text(encoding="utf-8").split("## Quickstart (Python)")[1]
    section = section.split("\n## ")[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 4  # the third, train/load/predict: tests/test_python_api.py; the
    # fourth, forecast/generate/translate: tests/test_python_api_text.py
    blocks = blocks[:2]
    namespace: dict[str, object] = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the loop path's and torch's own notices
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
    assert printed.getvalue() == \
        "torch.Size([3, 7, 40]) torch.Size([4, 3, 20]) fused\n"  # as its comment says
    shapes = [tuple(namespace[name].shape) for name in ("output", "h_n", "c_n")]  # type: ignore[attr-defined]
    assert shapes == [(7, 5), (1, 5), (1, 20)]
    assert namespace["ln"].kernel == "loop"  # type: ignore[attr-defined]
    assert namespace["layer"].num_layers == 2  # type: ignore[attr-defined]


def test_the_line_printed_at_ctrl_c_is_the_one_the_readme_quotes() -> None:
    import argparse

    from rnnkit.cli import interrupted_message
    from rnnkit.training.interruption import TrainingInterrupted

    args = argparse.Namespace(task="synthetic", resume=False, out="RUN")
    error = TrainingInterrupted.at(17, 1, 3, 0, Path("RUN"))  # step K, epoch E, batch B
    line = f"rnnkit: {interrupted_message(args, error)}"
    for number, name in (("17", "K"), ("epoch 2", "epoch E"), ("batch 3", "batch B")):
        line = line.replace(number, name)
    assert f"`{line}`" in " ".join(README.read_text(encoding="utf-8").split())
    dqn = argparse.Namespace(task="dqn", resume=False, out=None)  # its seeds are kept
    line = f"rnnkit: {interrupted_message(dqn, KeyboardInterrupt())}"
    assert f"`{line}`" in " ".join(README.read_text(encoding="utf-8").split())
