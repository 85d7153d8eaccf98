"""The command line, called in-process: info, help, a first run and its printed results.

Run folders and --resume, settings refused before any work, input and output files, and runs
that fail or are stopped are tested in tests/test_cli_*.py, which import TINY from here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rnnkit.cli import main

TINY = [
    "--set", "data.length=12", "--set", "data.train_size=256", "--set", "data.val_size=64",
    "--set", "data.test_size=64", "--set", "model.hidden_size=8", "--set", "train.epochs=2",
    "--set", "train.batch_size=32", "--set", "train.progress=false",
]


def test_info_lists_versions_and_kernels(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "torch" in out and "fused oneDNN (CPU)" in out and "fused cuDNN (GPU)" in out
    assert "cuDNN float32 math" in out


def test_info_says_whether_cudnn_uses_tf32(monkeypatch: pytest.MonkeyPatch) -> None:
    from rnnkit.layers.fused import cudnn_float32_math

    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    assert cudnn_float32_math().startswith("TF32")
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    assert cudnn_float32_math() == "IEEE float32"
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    rnn = getattr(torch.backends.cudnn, "rnn", None)
    if rnn is not None and hasattr(rnn, "fp32_precision"):  # PyTorch's newer API
        monkeypatch.setattr(rnn, "fp32_precision", "ieee")  # reading allow_tf32 would raise
        assert cudnn_float32_math() == "IEEE float32"
        monkeypatch.setattr(rnn, "fp32_precision", "tf32")
        assert cudnn_float32_math().startswith("TF32")


@pytest.mark.parametrize("command", [["info"], ["train", "synthetic"], ["evaluate"], ["diagnose"]])
def test_every_subcommand_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: rnnkit" in capsys.readouterr().out


def _commands(parser: object, name: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    """Every (sub)command's name and parser, the top one first."""
    import argparse

    found = [(name, parser)]
    for action in parser._actions:  # type: ignore[attr-defined]
        if isinstance(action, argparse._SubParsersAction):
            for sub, subparser in action.choices.items():
                found += _commands(subparser, (*name, sub))
    return found


def test_every_command_s_help_prints_and_documents_every_argument(
        capsys: pytest.CaptureFixture[str]) -> None:
    """``rnnkit word2vec neighbors --help`` listed its ``word`` with no word on what it is."""
    import argparse

    from rnnkit.cli import build_parser

    commands = _commands(build_parser())
    assert len(commands) > 25
    for name, parser in commands:
        with pytest.raises(SystemExit) as exit_info:
            main([*name, "--help"])
        assert exit_info.value.code == 0 and "usage: rnnkit" in capsys.readouterr().out
        bare = [action.dest for action in parser._actions  # type: ignore[attr-defined]
                if not action.help and not isinstance(action, argparse._SubParsersAction)]
        assert not bare, f"rnnkit {' '.join(name)}: {bare} have no help"


def test_train_writes_run_folder_and_evaluate_reads_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["train", "synthetic", *TINY, "--set", "model.cell=gru", "--out", str(out)]) == 0
    for name in ("config.toml", "metrics.jsonl", "last.pt", "best.pt", "model.rnnkit",
                 "results.json"):
        assert (out / name).is_file(), name
    saved = (out / "config.toml").read_text()
    assert 'cell = "gru"' in saved and "length = 12" in saved
    results = json.loads((out / "results.json").read_text())
    assert results["epochs"] == 2 and results["kernel"] == "fused"
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out / "model.rnnkit"), "--size", "64", "--out",
                 str(tmp_path / "eval")]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["length"] == 12 and scored["task"] == "adding"
    assert json.loads((tmp_path / "eval" / "results.json").read_text()) == scored


def test_print_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "synthetic", "--print-config", "--set", "train.lr=0.01"]) == 0
    out = capsys.readouterr().out
    assert "lr = 0.01" in out and "# valid keys:" in out


def test_python_dash_m_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rnnkit", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "diagnose" in result.stdout


def test_diagnose_help_gives_the_length_its_check_enforces(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["diagnose", "--help"])
    shown = " ".join(capsys.readouterr().out.split())  # argparse wraps the help lines
    assert ">= 100" not in shown  # said so, yet --length 10 ran (100 is only the default)
    assert "sequence length (at least 2)" in shown and "(at least 1;" in shown
    # --length 5 is 4 blanks and the mark to repeat (data.synthetic.copy_task), not 5 blanks
    assert "copy task's delay: the steps between its 10 symbols and their recall, blanks " \
        "and then the mark to repeat them" in shown


def test_diagnose_help_says_what_steps_trains(capsys: pytest.CaptureFixture[str]) -> None:
    import inspect

    from rnnkit.pipelines.demonstration import EXPLODE, run_demonstration

    with pytest.raises(SystemExit):
        main(["diagnose", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    # said every budget was rounded up to a multiple of 50 (--steps 30 trains 30), gave no
    # default, and that the exploding part always took 600 steps (the unclipped run stops)
    assert "always takes" not in shown
    defaults = inspect.signature(run_demonstration).parameters
    every, steps = defaults["eval_every"].default, defaults["steps"].default
    assert f"each cell trains (default {steps}): up to {every} exactly that many" in shown
    assert f"above {every} rounded up to a multiple of {every}, one point every {every}" in shown
    assert f"each takes up to {EXPLODE.steps} SGD steps, the unclipped one stopping" in shown
    # --hidden-size gave no default and --cells did not name the cells it takes
    assert f"hidden units of every cell (default {defaults['hidden_size'].default})" in shown
    from rnnkit.config import CELLS

    assert f"comma-separated cells, some of {', '.join(CELLS)}" in shown


def test_printed_results_are_strict_json(capsys: pytest.CaptureFixture[str]) -> None:
    # what train/evaluate print is read by scripts: NaN (nothing to score) must be null there
    from rnnkit.commands.common import print_json

    print_json({"test": {"f1": float("nan"), "loss": float("inf"), "runs": [1.5, float("nan")]}},
               indent=2)
    printed = capsys.readouterr().out
    assert json.loads(printed, parse_constant=lambda name: pytest.fail(name)) == {
        "test": {"f1": None, "loss": None, "runs": [1.5, None]}}


def test_info_on_a_cpu_only_machine_does_not_report_cudnn_math(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import rnnkit.info

    monkeypatch.setattr(rnnkit.info, "fused_available",
                        lambda: {"oneDNN (CPU)": True, "cuDNN (GPU)": False})
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    info = rnnkit.info.collect_info()
    assert info["cuda"] == "not available" and info["default device"] == "cpu"
    assert info["cuDNN float32 math"] == "not used (no GPU)"


def test_info_says_when_onednn_is_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # it said 'available' and 'on the CPU oneDNN for an LSTM over a full batch' with
    # torch.backends.mkldnn.enabled = False, where every layer runs ATen's kernels
    import rnnkit.info

    monkeypatch.setattr(rnnkit.info, "fused_available",
                        lambda: {"oneDNN (CPU)": True, "cuDNN (GPU)": False})
    monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.mkldnn, "enabled", False)
    info = rnnkit.info.collect_info()
    assert info["fused oneDNN (CPU)"] == ("available, turned off"
                                          " (torch.backends.mkldnn.enabled)")
    assert info["fused path on the CPU"] == (
        "ATen's C++ kernels for every RNN/LSTM/GRU (oneDNN is turned off:"
        " torch.backends.mkldnn.enabled is False)")
