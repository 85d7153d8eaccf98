"""Parallel text files: Multi30k's language pairs, line alignment and line endings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import SHARED_DATA
from test_seq2seq_cli import TINY
from test_seq2seq_cli import prefix as prefix  # noqa: F401  (fixture)

from rnnkit.cli import main
from rnnkit.data.parallel import dataset_pair_files, read_parallel
from rnnkit.data.registry import get_spec

MIRROR = SHARED_DATA


def test_multi30k_registry_has_every_language_pair() -> None:
    spec = get_spec("multi30k")
    assert spec.splits[:3] == ("train", "dev", "test")
    languages = {entry.filename.rsplit(".", 1)[1] for entry in spec.split_files("train")}
    assert languages == {"cs", "de", "en", "fr"}
    with pytest.raises(ValueError, match="has no 'cs' file; it has de, en, fr"):
        dataset_pair_files("multi30k", "test_2017_mscoco", "cs", "en", MIRROR)


@pytest.mark.skipif(not (MIRROR / "multi30k").is_dir(), reason="no shared data mirror")
def test_multi30k_pairs_are_line_aligned_in_the_mirror() -> None:
    sources, targets = read_parallel(*dataset_pair_files("multi30k", "dev", "de", "en", MIRROR))
    assert len(sources) == len(targets) == 1014
    assert sources[0] and targets[0][0].isupper()  # raw, cased text


@pytest.mark.skipif(not (MIRROR / "multi30k").is_dir(), reason="no shared data mirror")
def test_a_language_pair_needs_only_its_two_files(tmp_path: Path) -> None:
    spec = get_spec("multi30k")
    (tmp_path / spec.mirror_dir).mkdir()
    for language in ("de", "en"):  # a mirror without the cs and fr files
        name = f"val.{language}"
        (tmp_path / spec.mirror_dir / name).symlink_to(MIRROR / spec.mirror_dir / name)
    sources, targets = read_parallel(*dataset_pair_files("multi30k", "dev", "de", "en", tmp_path))
    assert len(sources) == len(targets) == 1014


def test_lines_split_at_newlines_only(tmp_path: Path) -> None:
    (tmp_path / "a.de").write_text("\ufeffEin Hund\u2028läuft.\nZwei Katzen.\n", encoding="utf-8")
    (tmp_path / "a.en").write_text("A dog\x0cruns.\r\nTwo cats.\n", encoding="utf-8")
    assert read_parallel(tmp_path / "a.de", tmp_path / "a.en") == (
        ["Ein Hund\u2028läuft.", "Zwei Katzen."], ["A dog\x0cruns.", "Two cats."])


def test_old_mac_line_endings_and_folders_are_refused_by_name(tmp_path: Path) -> None:
    """Two files with \r line endings read as one pair of whole documents, in silence."""
    (tmp_path / "a.de").write_bytes(b"Ein Hund.\rZwei Katzen.\r")
    (tmp_path / "a.en").write_bytes(b"A dog.\rTwo cats.\r")
    with pytest.raises(ValueError, match=r"a.de:1: a carriage return .* convert it to \\n"):
        read_parallel(tmp_path / "a.de", tmp_path / "a.en")
    (tmp_path / "b.de").mkdir()
    with pytest.raises(FileNotFoundError, match=r"b.de is a folder; give a file"):
        read_parallel(tmp_path / "b.de", tmp_path / "a.en")


def test_unaligned_files_point_at_blank_lines_at_the_end(tmp_path: Path) -> None:
    """A blank line after the last sentence counts as a line: the refusal said only 2 lines
    against 3, leaving the (invisible) blank line to be found."""
    (tmp_path / "a.de").write_text("eins\nzwei\n\n")
    (tmp_path / "a.en").write_text("one\ntwo\n")
    with pytest.raises(ValueError, match=r"has 2 lines, .* has 3; .*; .*a.de ends with 1 blank "
                                         r"line\(s\), which count as lines: remove the last 1"):
        read_parallel(tmp_path / "a.en", tmp_path / "a.de")
    (tmp_path / "a.en").write_text("one\n")
    with pytest.raises(ValueError, match=r"has 3 lines, .* has 1; every line of one must "
                                         r"translate the same line of the other$"):
        read_parallel(tmp_path / "a.de", tmp_path / "a.en")  # no blank line explains it


def test_unaligned_files_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.de").write_text("eins\nzwei\n")
    (tmp_path / "a.en").write_text("one\n")
    with pytest.raises(ValueError, match="not line-aligned: .* has 2 lines, .* has 1"):
        read_parallel(tmp_path / "a.de", tmp_path / "a.en")
    assert os.path.exists(tmp_path / "a.de")


def test_old_mac_line_endings_are_refused_not_read_as_one_line(
        prefix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines ended by a lone CR were read as one line: translate wrote one translation for
    the three sentences, and training files would pair them as one sentence."""
    import io
    import sys

    cr = tmp_path / "mac.de"
    cr.write_bytes(b"ein roter hund\rein hund rennt\reine katze sitzt\r")
    (tmp_path / "mac.en").write_bytes(b"a red dog\ra dog runs\ra cat sits\r")
    with pytest.raises(ValueError, match=r"mac.de:1: a carriage return \(\\r\) within the line"):
        read_parallel(cr, tmp_path / "mac.en")
    out = tmp_path / "run"
    assert main(["train", "seq2seq", "--train", str(prefix), "--dev", str(prefix), "--test",
                 str(prefix), "--out", str(out), *TINY, "--set", "train.epochs=1"]) == 0
    capsys.readouterr()
    model = str(out / "model.rnnkit")
    assert main(["translate", "--model", model, "--input", str(cr)]) == 2
    assert "old Mac (CR) line endings" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(cr.read_bytes())))
    assert main(["translate", "--model", model]) == 2
    captured = capsys.readouterr()
    assert "standard input:1: a carriage return" in captured.err and captured.out == ""
    crlf = tmp_path / "dos.de"  # Windows line ends are fine
    crlf.write_bytes(b"ein roter hund\r\n\r\nein hund rennt\r\n")
    assert main(["translate", "--model", model, "--input", str(crlf)]) == 0
    assert len(capsys.readouterr().out.split("\n")) == 4  # three lines, the blank one kept
