"""Configurations read from TOML and ``--set section.key=value`` overrides, and written back as
TOML (:mod:`~rnnkit.config.resume` compares them on ``--resume``)."""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar, cast

import tomllib

from rnnkit.config.checks import ConfigError, check_utf8
from rnnkit.config.hints import did_you_mean, did_you_mean_key, did_you_mean_section
from rnnkit.config.sections import check_sections

ConfigT = TypeVar("ConfigT")


def valid_keys(config_type: type) -> list[str]:
    """Every ``section.key`` a configuration accepts."""
    keys: list[str] = []
    hints = typing.get_type_hints(config_type)
    for section in dataclasses.fields(config_type):
        section_type = hints[section.name]
        keys.extend(f"{section.name}.{f.name}" for f in dataclasses.fields(section_type))
    return keys


def load_config(
    config_type: type[ConfigT], path: str | Path | None = None, overrides: Iterable[str] = (),
    *, check: bool = True,
) -> ConfigT:
    """Build ``config_type`` from defaults, a TOML file, then ``section.key=value`` overrides.

    ``check=False`` reads the keys and their types but skips the checks of their values
    (:func:`~rnnkit.config.sections.check_sections`): for an earlier run's ``config.toml``,
    which its run read with the checks of its day, and which a later check (such as
    ``train.lr_factor`` without ``train.lr_patience``) must not make unreadable as a run of
    its task. A run's settings to train with are always checked."""
    values: dict[str, dict[str, Any]] = {}
    overridden: set[str] = set()  # the keys of --set, named as such in an error
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
        content = values.setdefault(section, {})
        if isinstance(content, dict):  # else the file's `train = 5`: refused by _build
            content[name] = _parse_value(raw.strip())
            overridden.add(f"{section}.{name}")
    return _build(config_type, values, source=str(path) if path else "overrides", check=check,
                  overridden=overridden)


class _Word(str):
    """A ``--set`` value as typed, unquoted: a bare word (``model.cell=gru``), taken as text,
    a number TOML does not spell, as a shell user may (``train.lr=.5``, ``5.``,
    ``train.seed=007``), or one it reads as a number, date or time (``parsed``), which a text
    setting keeps as typed (``sample.prime=1.50``, not ``1.5``)."""

    parsed: Any = None


DECIMAL = re.compile(r"[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?")  # what TOML's floats leave out
LEADING_ZEROS = re.compile(r"[+-]?0\d+")  # a whole number TOML refuses (007)


def _parse_value(raw: str) -> Any:
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return _Word(raw)  # a bare word is a string: --set model.cell=gru
    if isinstance(value, int | float | datetime.date | datetime.time) and \
            not isinstance(value, bool):
        word = _Word(raw)
        word.parsed = value
        return word
    return value  # a string, a boolean, an array or a table


def _build(config_type: type[ConfigT], values: dict[str, Any], source: str,
           check: bool = True, overridden: Iterable[str] = ()) -> ConfigT:
    """``source``: where ``values`` were read (a file), but for the keys ``overridden``
    (by ``--set``), which an error says came from the overrides."""
    keys = valid_keys(config_type)
    overridden = set(overridden)

    def origin(*names: str) -> str:  # where the keys ``names`` were given
        return "overrides" if names and overridden.issuperset(names) else source

    hints = typing.get_type_hints(config_type)
    defaults: Any = config_type()
    sections = {}
    for section, content in values.items():
        if section not in hints:
            if not isinstance(content, dict):  # `lr = 0.1` at the top
                raise ConfigError(f"{section} = {shown_value(content)} in {source} is outside any "
                                  "section: a key goes after its section's [section] line;"
                                  f"{did_you_mean_key(section, keys)} valid keys: "
                                  + ", ".join(keys))
            names = list(content)
            where = origin(*(f"{section}.{name}" for name in names))
            raise ConfigError(f"unknown config section {section!r} in {where};"
                              f"{did_you_mean_section(section, names, keys)} valid keys: "
                              + ", ".join(keys))
        if not isinstance(content, dict):
            raise ConfigError(f"{section} in {source} is a section, not a value (got "
                              f"{section} = {content!r}); write it as a table: a [{section}] "
                              "line, then its keys one per line (key = value)")
        section_type = hints[section]
        field_types = typing.get_type_hints(section_type)
        for name in content:
            if name not in field_types:
                raise ConfigError(f"unknown config key '{section}.{name}' in "
                                  f"{origin(f'{section}.{name}')};"
                                  f"{did_you_mean(section, name, keys)} valid keys: "
                                  + ", ".join(keys))
        section_defaults = getattr(defaults, section)
        typed = {n: coerce_value(f"{section}.{n}", v, field_types[n], getattr(section_defaults, n),
                            where=_in(origin(f"{section}.{n}")))
                 for n, v in content.items()}
        # start from the run's own defaults for the section, which may differ from the class's
        sections[section] = dataclasses.replace(section_defaults, **typed)
    config = cast(ConfigT, dataclasses.replace(defaults, **sections))
    if check:
        check_sections(config)
    return config


