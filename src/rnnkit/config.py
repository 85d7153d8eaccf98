"""Run configuration: frozen dataclasses, read from TOML, overridden with ``key=value`` strings.

A run's configuration is a dataclass whose fields are sections (themselves dataclasses of
plain values: str, int, float, bool). ``load_config`` fills it from an optional TOML file and
``--set section.key=value`` overrides; an unknown section or key is an error that lists the
valid keys. ``save_config`` writes the resolved configuration back as TOML, so any run can be
repeated with ``--config run/config.toml``.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import types
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import tomllib

ConfigT = TypeVar("ConfigT")
NumberT = TypeVar("NumberT", int, float)


class ConfigError(ValueError):
    """A configuration file or override that cannot be used, with the reason."""


def number_list(text: str, key: str, kind: type[NumberT], minimum: float | None = None,
                example: str = "") -> list[NumberT]:
    """The comma-separated numbers of the setting ``key`` (at least one, each ``>= minimum``).

    Example:
        >>> number_list("0.1, 10", "forecast.ridge_alphas", float, minimum=0)
        [0.1, 10.0]
        >>> number_list("1,x", "data.change_lags", int)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: data.change_lags must be whole numbers separated by ...
    """
    what = "whole numbers" if kind is int else "numbers"
    example = example or ("1,2" if kind is int else "0.5,2")
    try:
        values = [kind(part) for part in str(text).split(",") if part.strip()]
    except ValueError:
        values = []
    if not values:
        raise ConfigError(f"{key} must be {what} separated by commas, e.g. {example}; "
                          f"got {text!r}")
    if minimum is not None and min(values) < minimum:
        raise ConfigError(f"{key} must be {what} of at least {minimum:g}; got {text!r}")
    return values


def check_choice(value: str, key: str, choices: Sequence[str]) -> None:
    """Refuse a setting ``key`` that is not one of ``choices``.

    Example:
        >>> check_choice("tertile", "signal.thresholds", ("tertiles", "fixed"))
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: signal.thresholds must be one of tertiles, fixed; got 'tertile'
    """
    if value not in choices:
        raise ConfigError(f"{key} must be one of {', '.join(choices)}; got {value!r}")


def check_at_least(value: float, key: str, minimum: float) -> None:
    """Refuse a number setting ``key`` below ``minimum``, or not a finite number.

    Example:
        >>> check_at_least(float("nan"), "--cost-bps", 0)
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: --cost-bps must be a finite number of at least 0; got nan
    """
    if not math.isfinite(value) or value < minimum:
        what = "a finite number of at least" if not math.isfinite(value) else "at least"
        raise ConfigError(f"{key} must be {what} {minimum:g}; got {value!r}")


def check_at_most(value: int, key: str, maximum: int, why: str) -> None:
    """Refuse a whole-number setting ``key`` above ``maximum``, saying ``why`` it is absurd.

    Example:
        >>> check_at_most(2000, "model.num_layers", 1000, "too deep")
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: model.num_layers must be at most 1000 (too deep); got 2000
    """
    if value > maximum:
        raise ConfigError(f"{key} must be at most {maximum} ({why}); got {value!r}")


MAX_SEED = 2**32 - 1  # NumPy's seeds; torch's shuffling multiplies the seed, so no larger


def check_seed(value: int, key: str) -> None:
    """Refuse a seed ``key`` that NumPy or torch cannot take (both fail with no key named).

    Example:
        >>> check_seed(-1, "train.seed")
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: train.seed must be a whole number from 0 to 4294967295; got -1
    """
    if not 0 <= value <= MAX_SEED:
        raise ConfigError(f"{key} must be a whole number from 0 to {MAX_SEED}; got {value!r}")


def check_fraction(value: float, key: str) -> None:
    """Refuse a setting ``key`` that is not strictly between 0 and 1."""
    if not 0 < value < 1:
        raise ConfigError(f"{key} must be between 0 and 1 (both excluded); got {value!r}")


def check_date(text: str, key: str) -> None:
    """Refuse a setting or flag ``key`` that is not a date, month or year (``2009-12-31``,
    ``2009-12``, ``2009``), the periods the time splits read.

    Example:
        >>> check_date("2014-13-01", "data.test_end")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: data.test_end must be a date such as 2009-12-31 ...
    """
    import pandas as pd

    try:
        valid = pd.Period(str(text)) is not pd.NaT
    except ValueError as error:
        reason, valid = f" ({error})", False
    else:
        reason = ""
    if not valid:
        raise ConfigError(f"{key} must be a date such as 2009-12-31 (or a month 2009-12, or a "
                          f"year 2009); got {text!r}{reason}")


def check_model(config: ModelConfig) -> None:
    """Refuse a ``model`` section the recurrent encoder cannot be built from, naming the key
    (the layers' own errors name no setting)."""
    from rnnkit.cells.init import INIT_SCHEMES
    from rnnkit.layers.recurrent import KERNELS

    check_choice(config.cell, "model.cell", CELLS)
    check_at_least(config.hidden_size, "model.hidden_size", 1)
    check_at_least(config.num_layers, "model.num_layers", 1)
    check_at_most(config.num_layers, "model.num_layers", MAX_LAYERS,
                  "deeper stacks do not train; 2 to 4 layers are usual")
    check_rate(config.dropout, "model.dropout")
    check_rate(config.recurrent_dropout, "model.recurrent_dropout")
    check_choice(config.nonlinearity, "model.nonlinearity", ("tanh", "relu"))
    check_choice(config.init, "model.init", INIT_SCHEMES)
    check_choice(config.kernel, "model.kernel", KERNELS)


def changed_keys(section: str, values: Any, defaults: Any, names: Iterable[str]) -> list[str]:
    """The keys ``section.name`` among ``names`` whose value differs from ``defaults``: the
    settings a user changed, for refusing those a run would not read.

    Example:
        >>> changed_keys("model", ModelConfig(cell="gru"), ModelConfig(), ["cell", "num_layers"])
        ['model.cell']
    """
    return [f"{section}.{name}" for name in names
            if getattr(values, name) != getattr(defaults, name)]


def check_files_beside_dataset(data: Any) -> None:
    """Refuse ``data.train``, ``data.dev`` or ``data.test`` beside a registry ``data.dataset``,
    whose own splits are read: the files would be ignored."""
    files = [f"data.{split}" for split in ("train", "dev", "test") if getattr(data, split)]
    if data.dataset and files:
        raise ConfigError(f"data.dataset={data.dataset} reads that dataset's own splits, so "
                          f"{' and '.join(files)} would not be read: train on your files "
                          "without a dataset (--train alone clears it, or set data.dataset="
                          "\"\"), or leave the files out")


def check_rate(value: float, key: str) -> None:
    """Refuse a probability setting ``key`` (a dropout, label smoothing) outside ``[0, 1)``."""
    if not 0 <= value < 1:
        raise ConfigError(f"{key} must be at least 0 and below 1 (0 = off); got {value!r}")


def check_train(config: TrainConfig) -> None:
    """Refuse a ``train`` section the trainer would fail on later, or run without a word."""
    check_at_least(config.epochs, "train.epochs", 1)
    check_at_least(config.batch_size, "train.batch_size", 1)
    check_choice(config.optimizer, "train.optimizer", ("adam", "adamw", "sgd"))
    check_choice(config.mode, "train.mode", ("min", "max"))
    if not 0 < config.lr < math.inf:
        raise ConfigError(f"train.lr must be a finite number above 0; got {config.lr!r}")
    check_threads(config.threads, "train.threads")
    check_fraction(config.lr_factor, "train.lr_factor")
    check_rate(config.ema_decay, "train.ema_decay")
    for name in ("momentum", "weight_decay", "clip_norm", "clip_value", "tbptt_steps",
                 "max_steps", "patience", "lr_patience", "min_lr", "checkpoint_every",
                 "threads"):
        check_at_least(getattr(config, name), f"train.{name}", 0)
    check_device(config.device)
    if config.momentum and config.optimizer != "sgd":  # adam/adamw: betas, not momentum
        raise ConfigError(f"train.momentum is read only with train.optimizer=sgd, and it is "
                          f"{config.optimizer}: leave it out, or set train.optimizer=sgd")


def check_threads(value: int, key: str) -> None:
    """Refuse a thread count ``key`` far above this machine's cores (torch would start them
    all, or fail with no key named)."""
    cores = os.cpu_count() or 1
    if value > 4 * cores:
        raise ConfigError(f"{key} {value} is far more than this machine's "
                          f"{cores} cores; use at most {cores} (0 = torch's default)")


def check_device(device: str) -> None:
    """``train.device`` is ``auto``, ``cpu``, ``cuda`` or ``cuda:N``."""
    if device not in ("auto", "cpu") and not (device == "cuda" or device.startswith("cuda:")
                                               and device[5:].isdigit()):
        raise ConfigError(f"train.device must be auto, cpu, cuda or cuda:N; got {device!r}")


RATE_NAMES = ("dropout", "label_smoothing")  # a key ending so is a probability in [0, 1)
SIZE_NAMES = ("word_dim", "embedding_dim", "beam_size")  # sizes of at least 1
WIDTH_NAMES = ("hidden_size", "word_dim", "embedding_dim", "char_dim", "char_hidden")
MAX_WIDTH = 2**16  # 4 * 65536**2 float32 weights (W_hh of one LSTM layer): 64 GiB
MAX_LAYERS = 1000
CELLS = ("rnn", "lstm", "gru")  # model.cell: the layers models.encoder builds
MAX_WHOLE = 2**63 - 1  # torch and NumPy read whole numbers as 64-bit


def check_sections(config: Any) -> None:
    """What every run configuration must satisfy, named by key: finite numbers, rates in
    ``[0, 1)``, sizes of at least 1 and at most :data:`MAX_WIDTH`, seeds NumPy takes, whole
    numbers below 2**63, and the ``model`` and ``train`` sections
    (:func:`check_model`, :func:`check_train`). Task-specific settings are checked by their
    pipelines."""
    for section in dataclasses.fields(config):
        values = getattr(config, section.name)
        if not dataclasses.is_dataclass(values):
            continue
        for item in dataclasses.fields(values):
            value, key = getattr(values, item.name), f"{section.name}.{item.name}"
            if isinstance(value, float) and not math.isfinite(value):  # no setting is nan/inf
                raise ConfigError(f"{key} must be a finite number; got {value!r}")
            if item.name in WIDTH_NAMES and isinstance(value, int):
                check_at_most(value, key, MAX_WIDTH, "wider layers do not fit in memory: an "
                              "LSTM layer of 65536 units alone holds 64 GiB of weights")
            if item.name.endswith(RATE_NAMES) and isinstance(value, float):
                check_rate(value, key)
            elif item.name in SIZE_NAMES and isinstance(value, int):
                check_at_least(value, key, 1)
            elif item.name == "seed" and isinstance(value, int):
                check_seed(value, key)
            if isinstance(value, int) and abs(value) > MAX_WHOLE:
                raise ConfigError(f"{key} must be a whole number below 2**63 (torch and NumPy "
                                  f"take no larger); got {value!r}")
        if isinstance(values, ModelConfig):
            check_model(values)
        elif isinstance(values, TrainConfig):
            check_train(values)
            if values.monitor == "auto" and not getattr(config, "AUTO_MONITOR", False):
                raise ConfigError("train.monitor=auto is read by train tagger alone (span F1 "
                                  "or accuracy, by its tags); name a metric such as val_loss")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The recurrent encoder shared by every task model."""

    cell: str = "lstm"  # rnn | lstm | gru
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0  # between stacked layers
    recurrent_dropout: float = 0.0  # variational dropout on h_(t-1); forces the loop path
    layer_norm: bool = False  # layer-normalised LSTM/GRU; forces the loop path
    nonlinearity: str = "tanh"  # for cell = rnn: tanh | relu
    init: str = "recurrent"  # torch | recurrent (orthogonal W_hh, forget bias 1)
    kernel: str = "auto"  # auto | fused | loop


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Options of :class:`rnnkit.training.Trainer`; 0 switches an optional feature off."""

    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "adam"  # adam | adamw | sgd
    lr: float = 1e-3
    momentum: float = 0.0  # sgd only
    weight_decay: float = 0.0
    clip_norm: float = 0.0  # clip the global gradient norm to this value
    clip_value: float = 0.0  # clip every gradient element to [-v, v]
    ema_decay: float = 0.0  # validate and keep a moving average of the weights (e.g. 0.99)
    tbptt_steps: int = 0  # truncated BPTT window; 0 = backpropagate through the whole sequence
    max_steps: int = 0  # stop after this many optimizer steps
    monitor: str = "val_loss"  # metric for early stopping, LR reduction and the best checkpoint
    mode: str = "min"  # min | max
    patience: int = 0  # early stopping: epochs without improvement
    lr_patience: int = 0  # reduce the LR after this many epochs without improvement
    lr_factor: float = 0.5
    min_lr: float = 0.0
    checkpoint_every: int = 0  # also checkpoint every N steps (the end of each epoch always is)
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    threads: int = 0  # CPU threads for torch; 0 = torch's default (all cores)
    progress: bool = True


def valid_keys(config_type: type) -> list[str]:
    """Every ``section.key`` a configuration accepts."""
    keys: list[str] = []
    hints = typing.get_type_hints(config_type)
    for section in dataclasses.fields(config_type):
        section_type = hints[section.name]
        keys.extend(f"{section.name}.{f.name}" for f in dataclasses.fields(section_type))
    return keys


def load_config(
    config_type: type[ConfigT], path: str | Path | None = None, overrides: Iterable[str] = ()
) -> ConfigT:
    """Build ``config_type`` from defaults, a TOML file, then ``section.key=value`` overrides."""
    values: dict[str, dict[str, Any]] = {}
    if path is not None:
        path = Path(path)
        try:
            # a byte-order mark (Notepad's UTF-8) is no TOML: it was 'Invalid statement'
            values = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except IsADirectoryError:
            raise ConfigError(f"config file {path} is a folder; give the TOML file (a run "
                              "folder's is its config.toml)") from None
        except UnicodeDecodeError as error:
            raise ConfigError(f"config file {path} is not UTF-8 text ({error.reason} at byte "
                              f"{error.start}); give the TOML file of the run's settings"
                              ) from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    for override in overrides:
        key, sep, raw = override.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not dot:
            raise ConfigError(f"override {override!r} must look like section.key=value")
        values.setdefault(section, {})[name] = _parse_value(raw.strip())
    return _build(config_type, values, source=str(path) if path else "overrides")


def _parse_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw  # a bare word is a string: --set model.cell=gru


def _build(config_type: type[ConfigT], values: dict[str, Any], source: str) -> ConfigT:
    keys = valid_keys(config_type)
    hints = typing.get_type_hints(config_type)
    defaults: Any = config_type()
    sections = {}
    for section, content in values.items():
        if section not in hints:
            raise ConfigError(f"unknown config section {section!r} in {source};"
                              f"{_did_you_mean('', section, list(hints))} valid keys: "
                              + ", ".join(keys))
        if not isinstance(content, dict):
            raise ConfigError(f"{section} in {source} is a section, not a value (got "
                              f"{section} = {content!r}); write it as a table: a [{section}] "
                              "line, then its keys one per line (key = value)")
        section_type = hints[section]
        field_types = typing.get_type_hints(section_type)
        for name in content:
            if name not in field_types:
                raise ConfigError(f"unknown config key '{section}.{name}' in {source};"
                                  f"{_did_you_mean(section, name, keys)} valid keys: "
                                  + ", ".join(keys))
        section_defaults = getattr(defaults, section)
        typed = {n: _coerce(f"{section}.{n}", v, field_types[n], getattr(section_defaults, n))
                 for n, v in content.items()}
        # start from the run's own defaults for the section, which may differ from the class's
        sections[section] = dataclasses.replace(section_defaults, **typed)
    config = cast(ConfigT, dataclasses.replace(defaults, **sections))
    check_sections(config)
    return config


def _coerce(key: str, value: Any, expected: Any, default: Any = None) -> Any:
    if isinstance(expected, types.UnionType) or typing.get_origin(expected) is typing.Union:
        allowed = typing.get_args(expected)
    else:
        allowed = (expected,)
    wrong = ConfigError(f"{key} expects {_name(expected)}{_example(key, expected, default)}"
                        f", got {_toml_value(value) if isinstance(value, bool) else repr(value)}")
    if isinstance(value, bool) and bool not in allowed:
        raise wrong
    if float in allowed and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if any(isinstance(value, t) for t in allowed if isinstance(t, type)):
        return value
    if str in allowed:
        check_not_collection(key, value)
        return str(value)
    raise wrong


def _did_you_mean(section: str, name: str, known: list[str]) -> str:
    """`` did you mean train.epochs?`` for a misspelt ``name`` of ``section`` (a section
    itself when ``section`` is ""), or a key put in the wrong section, among ``known``.

    Example:
        >>> _did_you_mean("train", "hidden_size", ["model.hidden_size", "train.lr"])
        ' did you mean model.hidden_size?'
    """
    if section:
        elsewhere = [key for key in known if key.partition(".")[2] == name]
        own = [key.partition(".")[2] for key in known if key.startswith(f"{section}.")]
        close = elsewhere or [f"{section}.{match}" for match in
                              difflib.get_close_matches(name, own, n=1)]
    else:
        close = difflib.get_close_matches(name, known, n=1)
    return f" did you mean {close[0]}?" if close else ""


KINDS = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}


