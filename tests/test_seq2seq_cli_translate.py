"""``rnnkit translate`` / ``evaluate`` of a translation model: their flags, input and attention
plots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_seq2seq_cli import SOURCE, TINY
from test_seq2seq_cli import prefix as prefix  # noqa: F401  (fixture)

from rnnkit.cli import main


def test_translate_refuses_a_model_without_attention_for_plots(
        prefix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plain"
    assert main(["train", "seq2seq", "--train", str(prefix), "--dev", str(prefix), "--test",
                 str(prefix), "--out", str(out), *TINY, "--set", "seq2seq.attention=none",
                 "--set", "train.epochs=1"]) == 0
    capsys.readouterr()
    lines = tmp_path / "input.txt"
    lines.write_text("ein hund\n", encoding="utf-8")
    for beam in ("1", "2"):  # greedy and beam search
        code = main(["translate", "--model", str(out / "model.rnnkit"), "--input", str(lines),
                     "--attention-plot", str(tmp_path / "a.png"), "--beam-size", beam])
        assert code == 2
        captured = capsys.readouterr()
        assert "has no attention" in captured.err
        assert captured.out == ""  # refused before translating, not after writing them out
    written = tmp_path / "out.txt"
    assert main(["translate", "--model", str(out / "model.rnnkit"), "--input", str(lines),
                 "--attention-plot", str(tmp_path / "a.png"), "--output", str(written)]) == 2
    assert not written.exists()


def test_translate_refuses_a_file_that_is_no_bundle(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    fake = tmp_path / "model.rnnkit"
    fake.write_bytes(b"not a model")
    assert main(["translate", "--model", str(fake)]) == 2
    assert "is not an rnnkit bundle" in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "message"), [
    (["--beam-size", "0"], "--beam-size must be at least 1; got 0"),
    (["--n-best", "0"], "--n-best must be at least 1; got 0"),
    (["--input", "missing.txt"], "--input missing.txt: no such file"),
    (["--reference", "a dog runs"], "--reference only sets the translation that the "
                                    "--attention-plot heat map is drawn for"),
    (["--attention-plot", "a.png", "--reference", " "],
     "--reference is empty: give the translation of the first line"),
])
def test_translate_names_a_bad_flag_before_loading_the_model(
        flags: list[str], message: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["translate", "--model", str(tmp_path / "missing.rnnkit"), *flags]) == 2
    assert message in capsys.readouterr().err


def test_translate_and_evaluate_name_their_flags(prefix: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["train", "seq2seq", "--train", str(prefix), "--dev", str(prefix), "--test",
                 str(prefix), "--out", str(out), *TINY, "--set", "train.epochs=1"]) == 0
    model = str(out / "model.rnnkit")
    capsys.readouterr()
    assert main(["translate", "--model", model, "--input", f"{prefix}.de", "--n-best", "3"]) == 2
    assert "--n-best 3 is more than the beam size 2" in capsys.readouterr().err
    assert main(["translate", "--model", model, "--input", f"{prefix}.de", "--beam-size",
                 "1000"]) == 2
    assert re.search(r"--beam-size 1000 is larger than the target vocabulary \((\d+) subwords\);"
                     r" use at most \1 \(5 is usual\)", capsys.readouterr().err)
    written = tmp_path / "new" / "out.txt"  # a folder that does not exist yet
    assert main(["translate", "--model", model, "--input", f"{prefix}.de", "--output",
                 str(written)]) == 0
    assert len(written.read_text().splitlines()) == len(SOURCE)
    assert main(["evaluate", "--model", model]) == 2
    assert "trained from files: give --data, a file prefix" in capsys.readouterr().err
    assert main(["evaluate", "--model", model, "--data", "sst"]) == 2
    assert "--data 'sst' is neither a file prefix" in capsys.readouterr().err
    assert main(["evaluate", "--model", model, "--data", f"{prefix}.en"]) == 2  # said "tiny.en
    assert (f"--data '{prefix}.en' names one file of the pair; give their prefix, --data "  # .de
            f"{prefix} (reads {prefix}.de and {prefix}.en)") in capsys.readouterr().err  # is no"
    blank_first = tmp_path / "blank.de"
    blank_first.write_text("\n" + SOURCE[0] + "\n")
    assert main(["translate", "--model", model, "--input", str(blank_first),
                 "--attention-plot", str(tmp_path / "a.png")]) == 2
    captured = capsys.readouterr()
    assert "draws the first input line, which is empty" in captured.err
    assert captured.out == ""  # refused before translating, not after
    empty = tmp_path / "empty"
    for language in ("de", "en"):
        Path(f"{empty}.{language}").write_text("", encoding="utf-8")
    assert main(["translate", "--model", model, "--input", f"{empty}.de", "--n-best", "2"]) == 0
    assert capsys.readouterr().out == ""  # no input lines, no output (not a blank line)
    assert main(["evaluate", "--model", model, "--data", str(empty)]) == 2
    assert "no sentences to score: the reference text is empty" in capsys.readouterr().err
    for language in ("de", "en"):  # blank lines alone: was BLEU 0.00, as if the model erred
        Path(f"{empty}.{language}").write_text("\n\n", encoding="utf-8")
    assert main(["evaluate", "--model", model, "--data", str(empty)]) == 2
    assert "the reference text is empty (or only blank lines)" in capsys.readouterr().err


def test_translate_reads_standard_input_as_utf8_whatever_the_locale(
    prefix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io
    import sys

    out = tmp_path / "run"
    assert main(["train", "seq2seq", "--train", str(prefix), "--dev", str(prefix), "--test",
                 str(prefix), "--out", str(out), *TINY, "--set", "train.epochs=1"]) == 0
    capsys.readouterr()
    for raw, code in ((b"\xef\xbb\xbf" + SOURCE[0].encode() + b"\n", 0), (b"Ein M\xe4nn\n", 2)):
        stdin = io.TextIOWrapper(io.BytesIO(raw), encoding="ascii", errors="surrogateescape")
        monkeypatch.setattr(sys, "stdin", stdin)  # as a C locale reads it
        assert main(["translate", "--model", str(out / "model.rnnkit")]) == code
    assert "standard input:1: not UTF-8 text" in capsys.readouterr().err


def test_an_attention_plot_must_be_an_image(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.de"
    source.write_text("hallo welt\n", encoding="utf-8")
    assert main(["translate", "--model", str(tmp_path / "missing.rnnkit"), "--input",
                 str(source), "--attention-plot", str(tmp_path / "a.txt")]) == 2
    assert "name a .png, .pdf or .svg file" in capsys.readouterr().err
    (tmp_path / "plots").write_text("")  # a file where the folder should be: [Errno 17] File
    plot = tmp_path / "plots" / "a.png"  # exists, after the translation
    assert main(["translate", "--model", str(tmp_path / "missing.rnnkit"), "--input",
                 str(source), "--attention-plot", str(plot)]) == 2
    assert f"--attention-plot {plot}: {tmp_path / 'plots'} is a file, not a folder" in \
        capsys.readouterr().err


def test_attention_plot_warns_of_the_first_line_once(
        prefix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the plot read the first line again: "line 1 has N subword tokens; only the first 2 are
    # translated" (and its unseen characters) came twice, once for the heat map
    out = tmp_path / "run"
    assert main(["train", "seq2seq", "--src", "de", "--tgt", "en", "--train", str(prefix),
                 "--dev", str(prefix), "--test", str(prefix), "--out", str(out), *TINY,
                 "--set", "seq2seq.max_source_tokens=2"]) == 0
    lines = tmp_path / "input.txt"
    lines.write_text("ein roter hund rennt \u2603\nein hund\n", encoding="utf-8")
    capsys.readouterr()
    for reference in ([], ["--reference", "a red d\u00f6g"]):
        assert main(["translate", "--model", str(out / "model.rnnkit"), "--input", str(lines),
                     "--attention-plot", str(tmp_path / "a.png"), *reference]) == 0
        err = capsys.readouterr().err
        assert err.count("line 1 has ") == 1 and "only the first 2 are translated" in err, err
        assert err.count("line 1: characters never seen in training") == 1, err
        assert ("the given translation has characters never seen" in err) == bool(reference)