def _in(origin: str) -> str:
    """`` in run.toml``: the file a value came from, for the error that names its key (none
    for an override: its key is the one the command line gave)."""
    return "" if origin == "overrides" else f" in {origin}"


def coerce_value(key: str, value: Any, expected: Any, default: Any = None, where: str = "") -> Any:
    """``value`` as the type ``expected`` of the setting ``key`` (``where``: `` in FILE``, the
    file it came from, for the error)."""
    if isinstance(expected, types.UnionType) or typing.get_origin(expected) is typing.Union:
        allowed = typing.get_args(expected)
    else:
        allowed = (expected,)
    if isinstance(value, _Word):
        value = _read_word(value, allowed)
    if isinstance(value, str):
        check_utf8(value, key)
    if expected is str and not default and isinstance(value, bool):  # 'e.g. data.train=""'
        default = _toml_value(value)  # showed nothing; the word as text: data.train="true"
    wrong = ConfigError(f"{key}{where} expects {_name(expected)}{_example(key, expected, default)}"
                        f", got {_toml_value(value) if isinstance(value, bool) else repr(value)}")
    if isinstance(value, bool) and bool not in allowed:
        raise wrong
    if float in allowed and isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # past 1.8e308: a traceback
            raise ConfigError(f"{key}{where} must be a finite number; got a number of "
                              f"{len(str(abs(value)))} digits") from None
    if any(isinstance(value, t) for t in allowed if isinstance(t, type)):
        return value
    if str in allowed:
        check_not_collection(key, value, where)
        return str(value)
    raise wrong


def _read_word(word: _Word, allowed: tuple[Any, ...]) -> Any:
    """The value of a bare ``--set`` value for a setting of the types ``allowed``: its text as
    typed for a text setting, else the number it spells."""
    if str in allowed:
        return str(word)
    if word.parsed is not None:
        return word.parsed
    if float in allowed and DECIMAL.fullmatch(word):
        return float(word)
    return int(word) if LEADING_ZEROS.fullmatch(word) else str(word)


def shown_value(value: Any) -> str:
    """A value as TOML writes it where it can (``true``, ``"gru"``), else as Python does."""
    try:
        return _toml_value(value)
    except ConfigError:
        return repr(value)


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


def check_not_collection(key: str, value: Any, where: str = "") -> None:
    """Refuse a TOML array or table for the text setting ``key``: its Python text
    (``"['temp']"``) would be read as one name or number later. Several values are one string.

    ``where``: `` in FILE``, the file that gave it, if any.

    Example:
        >>> check_not_collection("data.features", ["temp", "wind"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: data.features is text, not an array; ...="temp,wind"; got [...]
    """
    if isinstance(value, list):
        example = ",".join(str(item) for item in value) or "a,b"
        raise ConfigError(f"{key}{where} is text, not an array; write comma-separated values "
                          f"as one string, e.g. {key}={json.dumps(example)}; got {value!r}")
    if isinstance(value, dict):
        raise ConfigError(f"{key}{where} is text, not a table; give it as one string, e.g. "
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


def toml_text(text: str) -> str:
    """``text`` as a TOML string, for an override built from a flag (``data.train=...``):
    ``json.dumps`` escaped a character beyond U+FFFF (an emoji in a file name) as a surrogate
    pair, which TOML refuses, so the flag's value was read with its quotes and escapes.

    Example:
        >>> toml_text("runs/\U0001F600.txt")  # not "runs/\\ud83d\\ude00.txt"
        '"runs/\U0001F600.txt"'
    """
    return _toml_value(str(text))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # JSON's escapes are TOML's too; escaping control characters keeps newlines valid TOML
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    raise ConfigError(f"cannot write {value!r} ({type(value).__name__}) to TOML")


def save_config(config: Any, path: str | Path) -> Path:
    """Write the resolved configuration as TOML, atomically (``--resume`` reads it back)."""
    from rnnkit.training.checkpoint import atomic_write_text

    text = to_toml(config_to_dict(config))
    return atomic_write_text(path, text)
