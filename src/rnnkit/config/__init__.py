"""Run configuration: frozen dataclasses, read from TOML, overridden with ``key=value`` strings.

A run's configuration is a dataclass whose fields are sections (themselves dataclasses of
plain values: str, int, float, bool). ``load_config`` fills it from an optional TOML file and
``--set section.key=value`` overrides; an unknown section or key is an error that lists the
valid keys. ``save_config`` writes the resolved configuration back as TOML, so any run can be
repeated with ``--config run/config.toml``.

Six files: :mod:`~rnnkit.config.checks` (single values, :class:`ConfigError`),
:mod:`~rnnkit.config.sections` (the shared ``model`` and ``train`` sections),
:mod:`~rnnkit.config.files` (TOML, overrides), :mod:`~rnnkit.config.saved` (settings a bundle
saved, read back with a run's checks), :mod:`~rnnkit.config.resume` (what a resumed run may
change) and :mod:`~rnnkit.config.hints` (the guesses for a misspelt key).
"""

from rnnkit.config.checks import (
    MAX_SEED,
    ConfigError,
    changed_keys,
    check_at_least,
    check_at_most,
    check_choice,
    check_date,
    check_device,
    check_files_beside_dataset,
    check_fraction,
    check_input_file,
    check_rate,
    check_seed,
    check_threads,
    number_list,
)
from rnnkit.config.files import (
    check_not_collection,
    config_from_dict,
    config_to_dict,
    load_config,
    save_config,
    to_toml,
    toml_text,
    valid_keys,
)
from rnnkit.config.resume import RESUMABLE, check_resume_config
from rnnkit.config.saved import saved_section, saved_value, saved_values
from rnnkit.config.sections import (
    CELLS,
    MAX_LAYERS,
    MAX_WHOLE,
    MAX_WIDTH,
    ModelConfig,
    TrainConfig,
    check_model,
    check_section,
    check_sections,
    check_train,
)

__all__ = [
    "CELLS", "MAX_LAYERS", "MAX_SEED", "MAX_WHOLE", "MAX_WIDTH", "RESUMABLE", "ConfigError",
    "ModelConfig", "TrainConfig", "changed_keys", "check_at_least", "check_at_most",
    "check_choice", "check_date", "check_device", "check_files_beside_dataset",
    "check_fraction", "check_input_file", "check_model", "check_not_collection", "check_rate",
    "check_resume_config", "check_section", "check_sections", "check_seed", "check_threads",
    "check_train", "config_from_dict", "config_to_dict", "load_config", "number_list",
    "save_config", "saved_section", "saved_value", "saved_values", "to_toml", "toml_text",
    "valid_keys",
]
