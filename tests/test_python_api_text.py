"""``rnnkit.generate`` and ``rnnkit.translate``: the text ``rnnkit generate`` streams and the
lines ``rnnkit translate`` writes, the command's errors for bad input, and the README's
forecast/generate/translate example."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from test_forecaster import series_frame, settings, write_csv
from test_seq2seq_cli import SOURCE, TARGET, TINY

import rnnkit
from rnnkit.cli import main
from rnnkit.config import ConfigError

README = Path(__file__).resolve().parent.parent / "README.md"
PLAY = ("ROMEO: But soft, what light through yonder window breaks?\n"
        "JULIET: O Romeo, Romeo, wherefore art thou Romeo?\n") * 20
LM = ["--set", "train.epochs=1", "--set", "model.hidden_size=16", "--set",
      "train.batch_size=4", "--set", "data.steps=20", "--set", "data.eval_batch_size=2",
      "--set", "sample.length=20", "--set", "train.progress=false", "--set", "train.threads=1"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """runs/lm, runs/seq2seq (and runs/seattle, a forecaster of a daily CSV from 2015):
    tiny models, a few seconds of training in all."""
    folder = tmp_path_factory.mktemp("text")
    (folder / "play.txt").write_text(PLAY, encoding="utf-8")
    assert main(["train", "lm", "--file", str(folder / "play.txt"), "--out",
                 str(folder / "runs" / "lm"), *LM]) == 0
    (folder / "tiny.de").write_text("\n".join(SOURCE) + "\n", encoding="utf-8")
    (folder / "tiny.en").write_text("\n".join(TARGET) + "\n", encoding="utf-8")
    prefix = str(folder / "tiny")
    assert main(["train", "seq2seq", "--train", prefix, "--dev", prefix, "--test", prefix,
                 "--out", str(folder / "runs" / "seq2seq"), *TINY]) == 0
    daily = series_frame(400)
    daily.index = pd.date_range("2015-01-01", periods=400, freq="D", name="date")
    csv = write_csv(folder / "daily.csv", daily)
    args = ["train", "forecaster", "--out", str(folder / "runs" / "seattle")]
    for item in settings(csv, **{"data.calendar": "", "train.epochs": "1"}):
        args += ["--set", item]
    assert main(args) == 0
    return folder / "runs"


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_generate_gives_the_text_the_command_line_streams(
        runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = runs / "lm" / "model.rnnkit"
    for options, flags in [({}, []),
                           ({"prime": "ROMEO:", "length": 40, "temperature": 1.2, "top_k": 5,
                             "top_p": 0.9, "seed": 3},
                            ["--prime", "ROMEO:", "--length", "40", "--temperature", "1.2",
                             "--top-k", "5", "--top-p", "0.9", "--seed", "3"])]:
        text = rnnkit.generate(model, **options)  # type: ignore[arg-type]
        assert _cli(capsys, "generate", "--model", str(model), *flags) == text + "\n"
        assert rnnkit.generate(rnnkit.load(model), **options) == text  # type: ignore[arg-type]
    assert len(rnnkit.generate(str(model), length=50)) == 50  # no prime: 50 characters
    assert rnnkit.generate(model, prime="JULIET", length=7, seed=1).startswith("JULIET")


def test_translate_gives_the_lines_the_command_line_writes(
        runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = runs / "seq2seq" / "model.rnnkit"
    sentences = ["ein hund rennt", "", "eine katze sitzt", "ein Zebra"]
    source = tmp_path / "input.de"
    source.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    for options, flags in [({}, []), ({"beam_size": 1}, ["--beam-size", "1"]),
                           ({"beam_size": 2, "length_penalty": 0.5},
                            ["--beam-size", "2", "--length-penalty", "0.5"])]:
        with pytest.warns(UserWarning, match="line 4: characters never seen"):
            found = rnnkit.translate(model, sentences, **options)  # type: ignore[arg-type]
        printed = _cli(capsys, "translate", "--model", str(model), "--input", str(source),
                       *flags)
        assert found == printed.splitlines() and len(found) == 4
    with pytest.warns(UserWarning):
        best = rnnkit.translate(rnnkit.load(model), sentences, n_best=2)
    printed = _cli(capsys, "translate", "--model", str(model), "--input", str(source),
                   "--n-best", "2")
    blocks = [[line.rsplit("\t", 1)[0] for line in block.splitlines()]
              for block in printed.rstrip("\n").split("\n\n")]
    assert best == blocks and [len(texts) for texts in best] == [2, 1, 2, 2]  # "": one ""
    assert rnnkit.translate(model, []) == []


def test_bad_input_raises_the_command_line_s_error(
        runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lm, seq2seq = str(runs / "lm" / "model.rnnkit"), str(runs / "seq2seq" / "model.rnnkit")
    cases = [(lambda: rnnkit.generate(lm, top_p=0.0), ["generate", "--model", lm,
                                                        "--top-p", "0"]),
             (lambda: rnnkit.generate(lm, prime="§"), ["generate", "--model", lm,
                                                       "--prime", "§"]),
             (lambda: rnnkit.translate(seq2seq, ["x"], n_best=3),
              ["translate", "--model", seq2seq, "--n-best", "3"]),
             (lambda: rnnkit.translate(seq2seq, ["x"], beam_size=0),
              ["translate", "--model", seq2seq, "--beam-size", "0"]),
             (lambda: rnnkit.translate(seq2seq, ["x"], beam_size=1000),
              ["translate", "--model", seq2seq, "--beam-size", "1000"])]
    for call, argv in cases:
        with pytest.raises(ValueError) as raised:  # ConfigError, BundleError: ValueErrors
            call()
        capsys.readouterr()
        assert main(argv) == 2
        assert capsys.readouterr().err.strip() == f"rnnkit: error: {raised.value}"
    with pytest.raises(ConfigError, match="length=2.5: give a whole number, as --length"):
        rnnkit.generate(lm, length=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="give a list of them"):
        rnnkit.translate(seq2seq, "ein hund")
    with pytest.raises(ValueError, match="item 2 holds a line break"):
        rnnkit.translate(seq2seq, ["ein hund", "a\nb"])
    with pytest.raises(ValueError, match=r"does not run 'seq2seq' models: use rnnkit.translate"):
        rnnkit.generate(rnnkit.load(seq2seq))
    with pytest.raises(ValueError, match=r"rnnkit.predict does not run 'language_model' "
                                         r"models: use rnnkit.generate\(model\)"):
        rnnkit.predict(lm, ["x"])


def test_the_readme_s_forecast_generate_translate_example_runs(
        runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    section = README.read_text(encoding="utf-8").split("## Quickstart (Python)")[1]
    block = re.findall(r"```python\n(.*?)```", section.split("\n## ")[0], flags=re.S)[3]
    shutil.copytree(runs, tmp_path / "runs")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"rnnkit": rnnkit}
    exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
    table = namespace["table"]
    assert list(table.columns) == ["step", "mean"]  # type: ignore[attr-defined]
    assert str(table.index[0]).startswith("2015-07-01")  # type: ignore[attr-defined]
    assert str(namespace["text"]).startswith("ROMEO:") and len(str(namespace["text"])) == 106
    assert isinstance(namespace["english"], list) and len(namespace["english"]) == 1  # type: ignore[arg-type]


def test_a_model_of_another_kind_is_refused_alike_as_a_path_or_loaded(runs: Path) -> None:
    # a path was refused by the bundle reader ('... holds a seq2seq model'), a loaded model by
    # the front door ('rnnkit.generate does not run ...'): now loaded first, then one check
    lm, seq2seq = runs / "lm" / "model.rnnkit", runs / "seq2seq" / "model.rnnkit"
    calls = [(lambda m: rnnkit.generate(m), seq2seq,
              "rnnkit.generate does not run 'seq2seq' models: use rnnkit.translate"),
             (lambda m: rnnkit.translate(m, ["x"]), lm,
              "rnnkit.translate does not run 'language_model' models: use rnnkit.generate"),
             (lambda m: rnnkit.forecast(m), lm,
              "rnnkit.forecast does not run 'language_model' models: use rnnkit.generate"),
             (lambda m: rnnkit.predict(m, ["x"]), seq2seq,
              "rnnkit.predict does not run 'seq2seq' models: use rnnkit.translate")]
    for call, path, message in calls:
        told = []
        for model in (path, str(path), rnnkit.load(path)):
            with pytest.raises(ValueError) as raised:
                call(model)
            told.append(str(raised.value))
        assert told[0].startswith(message) and told.count(told[0]) == 3, told
    with pytest.raises(ValueError, match="does not run 'seq2seq' models"):
        rnnkit.predict(seq2seq, ["x"], scores=True)  # the kind refused before the option
