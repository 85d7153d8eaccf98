"""``rnnkit train seq2seq`` / ``translate`` / ``evaluate`` end to end; Multi30k in the registry."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from helpers import SHARED_DATA

from rnnkit.cli import main
from rnnkit.config import ModelConfig, TrainConfig
from rnnkit.data.parallel import dataset_pair_files, read_parallel
from rnnkit.data.registry import get_spec
from rnnkit.data.subword import SubwordTokenizer
from rnnkit.models.seq2seq import Seq2Seq, Seq2SeqConfig
from rnnkit.pipelines.seq2seq import (
    Seq2SeqRunConfig,
    TranslationDataConfig,
    encode_pairs,
    model_from_run,
    train_seq2seq,
)
from rnnkit.pipelines.translation import detokenize, load_translator, translate_lines

SOURCE = ["ein roter hund", "eine katze sitzt", "ein hund rennt", "ein vogel singt"] * 6
TARGET = ["a red dog", "a cat sits", "a dog runs", "a bird sings"] * 6
TINY = ["--set", "train.epochs=2", "--set", "train.progress=false", "--set",
        "model.hidden_size=8", "--set", "seq2seq.embedding_dim=8", "--set",
        "data.vocab_size=30", "--set", "train.threads=1", "--set", "seq2seq.beam_size=2"]
MIRROR = SHARED_DATA


@pytest.fixture()
def prefix(tmp_path: Path) -> Path:
    (tmp_path / "tiny.de").write_text("\n".join(SOURCE) + "\n", encoding="utf-8")
    (tmp_path / "tiny.en").write_text("\n".join(TARGET) + "\n", encoding="utf-8")
    return tmp_path / "tiny"


def test_train_translate_evaluate(prefix: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    code = main(["train", "seq2seq", "--src", "de", "--tgt", "en", "--train", str(prefix),
                 "--dev", str(prefix), "--test", str(prefix), "--out", str(out), *TINY])
    assert code == 0
    for name in ("model.rnnkit", "results.json", "config.toml", "test.greedy.txt",
                 "test.beam.txt", "tokenizers.json"):
        assert (out / name).is_file(), name
    results = json.loads((out / "results.json").read_text())
    assert set(results["test"]) == {"greedy", "beam"}
    assert results["test"]["beam"]["bleu_signature"].startswith("nrefs:1|case:mixed")
    capsys.readouterr()
    model = str(out / "model.rnnkit")
    lines = tmp_path / "input.txt"
    lines.write_text("ein roter hund\n\nein hund ☃\n", encoding="utf-8")
    plot = tmp_path / "attention.png"
    assert main(["translate", "--model", model, "--input", str(lines), "--n-best", "2",
                 "--attention-plot", str(plot)]) == 0
    captured = capsys.readouterr()
    blocks = captured.out.rstrip("\n").split("\n\n")
    assert len(blocks) == 3 and len(blocks[0].splitlines()) == 2
    assert blocks[1] == "\t0.0000"  # the empty line: one empty translation
    assert "never seen in training" in captured.err and plot.stat().st_size > 1000
    pair_plot = tmp_path / "pair.png"
    assert main(["translate", "--model", model, "--input", str(lines), "--attention-plot",
                 str(pair_plot), "--reference", "a red dog"]) == 0
    assert pair_plot.stat().st_size > 1000
    capsys.readouterr()
    assert main(["translate", "--model", model, "--input", str(lines), "--attention-plot",
                 str(pair_plot), "--reference", "a red d\u00f6g"]) == 0
    assert ("rnnkit: warning: the given translation has characters never seen in training,"
            " read as unknown: \u00f6\n") in capsys.readouterr().err
    assert main(["evaluate", "--model", model, "--data", str(prefix)]) == 0
    shown = capsys.readouterr().out
    assert "BLEU signature: nrefs:1|case:mixed|eff:no|tok:13a" in shown and "chrF2 = " in shown
    # which decoding it scored (the training run's test has greedy and beam scores)
    assert f"{len(SOURCE)} sentences, de->en, beam search (beam 2, length penalty 1.0)" in shown
    assert f"BLEU = {results['test']['beam']['bleu']:.2f} " in shown
    rebuilt = model_from_run(out)  # from the run folder's checkpoint, as for a cut-short run
    loaded = load_translator(out / "model.rnnkit")
    assert detokenize(rebuilt, translate_lines(rebuilt, SOURCE[:4])) == detokenize(
        loaded, translate_lines(loaded, SOURCE[:4]))


@pytest.mark.parametrize(("test", "message"), [
    ([], "no test data: set data.dataset, or data.test (--test) to a file prefix"),
    (["--test", "missing"], "data.test (--test) missing.de: no such file; give the prefix"),
    # one file of the pair said 'TINY.de.de does not exist'
    (["--test", "TINY.de"], "--test 'TINY.de' names one file of the pair; give their prefix, "
                            "--test TINY (reads TINY.de and TINY.en)"),
])

def test_the_test_split_is_read_before_training(prefix: Path, tmp_path: Path, test: list[str],
                                                message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    test = [part.replace("TINY", str(prefix)) for part in test]
    code = main(["train", "seq2seq", "--train", str(prefix), "--dev", str(prefix), *test,
                 "--out", str(out), *TINY])
    assert code == 2
    assert message.replace("TINY", str(prefix)) in capsys.readouterr().err
    assert not (out / "model.rnnkit").exists()


@pytest.mark.parametrize(("files", "message"), [
    ({"de": "", "en": ""}, "the train data has no sentence pairs (its files are empty); give "
                           "data.train (--train)"),
    ({"de": "\n \n", "en": "a dog\na cat\n"}, "has no text in {prefix}.de: every line is blank"),
])
def test_training_text_with_nothing_on_a_side_is_named(
        prefix: Path, tmp_path: Path, files: dict[str, str], message: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Such training text failed in SentencePiece: 'cannot train a tokenizer: the training
    text has no non-empty line', naming neither the file nor the flag."""
    for language, text in files.items():
        (tmp_path / f"bad.{language}").write_text(text, encoding="utf-8")
    assert main(["train", "seq2seq", "--train", str(tmp_path / "bad"), "--dev", str(prefix),
                 "--test", str(prefix), "--out", str(tmp_path / "run"), *TINY]) == 2
    assert message.format(prefix=tmp_path / "bad") in capsys.readouterr().err


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


