"""A bundle's data settings (how its training data was read), which the commands that read
files for it (``predict``, ``evaluate``) need: one built and saved from Python may lack them."""

from __future__ import annotations

from typing import Any


def check_data_settings(model: Any, path: str, keys: tuple[str, ...], command: str,
                        config: str) -> None:
    """Refuse a bundle without the data settings ``keys`` that ``command`` reads: a classifier
    or tagger built and saved from Python without ``data=`` ended in a KeyError traceback.
    ``config``: the data section's class, whose ``reader_settings()`` they are."""
    missing = [key for key in keys if key not in model.data]
    if missing:
        kind = type(model).__name__
        raise ValueError(f"{path} does not keep how its training data was read (its data "
                         f"settings lack {', '.join(missing)}), which rnnkit {command} needs; "
                         f"a {kind} saved from Python needs data={config}(...)"
                         ".reader_settings() as it was trained with (rnnkit train keeps them)")
