"""rnnkit evaluate's advice to pass --format is for a file a format could misread: a file
that is not UTF-8 (Latin-1) or a .gz that is not gzip got it too, though no format reads
either."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnkit.cli import main
from rnnkit.commands.common import read_as
from rnnkit.data.files import read_text

ADVICE = "if it is in another, pass --format"


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("classifier")
    rows = [("great fun film", "pos"), ("loved it", "pos"), ("dull bad film", "neg"),
            ("hated it", "neg")] * 3
    (folder / "train.jsonl").write_text("".join(json.dumps({"text": t, "label": label}) + "\n"
                                                for t, label in rows))
    assert main(["train", "classifier", "--train", str(folder / "train.jsonl"), "--out",
                 str(folder / "run"), "--set", "train.epochs=1", "--set",
                 "train.progress=false", "--set", "model.hidden_size=4", "--set",
                 "classifier.word_dim=4"]) == 0
    return str(folder / "run" / "model.rnnkit")


def test_a_file_that_is_not_text_gets_no_format_advice(
        model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    latin = tmp_path / "test.jsonl"
    latin.write_bytes('{"text": "caf\u00e9 fun", "label": "pos"}\n'.encode("latin-1"))
    packed = tmp_path / "test.jsonl.gz"
    packed.write_bytes(b"not gzip")
    for path, said in ((latin, "it reads as Windows-1252 (Latin-1) text"),
                       (packed, "not gzip data")):
        capsys.readouterr()
        assert main(["evaluate", "--model", model, "--data", str(path)]) == 2
        err = capsys.readouterr().err
        assert said in err and ADVICE not in err, err
    broken = tmp_path / "broken.jsonl"  # a format's error keeps the advice
    broken.write_text('{"text": "a"\n')
    assert main(["evaluate", "--model", model, "--data", str(broken)]) == 2
    assert ADVICE in capsys.readouterr().err


def test_read_as_passes_encoding_errors_on_as_they_are(tmp_path: Path) -> None:
    (tmp_path / "t.conllu").write_bytes(b"1\tcaf\xe9\n")
    with pytest.raises(ValueError) as raised, read_as("conllu", None, ("conllu", "iob")):
        read_text(tmp_path / "t.conllu")
    assert "not UTF-8 text" in str(raised.value) and "--format" not in str(raised.value)
    with pytest.raises(UnicodeDecodeError), read_as("conllu", None, ("conllu", "iob")):
        b"\xe9".decode("utf-8")
