"""The dataset registry: lookup order, checksums, downloads (file:// only), and the CLI."""

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
from helpers import SHARED_DATA

import rnnkit.cli as cli
from rnnkit.commands.datasets import default_split
from rnnkit.data import download, registry
from rnnkit.data.registry import (
    DatasetFile,
    DatasetSpec,
    dataset_file,
    dataset_files,
    get_spec,
    list_datasets,
    register,
)

DATA = SHARED_DATA
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"real datasets not found at {DATA}")
TRAIN = b"a\tO\nb\tB-X\n\n"
DEV = b"c\tO\n\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No mirror or cache from the environment; a registry copy the tests may change."""
    monkeypatch.delenv(registry.DATA_ENV, raising=False)
    monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path / "default-cache"))
    monkeypatch.setattr(registry, "REGISTRY", dict(registry.REGISTRY))


def toy_spec(upstream: Path, **changes: DatasetFile) -> DatasetSpec:
    """A two-split dataset whose URLs point at files in ``upstream``."""
    upstream.mkdir(exist_ok=True)
    (upstream / "train.iob").write_bytes(TRAIN)
    (upstream / "dev.iob").write_bytes(DEV)
    files = {
        "train": DatasetFile("train", "train.iob", (upstream / "train.iob").as_uri(), sha(TRAIN)),
        "dev": DatasetFile("dev", "dev.iob", (upstream / "dev.iob").as_uri(), sha(DEV)),
        **changes,
    }
    return register(DatasetSpec("toy", "a toy", "tagging", "iob", "CC0", "https://example.org",
                                "toy_dir", tuple(files.values())), replace=True)


def make_mirror(root: Path, files: dict[str, bytes]) -> Path:
    (root / "toy_dir").mkdir(parents=True)
    for name, data in files.items():
        (root / "toy_dir" / name).write_bytes(data)
    return root


# ---- the entries ----------------------------------------------------------------------------

def test_entries_and_lookup_errors() -> None:
    assert {"ud_english_ewt", "uner_english_ewt", "wnut17"} <= set(registry.REGISTRY)
    spec = get_spec("uner_english_ewt")
    assert spec.splits == ("train", "dev", "test") and spec.license == "CC BY-SA 4.0"
    assert spec.reader_options == {"token_column": 2, "tag_column": 3, "comment_prefix": "#"}
    with pytest.raises(ValueError, match="unknown dataset 'ewt'; known datasets: .*wnut17"):
        get_spec("ewt")
    with pytest.raises(ValueError, match=r"unknown dataset 'ud_englsh_ewt' \(did you mean "
                                         r"'ud_english_ewt'\?\); known datasets: .*wnut17"):
        get_spec("ud_englsh_ewt")  # listed the known ones without the near one
    with pytest.raises(ValueError, match="no split 'valid'; its splits: train, dev, test"):
        dataset_file("wnut17", "valid")
    with pytest.raises(ValueError, match="already registered"):
        register(get_spec("wnut17"))


@pytest.mark.parametrize(("command", "given", "own"), [
    (["train", "tagger", "--dataset"], "my.conllu", "a tagger reads files of your own with "
     "--train, --dev and --test (data.train, data.dev, data.test) and no dataset; its "
     "datasets: ud_english_ewt, uner_english_ewt, wnut17"),
    (["train", "classifier", "--dataset"], "reviews.csv", "a classifier reads files of your "
     "own with --train, --dev and --test (data.train, data.dev, data.test) and no dataset"),
    (["train", "lm", "--dataset"], "data/novel", "a language model reads files of your own "
     "with --file (data.file) and no dataset; its datasets: tinyshakespeare"),
    (["train", "seq2seq", "--dataset"], "corpus/train.de", "a translation model reads files "
     "of your own with --train, --dev and --test, each a file prefix"),
])
def test_a_file_given_as_a_dataset_names_the_flags_for_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], given: str,
        own: str) -> None:
    # said only "unknown dataset 'my.conllu'; known datasets: beijing_pm25, imdb, ..."
    assert cli.main([*command, given, "--print-config"]) == 2
    assert capsys.readouterr().err.startswith(
        f"rnnkit: error: {given!r} is not a registry dataset but a file's name: {own}")


