"""Where a command reads and writes: a file in the way of a folder, an empty folder flag, the
text of ``--input`` or ``--text``, and the checks of an ``--output`` file made before any
work."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from rnnkit.config import ConfigError


def file_in_the_way(path: Path) -> Path | None:
    """The file at ``path`` or at the nearest of its parents that exists, where a folder must
    be; None when that is a folder (or nothing exists yet)."""
    for place in (path, *path.parents):
        if place.exists():
            return None if place.is_dir() else place
    return None


def check_folder(path: Path, flag: str) -> None:
    """Refuse a ``flag`` naming a folder to write in where a file is (mkdir said only
    ``[Errno 17] File exists``)."""
    blocker = file_in_the_way(path)
    if blocker == path:
        raise ConfigError(f"{flag} {path} is a file, but {flag} names a folder (made if "
                          "missing); give a folder's path, or move the file away")
    if blocker is not None:
        raise ConfigError(f"{flag} {path}: {blocker} is a file, not a folder; {flag} names a "
                          "folder (made if missing): give a path whose folders are folders")


class FolderPath(argparse.Action):
    """Store a folder flag (``--out``) as a Path, and whether the text given was empty, as
    ``empty_<dest>``: ``Path("")`` is ``.``, so the Path alone cannot tell ``--out "$RUN"``
    with ``RUN`` unset from ``--out .``. Read here, the flag is seen however argparse took
    it: ``--out ""``, ``--out=``, or an abbreviation (``--ou ""``)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, Path(values))
        setattr(namespace, f"empty_{self.dest}", values == "")


def read_text_input(path: str | None) -> str:
    """The text of ``--input`` (a file, ``.gz`` decompressed as the data readers do) or of
    standard input (``-`` or none): UTF-8 with a byte-order mark left out; bytes that are not
    UTF-8 are an error naming the file (or standard input) and the line, whatever the locale
    (a C locale passes them on escaped)."""
    from rnnkit.data.files import decode_utf8, read_bytes

    if path is None or path == "-":
        raw, name = sys.stdin.buffer.read(), "standard input"
    else:  # a .gz was read as gzip bytes: 'not UTF-8 text' of a UTF-8 file
        raw, name = read_bytes(path), path
    return decode_utf8(raw, name).removeprefix("\ufeff")


def input_lines(text: str, args: argparse.Namespace) -> list[str]:
    """The lines of ``--text`` or of ``--input``'s text, split at ``\n`` (and ``\r\n``; not
    ``splitlines``: U+2028 is no line break in a text). A carriage return left within a line
    is refused, naming the line: a file with old Mac (CR) line endings would be one line, so
    every text in it one text. Carriage returns ending a line are its ending, as the data
    readers take them (:func:`~rnnkit.data.tagged.contents`): the last line of a CRLF file
    whose final ``\n`` is gone (``--text "$(cat reviews.txt)"``), or ``\r\r\n``.

    Example:
        >>> input_lines("good\\r\\n\\r\\nbad\\r", argparse.Namespace(text="", input=None))
        ['good', '', 'bad']
    """
    from rnnkit.data.tagged import text_lines

    return text_lines(text, input_name(args))


def input_name(args: argparse.Namespace) -> str:
    """What an error calls the input: ``--text``, standard input or the ``--input`` file."""
    return "--text" if args.text is not None else (
        "standard input" if args.input in (None, "-") else args.input)


def check_output_file(path: Path | None, flag: str = "--output", example: str = "",
                      atomic: bool = False) -> None:
    """Refuse, before the work that fills it (the model's loading included), a ``flag`` that
    names a folder (``example``: a file name to suggest in it), whose folder is a file, or
    that cannot be written: an existing file is written in place (``/dev/null``, a file of
    one's own in a folder of others), so it must be writable, a new one needs its folder
    (the nearest that exists) writable. ``atomic``: the output is written to a temporary
    file renamed over ``path``, which needs the folder writable in both cases. Nothing is
    created: a command refused later leaves no folder behind."""
    if path is None:
        return
    if path.is_dir():
        example = example or "predictions" + (path.suffix or ".txt")
        raise ConfigError(f"{flag} {path} is a folder; give the file to write, e.g. "
                          f"{path / example}")
    blocker = file_in_the_way(path.parent)
    if blocker is not None:
        raise ConfigError(f"{flag} {path}: {blocker} is a file, not a folder, so nothing can "
                          f"be written in it; give {flag} a path in a folder")
    if path.exists() and not atomic:
        if not os.access(path, os.W_OK):
            raise ConfigError(f"{flag} {path} cannot be written (no permission, or read-only);"
                              f" give {flag} a file you can write to")
        return
    folder = next((place for place in path.parents if place.exists()), None)
    if folder is not None and not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag} {path}: the folder {folder} cannot be written in (no "
                          f"permission, or read-only); give {flag} a path in a folder you can "
                          "write to")


def same_file(first: Path, second: Path) -> bool:
    """Whether two paths name one file: the same path once resolved (``./v.bin``, ``x/../v.bin``
    or a symbolic link), or an existing file and a hard link to it."""
    if first.resolve() == second.resolve():
        return True
    try:
        return first.samefile(second)
    except OSError:  # either is missing (or unreadable): not one existing file
        return False


def check_not_input(output: Path | None, given: str | None, flag: str = "--input",
                    output_flag: str = "--output", example: str = "") -> None:
    """Refuse an ``output_flag`` path that is the input file ``given`` by ``flag``: it is read
    whole, then the output would be written over it (``example``: a file name to suggest)."""
    if output is not None and given not in (None, "", "-") and same_file(output, Path(given)):
        suggestion = f", e.g. {output.with_name(example)}" if example else ""
        raise ConfigError(f"{output_flag} {output} is the {flag} file: the output would be "
                          f"written over it; give {output_flag} another file{suggestion}")


def check_output_apart(output: Path | None, inputs: dict[str, str | None]) -> None:
    """Refuse an ``--output`` that :func:`check_output_file` refuses, or that is one of the
    ``inputs`` (flag or description -> the path it reads; None or "" for none): the check
    every command that reads files and writes ``--output`` makes before any work."""
    check_output_file(output)
    for flag, given in inputs.items():
        check_not_input(output, given, flag)


def make_parent(path: Path | None, flag: str = "--output", example: str = "") -> None:
    """Create the folder an output file goes in, once there is something to write in it;
    refuse what :func:`check_output_file` refuses."""
    check_output_file(path, flag, example)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