@pytest.mark.parametrize(("setting", "message"), [
    ("seq2seq.attention=luong", "seq2seq.attention must be one of none, dot, general"),
    ("seq2seq.attention=dot", "seq2seq.attention=dot needs equal decoder (8) and encoder (16)"
     " state sizes, and a bidirectional encoder's are twice model.hidden_size: set "
     "model.bidirectional=false"),  # named no key
    ("seq2seq.max_length_ratio=-1.0", "seq2seq.max_length_ratio must be at least 0"),
    ("data.vocab_size=4", "data.vocab_size must be at least 5"),
    ("data.vocab_size=2147483648", "data.vocab_size must be at most 10000000"),
    ('data.tokenizer="wordpiece"', "data.tokenizer must be one of unigram, bpe"),
    ("data.max_train_tokens=-1", "data.max_train_tokens must be at least 0"),
    # trained (beam validation too) though translate refuses such a beam
    ("seq2seq.beam_size=31", "seq2seq.beam_size must be at most 30 (the beam keeps one"),
    # trained, and the bundle translated with it though translate refuses --length-penalty -1
    ("seq2seq.length_penalty=-1", "seq2seq.length_penalty must be at least 0; got -1.0"),
    # these three trained as if given 1, 0 and a constant ratio
    ("seq2seq.teacher_forcing=1.5", "teacher_forcing_final are probabilities"),
    ("seq2seq.teacher_forcing=-0.1", "teacher_forcing_final are probabilities"),
    ("seq2seq.teacher_forcing_steps=-1", "seq2seq.teacher_forcing_steps must be at least 0"),
    ("seq2seq.teacher_forcing_final=0.5",  # was ignored without the steps
     "seq2seq.teacher_forcing_final is read only with seq2seq.teacher_forcing_steps"),
])
def test_a_wrong_model_option_is_refused_before_data_or_tokenizers(
        prefix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str,
        message: str) -> None:
    out = tmp_path / "run"
    assert main(["train", "seq2seq", "--src", "de", "--tgt", "en", "--train", "missing",
                 "--out", str(out), *TINY, "--set", setting]) == 2  # no data read: none needed
    assert message in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(("flags", "message"), [
    (["--dev", "{empty}"], "the dev data has no sentence pairs"),
    (["--test", "{empty}"], "the test data has no sentence pairs"),
    (["--dev", "{blank}"], "the dev data's references (en) are only blank lines"),  # was BLEU
    (["--test", "{blank}"], "the test data's references (en) are only blank lines"),  # 0.00
    (["--set", "data.max_train_tokens=1"],
     "none of the 24 training pairs is at most 1 subwords long"),
])
def test_nothing_to_train_on_or_to_score_is_refused_before_training(
        prefix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str],
        message: str) -> None:
    empty = tmp_path / "empty"
    for language in ("de", "en"):
        Path(f"{empty}.{language}").write_text("", encoding="utf-8")
        Path(f"{tmp_path / 'blank'}.{language}").write_text("\n\n \n", encoding="utf-8")
    out = tmp_path / "run"
    given = [flag.format(empty=empty, blank=tmp_path / "blank") for flag in flags]
    defaults = ["--train", str(prefix), "--dev", str(prefix), "--test", str(prefix)]
    assert main(["train", "seq2seq", "--src", "de", "--tgt", "en", *defaults, *given,
                 "--out", str(out), *TINY]) == 2
    assert message in capsys.readouterr().err
    assert not (out / "last.pt").exists()  # not after an epoch of training