def test_specs_are_checked_when_made(tmp_path: Path) -> None:
    good = DatasetFile("train", "a.txt", "", sha(b""))
    with pytest.raises(ValueError, match="64 lowercase hex digits"):
        DatasetSpec("x", "", "", "", "", "", "x", (DatasetFile("train", "a", "", "abc"),))
    with pytest.raises(ValueError, match="lists a filename twice"):
        DatasetSpec("x", "", "", "", "", "", "x", (good, good))
    with pytest.raises(ValueError, match="has no files"):
        DatasetSpec("x", "", "", "", "", "", "x", ())


@needs_data
def test_checksums_match_shared_sha256sums_and_the_mirror() -> None:
    sums = {}
    for line in (DATA / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.removeprefix("./")] = digest
    for spec in (get_spec(n) for n in ("ud_english_ewt", "uner_english_ewt", "wnut17")):
        for entry in spec.files:
            assert entry.sha256 == sums[f"{spec.mirror_dir}/{entry.filename}"], entry.filename
            path = dataset_file(spec.name, entry.split, mirror=DATA)  # hashes the file
            assert path == DATA / spec.mirror_dir / entry.filename


# ---- mirror, cache, checksums -----------------------------------------------------------------

def test_mirror_from_argument_or_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toy_spec(tmp_path / "upstream")
    mirror = make_mirror(tmp_path / "mirror", {"train.iob": TRAIN, "dev.iob": DEV})
    assert dataset_file("toy", "train", mirror=mirror) == mirror / "toy_dir" / "train.iob"
    monkeypatch.setenv(registry.DATA_ENV, str(mirror))
    assert dataset_file("toy", "dev") == mirror / "toy_dir" / "dev.iob"
    other = make_mirror(tmp_path / "other", {"train.iob": TRAIN})
    assert dataset_file("toy", "train", mirror=other).parent.parent == other  # argument first


def test_file_missing_from_mirror_is_an_error_not_a_download(tmp_path: Path) -> None:
    toy_spec(tmp_path / "upstream")
    mirror = make_mirror(tmp_path / "mirror", {"train.iob": TRAIN})
    with pytest.raises(FileNotFoundError) as error:
        dataset_file("toy", "dev", mirror=mirror, cache_dir=tmp_path / "cache")
    message = str(error.value)
    assert f"looked for {mirror / 'toy_dir' / 'dev.iob'}" in message
    assert "--data-dir" in message and "RNNKIT_DATA" in message
    assert not (tmp_path / "cache").exists()


def test_checksum_mismatch_names_file_and_both_hashes(tmp_path: Path) -> None:
    toy_spec(tmp_path / "upstream")
    mirror = make_mirror(tmp_path / "mirror", {"train.iob": b"changed\tO\n\n"})
    with pytest.raises(ValueError) as error:
        dataset_file("toy", "train", mirror=mirror)
    message = str(error.value)
    assert str(mirror / "toy_dir" / "train.iob") in message
    assert sha(TRAIN) in message and sha(b"changed\tO\n\n") in message


def test_checksum_is_computed_once_per_unchanged_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toy_spec(tmp_path / "upstream")
    mirror = make_mirror(tmp_path / "mirror", {"train.iob": TRAIN})
    calls: list[Path] = []
    real_sha = download.sha256_of

    def counting_sha(path: Path) -> str:
        calls.append(path)
        return real_sha(path)

    monkeypatch.setattr(download, "sha256_of", counting_sha)
    for _ in range(3):
        dataset_file("toy", "train", mirror=mirror)
    assert len(calls) == 1
    (mirror / "toy_dir" / "train.iob").write_bytes(TRAIN + b"x\tO\n\n")  # size changes
    with pytest.raises(ValueError, match="checksum mismatch") as error:
        dataset_file("toy", "train", mirror=mirror)
    assert "copy the file again from the dataset's source, or leave --data-dir and" in str(
        error.value)


def test_cache_is_used_and_download_can_be_refused(tmp_path: Path) -> None:
    toy_spec(tmp_path / "upstream")
    cache = make_mirror(tmp_path / "cache", {"train.iob": TRAIN})
    (tmp_path / "upstream" / "train.iob").unlink()  # so a download would fail
    assert dataset_file("toy", "train", cache_dir=cache, download=False) == \
        cache / "toy_dir" / "train.iob"
    with pytest.raises(FileNotFoundError, match="not in the cache .*downloading is off"):
        dataset_file("toy", "dev", cache_dir=cache, download=False)


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


