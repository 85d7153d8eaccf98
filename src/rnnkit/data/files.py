"""Reading a data file's text: its bytes (``.gz``: decompressed), decoded as UTF-8, whole or as
lines with their endings kept; bytes that are not UTF-8 or a ``.gz`` file that is not gzip data
are an :class:`EncodingError` naming the file (and the line)."""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path

from rnnkit.data.tagged import DataFormatError


class EncodingError(DataFormatError):
    """A file whose bytes are no text to read: not UTF-8, or a ``.gz`` file that is not gzip
    data. No format would read it, so the advice to read it in another is none."""


def shortened(text: str, limit: int = 200) -> str:
    """``text`` cut to ``limit`` characters, ``...`` marking the cut: the line of a file that a
    one-line error quotes may be megabytes long (a file with no line breaks).

    Example:
        >>> shortened("a" * 300, 10), shortened("short")
        ('aaaaaaaaaa...', 'short')
    """
    return text if len(text) <= limit else f"{text[:limit]}..."


def compressed_as(first: bytes, path: Path) -> str | None:
    """How a file that starts with ``first`` is compressed where rnnkit does not open it (it
    reads plain files and .gz; gensim opens .bz2 and .xz by their names), and what to do; None
    where it is not."""
    if first.startswith(b"PK\x03\x04"):
        return "is a zip archive; unzip it and give the file in it"
    if first.startswith(b"\x1f\x8b\x08") and path.suffix != ".gz":
        return f"is gzipped but not named .gz; rename it {path.name}.gz"
    if first[:3] == b"BZh" and first[4:10] in (b"1AY&SY", b"\x17rE8P\x90"):
        return f"is compressed with bzip2; decompress it (bunzip2 {path}), or gzip it (.gz)"
    if first.startswith(b"\xfd7zXZ\x00"):
        return f"is compressed with xz; decompress it (unxz {path}), or gzip it (.gz)"
    return None


UTF16_MARKS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
               (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def not_utf8_advice(first: bytes, path: str | Path) -> str | None:
    """What a file that is not UTF-8 and starts with ``first`` is, and what to do, where its
    first bytes tell: compressed (a .gz not named so, a zip...), or UTF-16/32 text (a
    byte-order mark: Windows' 'Unicode'); None where they do not.

    Example:
        >>> not_utf8_advice("day,temp".encode("utf-16"), "t.csv")
        'it is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8'
    """
    packed = compressed_as(first, Path(path))
    if packed is not None:
        return f"it {packed}"
    for mark, encoding in UTF16_MARKS:
        if first.startswith(mark):
            return (f"it is {encoding} text (it starts with a {encoding} byte-order mark); "
                    "save it as UTF-8")
    return None


def decode_utf8(raw: bytes, path: str | Path) -> str:
    """A file's bytes as text (a byte-order mark kept as ``\\ufeff``).

    Raises:
        EncodingError: the bytes are not UTF-8; the message names the file and the line of
            the first bad byte.

    Example:
        >>> decode_utf8(b"caf\\xc3\\xa9\\n", "menu.txt")
        'café\\n'
        >>> decode_utf8(b"tea\\ncaf\\xe9\\n", "menu.txt")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rnnkit.data.files.EncodingError: menu.txt:2: not UTF-8 text (... at byte 7: ...
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        advice = not_utf8_advice(raw[:16], path)
        if advice is not None:  # 'save the file as UTF-8' was no advice for a gzipped file
            raise EncodingError(f"not UTF-8 text: {advice}", path, 1) from None
        raise EncodingError(
            f"not UTF-8 text ({error.reason} at byte {error.start}: "
            f"{raw[error.start:error.start + 4]!r}); " + (
                legacy_text(raw, error.start, path)
                or "save the file as UTF-8, or check that it is the text file you meant"),
            path, raw[: error.start].count(b"\n") + 1,
        ) from None


# one valid multi-byte UTF-8 character: text no Latin-1 file holds by chance
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}")


def _around(raw: bytes, start: int) -> bytes:
    """The bytes of ``raw``'s line around byte ``start``, up to 30 on either side."""
    line_end = raw.find(b"\n", start)
    return raw[max(raw.rfind(b"\n", 0, start) + 1, start - 30):
               min(len(raw) if line_end < 0 else line_end, start + 30)]


def legacy_text(raw: bytes, start: int, path: str | Path) -> str | None:
    """What to do with a file that is not UTF-8 but reads as Windows-1252 (Latin-1 and the
    Windows quotes: a spreadsheet's or an old editor's text), showing its text around byte
    ``start`` as that encoding reads it; None for bytes that are no such text (a NUL, or a
    byte Windows-1252 leaves undefined). A file that also holds UTF-8 text (a valid multi-byte
    UTF-8 sequence anywhere: ``café`` on another line) mixes encodings: converting it whole
    from Windows-1252 would spoil that text (``cafÃ©``), so no command is given for it.

    Example:
        >>> legacy_text(b"Caf\\xe9 d\\xe9j\\xe0 vu", 3, "m.txt")  # doctest: +NORMALIZE_WHITESPACE
        "it reads as Windows-1252 (Latin-1) text, 'Café déjà vu' there: save the file as UTF-8
        (iconv -f cp1252 -t utf-8 m.txt > m.utf8.txt)"
    """
    if b"\x00" in raw:
        return None
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        return None
    shown = _around(raw, start).decode("cp1252").strip()
    utf8 = _UTF8_SEQUENCE.search(raw)
    if utf8 is not None:
        line = raw[:utf8.start()].count(b"\n") + 1
        good = _around(raw, utf8.start()).decode("utf-8", "replace").strip()
        return (f"the file mixes encodings: line {line} holds UTF-8 text ({good!r}), this line "
                f"reads as Windows-1252 (Latin-1), {shown!r} there: retype or convert this line "
                "alone (converting the whole file from Windows-1252 would spoil its UTF-8 text)")
    name = Path(path)
    command = ("" if name.suffix == ".gz" else f" (iconv -f cp1252 -t utf-8 {name} > "
               f"{name.with_name(name.stem + '.utf8' + name.suffix)})")
    return (f"it reads as Windows-1252 (Latin-1) text, {shown.strip()!r} there: save the file as"
            f" UTF-8{command}")


GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)  # no gzip data, cut short, damaged


