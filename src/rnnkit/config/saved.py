"""Settings that rnnkit saved (a bundle's ``model`` section, its ``lookback``) read back with
the checks a run applies to the same settings: each value's type as a run's configuration
file has it read (:func:`~rnnkit.config.files.load_config`), then its value as every run checks
it (:func:`~rnnkit.config.sections.check_section`), so that a damaged file is refused naming
the setting before anything is built from it."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, TypeVar, cast

from rnnkit.config.checks import ConfigError
from rnnkit.config.files import coerce_value, shown_value  # a run's reading of one value
from rnnkit.config.sections import check_section, check_value

SectionT = TypeVar("SectionT")


def saved_section(name: str, section_type: type[SectionT], values: Any) -> SectionT:
    """A section that rnnkit saved (a bundle's ``model`` settings) read back as a run reads
    its ``[name]`` section: each value's type as a run's configuration file gives it, then the
    section's values as every run checks them (:func:`~rnnkit.config.sections.check_section`).
    Keys the section does not know are left out, for the model to refuse (a newer rnnkit's).

    Raises:
        ConfigError: naming the setting (``name.key``), what it holds and what it needs.

    Example:
        >>> from rnnkit.config import ModelConfig
        >>> saved_section("model", ModelConfig, {"dropout": "x"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: model.dropout expects float (a number, ...), got 'x'
    """
    if not isinstance(values, dict):
        raise ConfigError(f"{name} must be a table of settings; got {shown_value(values)}")
    defaults: Any = section_type()
    field_types = typing.get_type_hints(section_type)
    typed = {key: saved_value(f"{name}.{key}", value, field_types[key], getattr(defaults, key))
             for key, value in values.items() if key in field_types}
    section = dataclasses.replace(defaults, **typed)
    check_section(name, section)
    return cast(SectionT, section)


def saved_value(key: str, value: Any, expected: Any, default: Any = None) -> Any:
    """One saved setting ``key`` as the type ``expected`` (``int``, ``float``, ``bool``,
    ``str``), refused as in a run's configuration file (``default``: for the example), and
    its value as every run checks it (:func:`~rnnkit.config.sections.check_value`)."""
    typed = coerce_value(key, value, expected, default)
    check_value(key, typed)
    return typed


def saved_values(config: dict[str, Any], settings: dict[str, tuple[str, Any]]) -> None:
    """:func:`saved_value` for each key of ``settings`` (key -> the run setting it was saved
    from, and its type) that ``config`` holds: a key missing (older bundles lack some) is left
    to the model's rebuilding, which names it."""
    for key, (setting, expected) in settings.items():
        if key in config:
            saved_value(setting, config[key], expected)
