"""The dataset registry's downloads (file:// URLs only): into the cache, checksums, archives
unpacked, and downloads that fail or arrive damaged."""

from __future__ import annotations

import errno
import gzip
import hashlib
import http.client
import io
import os
import tarfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest
from test_registry import DEV, TRAIN, sha, toy_spec
from test_registry import isolated as isolated  # noqa: F401  (autouse fixture)

import rnnkit.cli as cli
from rnnkit.data.registry import DatasetFile, DatasetSpec, dataset_file, dataset_files, register

# ---- downloads (file:// URLs) -------------------------------------------------------------------

def test_download_into_the_cache(tmp_path: Path) -> None:
    toy_spec(tmp_path / "upstream")
    path = dataset_file("toy", "train")  # cache from RNNKIT_CACHE
    assert path == tmp_path / "default-cache" / "toy_dir" / "train.iob"
    assert path.read_bytes() == TRAIN
    assert dataset_files("toy", "dev", cache_dir=tmp_path / "c2")[0].read_bytes() == DEV


def test_download_with_wrong_checksum_leaves_nothing(tmp_path: Path) -> None:
    upstream = tmp_path / "upstream"
    toy_spec(upstream, dev=DatasetFile("dev", "dev.iob", (upstream / "dev.iob").as_uri(),
                                       sha(b"other")))
    cache = tmp_path / "cache"
    with pytest.raises(ValueError) as error:
        dataset_file("toy", "dev", cache_dir=cache)
    message = str(error.value)
    assert f"{cache / 'toy_dir' / 'dev.iob'} downloaded from {upstream.as_uri()}" in message
    assert f"expected sha256 {sha(b'other')}, found {sha(DEV)}" in message
    assert list((cache / "toy_dir").iterdir()) == []  # no partial or temporary files


def test_download_failures_and_missing_urls(tmp_path: Path) -> None:
    upstream = tmp_path / "upstream"
    gone = (upstream / "gone.iob").as_uri()
    toy_spec(upstream, dev=DatasetFile("dev", "dev.iob", gone, sha(DEV)),
             test=DatasetFile("test", "test.iob", "", sha(DEV)))
    with pytest.raises(OSError, match=f"could not download {gone}.*--data-dir"):
        dataset_file("toy", "dev", cache_dir=tmp_path / "cache")
    with pytest.raises(FileNotFoundError, match="has no download, only a local mirror has it"):
        dataset_file("toy", "test", cache_dir=tmp_path / "cache")


def test_download_unpacks_gzip_zip_and_tar(tmp_path: Path) -> None:
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    (upstream / "dev.iob.gz").write_bytes(gzip.compress(DEV))
    with zipfile.ZipFile(upstream / "all.zip", "w") as archive:
        archive.writestr("trees/train.iob", TRAIN)
    with tarfile.open(upstream / "all.tar.gz", "w:gz") as archive:
        member = tarfile.TarInfo("data/test.iob")
        member.size = len(DEV)
        archive.addfile(member, io.BytesIO(DEV))
    toy_spec(
        upstream,
        train=DatasetFile("train", "train.iob", (upstream / "all.zip").as_uri(), sha(TRAIN),
                          member="trees/train.iob"),
        dev=DatasetFile("dev", "dev.iob", (upstream / "dev.iob.gz").as_uri(), sha(DEV)),
        test=DatasetFile("test", "test.iob", (upstream / "all.tar.gz").as_uri(), sha(DEV),
                         member="data/test.iob"),
        extra=DatasetFile("extra", "x.iob", (upstream / "all.zip").as_uri(), sha(DEV),
                          member="nope.iob"),
    )
    cache = tmp_path / "cache"
    assert dataset_file("toy", "train", cache_dir=cache).read_bytes() == TRAIN
    assert dataset_file("toy", "dev", cache_dir=cache).read_bytes() == DEV
    assert dataset_file("toy", "test", cache_dir=cache).read_bytes() == DEV
    with pytest.raises(ValueError, match="has no file 'nope.iob'"):
        dataset_file("toy", "extra", cache_dir=cache)


# ---- damaged downloads ----

DOWNLOAD = b"word\tO\n" * 200


def damaged_spec(upstream: Path) -> None:
    """One split per way a download can arrive damaged."""
    upstream.mkdir()
    (upstream / "page.zip").write_bytes(b"<html>moved</html>")  # an error page, not a zip
    (upstream / "page.tar.gz").write_bytes(b"<html>moved</html>")
    (upstream / "cut.iob.gz").write_bytes(gzip.compress(DOWNLOAD)[:-12])  # cut short
    (upstream / "whole.iob").write_bytes(DOWNLOAD)
    sha = hashlib.sha256(DOWNLOAD).hexdigest()
    files = (
        DatasetFile("zip", "a.iob", (upstream / "page.zip").as_uri(), sha, member="a.iob"),
        DatasetFile("tar", "b.iob", (upstream / "page.tar.gz").as_uri(), sha, member="b.iob"),
        DatasetFile("gz", "c.iob", (upstream / "cut.iob.gz").as_uri(), sha),
        DatasetFile("cut", "d.iob", (upstream / "whole.iob").as_uri(), sha),
    )
    register(DatasetSpec("toy", "", "", "", "", "", "toy_dir", files), replace=True)


@pytest.mark.parametrize("split", ["zip", "tar", "gz"])
def test_damaged_archive_download_is_one_clear_line_and_saves_nothing(
    tmp_path: Path, split: str
) -> None:
    damaged_spec(tmp_path / "upstream")
    with pytest.raises(ValueError, match="is damaged or not the archive expected") as error:
        dataset_file("toy", split)
    assert "\n" not in str(error.value) and "--data-dir" in str(error.value)
    assert list((tmp_path / "default-cache" / "toy_dir").iterdir()) == []


class CutConnection:
    """A response that gives one block, then loses the connection."""

    headers = {"Content-Length": str(len(DOWNLOAD))}

    def __init__(self) -> None:
        self.calls = 0

    def read(self, size: int) -> bytes:
        self.calls += 1
        if self.calls == 1:
            return DOWNLOAD[:100]
        raise http.client.IncompleteRead(b"", len(DOWNLOAD) - 100)

    def __enter__(self) -> CutConnection:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


def test_connection_lost_midway_is_a_download_error_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged_spec(tmp_path / "upstream")
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: CutConnection())
    with pytest.raises(OSError, match="could not download .*whole.iob: IncompleteRead"):
        dataset_file("toy", "cut")
    assert list((tmp_path / "default-cache" / "toy_dir").iterdir()) == []
    assert cli.main(["datasets", "path", "toy", "--split", "cut"]) == 2
    assert "rnnkit: error: could not download" in capsys.readouterr().err


def test_a_full_disk_while_downloading_is_not_called_a_failed_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writing the download is no download: a full disk was reported as 'could not download
    URL ...; try again', which cannot help; it keeps its own error, and nothing is left."""
    damaged_spec(tmp_path / "upstream")

    class FullDisk(io.BytesIO):
        def write(self, data: Any) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    real_fdopen = os.fdopen

    def full_disk(handle: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        real_fdopen(handle, mode).close()
        return FullDisk()

    monkeypatch.setattr(os, "fdopen", full_disk)
    with pytest.raises(OSError, match="No space left on device") as error:
        dataset_file("toy", "cut")
    assert "could not download" not in str(error.value)
    assert list((tmp_path / "default-cache" / "toy_dir").iterdir()) == []
