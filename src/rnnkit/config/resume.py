"""The check on ``--resume``: a resumed run may change how long and how it runs, never what it
learns from or how."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnnkit.config.checks import ConfigError
from rnnkit.config.files import config_to_dict, load_config

# what a resumed run may change: how long and how it runs, never what it learns from or how
RESUMABLE = ("train.epochs", "train.max_steps", "train.patience", "train.lr_patience",
             "train.lr_factor", "train.min_lr", "train.checkpoint_every", "train.device",
             "train.threads", "train.progress",
             # temperature scaling acts after training only (a finished run resumed gets T)
             "classifier.calibrate", "signal.calibrate")


def check_resume_config(config: Any, saved: str | Path) -> None:
    """Refuse to resume the run whose settings are in ``saved`` with other settings than
    :data:`RESUMABLE` and ``sample.*``: the checkpoint would go on with the old ones (its
    optimizer keeps its learning rate, its data and vocabularies are built), so the new
    values would be ignored or mix two runs.

    Raises:
        ConfigError: naming each changed key with its old and new value.
    """
    try:
        earlier = config_to_dict(load_config(type(config), saved, check=False))
    except ConfigError as error:
        raise ConfigError(f"--resume: the run's settings cannot be read ({error}); start a "
                          "new run with another --out") from None
    now = config_to_dict(config)
    changed = [f"{section}.{key} ({value!r} -> {now[section][key]!r})"
               for section, values in earlier.items() for key, value in values.items()
               if now[section][key] != value and f"{section}.{key}" not in RESUMABLE
               and section != "sample" and not _resolved(section, key, now[section][key], now)]
    if changed:
        sampling = " and sample.*" if "sample" in earlier else ""  # a language model's
        raise ConfigError(f"--resume: {', '.join(changed)} "
                          f"{'differs' if len(changed) == 1 else 'differ'} from the run in "
                          f"{Path(saved).parent}, which would go on with its own. A resumed "
                          f"run may change only {', '.join(RESUMABLE)}{sampling}; leave "
                          "the others as they were (with --out naming the run, its own "
                          "settings are the start and only changes need --set), or start a "
                          "new run with another --out")


def _resolved(section: str, key: str, now: Any, settings: dict[str, Any]) -> bool:
    """``train.monitor=auto`` (a tagger's default) against the metric the run resolved it to
    and saved: the resumed run resolves it again from the same data, which the checkpoint
    holds it to (its tags); the run refuses a resolution that differs from the saved one.
    ``seq2seq.input_feeding`` true -> false with ``seq2seq.attention=none``: a run saved so
    trained without input feeding (the model dropped it), as the resumed run does."""
    name = f"{section}.{key}"
    if name == "seq2seq.input_feeding":
        return now is False and settings.get("seq2seq", {}).get("attention") == "none"
    return name == "train.monitor" and now == "auto"
