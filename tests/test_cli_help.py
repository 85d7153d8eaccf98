"""What the help says holds: its examples run, its defaults are the real ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rnnkit.cli import build_parser, main

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



def test_generate_s_help_states_the_sampling_defaults_it_uses(
        capsys: pytest.CaptureFixture[str]) -> None:
    from rnnkit.models.generate import SamplingConfig

    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    defaults = SamplingConfig()
    for flag, value in (("--length", defaults.length), ("--temperature", defaults.temperature),
                        ("--top-k", defaults.top_k), ("--top-p", defaults.top_p),
                        ("--seed", defaults.seed)):
        said = re.search(rf"{flag} \S+ [^-]*?\(default ([\d.]+)", help_text)
        assert said is not None, flag
        assert float(said.group(1)) == value, flag
    parsed = build_parser().parse_args(["generate", "--model", "m.rnnkit"])
    assert (parsed.length, parsed.temperature, parsed.top_k, parsed.top_p, parsed.seed) == (
        defaults.length, defaults.temperature, defaults.top_k, defaults.top_p, defaults.seed)


@pytest.mark.parametrize("command", TASKS, ids=" ".join)
def test_a_printed_config_read_back_prints_the_same(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = ["--dataset", "ud_english_ewt"] if command[-1] == "tagger" else []
    assert main([*command, *extra, "--set", "model.hidden_size=24", "--print-config"]) == 0
    printed = capsys.readouterr().out
    saved = tmp_path / "run.toml"
    saved.write_text(printed, encoding="utf-8")
    assert main([*command, "--config", str(saved), "--print-config"]) == 0
    assert capsys.readouterr().out == printed


def test_stocks_help_names_the_folder_it_writes_without_out(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import rnnkit.pipelines.stocks_job as job

    folders: list[Path] = []
    monkeypatch.setattr(job, "run_stocks", lambda config, out, resume: folders.append(out))
    assert main(["stocks"]) == 0
    with pytest.raises(SystemExit):
        main(["stocks", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"run folder (default: {folders[0]}," in help_text, help_text


def test_evaluate_s_help_gives_the_synthetic_defaults_it_scores_with(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tiny = [f"--set=data.{key}" for key in ("length=9", "train_size=64", "val_size=16",
                                            "test_size=16")]
    tiny += ["--set=model.hidden_size=4", "--set=train.epochs=1", "--set=train.progress=false"]
    assert main(["train", "synthetic", *tiny, "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "test sequences (default 2000)" in help_text
    assert "sequence length to test on (default: the model's data.length" in help_text
    assert main(["evaluate", "--model", str(tmp_path / "run" / "model.rnnkit")]) == 0
    assert '"length": 9' in capsys.readouterr().out


def test_evaluate_s_help_lists_the_formats_its_models_take(
        capsys: pytest.CaptureFixture[str]) -> None:
    from rnnkit.commands.classifier import FORMATS as CLASSIFIER
    from rnnkit.pipelines.tagger_data import FORMATS as TAGGER

    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    start, end = "--format FORMAT file format", "--date-column DATE_COLUMN time series"
    said = said[said.index(start):said.index(end)]
    assert all(re.search(rf"\b{name}\b", said) for name in (*TAGGER, *CLASSIFIER)), said
