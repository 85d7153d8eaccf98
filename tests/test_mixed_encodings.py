"""A UTF-8 file with one Latin-1 line is told it mixes encodings, not to convert it whole."""
from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.data.files import read_text
from rnnkit.data.tagged import DataFormatError


def test_a_utf8_file_with_one_latin1_line_is_not_told_to_convert_it_whole(
    tmp_path: Path,
) -> None:
    """Such a file decodes as Windows-1252 too (as UTF-8 text nearly always does), so it was
    told to run iconv -f cp1252, which turns its good 'café' into 'cafÃ©'."""
    path = tmp_path / "lm.txt"
    path.write_bytes("a café here\n".encode() + "Déjà vu\n".encode("cp1252"))
    with pytest.raises(DataFormatError) as error:
        read_text(path)
    assert error.value.line == 2 and "iconv" not in str(error.value)
    assert str(error.value).endswith(
        "the file mixes encodings: line 1 holds UTF-8 text ('a café here'), this line reads as "
        "Windows-1252 (Latin-1), 'Déjà vu' there: retype or convert this line alone (converting"
        " the whole file from Windows-1252 would spoil its UTF-8 text)")
    assert "cafÃ©" in path.read_bytes().decode("cp1252")  # what the old advice's iconv did


def test_a_file_all_in_latin1_keeps_its_iconv_command(tmp_path: Path) -> None:
    path = tmp_path / "lm.txt"
    path.write_bytes("a café here\nDéjà vu\n".encode("cp1252"))
    with pytest.raises(DataFormatError, match=r":1: .*'a café here' there: save the file as "
                                              r"UTF-8 \(iconv -f cp1252 -t utf-8 "):
        read_text(path)
