"""A word2vec binary file's words against its ``COUNT DIM`` header, which gensim trusts: it
reads COUNT words, dropping any that follow without a word. :func:`load_vectors
<rnnkit.embeddings.pretrained.load_vectors>` names them with this check.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rnnkit.data.tagged import GZIP_ERRORS
from rnnkit.embeddings.vector_files import open_binary, read_head

_CHUNK = 1 << 20


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
        with open_binary(path) as file:
            file.readline()
            found = _count_words(file, 4 * dim)
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


def _count_words(file: io.BufferedIOBase, size: int) -> int:
    """How many ``word`` + space + ``size`` bytes records the rest of ``file`` holds, read as
    gensim reads them (line breaks before a word are skipped)."""
    chunk, start, found = b"", 0, 0
    while True:
        space = chunk.find(b" ", start)
        if space != -1 and len(chunk) - space - 1 >= size:
            start, found = space + 1 + size, found + 1
            continue
        more = file.read(_CHUNK)
        if not more:
            return found
        chunk, start = chunk[start:] + more, 0
