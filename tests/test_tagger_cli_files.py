"""``rnnkit predict`` / ``evaluate`` of a tagger: input files and their formats, bad input and
where the predictions are written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_tagger_cli import CONLLU, TINY, _train
from test_tagger_cli import files as files  # noqa: F401  (fixture)

from rnnkit.cli import main


def test_bad_input_is_a_clear_error(files: dict[str, Path], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.conllu"
    empty.write_text("")
    good = str(files["conllu"])  # (without them, the missing dev file is said first)
    assert main(["train", "tagger", "--train", str(empty), "--dev", good, "--test", good,
                 "--format", "conllu", "--out", str(tmp_path / "x"), *TINY]) == 2
    assert "empty.conllu" in capsys.readouterr().err
    out = tmp_path / "pos"
    assert _train(files, "conllu", out) == 0
    model = str(out / "model.rnnkit")
    capsys.readouterr()
    assert main(["predict", "--model", model, "--text", "   "]) == 2
    assert "nothing to tag" in capsys.readouterr().err
    assert main(["predict", "--model", model, "--text", "Mary runs .\rJohn walks ."]) == 2
    assert "--text:1: a carriage return" in capsys.readouterr().err  # was: one sentence
    crlf = tmp_path / "crlf.txt"  # a CRLF file whose last \n is gone ($(cat file) drops it)
    crlf.write_bytes(b"Mary runs .\r\n\r\nJohn walks .\r")
    for given in (["--text", "Mary runs .\r\n\r\nJohn walks .\r"], ["--input", str(crlf)]):
        assert main(["predict", "--model", model, "--format", "text", *given]) == 0, \
            capsys.readouterr().err  # the last line's \r was refused as one within it
        tagged = capsys.readouterr().out.strip().split("\n\n")
        assert [[line.split("\t")[0] for line in part.splitlines()] for part in tagged] == [
            ["Mary", "runs", "."], ["John", "walks", "."]]
    long_sentence = " ".join(["word"] * 500)  # far longer than any training sentence
    assert main(["predict", "--model", model, "--text", long_sentence]) == 0
    assert len(capsys.readouterr().out.split()) == 1000
    one_line = tmp_path / "one_line.txt"  # a whole text on one line: 4 GB for 2 MB of it
    one_line.write_text("Mary runs .\n" + "word " * 10_001)
    assert main(["predict", "--model", model, "--format", "text", "--input", str(one_line)]) == 2
    assert (f"{one_line}:2: a sentence of 10,001 tokens, more than one sentence may hold "
            "(10,000)") in capsys.readouterr().err
    unknown = tmp_path / "unknown.conllu"
    unknown.write_text(CONLLU.replace("PUNCT", "SYM"))
    assert main(["evaluate", "--model", model, "--data", str(unknown)]) == 0
    assert json.loads(capsys.readouterr().out)["unknown_gold_tags"] == ["SYM"]
    other = tmp_path / "other.conllu"  # another tag set: most tokens carry strange tags
    other.write_text(re.sub(r"\t(NOUN|VERB|DET|PRON|ADJ|PUNCT)\t", "\tXX\t", CONLLU))
    assert main(["evaluate", "--model", model, "--data", str(other)]) == 2
    err = capsys.readouterr().err
    assert "carry tags the model never saw (XX); it predicts PROPN, PUNCT, VERB. " in err
    assert "<pad>" not in err  # a tag id, never predicted


def test_predict_tags_an_untagged_conllu_file(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "pos"
    assert _train(files, "conllu", out) == 0
    raw = tmp_path / "raw.conllu"
    untagged = "\n".join(
        "\t".join(f if i != 3 else "_" for i, f in enumerate(line.split("\t")))
        if line and not line.startswith("#") else line
        for line in CONLLU.split("\n")
    )
    raw.write_text(untagged)
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input", str(raw),
                 "--output", str(raw)]) == 2  # was tagged in place: the input overwritten
    assert raw.read_text() == untagged
    target = tmp_path / "tagged.conllu"
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input", str(raw),
                 "--output", str(target)]) == 0
    words = [line.split("\t") for line in target.read_text().splitlines()
             if line and not line.startswith("#")]
    assert len(words) == 5 and all(w[3] in ("PROPN", "VERB", "PUNCT") for w in words)


def test_evaluate_and_predict_name_their_flags(files: dict[str, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pos"
    assert _train(files, "conllu", out) == 0
    model = str(out / "model.rnnkit")
    capsys.readouterr()
    conllu = str(files["conllu"])
    refused = [
        (["evaluate", "--data", "sst"], "--data 'sst' is neither a tagging dataset"),
        (["evaluate", "--data", conllu, "--format", "tsv"],
         "--format must be one of conllu, iob; got 'tsv'"),
        (["predict", "--input", conllu, "--format", "conll"],
         "--format must be one of text, conllu, iob; got 'conll'"),
        (["predict", "--input", str(tmp_path / "missing.txt")], "missing.txt: no such file"),
    ]
    for command, message in refused:
        assert main([command[0], "--model", model, *command[1:]]) == 2
        assert message in capsys.readouterr().err
    target = tmp_path / "new" / "pred"  # a folder that does not exist yet
    assert main(["predict", "--model", model, "--input", conllu, "--output", str(target)]) == 0
    assert target.is_file()


def test_predict_reads_bytes_writes_standard_output_and_hints_the_format(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io
    import sys

    out = tmp_path / "pos"
    assert _train(files, "conllu", out) == 0
    model = str(out / "model.rnnkit")
    capsys.readouterr()
    assert main(["predict", "--model", model, "--input", str(files["conllu"])]) == 0
    assert capsys.readouterr().out.count("\n") == CONLLU.count("\n")  # to standard output
    assert sorted(path.name for path in files["conllu"].parent.iterdir()
                  if path.name.startswith("pos.conllu")) == ["pos.conllu"]  # no file beside
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Mary r\xfcns .\n")))
    assert main(["predict", "--model", model]) == 2
    assert "standard input:1: not UTF-8 text" in capsys.readouterr().err
    marked = tmp_path / "marked.txt"
    marked.write_bytes("\ufeffMary runs .\n".encode())
    assert main(["predict", "--model", model, "--input", str(marked), "--format", "text"]) == 0
    assert capsys.readouterr().out.split("\t")[0] == "Mary"  # the byte-order mark left out
    assert main(["predict", "--model", model, "--input", str(marked)]) == 2
    err = capsys.readouterr().err
    assert "read as conllu, the format the model trained on" in err and "--format: text" in err
    assert main(["evaluate", "--model", model, "--data", str(files["iob"])]) == 2
    assert "pass --format: conllu, iob" in capsys.readouterr().err


def test_evaluate_writes_predictions_in_the_format_the_data_was_read_in(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """evaluate --format iob --out of a CoNLL-U model scored the file, then stopped with 'is
    not CoNLL-U (2 fields in a token line)': the predictions were written as the model's
    training data, not as the file read."""
    out = tmp_path / "pos"
    assert _train(files, "conllu", out, "--set", "data.scheme=none") == 0
    data = tmp_path / "pos.txt"
    data.write_text("John\tPROPN\nruns\tVERB\n.\tPUNCT\n\n")
    report = tmp_path / "report"
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out / "model.rnnkit"), "--data", str(data),
                 "--format", "iob", "--out", str(report)]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] == 3
    written = (report / "test.predictions.iob").read_text().splitlines()
    assert [line.split("\t")[0] for line in written] == ["John", "runs", ".", ""]
    assert not (report / "test.predictions.conllu").exists()


def test_a_part_of_speech_model_reads_iob_files_and_iob_input_may_hold_placeholders(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A CoNLL-U POS model refused a token/tag file ('tag 'PROPN' is not O, B-X ...; set
    data.scheme=none', which evaluate and predict have no way to set), and predict refused
    IOB input whose tag column held the placeholder '_'."""
    out = tmp_path / "pos"
    assert _train(files, "conllu", out) == 0
    model = str(out / "model.rnnkit")
    data = tmp_path / "pos.txt"
    data.write_text("John\tPROPN\nruns\tVERB\n.\tPUNCT\n\n")
    raw = tmp_path / "raw.txt"
    raw.write_text("Mary\t_\nsleeps\t_\n\n")
    capsys.readouterr()
    assert main(["evaluate", "--model", model, "--data", str(data), "--format", "iob"]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] == 3
    assert main(["predict", "--model", model, "--input", str(raw), "--format", "iob"]) == 0
    tagged = [line.split("\t") for line in capsys.readouterr().out.splitlines() if line]
    assert [token for token, _ in tagged] == ["Mary", "sleeps"] and "_" not in dict(tagged).values()
    assert main(["predict", "--model", model, "--input", str(files["conllu"]), "--format",
                 "iob"]) == 2  # not its IDs tagged into its MISC column
    assert "a CoNLL-U file, not token and tag columns" in capsys.readouterr().err
    ner = tmp_path / "ner"
    assert _train(files, "iob", ner) == 0
    capsys.readouterr()
    assert main(["predict", "--model", str(ner / "model.rnnkit"), "--input", str(raw)]) == 0
    assert all(tag in ("O", "B-PER", "I-PER", "B-LOC", "I-LOC") for tag in [
        line.split("\t")[1] for line in capsys.readouterr().out.splitlines() if line])


