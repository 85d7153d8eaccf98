"""Downloads and checksums of dataset files: a file fetched from its URL, unpacked from an
archive or gzip if need be, checked against its SHA-256 and moved into place in one step
(nothing half-written is left behind)."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tqdm import tqdm

from rnnkit.data.files import GZIP_ERRORS

if TYPE_CHECKING:
    from rnnkit.data.dataset_spec import DatasetFile

T = TypeVar("T")
_VERIFIED: set[tuple[str, int, int, str]] = set()  # (path, size, mtime_ns, sha256) checked


def sha256_of(path: str | Path) -> str:
    """The SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(
    path: str | Path, expected: str, hint: str = "", label: str | None = None
) -> None:
    """Check a file's SHA-256, once per process for an unchanged file (same size and mtime).

    ``label`` names the file in the message (default: its path); ``hint`` says how to fix it.

    Raises:
        ValueError: the checksum differs; the message names the file and both checksums.
    """
    status = os.stat(path)
    key = (str(Path(path).resolve()), status.st_size, status.st_mtime_ns, expected)
    if key in _VERIFIED:
        return
    actual = sha256_of(path)
    if actual != expected:
        raise ValueError(f"checksum mismatch for {label or path}: expected sha256 {expected}, "
                         f"found {actual}" + (f"; {hint}" if hint else ""))
    _VERIFIED.add(key)


def fetch_file(entry: DatasetFile, target: Path, offline: str) -> None:
    """Fetch ``entry.url``, unpack it, check it, and move it to ``target`` in one step;
    ``offline`` ends the messages of a failed download (how to work without one)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                         suffix=".part")
    fetched = Path(temporary)
    unpacked = fetched.with_suffix(".unpacked")
    try:
        with os.fdopen(handle, "wb") as out:
            response = _fetch(entry.url, offline, lambda: urllib.request.urlopen(  # noqa: S310
                entry.url, timeout=60))
            with response, tqdm(total=int(response.headers.get("Content-Length") or 0) or None,
                                unit="B", unit_scale=True, desc=target.name, leave=False) as bar:
                for block in iter(lambda: _fetch(entry.url, offline,
                                                 lambda: response.read(1 << 16)), b""):
                    out.write(block)  # a full disk is no download error: not caught as one
                    bar.update(len(block))
        try:
            source = _unpack(fetched, unpacked, entry)
        except (*GZIP_ERRORS, zipfile.BadZipFile, tarfile.TarError) as error:
            raise ValueError(f"the file downloaded from {entry.url} is damaged or not the "
                             f"archive expected ({_one_line(error)}); nothing was saved; try "
                             f"again, or {offline}") from error
        verify_sha256(source, entry.sha256, label=f"{target} downloaded from {entry.url}",
                      hint="nothing was saved; is the URL or the checksum out of date?")
        os.replace(source, target)
    finally:
        for leftover in (fetched, unpacked):
            leftover.unlink(missing_ok=True)


def _fetch(url: str, offline: str, step: Callable[[], T]) -> T:
    """``step()`` (opening ``url``, or reading its next block): a refused connection, or one
    lost midway (``http.client.IncompleteRead``), is an ``OSError`` saying the download
    failed."""
    try:
        return step()
    except (OSError, http.client.HTTPException) as error:
        raise OSError(f"could not download {url}: {_one_line(error)}; nothing was saved; try "
                      f"again, or to work offline {offline}") from error


def _one_line(error: BaseException) -> str:
    """An exception's type and message on one line (tarfile's span several)."""
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


def _unpack(fetched: Path, unpacked: Path, entry: DatasetFile) -> Path:
    """The downloaded file itself, or ``unpacked`` holding the archive member or gunzipped data."""
    url_path = urllib.parse.urlparse(entry.url).path
    if entry.member is not None:
        try:
            if url_path.endswith(".zip"):
                with zipfile.ZipFile(fetched) as archive, archive.open(entry.member) as source, \
                        open(unpacked, "wb") as out:
                    shutil.copyfileobj(source, out)
            else:
                with tarfile.open(fetched) as tar:
                    member = tar.extractfile(entry.member)
                    if member is None:
                        raise KeyError(entry.member)
                    with member, open(unpacked, "wb") as out:
                        shutil.copyfileobj(member, out)
        except KeyError as error:
            raise ValueError(f"the archive at {entry.url} has no file {entry.member!r}") from error
        return unpacked
    if url_path.endswith(".gz") and not entry.filename.endswith(".gz"):
        with gzip.open(fetched, "rb") as source, open(unpacked, "wb") as out:
            shutil.copyfileobj(source, out)
        return unpacked
    return fetched
