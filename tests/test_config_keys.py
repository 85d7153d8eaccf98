"""rnnkit.config's keys and sections: unknown or misspelt ones and their suggestions, malformed
overrides, keys outside a section, and errors that name where a key was given."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_config import RunConfig, write

from rnnkit.config import ConfigError, load_config


def test_unknown_key_lists_the_valid_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(RunConfig, overrides=["train.learning_rate=0.1"])
    message = str(caught.value)
    assert "train.learning_rate" in message and "train.lr" in message and "model.cell" in message
    path = write(tmp_path, "[model]\nsize = 3\n")
    with pytest.raises(ConfigError, match=r"model\.size.*train\.lr") as caught:
        load_config(RunConfig, path)
    assert str(path) in str(caught.value)


def test_unknown_section(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown config section 'optim'.*train\.lr"):
        load_config(RunConfig, overrides=["optim.lr=0.1"])
    path = write(tmp_path, "epochs = 3\n")  # a key outside any section
    with pytest.raises(ConfigError, match="epochs = 3 in .* is outside any section"):
        load_config(RunConfig, path)


def test_a_section_given_a_plain_value_says_to_make_it_a_table(tmp_path: Path) -> None:
    """It said 'unknown config section', though the section exists."""
    path = write(tmp_path, "train = 5\n")
    with pytest.raises(ConfigError, match=r"train in .* is a section, not a value \(got train = "
                       r"5\); write it as a table: a \[train\] line"):
        load_config(RunConfig, path)


@pytest.mark.parametrize("override", ["train.lr", "lr=0.1", "=3"])
def test_malformed_override(override: str) -> None:
    with pytest.raises(ConfigError, match="section.key=value"):
        load_config(RunConfig, overrides=[override])


@pytest.mark.parametrize(("override", "hint"), [
    ("train.epoch=3", "did you mean train.epochs?"),
    ("trian.epochs=3", "did you mean train.epochs?"),
    ("trian.epoch=3", "did you mean train.epochs?"),
    ("model.epochs=3", "did you mean train.epochs?"),
    ("trainer.hidden_size=3", "did you mean model.hidden_size?"),  # not train.hidden_size
    ("train.hidden_size=3", "did you mean model.hidden_size?"),  # in the wrong section
    ("train.xyz=3", ""),  # nothing close: no guess
])
def test_a_misspelt_key_suggests_the_close_one(override: str, hint: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(RunConfig, overrides=[override])
    message = str(caught.value)
    assert (hint in message) if hint else "did you mean" not in message
    assert "valid keys: model.cell" in message


def test_an_unknown_section_is_not_matched_to_a_close_section_without_the_key(
        capsys: pytest.CaptureFixture[str]) -> None:
    """train dqn has no train section: 'train.epochs' said 'did you mean trading?', a section
    of costs; an empty [trian] table of a file still gets its section."""
    from rnnkit.cli import main

    assert main(["train", "dqn", "--set", "train.epochs=3", "--print-config"]) == 2
    assert "did you mean" not in capsys.readouterr().err
    assert main(["train", "dqn", "--set", "train.lr=0.1", "--print-config"]) == 2
    assert "did you mean agent.lr?" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="did you mean train[?]"):
        config_from_toml_text("[trian]\n")


def test_an_unknown_section_prefers_the_close_section_holding_the_key(
        capsys: pytest.CaptureFixture[str]) -> None:
    """train seq2seq --set modle.dropout=0.1 said 'did you mean seq2seq.dropout?' (the first
    section holding a dropout), and train lm --set smaple.seed=3 'train.seed'; the section
    close to the misspelt one is named."""
    from rnnkit.cli import main

    assert main(["train", "seq2seq", "--set", "modle.dropout=0.1", "--print-config"]) == 2
    assert "did you mean model.dropout?" in capsys.readouterr().err
    assert main(["train", "lm", "--set", "smaple.seed=3", "--print-config"]) == 2
    assert "did you mean sample.seed?" in capsys.readouterr().err
    assert main(["train", "seq2seq", "--set", "sequence.dropout=0.1", "--print-config"]) == 2
    assert "did you mean seq2seq.dropout?" in capsys.readouterr().err


def config_from_toml_text(text: str) -> RunConfig:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run.toml"
        path.write_text(text, encoding="utf-8")
        return load_config(RunConfig, path)


def test_a_section_given_a_plain_value_in_the_file_is_refused_with_an_override_too(
        tmp_path: Path) -> None:
    """With --set of a key of that section it was a TypeError traceback ('int' object does
    not support item assignment)."""
    path = write(tmp_path, "train = 5\n")
    with pytest.raises(ConfigError, match=r"train in .* is a section, not a value"):
        load_config(RunConfig, path, ["train.lr=0.1"])


def test_an_error_names_where_the_key_was_given(tmp_path: Path) -> None:
    """An unknown key of --set was said to be in the --config file, and a value of the wrong
    type in the file named no file."""
    path = write(tmp_path, "[train]\nlr = 0.01\n")
    with pytest.raises(ConfigError, match=r"unknown config key 'train\.lrr' in overrides;"):
        load_config(RunConfig, path, ["train.lrr=1"])
    with pytest.raises(ConfigError, match=r"unknown config section 'trian' in overrides;"):
        load_config(RunConfig, path, ["trian.lr=1"])
    wrong = write(tmp_path, '[train]\nlr = "fast"\nmonitor = ["val_loss"]\n')
    with pytest.raises(ConfigError, match=f"train\\.lr in {re.escape(str(wrong))} expects "
                       r"float \(a number, e\.g\. train\.lr=0\.001\), got 'fast'"):
        load_config(RunConfig, wrong)
    with pytest.raises(ConfigError, match=f"train\\.monitor in {re.escape(str(wrong))} is "
                       "text, not an array"):
        load_config(RunConfig, wrong, ["train.lr=0.1"])
    with pytest.raises(ConfigError, match=r"^train\.lr expects float"):  # --set's own key
        load_config(RunConfig, path, ["train.lr=fast"])


@pytest.mark.parametrize(("text", "hint"), [
    ('lr = 0.1\n[train]\nepochs = 2\n', "did you mean train.lr (under a [train] line)?"),
    ("hiden_size = 8\n", "did you mean model.hidden_size (under a [model] line)?"),
    ('cell = "gru"\n', "did you mean model.cell (under a [model] line)?"),
    ("xyz = [1]\n", ""),
])
def test_a_key_before_any_section_says_to_put_it_under_its_section(
        tmp_path: Path, text: str, hint: str) -> None:
    """It said "unknown config section 'lr'", though lr is a key (its [train] line missing)."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(RunConfig, path)
    message = str(caught.value)
    assert f"in {path} is outside any section: a key goes after its section's [section] " \
           f"line;{' ' + hint if hint else ''} valid keys: " in message
    assert "unknown config section" not in message
