"""``rnnkit evaluate`` / ``predict`` of a tagger on files laid out otherwise than its training
data: the model's own reader settings, and the columns given by flags."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from helpers import SHARED_DATA

from rnnkit.cli import main

TINY = ["--set", "train.max_steps=2", "--set", "train.progress=false", "--set",
        "model.hidden_size=8", "--set", "tagger.word_dim=8", "--set", "tagger.char_dim=4",
        "--set", "tagger.char_hidden=4", "--set", "train.threads=1"]
WNUT = "#NFL\tB-group\nrocks\tO\n\nMary\tB-person\nleft\tO\n\n"


NO_WNUT = pytest.mark.skipif(not (SHARED_DATA / "wnut17").is_dir(),
                             reason="needs the wnut17 mirror (RNNKIT_DATA)")


def _wnut_model(tmp_path: Path) -> str:
    """A tiny model of the registry's wnut17, which reads no comments (hashtags are tokens)."""
    out = tmp_path / "wnut"
    assert main(["train", "tagger", "--dataset", "wnut17", "--data-dir", str(SHARED_DATA),
                 "--out", str(out), *TINY]) == 0
    return str(out / "model.rnnkit")


@NO_WNUT
def test_evaluate_reads_a_file_with_the_model_s_comment_prefix_as_predict_does(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """evaluate read '#' lines of a file as comments for a WNUT model, trained with none, while
    predict read them as the model does: a line the model reads as a token was skipped."""
    model = _wnut_model(tmp_path)
    data = tmp_path / "tweets.txt"
    data.write_text("# a note\nMary\tB-person\nleft\tO\n\n")
    capsys.readouterr()
    assert main(["predict", "--model", model, "--input", str(data)]) == 2
    refused = capsys.readouterr().err
    assert "tweets.txt:1:" in refused and "'#' lines are read as tokens here" in refused
    assert main(["evaluate", "--model", model, "--data", str(data)]) == 2
    refused = capsys.readouterr().err  # the same line, read as the same token (their advice
    # on a tag of another kind differs: predict overwrites the column, evaluate scores it)
    assert "tweets.txt:1:" in refused and "'#' lines are read as tokens here" in refused
    data.write_text(WNUT)
    assert main(["evaluate", "--model", model, "--data", str(data)]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] == 4


CONLLU = ("1\tJohn\tJohn\tPROPN\tNNP\t_\t2\tnsubj\t_\t_\n"
          "2\truns\trun\tVERB\tVBZ\t_\t0\troot\t_\t_\n"
          "\n1\tMary\tMary\tPROPN\tNNP\t_\t2\tnsubj\t_\t_\n"
          "2\tleft\tleave\tVERB\tVBD\t_\t0\troot\t_\t_\n"
          "\n")
UNER = ("# sent_id = 1\n1\tJohn\tB-PER\t-\t-\n2\truns\tO\t-\t-\n\n"
        "# sent_id = 2\n1\tMary\tB-PER\t-\t-\n2\tleft\tO\t-\t-\n\n")
TWO = "John\tB-PER\nruns\tO\n\nMary\tB-PER\nleft\tO\n\n"


def _train(tmp_path: Path, name: str, text: str, fmt: str, *extra: str) -> str:
    path = tmp_path / f"{name}.txt"
    path.write_text(text)
    out = tmp_path / name
    assert main(["train", "tagger", "--train", str(path), "--dev", str(path), "--test",
                 str(path), "--format", fmt, "--out", str(out), *TINY, *extra]) == 0
    return str(out / "model.rnnkit")


def test_a_file_of_another_column_layout_is_refused_naming_the_column_flags(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A CoNLL-U POS model given a UNER file (--format iob) tagged its IDs and wrote the tags
    into its last column; models of other layouts advised 'set data.tag_column=3', which
    predict and evaluate had no way to set. They take --token-column and --tag-column now."""
    pos = _train(tmp_path, "pos", CONLLU, "conllu")
    uner = tmp_path / "uner.iob"
    uner.write_text(UNER)
    two = tmp_path / "two.iob"
    two.write_text(TWO)
    capsys.readouterr()
    for verb in (["predict", "--model", pos, "--input"], ["evaluate", "--model", pos, "--data"]):
        assert main([*verb, str(uner), "--format", "iob"]) == 2
        assert "give --tag-column 3 --token-column 2" in capsys.readouterr().err
    assert main(["predict", "--model", pos, "--input", str(uner), "--format", "iob",
                 "--token-column", "2", "--tag-column", "3"]) == 0
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()
             if line and not line.startswith("#")]
    assert [fields[:2] + fields[3:] for fields in lines] == [
        [str(i), word, "-", "-"] for i, word in ((1, "John"), (2, "runs"), (1, "Mary"),
                                                 (2, "left"))]
    assert {fields[2] for fields in lines} <= {"PROPN", "VERB"}
    assert main(["predict", "--model", pos, "--input", str(two), "--format", "iob"]) == 0
    capsys.readouterr()
    ner = _train(tmp_path, "ner", TWO, "iob")  # token 1, tag 2
    capsys.readouterr()
    assert main(["evaluate", "--model", ner, "--data", str(uner)]) == 2
    assert "give --tag-column 3 --token-column 2" in capsys.readouterr().err
    assert main(["evaluate", "--model", ner, "--data", str(uner), "--token-column", "2",
                 "--tag-column", "3"]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] == 4
    wide = _train(tmp_path, "wide", UNER, "iob", "--set", "data.token_column=2",
                  "--set", "data.tag_column=3")
    capsys.readouterr()
    assert main(["predict", "--model", wide, "--input", str(two)]) == 2
    assert "give --tag-column 2 --token-column 1" in capsys.readouterr().err
    assert main(["evaluate", "--model", wide, "--data", str(two), "--token-column", "1",
                 "--tag-column", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] == 4
    assert main(["predict", "--model", wide, "--text", "Bob ran", "--tag-column", "2"]) == 2
    assert "read as text, not iob" in capsys.readouterr().err


def test_predict_reads_conllu_and_iob_files_from_standard_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """--input - ('-': standard input, the help says) was refused for a CoNLL-U or iob
    model: 'give --input PATH'."""
    pos = _train(tmp_path, "pos", CONLLU, "conllu")
    ner = _train(tmp_path, "ner", TWO, "iob")
    for model, text, fmt in ((pos, CONLLU, []), (ner, TWO, []), (pos, UNER, [
            "--format", "iob", "--token-column", "2", "--tag-column", "3"])):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
        capsys.readouterr()
        assert main(["predict", "--model", model, "--input", "-", *fmt]) == 0
        written = capsys.readouterr().out
        assert written.count("\n") == text.count("\n")
        assert [(line[:4], line.count("\t")) for line in written.splitlines()] == [
            (line[:4], line.count("\t")) for line in text.splitlines()]  # tags alone changed
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"1\tJohn\n\n")))
    assert main(["predict", "--model", pos, "--input", "-"]) == 2
    assert capsys.readouterr().err.startswith("rnnkit: error: standard input:1: ")


def test_an_entity_model_given_tags_of_another_kind_is_told_what_predict_and_evaluate_take(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An entity model's predict and evaluate on a file whose tag column holds part of speech
    advised 'set data.scheme=none', a setting neither takes (training does)."""
    ner = _train(tmp_path, "ner", TWO, "iob")
    pos = tmp_path / "pos.tsv"
    pos.write_text("John\tNNP\nran\tVBD\n\n")
    capsys.readouterr()
    assert main(["predict", "--model", ner, "--input", str(pos)]) == 2
    refused = capsys.readouterr().err
    assert "data.scheme" not in refused
    assert "add a column of _ and give its number as --tag-column" in refused
    assert main(["evaluate", "--model", ner, "--data", str(pos)]) == 2
    refused = capsys.readouterr().err
    assert "data.scheme" not in refused
    assert "scored against entity tags only: give a file of them" in refused
    pos.write_text("John\tNNP\t_\nran\tVBD\t_\n\n")  # as the advice says
    assert main(["predict", "--model", ner, "--input", str(pos), "--tag-column", "3"]) == 0
    assert [line.split("\t")[:2] for line in capsys.readouterr().out.splitlines() if line] == [
        ["John", "NNP"], ["ran", "VBD"]]
    assert main(["train", "tagger", "--train", str(pos), "--dev", str(pos), "--test", str(pos),
                 "--format", "iob", "--set", "data.tag_column=2", "--out",
                 str(tmp_path / "run"), *TINY]) == 2  # training still says how it reads them
    assert "set data.scheme=none" in capsys.readouterr().err
