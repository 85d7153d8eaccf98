"""What a registered dataset is: its files (split, name, URL, checksum) and what it holds.

The entries themselves are in :mod:`rnnkit.data.catalog`; :mod:`rnnkit.data.registry` keeps them
by name and finds their files on this machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DatasetFile:
    """One file of a dataset.

    Attributes:
        split: the split it belongs to (``train``, ``dev``, ``test``...); a split may have
            several files, e.g. one per language.
        filename: its name in the mirror and the cache.
        url: where to download it; ``""`` when it can only come from a mirror.
        sha256: the checksum of the file as it lies in the mirror (after unpacking).
        member: its path inside the archive (``.zip``, ``.tar``, ``.tar.gz``) at ``url``; None
            when ``url`` is the file itself. A ``url`` ending in ``.gz`` for a ``filename``
            that does not is decompressed.
    """

    split: str
    filename: str
    url: str
    sha256: str
    member: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: what it is, its license, and its files.

    Example:
        >>> from rnnkit.data.registry import get_spec
        >>> spec = get_spec("wnut17")
        >>> spec.splits, spec.format, spec.reader_options["tag_column"]
        (('train', 'dev', 'test'), 'iob', 2)
    """

    name: str
    description: str
    task: str
    format: str
    license: str
    homepage: str
    mirror_dir: str
    files: tuple[DatasetFile, ...]
    reader_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.files:
            raise ValueError(f"dataset {self.name!r} has no files")
        names = [entry.filename for entry in self.files]
        if len(set(names)) != len(names):
            raise ValueError(f"dataset {self.name!r} lists a filename twice: {names}")
        for entry in self.files:
            if len(entry.sha256) != 64 or set(entry.sha256) - set("0123456789abcdef"):
                raise ValueError(f"dataset {self.name!r}, {entry.filename}: sha256 must be "
                                 f"64 lowercase hex digits, not {entry.sha256!r}")

    @property
    def splits(self) -> tuple[str, ...]:
        """The split names, in the order of the files."""
        return tuple(dict.fromkeys(entry.split for entry in self.files))

    def split_files(self, split: str) -> list[DatasetFile]:
        """The files of one split; an unknown split is a ValueError naming the known ones."""
        if split not in self.splits:
            raise ValueError(f"dataset {self.name!r} has no split {split!r}; "
                             f"its splits: {', '.join(self.splits)}")
        return [entry for entry in self.files if entry.split == split]
