"""Classifier data through the CLI end to end: train, evaluate and predict on text files, SST
trees, registry splits, multi-label and regression files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from test_classifier_data import SHARED_SST, TREES

from rnnkit.cli import main
from rnnkit.pipelines.classifier_data import ClassifierDataConfig, label_order, read_examples


def _write_texts(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("\n".join(json.dumps({"text": t, "label": y}) for t, y in rows) + "\n")
    return path


POSITIVE = ["great fun film", "loved it", "a great cast", "fun and warm"]


NEGATIVE = ["dull bad film", "hated it", "a bad cast", "dull and cold"]


def test_cli_trains_predicts_and_refuses_unknown_labels(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [(t, "pos") for t in POSITIVE] + [(t, "neg") for t in NEGATIVE]
    train = _write_texts(tmp_path / "train.jsonl", rows * 3)
    dev = _write_texts(tmp_path / "dev.jsonl", rows)
    out = tmp_path / "run"
    settings = ["--set", "train.epochs=20", "--set", "train.lr=0.02", "--set",
                "train.batch_size=4", "--set", "classifier.embedding_dropout=0.0", "--set",
                "train.patience=0", "--set", "train.lr_patience=0", "--set",
                "model.hidden_size=8", "--set", "classifier.word_dim=8", "--set",
                "train.progress=false", "--set", "train.device=cpu", "--set",
                "classifier.pooling=attention", "--set", "classifier.class_weights=balanced"]
    assert main(["train", "classifier", "--train", str(train), "--dev", str(dev),
                 "--test", str(dev), "--out", str(out), *settings]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["test"]["scores"]["accuracy"] == 1.0
    capsys.readouterr()
    long_text = " ".join(["great fun"] * 200)  # far longer than any training text
    assert main(["predict", "--model", str(out / "model.rnnkit"),
                 "--text", f"a great cast\nhated it\n{long_text}"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["label"] for line in lines] == ["pos", "neg", "pos"]
    assert set(lines[0]["probabilities"]) == {"neg", "pos"}
    assert sum(lines[0]["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--text", "<br />"]) == 2
    assert "no words to classify" in capsys.readouterr().err
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--text",
                 "a great cast\n\nhated it\n   \n<br />\nfine"]) == 2  # blank lines count
    assert "line 5 has no words to classify: '<br />'" in capsys.readouterr().err
    whole_file = tmp_path / "one_line.txt"  # a whole file on one line: 14 GB and no end
    whole_file.write_text("a great cast\n" + "fun and warm " * 33_334)
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input",
                 str(whole_file)]) == 2
    assert (f"{whole_file}, line 2: a text of 100,002 words, more than one text may hold "
            "(100,000; is it a whole file on one line?)") in capsys.readouterr().err
    old_mac = tmp_path / "old_mac.txt"  # CR line endings: read as one text of two reviews
    old_mac.write_bytes(b"a great cast\r\nfine\rhated it\r")
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input", str(old_mac)]) == 2
    assert f"{old_mac}:2: a carriage return (\\r) within the line" in capsys.readouterr().err
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input", str(dev)]) == 0
    read = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(read) == len(rows)  # a JSONL file: its text field, one row each, not its lines
    assert [(line["input"], line["line"]) for line in read][:2] == [(rows[0][0], 1),
                                                                     (rows[1][0], 2)]
    from rnnkit.pipelines.classifier import load_classifier_bundle
    from rnnkit.pipelines.classifier_data import ClassifierDataConfig
    from rnnkit.training.bundle import save_bundle

    assert ClassifierDataConfig(dataset="imdb").label_names() == {"0": "negative",
                                                                  "1": "positive"}
    coded = load_classifier_bundle(out / "model.rnnkit")  # as if trained on a coded dataset
    coded.data["label_names"] = {"0": "neg", "1": "pos"}
    save_bundle(coded, tmp_path / "coded.rnnkit")
    codes = _write_texts(tmp_path / "codes.jsonl", [(t, "1") for t in POSITIVE])
    assert main(["evaluate", "--model", str(tmp_path / "coded.rnnkit"), "--data",
                 str(codes)]) == 0  # a file in the dataset's own format: its codes named
    assert json.loads(capsys.readouterr().out)["scores"]["accuracy"] == 1.0
    odd = _write_texts(tmp_path / "odd.jsonl", [("fine film", "pos"), ("fine film", "meh")])
    assert main(["evaluate", "--model", str(out / "model.rnnkit"), "--data", str(odd)]) == 2
    assert ("labels the model never saw in training: ['meh'] (1 of its 2 examples; the first is "
            "example 2)") in capsys.readouterr().err  # which, in a file of thousands
    assert main(["train", "classifier", "--train", str(train), "--dev", str(odd),
                 "--out", str(tmp_path / "r2"), *settings]) == 2
    assert "the dev data has labels the model never saw" in capsys.readouterr().err
    marked = tmp_path / "marked.txt"
    marked.write_bytes("\ufeffa great cast\n".encode())
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input", str(marked)]) == 0
    assert json.loads(capsys.readouterr().out)["input"] == "a great cast"  # no byte-order mark
    packed = tmp_path / "reviews.txt.gz"  # read as its gzip bytes: 'not UTF-8 text'
    packed.write_bytes(gzip.compress(b"a great cast\nhated it\n"))
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input", str(packed)]) == 0
    assert [json.loads(line)["label"] for line in capsys.readouterr().out.splitlines()] == [
        "pos", "neg"]  # decompressed, as the data readers and translate --input read a .gz
    tree = tmp_path / "tree.txt"
    tree.write_text("(3 (2 a) (4 great))\n")
    assert main(["evaluate", "--model", str(out / "model.rnnkit"), "--data", str(tree)]) == 2
    error = capsys.readouterr().err  # it said 'the file was read as auto, the format ...'
    assert "(the file was read in the format its name says, as the model's training files " \
        "were; if it is in another, pass --format: jsonl, csv, tsv, sst" in error
    renamed = tmp_path / "renamed.jsonl"  # keys other than the model's: no --set to name them
    renamed.write_text(json.dumps({"review": "a great cast", "label": "pos"}) + "\n")
    for command in (["predict", "--input"], ["evaluate", "--data"]):
        assert main([command[0], "--model", str(out / "model.rnnkit"), command[1],
                     str(renamed)]) == 2
        error = capsys.readouterr().err
        assert "rename the file's columns (or JSON keys)" in error
        assert "set data.text_field" not in error


def _train_sst2(tmp_path: Path, *extra: str) -> tuple[Path, Path]:
    """A tiny SST-2 classifier trained on :data:`TREES`: its bundle and the tree file."""
    trees = tmp_path / "trees.txt"
    trees.write_text("\n".join(TREES * 3) + "\n")
    out = tmp_path / "run"
    assert main(["train", "classifier", "--train", str(trees), "--dev", str(trees),
                 "--format", "sst", "--out", str(out), "--set", "data.sst_labels=sst2",
                 "--set", "train.epochs=1", "--set", "model.hidden_size=4", "--set",
                 "classifier.word_dim=4", "--set", "train.progress=false", "--set",
                 "train.device=cpu", *extra]) == 0
    return out / "model.rnnkit", trees


def test_cli_sst2_model_evaluates_sst_trees_as_it_was_trained(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, trees = _train_sst2(tmp_path, "--set", "data.phrases=true")
    capsys.readouterr()
    assert main(["evaluate", "--model", str(model), "--data", str(trees)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["examples"] == 9  # the neutral sentence is dropped, as in training
    assert result["confusion"]["labels"] == ["negative", "positive"]


def test_cli_predict_refuses_sst_trees_given_as_text(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file of SST trees given to predict was classified as raw text, brackets and node
    labels read as words, with no sign that anything was wrong."""
    model, trees = _train_sst2(tmp_path)
    capsys.readouterr()
    assert main(["predict", "--model", str(model), "--input", str(trees)]) == 2
    error = capsys.readouterr().err
    assert "line 1 is an SST tree, not a text" in error
    assert "rnnkit evaluate --model M --data FILE" in error
    text = tmp_path / "texts.txt"  # brackets in a text are still text
    text.write_text("(5 stars) great fun\n(3 (2 It) (4 good)) and more\n(4 out of 5)\n")
    assert main(["predict", "--model", str(model), "--input", str(text)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3  # '(4 out of 5)' was refused


@pytest.mark.skipif(not SHARED_SST.exists(), reason="needs ../shared/data")
def test_cli_evaluate_reads_a_registry_dataset_split(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, mirror = str(_train_sst2(tmp_path)[0]), str(SHARED_SST.parents[1])
    capsys.readouterr()
    assert main(["evaluate", "--model", model, "--data", "sst", "--split", "dev",
                 "--data-dir", mirror, "--out", str(tmp_path / "eval")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["examples"] == 872  # SST-2 dev: the model's sst2 labels, neutral dropped
    assert json.loads((tmp_path / "eval" / "dev.json").read_text()) == result
    assert (tmp_path / "eval" / "dev_confusion.png").stat().st_size > 0
    assert result["confusion"]["labels"] == ["negative", "positive"]
    assert main(["evaluate", "--model", model, "--data", "sst", "--split", "valid",
                 "--data-dir", mirror]) == 2
    assert "--split 'valid': sst has the splits train, dev, test" in capsys.readouterr().err


def test_cli_multi_label_and_regression_files(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    rows = [("great fun film", "good|fun", "4.5"), ("dull bad film", "bad", "1.0"),
            ("fun and warm", "fun", "4.0"), ("a bad cast", "bad", "1.5")] * 4
    data = tmp_path / "d.csv"
    data.write_text("text,tags,stars\n" + "\n".join(f'"{t}",{g},{s}' for t, g, s in rows))
    common = ["train", "classifier", "--train", str(data), "--dev", str(data), "--set",
              "train.epochs=25", "--set", "train.lr=0.02", "--set", "train.batch_size=4",
              "--set", "model.hidden_size=8", "--set", "classifier.word_dim=8", "--set",
              "classifier.embedding_dropout=0.0", "--set", "classifier.output_dropout=0.0",
              "--set", "train.patience=0", "--set", "train.lr_patience=0", "--set",
              "train.progress=false", "--set", "train.device=cpu"]
    assert main([*common, "--out", str(tmp_path / "multi"), "--set", "data.label_field=tags",
                 "--set", 'data.label_separator="|"', "--set", "classifier.output=sigmoid",
                 "--set", "train.monitor=val_micro_f1"]) == 0
    capsys.readouterr()
    assert main(["predict", "--model", str(tmp_path / "multi" / "model.rnnkit"),
                 "--text", "great fun film"]) == 0
    assert json.loads(capsys.readouterr().out)["labels"] == ["fun", "good"]
    assert main(["evaluate", "--model", str(tmp_path / "multi" / "model.rnnkit"),
                 "--data", str(data)]) == 0  # read with the model's label separator
    assert json.loads(capsys.readouterr().out)["examples"] == len(rows)
    assert main(["predict", "--model", str(tmp_path / "multi" / "model.rnnkit"),
                 "--input", str(data), "--format", "csv"]) == 2
    assert "reads one text per line (--format text); to score a labelled file, use rnnkit " \
        "evaluate" in capsys.readouterr().err
    assert main([*common, "--out", str(tmp_path / "reg"), "--set", "data.label_field=stars",
                 "--set", "classifier.output=linear", "--set", "train.monitor=val_loss",
                 "--set", "train.mode=min"]) == 0
    results = json.loads((tmp_path / "reg" / "results.json").read_text())
    assert results["dev"]["scores"]["rmse"] < 0.5
    capsys.readouterr()
    assert main(["predict", "--model", str(tmp_path / "reg" / "model.rnnkit"),
                 "--text", "dull bad film"]) == 0
    assert json.loads(capsys.readouterr().out)["values"]["stars"] < 2.5


def test_cli_refuses_several_labels_per_example_without_a_sigmoid(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d.csv"
    data.write_text("text,tags\ngreat fun,good|fun\ndull,bad\n")
    assert main(["train", "classifier", "--train", str(data), "--dev", str(data), "--out",
                 str(tmp_path / "run"), "--set", "data.label_field=tags", "--set",
                 'data.label_separator="|"', "--set", "train.device=cpu"]) == 2
    assert "need classifier.output=sigmoid, one probability per label; got 'softmax'" in \
        capsys.readouterr().err
    assert not (tmp_path / "run" / "model.rnnkit").exists()


def test_imdb_coded_labels_are_named(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as file:
        for label, text in ((0, "dull and long"), (1, "a delight")):
            file.write(json.dumps({"id": "x", "rating": 1, "label": label, "text": text}) + "\n")
    data = ClassifierDataConfig(dataset="imdb")
    examples = read_examples(data, path, training=True)
    assert [e.labels for e in examples] == [("negative",), ("positive",)]
    assert label_order(data, {"negative", "positive"}) == ["negative", "positive"]


def test_cli_evaluate_and_predict_name_their_flags(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [(t, "pos") for t in POSITIVE] + [(t, "neg") for t in NEGATIVE]
    data = _write_texts(tmp_path / "train.jsonl", rows)
    out = tmp_path / "run"
    assert main(["train", "classifier", "--train", str(data), "--dev", str(data), "--out",
                 str(out), "--set", "train.epochs=1", "--set", "model.hidden_size=4", "--set",
                 "classifier.word_dim=4", "--set", "train.progress=false", "--set",
                 "train.device=cpu", "--set", "train.threads=1"]) == 0
    model = str(out / "model.rnnkit")
    capsys.readouterr()
    missing = str(tmp_path / "missing.jsonl")
    refused = [
        (["evaluate", "--data", str(data), "--format", "conllu"],
         "--format must be one of auto, jsonl, csv, tsv, sst, numeric; got 'conllu'"),
        (["evaluate", "--data", missing], "--data " + missing + ": no such file"),
        (["predict", "--input", missing], "--input " + missing + ": no such file"),
    ]
    for command, message in refused:
        assert main([command[0], "--model", model, *command[1:]]) == 2
        assert message in capsys.readouterr().err
    written = tmp_path / "new" / "labels.jsonl"  # a folder that does not exist yet
    assert main(["predict", "--model", model, "--text", "fun film", "--output",
                 str(written)]) == 0
    assert json.loads(written.read_text())["input"] == "fun film"
