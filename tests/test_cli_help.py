"""What the help says holds: its examples run, its defaults are the real ones."""

from __future__ import annotations

import re

import pytest

from rnnkit.cli import main

TASKS = [["train", task] for task in ("synthetic", "tagger", "forecaster", "signal", "seq2seq",
                                      "lm", "classifier", "dqn")] + [["stocks"]]


@pytest.mark.parametrize("command", TASKS, ids=" ".join)
def test_the_set_example_of_every_help_is_a_key_the_command_takes(
        command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    example = re.search(r"e\.g\. --set (\S+)", help_text)
    assert example is not None, help_text
    extra = ["--dataset", "ud_english_ewt"] if command[-1] == "tagger" else []
    assert main([*command, *extra, "--set", example.group(1), "--print-config"]) == 0, \
        capsys.readouterr().err