def _example(key: str, expected: Any, default: Any) -> str:
    """`` (a whole number, e.g. train.epochs=10)``: what a value of type ``expected`` looks
    like, with the setting's default as the example ("" for other types).

    Example:
        >>> _example("train.lr", float, 0.001)
        ' (a number, e.g. train.lr=0.001)'
    """
    if expected not in KINDS:
        return ""
    example = f", e.g. {key}={_toml_value(default)}" if isinstance(default, expected) else ""
    return f" ({KINDS[expected]}{example})"


def check_not_collection(key: str, value: Any) -> None:
    """Refuse a TOML array or table for the text setting ``key``: its Python text
    (``"['temp']"``) would be read as one name or number later. Several values are one string.

    Example:
        >>> check_not_collection("data.features", ["temp", "wind"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: data.features is text, not an array; ...="temp,wind"; got [...]
    """
    if isinstance(value, list):
        example = ",".join(str(item) for item in value) or "a,b"
        raise ConfigError(f"{key} is text, not an array; write comma-separated values as one "
                          f"string, e.g. {key}={json.dumps(example)}; got {value!r}")
    if isinstance(value, dict):
        raise ConfigError(f"{key} is text, not a table; give it as one string, e.g. "
                          f'{key}="..."; got {value!r}')


def _name(expected: Any) -> str:
    return getattr(expected, "__name__", str(expected))


