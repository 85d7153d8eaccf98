"""The input files of the ``train`` tasks, checked before any is read.

:func:`~rnnkit.commands.common.resolve_config` runs a task's check before any file is read,
in one process and before ``train ... --nproc N`` starts its processes (a missing file, or a
split given no file, was refused once in every process, each printing the same line), so a
missing file gets the same message either way: a run in one process said it as its readers
did ('no such file or folder: X; check the path given', 'text file X does not exist'), without
the setting that named it. ``--print-config`` prints the settings whatever files they name.
A registry dataset's own files are left to the registry, which may download them. Each check
takes ``several``: the run is in several processes, each reading the files, where a pipe
(``<(...)``), read once, is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnnkit.config import ConfigError, check_input_file

SPLITS = ("train", "dev", "test")


def check_tagger_inputs(config: Any, several: bool = False) -> None:
    """``train tagger``: every split's file (one of its own, or none to take the dataset's)."""
    data = config.data
    for split in SPLITS:
        if getattr(data, split) or not data.dataset:
            check_input_file(data.path(split), f"data.{split} (--{split})", several=several)


def check_classifier_inputs(config: Any, several: bool = False) -> None:
    """``train classifier``: the training file, and the dev and test files where given."""
    data = config.data
    if not data.dataset and not data.train:
        from rnnkit.pipelines.classifier_data import NO_TRAINING_DATA

        raise ConfigError(NO_TRAINING_DATA)
    for split in SPLITS:
        if getattr(data, split):
            check_input_file(getattr(data, split), f"data.{split} (--{split})",
                             several=several)


def check_translation_inputs(config: Any, several: bool = False) -> None:
    """``train seq2seq``: both files of every split's pair, named by its prefix."""
    from rnnkit.pipelines.seq2seq import pair_files

    data = config.data
    for split in SPLITS if not data.dataset else ():
        for path in pair_files(data, split):
            check_input_file(path, f"data.{split} (--{split})",
                             f"give the prefix of an existing pair of files (<prefix>."
                             f"{data.src} and <prefix>.{data.tgt})", several=several)


def check_text_input(config: Any, several: bool = False) -> None:
    """``train lm``: the text file (``data.file``), where no registry dataset gives the text."""
    from rnnkit.pipelines.language_model import text_path

    if config.data.file or not config.data.dataset:
        check_input_file(text_path(config.data), "data.file (--file)", several=several)


def check_series_input(config: Any, several: bool = False) -> None:
    """``train forecaster`` and ``train signal``: a ``data.source`` that names a file (or a
    Parquet folder) rather than a registry series or a stock."""
    from rnnkit.pipelines.source_config import check_source, is_file

    source = config.data.source
    check_source(source, required=True)
    if several and is_file(source) and not Path(source).is_dir():  # a Parquet folder is one
        check_input_file(source, "data.source", several=several)
