"""The dataset registry: its entries, specs, lookup order, mirror, cache and checksums (downloads in
test_registry_download.py, the command line in test_registry_cli.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from helpers import SHARED_DATA

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