def config_to_dict(config: Any) -> dict[str, dict[str, Any]]:
    """The configuration as ``{section: {key: value}}``."""
    return dataclasses.asdict(config)


def config_from_dict(config_type: type[ConfigT], values: dict[str, Any]) -> ConfigT:
    """Rebuild a configuration saved with :func:`config_to_dict` (unknown keys are errors)."""
    return _build(config_type, values, source="saved config")


def to_toml(values: dict[str, dict[str, Any]]) -> str:
    """Sections of plain values as TOML text."""
    lines: list[str] = []
    for section, content in values.items():
        lines.append(f"[{section}]")
        for key, value in content.items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # JSON's escapes are TOML's too; escaping control characters keeps newlines valid TOML
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    raise ConfigError(f"cannot write {value!r} ({type(value).__name__}) to TOML")


# what a resumed run may change: how long and how it runs, never what it learns from or how
RESUMABLE = ("train.epochs", "train.max_steps", "train.patience", "train.lr_patience",
             "train.lr_factor", "train.min_lr", "train.checkpoint_every", "train.device",
             "train.threads", "train.progress")


def check_resume_config(config: Any, saved: str | Path) -> None:
    """Refuse to resume the run whose settings are in ``saved`` with other settings than
    :data:`RESUMABLE` and ``sample.*``: the checkpoint would go on with the old ones (its
    optimizer keeps its learning rate, its data and vocabularies are built), so the new
    values would be ignored or mix two runs.

    Raises:
        ConfigError: naming each changed key with its old and new value.
    """
    try:
        earlier = config_to_dict(load_config(type(config), saved))
    except ConfigError as error:
        raise ConfigError(f"--resume: the run's settings cannot be read ({error}); start a "
                          "new run with another --out") from None
    now = config_to_dict(config)
    changed = [f"{section}.{key} ({value!r} -> {now[section][key]!r})"
               for section, values in earlier.items() for key, value in values.items()
               if now[section][key] != value and f"{section}.{key}" not in RESUMABLE
               and section != "sample" and not _resolved(section, key, now[section][key])]
    if changed:
        sampling = " and sample.*" if "sample" in earlier else ""  # a language model's
        raise ConfigError(f"--resume: {', '.join(changed)} "
                          f"{'differs' if len(changed) == 1 else 'differ'} from the run in "
                          f"{Path(saved).parent}, which would go on with its own. A resumed "
                          f"run may change only {', '.join(RESUMABLE)}{sampling}; leave "
                          "the others as they were (with --out naming the run, its own "
                          "settings are the start and only changes need --set), or start a "
                          "new run with another --out")


def _resolved(section: str, key: str, now: Any) -> bool:
    """``train.monitor=auto`` (a tagger's default) against the metric the run resolved it to
    and saved: the resumed run resolves it again from the same data, which the checkpoint
    holds it to (its tags); the run refuses a resolution that differs from the saved one."""
    return f"{section}.{key}" == "train.monitor" and now == "auto"


def save_config(config: Any, path: str | Path) -> Path:
    """Write the resolved configuration as TOML, atomically (``--resume`` reads it back)."""
    from rnnkit.training.checkpoint import atomic_write_text

    text = to_toml(config_to_dict(config))
    return atomic_write_text(path, text)