def not_gzip(error: Exception, path: str | Path) -> EncodingError:
    """The refusal of a ``.gz`` file whose decompression failed with ``error`` (one of
    :data:`GZIP_ERRORS`): no gzip data, or cut short or damaged."""
    return EncodingError(f"not gzip data ({error}); is it really gzipped (and whole)? "
                           "Rename it without .gz", path)


def read_bytes(path: str | Path) -> bytes:
    """A file's bytes, decompressed when its name ends in ``.gz``.

    Raises:
        EncodingError: a ``.gz`` file that is not gzip data.
    """
    raw = Path(path).read_bytes()
    if Path(path).suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, *GZIP_ERRORS) as error:  # gzip.BadGzipFile is an OSError
            raise not_gzip(error, path) from None
    return raw


def read_text(path: str | Path) -> str:
    """A UTF-8 file's text (``.gz``: decompressed), its byte-order mark left out (it is no
    text); bytes that are not UTF-8 are an error naming the line.

    Raises:
        EncodingError: not UTF-8, or a ``.gz`` file that is not gzip data.
    """
    return decode_utf8(read_bytes(path), path).removeprefix("\ufeff")


def read_lines(path: str | Path) -> list[str]:
    """The lines of a UTF-8 file (``.gz``: decompressed) with their endings kept; split on
    ``\\n`` only.

    (``str.splitlines`` would also split inside tokens at characters such as U+2028 or U+0085.)

    Raises:
        EncodingError: the file is not UTF-8 (naming the line), or a ``.gz`` file is not
            gzip data.
    """
    return split_lines(decode_utf8(read_bytes(path), path))


def split_lines(text: str) -> list[str]:
    """A text's lines with their endings kept, split on ``\\n`` only (as :func:`read_lines`).

    Example:
        >>> split_lines("a\\r\\nb\\n\\nc")
        ['a\\r\\n', 'b\\n', '\\n', 'c']
    """
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]
