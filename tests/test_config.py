"""rnnkit.config: defaults, TOML files, --set overrides, errors that name the key, round trips."""

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
