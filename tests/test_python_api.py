"""``rnnkit.train``, ``rnnkit.load`` and ``rnnkit.predict``: the command line's tasks from
Python, giving what ``rnnkit predict`` prints and refusing what ``rnnkit train`` refuses."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from test_numeric_classifier import _numeric_bundle
from test_tagger_cli import CONLLU

import rnnkit
from rnnkit.cli import main
from rnnkit.config import ConfigError
from rnnkit.data.tagged import probability_text

README = Path(__file__).resolve().parent.parent / "README.md"


TAGGER = {"train.epochs": 1, "train.progress": False, "model.hidden_size": 8,
          "tagger.word_dim": 8, "tagger.char_dim": 4, "tagger.char_hidden": 4,
          "train.threads": 1}

CLASSIFIER = {"train.epochs": 1, "train.progress": False, "train.batch_size": 4,
              "model.hidden_size": 8, "classifier.word_dim": 8, "train.threads": 1}

TEXTS = [("great fun film", "pos"), ("loved it", "pos"), ("dull bad film", "neg"),
         ("hated it", "neg")]


def _cli_lines(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out.splitlines()


def test_a_tagger_trains_loads_and_predicts_as_the_command_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "pos.conllu"
    data.write_text(CONLLU)
    run = rnnkit.train("tagger", tmp_path / "pos", TAGGER, train=data, dev=data, test=data,
                       format="conllu")
    assert run.model_path == tmp_path / "pos" / "model.rnnkit"
    saved = json.loads((tmp_path / "pos" / "results.json").read_text())
    assert run.results == saved and 0.0 <= run.results["test"]["scores"]["accuracy"] <= 1.0
    model = rnnkit.load(run.model_path)
    assert not model.training
    sentences = [["Mary", "runs", "."], ["John", "sleeps"]]
    tags, probabilities = rnnkit.predict(model, sentences, scores=True)
    assert rnnkit.predict(run.model_path, ["Mary runs .", "John sleeps"]) == tags
    lines = _cli_lines(capsys, "predict", "--model", str(run.model_path), "--scores",
                       "--text", "Mary runs .\nJohn sleeps")
    rows = [line.split("\t") for line in lines if line]
    assert [row[1] for row in rows] == [tag for sentence in tags for tag in sentence]
    assert [row[2] for row in rows] == [probability_text(p) for row in probabilities
                                        for p in row]


def test_a_classifier_trains_and_predicts_what_the_command_line_prints(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in TEXTS * 2))
    run = rnnkit.train("classifier", str(tmp_path / "run"), CLASSIFIER, train=data, dev=data)
    assert run.model_path is not None and "dev" in run.results
    texts = ["a great film", "hated it"]
    records = rnnkit.predict(rnnkit.load(run.model_path), texts)
    lines = _cli_lines(capsys, "predict", "--model", str(run.model_path),
                       "--text", "\n".join(texts))
    assert records == [json.loads(line) for line in lines]
    assert set(records[0]["probabilities"]) == {"neg", "pos"}
    assert [(r["input"], r["line"]) for r in records] == [("a great film", 1), ("hated it", 2)]
    with pytest.raises(ValueError, match="scores=True is a tagger's option"):
        rnnkit.predict(run.model_path, texts, scores=True)


def test_a_classifier_s_records_hold_each_text_as_given_and_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in TEXTS * 2))
    model = rnnkit.train("classifier", tmp_path / "run", CLASSIFIER, train=data,
                         dev=data).model_path
    texts = ["A Great, FUN film", "a\nmulti-line text", "Hated it"]
    rows = tmp_path / "new.csv"  # a quoted text over two lines, then a blank line
    rows.write_text('id,text\n1,"A Great, FUN film"\n2,"a\nmulti-line text"\n\n3,Hated it\n')
    table = [json.loads(line) for line in _cli_lines(capsys, "predict", "--model", str(model),
                                                     "--input", str(rows))]
    assert [(r["input"], r["line"]) for r in table] == [(texts[0], 2), (texts[1], 3),
                                                        (texts[2], 6)]
    # an item with a line break is one text, as the CSV's quoted field is (not two, as
    # --text's lines would be): one record, its input as given
    records = rnnkit.predict(model, texts)  # the same texts, numbered as inputs' items
    assert len(records) == 3 and records[1]["input"] == "a\nmulti-line text"
    assert [r["input"] for r in records] == texts and [r["line"] for r in records] == [1, 2, 3]
    assert [{**r, "line": 0} for r in records] == [{**r, "line": 0} for r in table]
    plain = tmp_path / "new.txt"
    plain.write_text("A Great, FUN film\n\nHated it\n")
    assert [(json.loads(line)["input"], json.loads(line)["line"]) for line in _cli_lines(
        capsys, "predict", "--model", str(model), "--input", str(plain))] == [
        (texts[0], 1), (texts[2], 3)]


def test_a_numeric_classifier_predicts_a_long_csv_as_the_command_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, _ = _numeric_bundle(tmp_path)
    sequences = tmp_path / "new.csv"
    sequences.write_text("id,step,x,y\na,0,1,0.5\na,1,2,1\nb,0,5,0\nc,0,3,0.5\nc,1,4,1\n")
    records = rnnkit.predict(model, sequences)
    lines = _cli_lines(capsys, "predict", "--model", str(model), "--input", str(sequences))
    assert records == [json.loads(line) for line in lines]
    assert [record["input"] for record in records] == ["a", "b", "c"]
    assert rnnkit.predict(rnnkit.load(model), str(sequences)) == records
    broken = tmp_path / "broken.csv"
    broken.write_text("id,step,x\na,0,1\n")
    for inputs in (broken, tmp_path / "missing.csv"):
        with pytest.raises(ValueError) as raised:
            rnnkit.predict(model, inputs)
        capsys.readouterr()
        assert main(["predict", "--model", str(model), "--input", str(inputs)]) == 2
        assert capsys.readouterr().err.strip() == f"rnnkit: error: {raised.value}"
    with pytest.raises(ValueError, match="inputs is a list: a numeric classifier reads its "
                                         "sequences from a long CSV"):
        rnnkit.predict(model, ["1 2 3"])
    with pytest.raises(ValueError, match="scores=True is a tagger's option"):
        rnnkit.predict(model, sequences, scores=True)


def test_a_bad_setting_raises_what_the_command_line_prints(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "pos.conllu"
    data.write_text(CONLLU)
    with pytest.raises(ConfigError) as raised:
        rnnkit.train("tagger", tmp_path / "a", {"train.epochz": 1}, train=data,
                     format="conllu")
    capsys.readouterr()
    assert main(["train", "tagger", "--train", str(data), "--format", "conllu", "--out",
                 str(tmp_path / "b"),
                 "--set", "train.epochz=1"]) == 2
    assert capsys.readouterr().err.strip() == f"rnnkit: error: {raised.value}"
    with pytest.raises(ConfigError, match="did you mean 'tagger'"):
        rnnkit.train("tager", tmp_path / "c", train=data)
    with pytest.raises(ConfigError, match="did you mean --train"):
        rnnkit.train("tagger", tmp_path / "d", trian=data)
    assert not (tmp_path / "a").exists() and not (tmp_path / "d").exists()


def test_predict_refuses_what_it_cannot_run(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not run 'object' models"):
        rnnkit.predict(object(), "one text")
    with pytest.raises(ValueError, match="does not run 'Linear' models"):
        rnnkit.predict(torch.nn.Linear(1, 1), ["x"])
    with pytest.raises(ValueError, match="does not exist"):
        rnnkit.load(tmp_path / "missing.rnnkit")


def test_the_readme_s_train_load_predict_example_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    section = README.read_text(encoding="utf-8").split("## Quickstart (Python)")[1]
    block = re.findall(r"```python\n(.*?)```", section.split("\n## ")[0], flags=re.S)[2]
    for name in ("train.conllu", "dev.conllu", "test.conllu"):
        (tmp_path / name).write_text(CONLLU)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"rnnkit": rnnkit}
    exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
    assert namespace["run"].model_path == Path("runs/pos/model.rnnkit")  # type: ignore[attr-defined]
    tags = namespace["tags"]
    assert isinstance(tags, list) and len(tags) == 1 and len(tags[0]) == 4
    assert len(namespace["probabilities"][0]) == 4  # type: ignore[index]


def test_import_rnnkit_loads_neither_the_front_door_nor_pandas() -> None:
    code = ("import sys, rnnkit; print([m for m in ('pandas', 'gensim', 'matplotlib', "
            "'rnnkit.api', 'rnnkit.api_series', 'rnnkit.api_text', 'rnnkit.cli') "
            "if m in sys.modules]); "
            "print(all(n in dir(rnnkit) for n in ('train', 'forecast', 'generate', 'translate')))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True)
    assert found.stdout.split() == ["[]", "True"]


def test_mypy_sees_the_front_door_s_types(tmp_path: Path) -> None:
    # the lazy names once read as Any to mypy: a wrong argument passed, load(run.model_path)
    # (Path | None) had no say; now each is checked as the README writes it
    pytest.importorskip("mypy")
    script = tmp_path / "user.py"
    script.write_text(
        "import rnnkit\n"
        "run = rnnkit.train('tagger', out='runs/x', settings={'train.epochs': 2}, train='a')\n"
        "model = rnnkit.load(run.model_path)\n"
        "tags = rnnkit.predict(model, [['a', 'b']])\n"
        "rnnkit.forecast('m.rnnkit', as_of='2015')\n"
        "text: str = rnnkit.generate(model, prime='x', length=3)\n"
        "rnnkit.generate(model, length='3')\n"
        "reveal_type(rnnkit.translate)\n")
    source = Path(rnnkit.__file__).resolve().parent.parent
    found = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"),
         "--follow-imports=silent", "--ignore-missing-imports", script.name],
        capture_output=True, text=True, cwd=tmp_path, env={"MYPYPATH": str(source)},
        check=False)
    lines = [line for line in found.stdout.splitlines() if line.startswith("user.py")]
    assert len(lines) == 2, found.stdout
    assert lines[0].startswith("user.py:7: error") and '"length"' in lines[0]
    assert lines[1].startswith("user.py:8: note: Revealed type is \"def (")
    assert "attach" not in dir(rnnkit)
    with pytest.raises(ValueError, match=r"rnnkit.load\(None\): no bundle"):
        rnnkit.load(None)


def test_settings_and_inputs_are_written_as_the_command_line_reads_them(tmp_path: Path) -> None:
    from rnnkit.api import command_line, parse

    # a Path raised TypeError (not JSON serializable), a list was refused as an array, None
    # became the word null, a value starting with '-' was read as a flag
    argv = command_line("tagger", "-o", {"data.train": tmp_path / "a.csv",
                                             "data.features": ["temp", "wind"],
                                             "data.calendar": ("hour",), "train.lr": None,
                                             "train.epochs": 2, "train.progress": False},
                        {"train": "-a.csv", "dev": None})
    assert argv == ["train", "tagger", "--out=-o", "--train=-a.csv",
                    f'--set=data.train="{tmp_path / "a.csv"}"', '--set=data.features="temp,wind"',
                    '--set=data.calendar="hour"', "--set=train.epochs=2",
                    "--set=train.progress=false"]
    args = parse(argv)
    assert (str(args.out), args.train) == ("-o", "-a.csv")
    with pytest.raises(ConfigError, match=r"settings\['data.features'\] is \{'a': 1\}"):
        command_line("tagger", "o", {"data.features": {"a": 1}}, {})
    with pytest.raises(TypeError, match="settings is a list: give a dict"):
        rnnkit.train("tagger", tmp_path / "a", ["train.epochs=1"])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"dev=\['a', 'b'\]: dev= is one value"):
        rnnkit.train("tagger", tmp_path / "a", train="t", dev=["a", "b"])
    with pytest.raises(ConfigError, match="help= is not an input of rnnkit.train"):
        rnnkit.train("tagger", tmp_path / "a", help=True)
    with pytest.raises(ConfigError, match="set= is not an input of rnnkit.train: .* --set "
                                          "keys in settings="):  # it was read as --set
        rnnkit.train("tagger", tmp_path / "a", set="train.epochs=1")
    with pytest.raises(ConfigError, match="did you mean --train"):
        rnnkit.train("tagger", tmp_path / "a", trian="t")
    assert not (tmp_path / "a").exists()


def test_train_gives_back_the_thread_count_and_random_state(tmp_path: Path) -> None:
    import random

    import numpy as np

    data = tmp_path / "pos.conllu"
    data.write_text(CONLLU)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(3)  # the run sets train.threads=1 and seeds every generator
        random.seed(5), np.random.seed(5), torch.manual_seed(5)
        expected = (random.random(), float(np.random.rand()), float(torch.rand(1)))
        random.seed(5), np.random.seed(5), torch.manual_seed(5)
        rnnkit.train("tagger", tmp_path / "run", TAGGER, train=data, dev=data, test=data,
                     format="conllu")
        assert torch.get_num_threads() == 3
        assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == expected
        random.seed(5), np.random.seed(5), torch.manual_seed(5)
        with pytest.raises(ValueError, match="no dev file"):  # a refusal in the run too
            rnnkit.train("tagger", tmp_path / "run2", TAGGER, train=data, format="conllu")
        assert torch.get_num_threads() == 3 and random.random() == expected[0]
    finally:
        torch.set_num_threads(threads)
