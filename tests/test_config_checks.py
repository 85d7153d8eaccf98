"""rnnkit.config's checks across settings, made as the config is read (before any data): the fused
kernel's options, layer norm's cells, train.tbptt_steps, and train.mode against the monitor."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_config import RunConfig

from rnnkit.config import ConfigError, load_config


@pytest.mark.parametrize(("overrides", "named"), [
    (["model.recurrent_dropout=0.2"], "model.recurrent_dropout > 0: PyTorch's fused kernel "
                                      "has no dropout mask inside the time loop, so it runs"),
    (["model.layer_norm=true"], "model.layer_norm: PyTorch's fused kernel has no layer norm,"),
    (["model.layer_norm=true", "model.recurrent_dropout=0.1"],
     "model.recurrent_dropout > 0 and model.layer_norm: PyTorch's fused kernel has no dropout "
     "mask inside the time loop and no layer norm, so these run"),
])
def test_the_fused_kernel_with_loop_only_options_names_the_settings(overrides: list[str],
                                                                    named: str) -> None:
    """The layers said only "LSTM: kernel='fused' is impossible", naming no setting."""
    with pytest.raises(ConfigError, match=re.escape(f"model.kernel=fused cannot run with {named}")):
        load_config(RunConfig, overrides=["model.kernel=fused", *overrides])
    looped = load_config(RunConfig, overrides=["model.kernel=loop", *overrides])
    assert looped.model.kernel == "loop"


def test_layer_norm_on_a_plain_rnn_is_refused_before_the_data(
        capsys: pytest.CaptureFixture[str]) -> None:
    """--print-config (and every task's checks before its data) passed it; the run failed only
    when its model was built, after the data was read."""
    message = "model.layer_norm is available for lstm and gru cells, not rnn: set model.cell="
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(RunConfig, overrides=["model.cell=rnn", "model.layer_norm=true"])
    from rnnkit.cli import main

    for task in ("synthetic", "tagger", "forecaster", "signal", "seq2seq", "lm", "classifier",
                 "dqn"):
        assert main(["train", task, "--set", "model.cell=rnn", "--set", "model.layer_norm=true",
                     "--print-config"]) == 2, task
        assert message in capsys.readouterr().err, task
    assert load_config(RunConfig, overrides=["model.cell=gru", "model.layer_norm=true"])


def test_tbptt_steps_is_refused_before_the_data_where_the_model_has_no_windows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every task but train lm passed --print-config with train.tbptt_steps > 0, and its run
    failed at its first batch ('... does not support truncated BPTT'), after reading the data
    and removing the earlier run's checkpoints, bundle and results from --out."""
    from rnnkit.cli import main

    for command in (["train", "synthetic"], ["train", "tagger"], ["train", "forecaster"],
                    ["train", "signal"], ["train", "seq2seq"], ["train", "classifier"],
                    ["stocks"]):
        assert main([*command, "--set", "train.tbptt_steps=5", "--print-config"]) == 2, command
        assert "train.tbptt_steps=5 is read by train lm alone" in capsys.readouterr().err
    assert main(["train", "lm", "--set", "train.tbptt_steps=5", "--print-config"]) == 0
    assert "tbptt_steps = 5" in capsys.readouterr().out


@pytest.mark.parametrize(("override", "needed"), [
    ("train.mode=max", "min"),  # the default monitor, val_loss
    ("train.monitor=val_accuracy", "max"),  # the default mode, min
])
def test_a_mode_against_the_monitored_metric_is_refused_as_the_config_is_read(
        override: str, needed: str) -> None:
    """Only the trainer refused it: --print-config printed the settings, --nproc started its
    processes (each printing the error), and rnnkit stocks wrote config.toml first."""
    with pytest.raises(ConfigError, match=f"set train.mode={needed} with it"):
        load_config(RunConfig, overrides=[override])
    assert load_config(RunConfig, overrides=["train.monitor=val_skill", "train.mode=max"])


def test_print_config_refuses_a_mode_against_the_monitored_metric(
        capsys: pytest.CaptureFixture[str]) -> None:
    from rnnkit.cli import main

    assert main(["train", "seq2seq", "--set", "train.mode=min", "--print-config"]) == 2
    assert "train.monitor 'val_bleu' is better when higher" in capsys.readouterr().err
