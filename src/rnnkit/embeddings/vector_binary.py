"""A word2vec binary file's words against its ``COUNT DIM`` header, which gensim trusts: with a
wrong DIM it reads each vector out of step (words of raw bytes, or 'a word is not UTF-8'), and
it reads COUNT words, dropping any that follow without a word. :func:`load_vectors
<rnnkit.embeddings.pretrained.load_vectors>` names either with these checks.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO, Any

from rnnkit.data.files import GZIP_ERRORS
from rnnkit.embeddings.vector_files import open_binary, read_head, unreadable

_CHUNK = 1 << 20
_MOST_NUMBERS = 10_000  # the largest vector size looked for


def dim_problem(path: Path) -> str | None:
    """That the header's DIM is not the size of the vectors, said for a human: read with DIM
    numbers a word, the first words run into raw bytes, and read with another number they are
    words; None otherwise (then the reading tells what is wrong, if anything)."""
    first, rest = read_head(path)
    count, dim = (int(number) for number in first.split())
    if _words_in_step(rest, 4 * dim) is not None:
        return None
    for size in range(1, min(len(rest) // 4, _MOST_NUMBERS)):
        words = _words_in_step(rest, 4 * size)
        if size != dim and words is not None and words >= 3:
            word = rest[: rest.find(b" ")].decode("utf-8", "replace")
            return (f"the header says {dim} numbers a word, but the vector of the first word "
                    f"{word[:40]!r} holds {size} ({4 * size} bytes); fix the header "
                    f"'COUNT DIM' on line 1 ('{count} {size}')")
    return None


def _words_in_step(data: bytes, size: int, most: int = 3) -> int | None:
    """How many of the first ``most`` words of ``data`` read as words (UTF-8 up to a space, no
    NUL or line break in it, a line break before it skipped) when each is followed by ``size``
    bytes; the end of ``data`` counts as one. None: one of them is raw bytes."""
    at = words = 0
    while words < most:
        if len(data) - at <= 2 and not data[at:].strip():
            return words + 1  # the file ends here (in a line break, maybe): all in step
        at += data[at : at + 1] == b"\n"
        space = data.find(b" ", at)
        if space == -1:
            return words  # the bytes read end inside the word
        word = data[at:space]
        try:
            word.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if not word or b"\0" in word or b"\n" in word:
            return None
        if space + 1 + size > len(data):
            return words  # the bytes read end inside its vector
        at, words = space + 1 + size, words + 1
    return words


def words_missing(path: Path) -> str | None:
    """That a binary file holds fewer words than its header's COUNT (gensim says only
    'unexpected end of input'), or that its gzip data ends early or is damaged, said for a
    human; None if neither."""
    try:
        count, found = _words_after_header(path)
    except (OSError, *GZIP_ERRORS) as error:  # a .gz cut short: gensim's bare EOFError
        return unreadable(path, error)
    if found >= count:
        return None
    return (f"the header promises {count} words but {found} follow it: is the file cut "
            "short? If not, fix the count on line 1")


def _words_after_header(path: Path) -> tuple[int, int]:
    """The header's COUNT and how many words of its DIM numbers follow it."""
    with open_binary(path) as file:
        count, dim = (int(number) for number in file.readline().split())
        return count, count_records(file, 4 * dim)


def words_past_count(path: Path, dim: int, words: list[Any]) -> str | None:
    """That more words follow a binary file's header than its COUNT (gensim reads COUNT words
    and drops the rest), said for a human; None if none do. ``words``: the COUNT words gensim
    read (a None for each repeat), which give the file's size when nothing follows them."""
    count = len(words)
    if not count:
        return None  # nothing read: the file holds no vectors, as load_vectors says
    try:
        if None not in words and _size_fits(path, count, dim, words):
            return None
        _, found = _words_after_header(path)
    except (OSError, *GZIP_ERRORS):  # damaged after the words gensim read: nothing to tell
        return None
    if found <= count:
        return None
    return (f"the header promises {count} words but {found} follow it (only the first {count} "
            "would be read); fix line 1")


def _size_fits(path: Path, count: int, dim: int, words: list[Any]) -> bool:
    """Whether the file is as long as its header and ``words`` make it, with a line break after
    each vector (as after the first) or none (a ``.gz`` file's size modulo 2**32 is in its
    last four bytes)."""
    first, rest = read_head(path)
    body = sum(len(word.encode("utf-8")) + 1 + 4 * dim for word in words)
    end = len(words[0].encode("utf-8")) + 1 + 4 * dim  # of the first vector
    breaks = count if rest[end : end + 1] == b"\n" else 0
    if path.suffix == ".gz":
        with path.open("rb") as raw:
            raw.seek(-4, 2)
            size = int.from_bytes(raw.read(4), "little")
        return (size - len(first) - body) % 2**32 == breaks
    return path.stat().st_size - len(first) - body == breaks


def count_records(file: io.BufferedIOBase | IO[bytes], size: int, chunk: bytes = b"",
                  most: int | None = None, block: int = _CHUNK) -> int:
    """How many ``word`` + space + ``size`` bytes records ``chunk`` and then the rest of
    ``file`` hold (``most`` at the most: None, all), read as gensim reads them (line breaks
    before a word are skipped), ``block`` bytes at a time; of a record whose end is not read
    yet, only its bytes from the space on are kept."""
    start = found = 0
    while most is None or found < most:
        space = chunk.find(b" ", start)
        if space != -1 and len(chunk) - space - 1 >= size:
            start, found = space + 1 + size, found + 1
            continue
        more = file.read(block)
        if not more:
            break
        chunk, start = chunk[space if space != -1 else len(chunk) :] + more, 0
    return found
