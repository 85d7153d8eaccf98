"""Review checks: damaged downloads, ragged numeric-sequence files."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import rnnkit.cli as cli
from rnnkit.data import registry
from rnnkit.data.registry import DatasetFile, DatasetSpec, dataset_file, register

DATA = b"word\tO\n" * 200


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(registry.DATA_ENV, raising=False)
    monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(registry, "REGISTRY", dict(registry.REGISTRY))


def damaged_spec(upstream: Path) -> None:
    """One split per way a download can arrive damaged."""
    upstream.mkdir()
    (upstream / "page.zip").write_bytes(b"<html>moved</html>")  # an error page, not a zip
    (upstream / "page.tar.gz").write_bytes(b"<html>moved</html>")
    (upstream / "cut.iob.gz").write_bytes(gzip.compress(DATA)[:-12])  # cut short
    (upstream / "whole.iob").write_bytes(DATA)
    sha = hashlib.sha256(DATA).hexdigest()
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
    assert list((tmp_path / "cache" / "toy_dir").iterdir()) == []


class CutConnection:
    """A response that gives one block, then loses the connection."""

    headers = {"Content-Length": str(len(DATA))}

    def __init__(self) -> None:
        self.calls = 0

    def read(self, size: int) -> bytes:
        self.calls += 1
        if self.calls == 1:
            return DATA[:100]
        raise http.client.IncompleteRead(b"", len(DATA) - 100)

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
    assert list((tmp_path / "cache" / "toy_dir").iterdir()) == []
    assert cli.main(["datasets", "path", "toy", "--split", "cut"]) == 2
    assert "rnnkit: error: could not download" in capsys.readouterr().err


# ---- numeric sequences: rows that do not fit the header -------------------------------------

HEADER = "id,step,temp,wind,label\n"


@pytest.mark.parametrize(("row", "fields"), [
    ("b,0,20,3,1.1,sun", 6),  # an unquoted decimal comma: read as label '1.1', 'sun' dropped
    ("b,0,20.3,sun", 4),
    ("b", 1),  # was a TypeError from float(None)
])
def test_numeric_row_with_the_wrong_number_of_fields_is_refused(
    tmp_path: Path, row: str, fields: int
) -> None:
    from rnnkit.data.numeric_sequences import read_numeric_sequences

    path = tmp_path / "long.csv"
    path.write_text(HEADER + "a,0,12.1,3.2,rain\n" + row + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=f"line 3: {fields} fields where the header has 5"):
        read_numeric_sequences(path, time_column="step")


def test_numeric_header_naming_a_column_twice_is_refused(tmp_path: Path) -> None:
    from rnnkit.data.numeric_sequences import read_numeric_sequences

    path = tmp_path / "long.csv"  # both 'temp' features were read as 3.0, the 12.1 lost
    path.write_text("id,step,temp,temp,label\na,0,12.1,3,rain\n", encoding="utf-8")
    with pytest.raises(ValueError, match="names column 'temp' twice"):
        read_numeric_sequences(path, time_column="step")


def test_numeric_time_column_of_dates_names_the_time_setting(tmp_path: Path) -> None:
    from rnnkit.data.numeric_sequences import read_numeric_sequences

    path = tmp_path / "long.csv"  # the hint was to leave 'date' out of data.feature_columns
    path.write_text("id,date,temp,label\na,2012-01-01,1,rain\n", encoding="utf-8")
    with pytest.raises(ValueError, match="holds '2012-01-01', not a number; data.time_column "
                                         "orders the steps by number") as error:
        read_numeric_sequences(path, time_column="date")
    assert "feature_columns" not in str(error.value)


# ---- functional ---------------------------------------------------------------------------------

@pytest.mark.parametrize("nonlinearity", ["Tanh", "sigmoid", ""])
def test_rnn_step_refuses_an_unknown_nonlinearity(nonlinearity: str) -> None:
    import torch

    from rnnkit import functional as RF

    x, h = torch.randn(2, 3), torch.randn(2, 4)
    with pytest.raises(ValueError, match=f"'tanh' or 'relu', got '{nonlinearity}'"):
        RF.rnn_step(x, h, torch.randn(4, 3), torch.randn(4, 4), nonlinearity=nonlinearity)
