"""What is wrong with a text vectors file (word2vec text or GloVe) that gensim fails on, or
reads otherwise than it looks: the first broken line, blank lines at its end, word lines
beyond its header's COUNT. :func:`load_vectors <rnnkit.embeddings.pretrained.load_vectors>`
names them with these checks, as :mod:`rnnkit.embeddings.vector_binary` does for binary files.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from rnnkit.data.files import GZIP_ERRORS
from rnnkit.embeddings.vector_files import (
    TAB_FIX,
    are_numbers,
    comma_hint,
    is_header,
    open_binary,
    tab_separated,
    unreadable,
)


def text_problem(path: Path, format: str) -> str | None:
    """The first line that breaks a text vectors file (or its gzip data), said for a human;
    None if none does (then gensim's own error is the best there is)."""
    try:
        return _first_bad_line(path, format)
    except (OSError, *GZIP_ERRORS) as error:  # a gzip file cut short or damaged
        return unreadable(path, error)


def _first_bad_line(path: Path, format: str) -> str | None:
    with open_binary(path) as file:
        lines = enumerate(file, start=1)
        dim = count = None
        if format == "word2vec-text":
            header = next(lines, (1, b""))[1].split()
            if not is_header(header):
                return f"line 1 is not a 'COUNT DIM' header: {b' '.join(header)[:60]!r}"
            count, dim = int(header[0]), int(header[1])
        seen = 0
        for number, raw in lines:
            if count is not None and seen == count:
                break  # gensim reads no further
            seen += 1
            problem = _line_problem(raw, dim)
            if problem:
                return f"line {number} {problem}"
            dim = dim or len(raw.rstrip().split(b" ")) - 1
    if count is not None and seen < count:
        return f"the header promises {count} words but {seen} follow it; fix line 1"
    return None


def rows_before_blank_end(path: Path) -> int | None:
    """How many lines come before the blank lines that end a file; None where it ends in
    none (or cannot be read to its end)."""
    last = count = 0
    try:
        with open_binary(path) as file:
            for count, line in enumerate(file, start=1):
                if line.strip():
                    last = count
    except (OSError, *GZIP_ERRORS):
        return None
    return last if last < count else None


def rows_past_count(path: Path) -> str | None:
    """For a word2vec text file: that more word lines follow its ``COUNT DIM`` header than
    COUNT (gensim reads COUNT and drops the rest), said for a human; None if none do."""
    try:
        with open_binary(path) as file:
            count = int(file.readline().split()[0])
            rows = WordLines(file).counted()
    except (OSError, *GZIP_ERRORS) as error:  # damaged after the words gensim read
        return unreadable(path, error)
    if rows <= count:
        return None
    return (f"the header promises {count} words but {rows} follow it (only the first {count} "
            "would be read); fix line 1")


class WordLines:
    """The lines of a text vectors file, one at a time, counting those that hold a word (all
    but the blank ones) as they are read. gensim reads the COUNT lines after a ``COUNT DIM``
    header, blank or not, and drops the rest: more word lines than COUNT lose words."""

    def __init__(self, lines: Iterable[bytes]) -> None:
        self.words = 0  # word lines read so far
        self._lines = self._counting(lines)

    def _counting(self, lines: Iterable[bytes]) -> Iterator[bytes]:
        for line in lines:
            self.words += bool(line.strip())
            yield line

    def __iter__(self) -> Iterator[bytes]:
        return self._lines

    def counted(self) -> int:
        """How many lines hold a word, the lines not yet read read to the end."""
        for _ in self:
            pass
        return self.words


def _line_problem(raw: bytes, dim: int | None) -> str | None:
    """What is wrong with one ``word x1 ... xDIM`` line (None: nothing)."""
    try:
        line = raw.decode("utf-8").rstrip()
    except UnicodeDecodeError:
        return "is not UTF-8 text; save the file as UTF-8"
    fields = line.split(" ")
    if tab_separated(line):
        return f"separates its fields with tabs: {raw.rstrip()[:60]!r}; {TAB_FIX}"
    if (dim and len(fields) > dim + 1 and are_numbers(fields[-dim:])
            and not are_numbers(fields[1:-dim])):  # not a row of too many numbers
        word = " ".join(fields[:-dim])
        return (f"holds the word {word[:60]!r}, with a space, before its {dim} numbers: a word "
                "in a vectors file holds none (each line is split at its spaces); remove the "
                f"line, or join the word ({word[:60].replace(' ', '_')!r})")
    if len(fields) < 2 or not are_numbers(fields[1:]):
        return f"is not 'WORD X1 X2 ...': {raw[:60]!r}{comma_hint(fields)}"
    if dim is not None and len(fields) - 1 != dim:
        return f"holds {len(fields) - 1} numbers, expected {dim}"
    return None