def test_split_of_several_files(tmp_path: Path) -> None:
    toy_spec(tmp_path / "upstream", dev=DatasetFile("train", "dev.iob", "", sha(DEV)))
    mirror = make_mirror(tmp_path / "mirror", {"train.iob": TRAIN, "dev.iob": DEV})
    assert [p.name for p in dataset_files("toy", "train", mirror=mirror)] == ["train.iob",
                                                                             "dev.iob"]
    with pytest.raises(ValueError, match=r"has 2 files \(train.iob, dev.iob\); use dataset_files"):
        dataset_file("toy", "train", mirror=mirror)


def test_list_datasets_says_where_files_are(tmp_path: Path) -> None:
    toy_spec(tmp_path / "upstream")
    rows = {row["name"]: row for row in list_datasets(cache_dir=tmp_path / "cache")}
    assert rows["toy"]["found"] == "no" and rows["toy"]["splits"] == {"train": 1, "dev": 1}
    make_mirror(tmp_path / "cache", {"train.iob": TRAIN})
    assert {r["name"]: r["found"] for r in list_datasets(cache_dir=tmp_path / "cache")}[
        "toy"] == "1/2 files"
    mirror = make_mirror(tmp_path / "mirror", {"train.iob": TRAIN, "dev.iob": DEV})
    assert {r["name"]: r["found"] for r in list_datasets(mirror)}["toy"] == "mirror"


# ---- the command line -------------------------------------------------------------------------

def run(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> int:
    if "datasets" not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "datasets"))
    return cli.main(argv)