def test_predict_writes_an_existing_file_in_a_folder_it_cannot_write_in(
        files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--output is written in place, so a writable file in a folder of others' (/dev/null,
    /dev/stdout) takes the predictions; it was refused for its folder. A new file there,
    or a file that cannot be written, is still refused before the model loads."""
    import os

    out = tmp_path / "pos"
    assert _train(files, "conllu", out) == 0
    model = str(out / "model.rnnkit")
    locked = tmp_path / "locked"
    locked.mkdir()
    mine, theirs = locked / "mine.txt", locked / "theirs.txt"
    mine.write_text("old\n")
    theirs.write_text("kept\n")
    access = os.access  # chmod does not stop root: the permissions are faked
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) not in (locked, theirs)
                        and access(path, mode))
    assert main(["predict", "--model", model, "--text", "Mary runs .", "--output",
                 str(mine)]) == 0
    assert [line.split("\t")[0] for line in mine.read_text().splitlines() if line] == \
        ["Mary", "runs", "."]
    assert main(["predict", "--model", model, "--text", "Mary runs .", "--output",
                 str(locked / "new.txt")]) == 2
    assert not (locked / "new.txt").exists()
    assert main(["predict", "--model", model, "--text", "Mary runs .", "--output",
                 str(theirs)]) == 2
    assert theirs.read_text() == "kept\n"
