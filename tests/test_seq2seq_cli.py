"""``rnnkit train seq2seq`` / ``translate`` / ``evaluate`` end to end, and runs resumed or refused
in an earlier run's folder.

translate's and evaluate's flags and input, the settings refused up front, parallel text files
(Multi30k in the registry) and the splits and training pairs are tested in
tests/test_seq2seq_cli_*.py, which import SOURCE, TARGET, TINY and the prefix fixture from here
(tests/test_failed_plots.py imports SOURCE, TARGET and TINY).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnkit.cli import main
from rnnkit.pipelines.seq2seq import (
    model_from_run,
)
from rnnkit.pipelines.translation import detokenize, load_translator, translate_lines

SOURCE = ["ein roter hund", "eine katze sitzt", "ein hund rennt", "ein vogel singt"] * 6
TARGET = ["a red dog", "a cat sits", "a dog runs", "a bird sings"] * 6
TINY = ["--set", "train.epochs=2", "--set", "train.progress=false", "--set",
        "model.hidden_size=8", "--set", "seq2seq.embedding_dim=8", "--set",
        "data.vocab_size=30", "--set", "train.threads=1", "--set", "seq2seq.beam_size=2"]


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