def test_cli_datasets_list_and_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    toy_spec(tmp_path / "upstream")
    mirror = make_mirror(tmp_path / "mirror", {"train.iob": TRAIN, "dev.iob": DEV})
    assert run(monkeypatch, ["datasets", "list", "--data-dir", str(mirror)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "task", "format", "splits", "license", "found",
                                "homepage"]
    toy = next(line for line in lines if line.startswith("toy "))
    assert "train:1 dev:1" in toy and "mirror" in toy and "https://example.org" in toy
    assert run(monkeypatch, ["datasets", "path", "toy", "--split", "dev",
                             "--data-dir", str(mirror)]) == 0
    assert capsys.readouterr().out == f"{mirror / 'toy_dir' / 'dev.iob'}\n"
    cache = tmp_path / "cache"
    assert run(monkeypatch, ["datasets", "path", "toy", "--cache-dir", str(cache)]) == 0
    assert capsys.readouterr().out.strip() == str(cache / "toy_dir" / "train.iob")


def test_cli_errors_are_exit_code_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    toy_spec(tmp_path / "upstream")
    assert run(monkeypatch, ["datasets", "path", "nope"]) == 2
    assert "unknown dataset 'nope'" in capsys.readouterr().err
    assert run(monkeypatch, ["datasets", "path", "toy", "--data-dir", str(tmp_path)]) == 2
    assert "is not in the data mirror" in capsys.readouterr().err
    assert run(monkeypatch, ["datasets", "path", "toy", "--no-download",
                             "--cache-dir", str(tmp_path / "c")]) == 2
    assert "downloading is off" in capsys.readouterr().err
    for action in (["list"], ["path", "toy"]):  # every dataset was listed as not found
        assert run(monkeypatch, ["datasets", *action, "--data-dir", str(tmp_path / "typo")]) == 2
        assert f"--data-dir {tmp_path / 'typo'} is no folder; give the folder of the data " \
            "mirror" in capsys.readouterr().err
    (tmp_path / "a-file").write_text("")
    assert run(monkeypatch, ["datasets", "list", "--cache-dir", str(tmp_path / "a-file")]) == 2
    assert f"--cache-dir {tmp_path / 'a-file'} is a file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        run(monkeypatch, ["datasets", "--help"])
    assert exit_info.value.code == 0 and "list" in capsys.readouterr().out


def test_a_mirror_from_the_environment_that_is_no_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--data-dir was checked, but a mistyped RNNKIT_DATA listed every dataset as not found
    (exit 0), and a train command said each file was missing from the mirror, as if it were
    only incomplete."""
    toy_spec(tmp_path / "upstream")
    (tmp_path / "a-file").write_text("")
    for mirror, what in ((tmp_path / "typo", "no folder"), (tmp_path / "a-file", "a file")):
        monkeypatch.setenv(registry.DATA_ENV, str(mirror))
        for action in (["list"], ["path", "toy"]):
            assert run(monkeypatch, ["datasets", *action]) == 2
            assert f"RNNKIT_DATA={mirror} is {what}; set it to the folder of the data mirror" \
                in capsys.readouterr().err
        with pytest.raises(FileNotFoundError, match=rf"the data mirror .* \(RNNKIT_DATA\) is "
                                                    rf"{what}.*unset to download"):
            dataset_file("toy", "train")
        with pytest.raises(FileNotFoundError, match=r"\(--data-dir, data.data_dir\) is"):
            dataset_file("toy", "train", mirror=mirror)
    mirror = make_mirror(tmp_path / "mirror", {"train.iob": TRAIN, "dev.iob": DEV})
    assert run(monkeypatch, ["datasets", "list", "--data-dir", str(mirror)]) == 0  # chosen
    assert "toy " in capsys.readouterr().out


def test_a_cache_that_is_a_file_is_refused_naming_its_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """RNNKIT_CACHE naming a file: datasets list said every dataset was not found (exit 0),
    and a download failed with '[Errno 20] Not a directory: <cache>/toy_dir'."""
    toy_spec(tmp_path / "upstream")
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path / "a-file"))
    assert run(monkeypatch, ["datasets", "list"]) == 2
    assert f"RNNKIT_CACHE {tmp_path / 'a-file'} is a file" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"the download cache .*a-file \(RNNKIT_CACHE\) cannot "
                                         r"hold train.iob: .*a-file is a file, not a folder"):
        dataset_file("toy", "train")
    with pytest.raises(ValueError, match=r"\(--cache-dir\) cannot hold train.iob"):
        dataset_file("toy", "train", cache_dir=tmp_path / "a-file" / "sub")
    mirror = make_mirror(tmp_path / "mirror", {"train.iob": TRAIN, "dev.iob": DEV})
    assert run(monkeypatch, ["datasets", "list", "--data-dir", str(mirror)]) == 0  # no cache read
    assert dataset_file("toy", "train", cache_dir=tmp_path / "cache").is_file()


def test_cli_data_dir_under_the_home_folder_is_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--data-dir=~/mirror (no shell expands ~ after '=') was refused as 'no folder', though
    the registry, and every train command's --data-dir, expand it."""
    toy_spec(tmp_path / "upstream")
    make_mirror(tmp_path / "mirror", {"train.iob": TRAIN, "dev.iob": DEV})
    monkeypatch.setenv("HOME", str(tmp_path))
    assert run(monkeypatch, ["datasets", "path", "toy", "--data-dir=~/mirror"]) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'mirror' / 'toy_dir' / 'train.iob'}\n"


@needs_data
def test_cli_path_defaults_to_the_only_split(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert default_split("tinyshakespeare") == "all" and default_split("sst") == "train"
    assert run(monkeypatch, ["datasets", "path", "tinyshakespeare", "--data-dir",
                             str(DATA), "--no-download"]) == 0
    assert capsys.readouterr().out == f"{DATA / 'tinyshakespeare' / 'input.txt'}\n"


def test_list_datasets_with_a_mirror_does_not_count_the_cache(tmp_path: Path) -> None:
    # with a mirror set, dataset_file reads only the mirror: a cached copy does not help
    toy_spec(tmp_path / "upstream")
    cache = make_mirror(tmp_path / "cache", {"train.iob": TRAIN, "dev.iob": DEV})
    mirror = make_mirror(tmp_path / "mirror", {"train.iob": TRAIN})
    found = {r["name"]: r["found"] for r in list_datasets(mirror, cache)}["toy"]
    assert found == "1/2 files"
    with pytest.raises(FileNotFoundError, match="dev.iob is not in the data mirror"):
        dataset_file("toy", "dev", mirror, cache)
    assert {r["name"]: r["found"] for r in list_datasets(None, cache)}["toy"] == "cache"


def test_cli_path_of_a_pip_dataset_says_it_has_no_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, ["datasets", "path", "stocks"]) == 2
    assert "stocks installs with pip (bokeh_sampledata) and has no file" in \
        capsys.readouterr().err


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
