"""rnnkit.config's values: --set's coercion, wrong types and what a right one looks like, numbers
TOML does not spell, limits on seeds and sizes, and text kept as typed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_config import RunConfig, write

from rnnkit.config import ConfigError, load_config


@pytest.mark.parametrize(
    ("override", "key", "expected"),
    [
        ("train.lr=1", "lr", 1.0),  # int -> float
        ("train.lr=2e-4", "lr", 2e-4),
        ("train.clip_norm=5", "clip_norm", 5.0),
        ("model.cell=gru", "cell", "gru"),  # a bare word is a string
        ('model.cell="rnn"', "cell", "rnn"),
        ("model.bidirectional=true", "bidirectional", True),
        ("train.progress=false", "progress", False),
        ("train.epochs=7", "epochs", 7),
        ("train.device=cuda", "device", "cuda"),
    ],
)
def test_override_coercion(override: str, key: str, expected: object) -> None:
    config = load_config(RunConfig, overrides=[override])
    section = getattr(config, override.split(".")[0])
    value = getattr(section, key)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("train.epochs=2.5", "train.epochs"),  # float -> int is not silent
        ("train.epochs=many", "train.epochs"),
        ("train.lr=fast", "train.lr"),
        ("train.epochs=true", "train.epochs"),  # bool is not an int here
        ("train.lr=true", "train.lr"),
        ("model.bidirectional=1", "model.bidirectional"),
        ("model.bidirectional=yes", "model.bidirectional"),
    ],
)
def test_wrong_type_names_the_key(override: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(RunConfig, overrides=[override])


def test_wrong_type_in_a_file_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[train]\nepochs = "ten"\n')
    with pytest.raises(ConfigError, match=r"train\.epochs in .*run\.toml expects int"):
        load_config(RunConfig, path)


def test_an_array_or_table_for_a_text_setting_is_refused_naming_the_key(tmp_path: Path) -> None:
    """Their Python text ("['gru']") was taken as the value and failed later, or not at all."""
    with pytest.raises(ConfigError, match=r'model\.cell is text, not an array; write comma-'
                       r'separated values as one string, e\.g\. model\.cell="gru,lstm"'):
        load_config(RunConfig, overrides=['model.cell=["gru", "lstm"]'])
    path = write(tmp_path, '[train]\nmonitor = ["val_loss"]\n')
    with pytest.raises(ConfigError, match=r'train\.monitor in .* is text, not an array; .*'
                       r'train\.monitor="val_loss"'):
        load_config(RunConfig, path)
    with pytest.raises(ConfigError, match=r"train\.device is text, not a table"):
        load_config(RunConfig, overrides=["train.device={kind = 'cpu'}"])
    assert load_config(RunConfig, overrides=["train.monitor=2014-06-30"]).train.monitor == \
        "2014-06-30"  # a TOML date is still text


@pytest.mark.parametrize("seed", ["18446744073709551616", "-1", "4294967296"])
def test_a_seed_numpy_cannot_take_is_refused_naming_the_key(seed: str) -> None:
    """torch and NumPy refused it later with 'Overflow when unpacking long long' or 'expected
    non-negative integer', naming no setting."""
    with pytest.raises(ConfigError, match=f"train.seed must be a whole number from 0 to "
                                          f"4294967295; got {seed}"):
        load_config(RunConfig, overrides=[f"train.seed={seed}"])
    assert load_config(RunConfig, overrides=["train.seed=4294967295"]).train.seed == 2**32 - 1


@pytest.mark.parametrize(("override", "message"), [
    ("model.hidden_size=9999999999999999999", "model.hidden_size must be at most 65536 (wider "
                                              "layers do not fit in memory"),
    ("model.hidden_size=70000", "model.hidden_size must be at most 65536"),
    ("model.num_layers=1000000000", "model.num_layers must be at most 1000 (deeper stacks do "
                                    "not train"),
    ("train.max_steps=9223372036854775808", "train.max_steps must be a whole number below "
                                            "2**63 (torch and NumPy take no larger); got 92233"),
])
def test_absurd_sizes_are_refused_naming_the_key(override: str, message: str) -> None:
    """hidden_size=9999999999999999999 was a TypeError traceback from torch.empty."""
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(RunConfig, overrides=[override])


def test_a_word_toml_reads_as_a_boolean_for_a_text_setting_shows_it_quoted(
        capsys: pytest.CaptureFixture[str]) -> None:
    """The example was the setting's default, and an empty one showed nothing to follow:
    'sample.prime expects str (text, e.g. sample.prime=""), got true'."""
    from rnnkit.cli import main

    for command, key, word in ((["train", "lm"], "sample.prime", "true"),
                               (["train", "forecaster"], "data.features", "false"),
                               (["train", "tagger"], "data.train", "true")):
        assert main([*command, "--set", f"{key}={word}", "--print-config"]) == 2
        assert f'{key} expects str (text, e.g. {key}="{word}"), got {word}' in \
            capsys.readouterr().err
    with pytest.raises(ConfigError, match=re.escape('e.g. model.cell="lstm"), got true')):
        load_config(RunConfig, overrides=["model.cell=true"])  # a default of its own: kept


