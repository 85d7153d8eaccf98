"""A vectors file's format and what is wrong with it, read from its bytes: word2vec binary
(``COUNT DIM`` header, then raw float32 bytes), word2vec text (the header, then ``WORD X1 ...``
lines) or GloVe (the text lines alone); ``.gz`` too. :mod:`rnnkit.embeddings.pretrained` loads
the vectors (through gensim) once these checks pass; :mod:`rnnkit.embeddings.vector_text` names
a broken line of a text file.
"""

from __future__ import annotations

import codecs
import gzip
import io
import re
from collections.abc import Sequence
from pathlib import Path

from rnnkit.data.files import GZIP_ERRORS, compressed_as

FORMATS = ("word2vec-binary", "word2vec-text", "glove")
_SNIFF_BYTES = 1 << 20  # a first line longer than this is not a vectors file
_FASTTEXT_MAGIC = (793712314).to_bytes(4, "little")  # a fastText model's first bytes
_MOST_GZIP_RATIO = 1032  # deflate unpacks one byte into at most this many
_DECIMAL_COMMA = re.compile(r"[-+]?\d*,\d+(?:[eE][-+]?\d+)?")


def open_binary(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def are_numbers(fields: Sequence[str]) -> bool:
    """Whether every field reads as a float (``"1e-3"``, ``"nan"`` too)."""
    try:
        [float(field) for field in fields]
    except ValueError:
        return False
    return True


def is_header(fields: Sequence[bytes]) -> bool:
    return len(fields) == 2 and all(part.isdigit() for part in fields)


def read_head(path: Path) -> tuple[bytes, bytes]:
    """The first line of a vectors file and, after a ``COUNT DIM`` header, the start of the
    rest; a file that cannot be read (or starts with a byte order mark) is a ValueError."""
    try:
        with open_binary(path) as file:
            first = file.readline(_SNIFF_BYTES)
            header = first.split()
            # a text line holds dim numbers of up to ~25 characters: read all of it
            # (at most 64 MiB: a header's DIM may be absurd, 99999999999 words a line)
            size = min(32 * int(header[1]) + 4096, 1 << 26) if is_header(header) else 0
            rest = file.read(size)
    except (OSError, *GZIP_ERRORS) as error:  # gzip.BadGzipFile is an OSError
        hint = ("; is it really gzipped, and whole? If it is not gzipped, rename it without .gz"
                if path.suffix == ".gz" else "")
        raise ValueError(f"vectors file {path} cannot be read: {error}{hint}") from None
    if first.startswith(codecs.BOM_UTF8):
        raise ValueError(f"vectors file {path} starts with a byte order mark (BOM), which "
                         "would become part of the first word; save it as UTF-8 without BOM")
    packed = compressed_as(first, path)
    if packed:
        example = " (glove.6B.zip holds glove.6B.100d.txt and others)" if "zip" in packed else ""
        raise ValueError(f"vectors file {path} {packed}{example}")
    if first.startswith(_FASTTEXT_MAGIC):
        raise ValueError(f"vectors file {path} is a fastText model (its .bin), not word vectors; "
                         "give the .vec file that fastText writes beside it (word2vec text)")
    if first[:1] == b"\x80" and first[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise ValueError(
            f"vectors file {path} is a Python pickle (a gensim model or KeyedVectors written by "
            ".save()?), not a vectors file; write its vectors with "
            "model.wv.save_word2vec_format(path, binary=True) (or vectors.save_word2vec_format)")
    return first, rest


def _check_file(path: Path) -> None:
    if path.is_dir():
        raise ValueError(f"vectors file {path} is a folder; give the vectors file in it "
                         "(word2vec binary or text, or GloVe)")
    if not path.is_file():
        raise ValueError(f"vectors file {path} does not exist")


def _line_two(rest: bytes) -> list[str]:
    # words that are not UTF-8 are load_vectors' error to name, not a sign of binary
    return rest.split(b"\n", 1)[0].decode("utf-8", "replace").rstrip().split(" ")


def _comma_decimals(fields: Sequence[str]) -> bool:
    """Whether ``word x1 x2 ...`` fields hold numbers, some written with a decimal comma."""
    numbers = fields[1:]
    commas = [x for x in numbers if _DECIMAL_COMMA.fullmatch(x)]
    return bool(commas) and all(x in commas or are_numbers([x]) for x in numbers)


def _looks_binary(first: bytes, rest: bytes) -> bool:
    """Whether a ``COUNT DIM`` header is followed by raw float bytes: the line after it is no
    ``word x1 x2 ...`` text line, and the bytes hold a NUL or are not UTF-8 (a text file whose
    line 2 is broken, or written with decimal commas, is no binary file)."""
    fields = _line_two(rest)
    if not is_header(first.split()) or (len(fields) >= 2 and are_numbers(fields[1:])):
        return False
    return _raw_bytes(rest) and not _comma_decimals(fields)


def _raw_bytes(rest: bytes) -> bool:
    """Whether the bytes after the header are no text: a NUL, or no UTF-8 (a character cut
    at the end of the sniffed bytes is not counted)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(rest, final=False)
    except UnicodeDecodeError:
        return True
    return b"\0" in rest


def detect_format(path: str | Path) -> str:
    """Which of :data:`FORMATS` a vectors file is in, from its first two lines.

    Raises:
        ValueError: the file is missing (or a folder), unreadable, empty, or starts with
            neither a ``COUNT DIM`` header nor a ``word x1 x2 ...`` line.
    """
    path = Path(path)
    _check_file(path)
    first, rest = read_head(path)
    header = first.split()
    if not header:
        raise ValueError(f"vectors file {path} is empty (or starts with a blank line)")
    if is_header(header):
        dim = int(header[1])
        fields = _line_two(rest)
        if _looks_binary(first, rest):
            return "word2vec-binary"  # raw float bytes after the first word
        if not rest.strip():
            return "word2vec-text"  # no word follows the header: the reading says so
        refuse_tabs(path, first, rest)
        if len(fields) < 2 or not are_numbers(fields[1:]):
            line = rest.split(b"\n", 1)[0]
            raise ValueError(f"vectors file {path}: line 2 is neither a text line 'WORD X1 ... "
                             f"X{dim}' nor raw binary numbers: {line[:60]!r}"
                             + comma_hint(fields))
        if len(fields) != dim + 1:
            raise ValueError(
                f"vectors file {path}: the header says {dim} numbers a word but line 2 holds "
                f"{len(fields) - 1}; fix the header 'COUNT DIM' on line 1"
            )
        return "word2vec-text"
    refuse_tabs(path, first, rest)
    fields = first.decode("utf-8", "replace").rstrip().split(" ")
    if len(fields) >= 2 and are_numbers(fields[1:]):
        return "glove"
    raise ValueError(
        f"vectors file {path} starts with neither a word2vec header 'COUNT DIM' nor a GloVe "
        f"line 'WORD X1 X2 ...': {first[:80]!r}{comma_hint(fields)}"
    )


def tab_separated(line: str) -> bool:
    """Whether a ``word x1 x2 ...`` line has a tab between its word and its numbers (a word
    may hold a tab, but not one followed by numbers alone, as ``the<TAB>0.1 0.2`` is)."""
    parts = line.split(" ", 1)[0].split("\t")
    return len(parts) >= 2 and are_numbers(parts[1:])


TAB_FIX = ("a vectors file separates a word and its numbers with spaces: replace the tabs "
           "with spaces")


def refuse_tabs(path: Path, first: bytes, rest: bytes) -> None:
    """Refuse a text file whose first word line (line 2 after a header) separates its fields
    with tabs: gensim reads ``the<TAB>0.1 0.2 0.3`` as the word ``the<TAB>0.1`` with two
    numbers, in silence."""
    number, line = (2, rest.split(b"\n", 1)[0]) if is_header(first.split()) else (1, first)
    if tab_separated(line.decode("utf-8", "replace").rstrip()):
        raise ValueError(f"vectors file {path}: line {number} separates its fields with tabs: "
                         f"{line.rstrip()[:60]!r}; {TAB_FIX}")


def check_vectors_file(path: str | Path, format: str = "auto") -> str:
    """The format of a vectors file (``format``, or the one detected for ``"auto"``), from its
    first lines only: a quick check of a file that is loaded later.

    Raises:
        ValueError: what :func:`load_vectors` raises for an unknown format, a missing file or
            folder, or a file whose first lines are in no format (or in another than
            ``format``).
    """
    path = Path(path)
    if format == "auto":
        return detect_format(path)
    if format not in FORMATS:
        raise ValueError(
            f"unknown vectors format {format!r}; expected auto or {', '.join(FORMATS)}"
        )
    check_given_format(path, format)
    return format


def check_given_format(path: Path, format: str) -> None:
    """Refuse a binary file given as text and a text file given as binary (gensim would fail
    deep inside, or read text bytes as numbers), and a word2vec text file given as GloVe (its
    header would be read as a word); other problems are the reading's to name."""
    _check_file(path)
    first, rest = read_head(path)  # unreadable, or a byte order mark
    binary = _looks_binary(first, rest)
    if format != "word2vec-binary" and not binary:
        refuse_tabs(path, first, rest)
    if format == "word2vec-binary" and not binary:
        detected = detect_format(path)  # text: its format, or what keeps it from being one
    elif format != "word2vec-binary" and binary:
        detected = "word2vec-binary"
    elif format == "glove" and _header_fits(first, rest):
        detected = "word2vec-text"
    else:
        return
    kinds = {"word2vec-binary": "raw float bytes after a 'COUNT DIM' header",
             "word2vec-text": "a 'COUNT DIM' header, then 'WORD X1 X2 ...' text lines",
             "glove": "'WORD X1 X2 ...' text lines"}
    raise ValueError(f"vectors file {path} is a {detected} file ({kinds[detected]}), not "
                     f"{format}; give the format {detected}, or auto to detect it")


def _header_fits(first: bytes, rest: bytes) -> bool:
    """Whether the first line is a ``COUNT DIM`` header and line 2 a text line of DIM numbers."""
    header = first.split()
    fields = _line_two(rest)
    return (is_header(header) and len(fields) == int(header[1]) + 1
            and are_numbers(fields[1:]))


def promises_too_much(path: Path, format: str) -> bool:
    """Whether a ``COUNT DIM`` header promises more than the file's bytes can hold (a one-byte
    word, a space and DIM numbers of 4 bytes, or in text of a digit and a space, each): gensim
    makes room for COUNT words before it reads one (a list of COUNT entries, 8 bytes each: 24
    GB for a header of 3 000 000 000 words on a file of two), so its reading is not tried."""
    if format == "glove":
        return False
    with open_binary(path) as file:
        header = file.readline(_SNIFF_BYTES).split()
    if not is_header(header):
        return False
    count, dim = int(header[0]), int(header[1])
    smallest = 2 + 4 * dim if format == "word2vec-binary" else 2 + 2 * dim  # text: with '\n'
    size = path.stat().st_size * (_MOST_GZIP_RATIO if path.suffix == ".gz" else 1)
    return count * smallest > size + 1  # the last line may end without a line break


def unreadable(path: Path, error: Exception) -> str:
    """That a file cannot be read to its end (``error``), said for a human."""
    if path.suffix == ".gz":
        return f"its gzip data cannot be read ({error}): is the file cut short or damaged?"
    return f"it cannot be read to its end ({error})"


def comma_hint(fields: Sequence[str]) -> str:
    return ("; write the numbers with a decimal point (0.5), not a comma (0,5)"
            if _comma_decimals(fields) else "")