@pytest.mark.parametrize("flags", [
    ["--set", "data.train=files"],
    ["--dev", "files"],
    ["--set", "data.test=files"],
])
def test_seq2seq_files_with_the_registry_dataset_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str]) -> None:
    """data.train/dev/test beside data.dataset (the default multi30k) were never read: the
    dataset's splits trained and scored, silently."""
    out = tmp_path / "run"
    assert main(["train", "seq2seq", *flags, "--out", str(out), "--print-config"]) == 2
    err = capsys.readouterr().err
    assert "data.dataset=multi30k reads that dataset's own splits" in err
    assert "would not be read" in err
    assert not out.exists()


def test_seq2seq_training_pairs_are_judged_and_kept_whole(tmp_path: Path) -> None:
    """Training sources were cut to seq2seq.max_source_tokens before data.max_train_tokens
    judged them: a pair longer than the limit was kept (cut), and a kept source lost its end
    while its target did not."""
    short = ["ein hund", "eine katze", "ein vogel"] * 4
    long = ["ein roter hund rennt schnell über die grüne wiese zum see"] * 4
    (tmp_path / "tiny.de").write_text("\n".join(short + long) + "\n", encoding="utf-8")
    (tmp_path / "tiny.en").write_text("\n".join(["a dog"] * 16) + "\n", encoding="utf-8")
    prefix = str(tmp_path / "tiny")
    config = Seq2SeqRunConfig(
        data=TranslationDataConfig(dataset="", train=prefix, dev=prefix, test=prefix,
                                   vocab_size=30, max_train_tokens=20),
        seq2seq=Seq2SeqConfig(embedding_dim=8, max_source_tokens=2, beam_size=1),
        model=ModelConfig(cell="gru", hidden_size=8),
        train=TrainConfig(epochs=1, progress=False, threads=1, monitor="val_bleu", mode="max"))
    with pytest.warns(UserWarning, match=r"line \d+ has \d+ subword tokens; only the first 2 "
                                         r"are translated \(raise seq2seq.max_source_tokens"):
        results = train_seq2seq(config, tmp_path / "run", log=lambda *_: None)  # dev, test
    stored = json.loads((tmp_path / "run" / "tokenizers.json").read_text(encoding="utf-8"))
    tokenizers = [SubwordTokenizer.from_json(stored[side]) for side in ("source", "target")]
    assert len(tokenizers[0].encode(long[0])) > 20 >= max(
        len(tokenizers[0].encode(line)) for line in short)
    assert results["train_pairs"] == len(short)  # the long sources left out, not cut to 2
    model = Seq2Seq(*tokenizers, config.seq2seq, config.model)
    whole = encode_pairs(model, short[:1] + long[:1], ["a dog"] * 2, truncate=False)
    assert [len(pair[0]) for pair in whole] == [
        len(tokenizers[0].encode(line)) + 1 for line in (short[0], long[0])]
    cut = encode_pairs(model, long[:1], ["a dog"])  # scoring reads it as translation does
    assert len(cut[0][0]) == 3