def test_a_setting_that_utf8_cannot_write_is_refused_before_the_data(
        capsys: pytest.CaptureFixture[str]) -> None:
    """A file name in another encoding (its bytes as Linux passes them: surrogates) passed
    --print-config; the run read its data, then failed writing config.toml, after removing an
    earlier run's files, with "'utf-8' codec can't encode character '\\udce9'"."""
    from rnnkit.cli import main

    name = b"runs/caf\xe9.txt".decode("utf-8", "surrogateescape")
    assert main(["train", "lm", "--file", name, "--print-config"]) == 2
    captured = capsys.readouterr()
    assert "data.file holds bytes that are not UTF-8 text ('runs/caf\\udce9.txt', at character " \
           "8), such as a file name in another encoding" in captured.err and not captured.out
    with pytest.raises(ConfigError, match="train.device holds bytes that are not UTF-8"):
        load_config(RunConfig, overrides=[f"train.device={name}"])
    assert main(["train", "lm", "--file", "runs/caf\u00e9.txt", "--print-config"]) == 0


@pytest.mark.parametrize(("override", "message"), [
    ("train.epochs=abc", "train.epochs expects int (a whole number, e.g. train.epochs=10), "
                         "got 'abc'"),
    ("train.batch_size=1.5", "train.batch_size expects int (a whole number, e.g. "
                             "train.batch_size=64), got 1.5"),
    ("train.lr=fast", "train.lr expects float (a number, e.g. train.lr=0.001), got 'fast'"),
    ("train.epochs=true", "train.epochs expects int (a whole number, e.g. train.epochs=10), "
                          "got true"),
    ("model.bidirectional=yes", "model.bidirectional expects bool (true or false, e.g. "
                                "model.bidirectional=false), got 'yes'"),
    ("model.cell=true", 'model.cell expects str (text, e.g. model.cell="lstm"), got true'),
])
def test_a_value_of_the_wrong_type_says_what_one_looks_like(override: str, message: str) -> None:
    """It said only 'train.epochs expects int, got 'abc''."""
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(RunConfig, overrides=[override])


@pytest.mark.parametrize(("override", "value"), [
    ("train.lr=.5", 0.5), ("train.lr=5.", 5.0), ("train.lr=.5e-2", 0.005),
    ("train.lr=+.25", 0.25),
])
def test_a_number_toml_does_not_spell_is_read_for_a_number_setting(override: str,
                                                                   value: float) -> None:
    """train.lr=.5 was refused as 'train.lr expects float (a number ...), got '.5''."""
    config = load_config(RunConfig, overrides=[override])
    assert config.train.lr == value and type(config.train.lr) is float
    assert type(load_config(RunConfig, overrides=["model.cell=gru"]).model.cell) is str


def test_a_number_in_quotes_is_still_text_in_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[train]\nlr = ".5"\n')
    with pytest.raises(ConfigError, match=r"train\.lr in .* expects float"):
        load_config(RunConfig, path)
    with pytest.raises(ConfigError, match=r"train\.epochs expects int .*got '\.5'"):
        load_config(RunConfig, overrides=["train.epochs=.5"])


def test_a_whole_number_too_large_for_a_float_setting_is_refused(tmp_path: Path) -> None:
    """It was an OverflowError traceback (int too large to convert to float)."""
    with pytest.raises(ConfigError, match="train.lr must be a finite number; got a number of "
                                          "401 digits"):
        load_config(RunConfig, overrides=["train.lr=1" + "0" * 400])
    path = write(tmp_path, "[train]\nlr = -1" + "0" * 400 + "\n")
    with pytest.raises(ConfigError, match=r"train\.lr in .* must be a finite number"):
        load_config(RunConfig, path)


def test_a_whole_number_with_leading_zeros_is_read_for_a_number_setting_only() -> None:
    """train.seed=007 was refused as "train.seed expects int (a whole number ...), got '007'"
    (TOML refuses leading zeros); a text setting keeps them (a symbol such as 0700)."""
    config = load_config(RunConfig, overrides=["train.seed=007", "train.lr=02"])
    assert config.train.seed == 7 and config.train.lr == 2.0
    assert load_config(RunConfig, overrides=["train.device=0700"], check=False).train.device \
        == "0700"


@pytest.mark.parametrize("typed", ["1.50", "1e5", "1_000", "0x10", "2024-01-01T10:00:00", "inf"])
def test_a_text_setting_keeps_a_bare_number_as_typed(typed: str) -> None:
    """--set of a number for a text setting was read as TOML's number and written back:
    1.50 became '1.5', 1e5 '100000.0', 1_000 '1000', 0x10 '16'."""
    assert load_config(RunConfig, overrides=[f"train.monitor={typed}"],
                       check=False).train.monitor == typed
