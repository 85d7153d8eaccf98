"""rnnkit.config: defaults, TOML files, --set overrides, errors that name the key, round trips.

Values and their types, keys and sections, and the checks across settings are tested in
tests/test_config_*.py, which import RunConfig and write from here.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import tomllib

from rnnkit.config import (
    ConfigError,
    ModelConfig,
    TrainConfig,
    config_from_dict,
    config_to_dict,
    load_config,
    save_config,
    to_toml,
    valid_keys,
)


@dataclasses.dataclass(frozen=True)
class RunConfig:
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    config = load_config(RunConfig)
    assert config == RunConfig()
    assert config.model.cell == "lstm" and config.model.hidden_size == 128
    assert config.train.lr == 1e-3 and config.train.tbptt_steps == 0
    assert config.train.mode == "min" and config.train.device == "auto"


def test_valid_keys() -> None:
    keys = valid_keys(RunConfig)
    assert "model.cell" in keys and "train.lr" in keys and "train.clip_norm" in keys
    assert len(keys) == len(dataclasses.fields(ModelConfig)) + len(dataclasses.fields(TrainConfig))


def test_toml_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[model]\ncell = "gru"\nhidden_size = 32\n\n[train]\nlr = 0.01\n')
    config = load_config(RunConfig, path)
    assert config.model == ModelConfig(cell="gru", hidden_size=32)
    assert config.train == TrainConfig(lr=0.01)


def test_overrides_win_over_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[model]\ncell = "gru"\nhidden_size = 32\n')
    config = load_config(RunConfig, path, ["model.hidden_size=64", "train.epochs = 3"])
    assert (config.model.cell, config.model.hidden_size, config.train.epochs) == ("gru", 64, 3)


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[train\nlr = 0.1\n")
    with pytest.raises(ConfigError, match="not valid TOML") as caught:
        load_config(RunConfig, path)
    assert str(path) in str(caught.value)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as caught:
        load_config(RunConfig, tmp_path / "missing.toml")
    assert str(tmp_path / "missing.toml") in str(caught.value)


def test_a_config_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """Notepad's UTF-8 starts with a byte-order mark: it was 'not valid TOML: Invalid
    statement (at line 1, column 1)'."""
    path = tmp_path / "run.toml"
    path.write_bytes("\ufeff[train]\r\nepochs = 3\r\n".encode())
    assert load_config(RunConfig, path).train.epochs == 3


def test_a_folder_or_binary_file_as_config_names_the_file(tmp_path: Path) -> None:
    """A binary file said only 'an input file is not UTF-8 text', naming no file."""
    binary = tmp_path / "model.rnnkit"
    binary.write_bytes(b"\x93\x00\xff weights")
    with pytest.raises(ConfigError, match=f"config file {re.escape(str(binary))} is not UTF-8 "
                       "text .*; give the TOML file"):
        load_config(RunConfig, binary)
    with pytest.raises(ConfigError, match=f"config file {re.escape(str(tmp_path))} is a folder;"
                       " give the TOML file"):
        load_config(RunConfig, tmp_path)


def test_save_then_load_round_trip(tmp_path: Path) -> None:
    config = load_config(
        RunConfig,
        overrides=[
            "model.cell=gru",
            "model.bidirectional=true",
            "model.dropout=0.25",
            "train.lr=3e-05",
            "train.clip_norm=1",
            'train.monitor="val_accuracy"',
            "train.mode=max",
            "train.progress=false",
        ],
    )
    path = save_config(config, tmp_path / "out" / "config.toml")
    assert path.is_file()
    assert load_config(RunConfig, path) == config
    assert tomllib.loads(path.read_text(encoding="utf-8")) == config_to_dict(config)


def test_strings_with_special_characters_round_trip(tmp_path: Path) -> None:
    tricky = 'a "quoted" \\ back\\slash\nnew line\ttab \u00e9'
    config = RunConfig(train=TrainConfig(monitor=tricky))
    path = save_config(config, tmp_path / "config.toml")
    assert load_config(RunConfig, path).train.monitor == tricky


def test_config_from_dict() -> None:
    config = RunConfig(ModelConfig(cell="rnn", num_layers=2), TrainConfig(epochs=4, lr=0.5))
    assert config_from_dict(RunConfig, config_to_dict(config)) == config
    assert config_from_dict(RunConfig, {"train": {"lr": 1}}).train.lr == 1.0
    assert config_from_dict(RunConfig, {}) == RunConfig()
    with pytest.raises(ConfigError, match=r"unknown config key 'train\.speed' in saved config"):
        config_from_dict(RunConfig, {"train": {"speed": 1}})


def test_to_toml_rejects_values_toml_cannot_hold() -> None:
    with pytest.raises(ConfigError, match="cannot write"):
        to_toml({"train": {"lrs": [0.1, 0.2]}})


def test_overrides_keep_the_run_configs_own_section_defaults() -> None:
    import dataclasses

    from rnnkit.config import ModelConfig, load_config

    @dataclasses.dataclass(frozen=True)
    class BiRun:
        model: ModelConfig = dataclasses.field(
            default_factory=lambda: ModelConfig(bidirectional=True, hidden_size=7)
        )

    config = load_config(BiRun, overrides=["model.cell=gru"])
    assert config.model == ModelConfig(cell="gru", bidirectional=True, hidden_size=7)