def test_training_pairs_blank_on_one_side_are_left_out_and_named(tmp_path: Path) -> None:
    """A blank line on one side of a training pair (the files' line counts agreeing) was
    trained on in silence: the model learnt to translate that sentence as nothing."""
    sources, targets = list(SOURCE), list(TARGET)
    targets[1], sources[4] = "", "  "  # line 2: no translation; line 5: nothing translated
    (tmp_path / "t.de").write_text("\n".join(sources) + "\n", encoding="utf-8")
    (tmp_path / "t.en").write_text("\n".join(targets) + "\n", encoding="utf-8")
    prefix = str(tmp_path / "t")
    config = Seq2SeqRunConfig(
        data=TranslationDataConfig(dataset="", train=prefix, dev=prefix, test=prefix,
                                   vocab_size=30),
        seq2seq=Seq2SeqConfig(embedding_dim=8, beam_size=1),
        model=ModelConfig(cell="gru", hidden_size=8),
        train=TrainConfig(epochs=1, progress=False, threads=1, monitor="val_bleu", mode="max"))
    logged: list[str] = []
    results = train_seq2seq(config, tmp_path / "run", log=logged.append)
    assert results["train_pairs"] == len(SOURCE) - 2
    assert (f"left out 2 training pairs blank on one side, no translation of the other: "
            f"line 2 ({prefix}.en blank), line 5 ({prefix}.de blank)") in logged


def test_warnings_about_a_test_line_name_its_file(
        prefix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """'line 2: characters never seen in training' did not say of which file: train seq2seq
    scores its test split after training (dev validated before), evaluate a prefix's pair."""
    (tmp_path / "unseen.de").write_text("ein hund\nein hund ☃\n", encoding="utf-8")
    (tmp_path / "unseen.en").write_text("a dog\na dog\n", encoding="utf-8")
    test = tmp_path / "unseen"
    out = tmp_path / "run"
    assert main(["train", "seq2seq", "--train", str(prefix), "--dev", str(prefix),
                 "--test", str(test), "--out", str(out), *TINY]) == 0
    said = (f"rnnkit: warning: {test}.de, line 2: characters never seen in training are read "
            "as unknown: ☃\n")
    assert said in capsys.readouterr().err
    assert main(["evaluate", "--model", str(out / "model.rnnkit"), "--data", str(test)]) == 0
    assert said in capsys.readouterr().err


def test_a_refused_run_leaves_the_earlier_runs_tokenizers(
        prefix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A fresh run into a run's folder wrote its tokenizers.json before its checks: refused
    (a mistyped train.monitor), it left the earlier run with the new subword models, so that
    run's --resume said its checkpoint 'was written by a model built from other data'."""
    out = str(tmp_path / "run")
    data = ["--src", "de", "--tgt", "en", "--train", str(prefix), "--dev", str(prefix),
            "--test", str(prefix), "--out", out]
    assert main(["train", "seq2seq", *data, *TINY]) == 0
    saved = (tmp_path / "run" / "tokenizers.json").read_text(encoding="utf-8")
    assert main(["train", "seq2seq", *data, *TINY, "--set", "data.vocab_size=25",
                 "--set", "train.monitor=val_blue"]) == 2
    assert "'val_blue' is not a validation metric" in capsys.readouterr().err
    assert (tmp_path / "run" / "tokenizers.json").read_text(encoding="utf-8") == saved
    assert main(["train", "seq2seq", "--out", out, "--resume", "--set", "train.epochs=3"]) == 0
    assert "resumed from" in capsys.readouterr().out


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


@pytest.mark.parametrize(("dataset", "task"), [("sst", "classification"),
                                               ("tinyshakespeare", "language model")])
def test_a_registry_dataset_of_another_task_is_refused_up_front(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], dataset: str, task: str) -> None:
    """train seq2seq --dataset sst was refused only when the splits were read ('dataset 'sst'
    is a classification dataset, not parallel text'), so --print-config passed it; it is now
    refused there, worded as the tagger and classifier refuse a dataset of another task."""
    assert main(["train", "seq2seq", "--dataset", dataset, "--out", str(tmp_path / "run"),
                 "--print-config"]) == 2
    assert (f"dataset {dataset!r} is a {task} dataset, and a translation model reads "
            "translation datasets (multi30k)") in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_input_feeding_without_attention_is_refused_not_dropped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The model set it to false without a word, and the run's config.toml kept true."""
    assert main(["train", "seq2seq", "--set", "seq2seq.attention=none", "--set",
                 "seq2seq.input_feeding=true", "--print-config"]) == 2
    assert ("seq2seq.input_feeding feeds the attentional vector into the next step, and "
            "seq2seq.attention=none gives none") in capsys.readouterr().err
    assert main(["train", "seq2seq", "--set", "seq2seq.attention=none", "--print-config"]) == 0


def test_a_run_saved_with_input_feeding_and_no_attention_resumes_with_it_set_false(
        prefix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Such a run (saved before the pair was refused) trained without input feeding; --resume
    refused it and then refused seq2seq.input_feeding=false as a changed setting. The change
    to false is taken as what the run did, and the refusal says to give it."""
    out = tmp_path / "run"
    args = ["train", "seq2seq", "--src", "de", "--tgt", "en", "--train", str(prefix), "--dev",
            str(prefix), "--test", str(prefix), "--out", str(out), *TINY,
            "--set", "seq2seq.attention=none"]
    assert main([*args, "--set", "train.epochs=1"]) == 0
    config = out / "config.toml"
    config.write_text(config.read_text().replace("input_feeding = false",
                                                 "input_feeding = true"))
    capsys.readouterr()
    assert main([*args, "--resume"]) == 2
    assert "--resume a run saved so, which trained without it: --set seq2seq.input_feeding=false" \
        in capsys.readouterr().err
    assert main([*args, "--resume", "--set", "seq2seq.input_feeding=false"]) == 0
    assert json.loads((out / "results.json").read_text())["epochs"] == 2


def test_a_beam_wider_than_the_vocabulary_sentencepiece_made_is_refused_before_training(
        prefix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """data.vocab_size asks for at most so many pieces; a small text gives fewer"""
    out = tmp_path / "run"
    assert main(["train", "seq2seq", "--src", "de", "--tgt", "en", "--train", str(prefix),
                 "--dev", str(prefix), "--test", str(prefix), "--out", str(out), *TINY,
                 "--set", "data.vocab_size=500", "--set", "seq2seq.beam_size=400"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"seq2seq.beam_size 400 is larger than the target vocabulary \((\d+) "
                     r"subwords\); use at most \1", err), err
    assert not (out / "model.rnnkit").exists()


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
