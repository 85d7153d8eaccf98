"""Numeric-sequence classifiers end to end: evaluate and predict on a bundle."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rnnkit.cli import main

QUICK = ["--set", "train.epochs=1", "--set", "model.hidden_size=4", "--set",
         "train.progress=false", "--set", "train.device=cpu"]


def _numeric_bundle(tmp_path: Path) -> tuple[Path, Path]:
    """A tiny numeric classifier (labels 1, 2, 10) and its training file."""
    lines = ["id,step,x,y,label"]
    for index in range(12):
        for step in range(1 + index % 3):
            lines.append(f"s{index},{step},{index + step},{step * 0.5},{(1, 2, 10)[index % 3]}")
    data = tmp_path / "train.csv"
    data.write_text("\n".join(lines) + "\n")
    out = tmp_path / "numeric"
    assert main(["train", "classifier", "--train", str(data), "--dev", str(data), "--format",
                 "numeric", "--out", str(out), "--set", "data.time_column=step", *QUICK]) == 0
    return out / "model.rnnkit", data


def _text_bundle(tmp_path: Path) -> Path:
    data = tmp_path / "texts.csv"
    data.write_text("text,label\ngood film,pos\nbad film,neg\ngreat,pos\nawful,neg\n")
    out = tmp_path / "text"
    assert main(["train", "classifier", "--train", str(data), "--dev", str(data), "--out",
                 str(out), "--set", "classifier.word_dim=4", *QUICK]) == 0
    return out / "model.rnnkit"


def test_evaluate_refuses_a_format_the_model_cannot_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A numeric classifier evaluated on texts (--format csv) failed with an AssertionError
    traceback, a text classifier on a long CSV (--format numeric) with KeyError: 'scaler'."""
    numeric, _ = _numeric_bundle(tmp_path)
    text = _text_bundle(tmp_path)
    texts = tmp_path / "texts_1_2.csv"  # labels the numeric model knows
    texts.write_text("text,label\ngood film,1\nbad film,2\n")
    sequences = tmp_path / "sequences.csv"  # labels the text model knows
    sequences.write_text("id,step,x,y,label\na,0,1,2,pos\nb,0,2,1,neg\n")
    capsys.readouterr()
    for model, data, fmt, message in (
            (numeric, texts, "csv", "reads numeric sequences"),
            (numeric, texts, "jsonl", "reads numeric sequences"),
            (text, sequences, "numeric", "reads texts")):
        assert main(["evaluate", "--model", str(model), "--data", str(data), "--format",
                     fmt]) == 2
        error = capsys.readouterr().err
        assert message in error and "Traceback" not in error
        assert len(error.strip().splitlines()) == 1


def test_numeric_labels_order_the_same_in_every_process() -> None:
    """Labels that name one number ('1' and '1.0') or a nan kept the order of a set, which
    Python's string hashing changes from process to process: the same seed trained another
    model, and --resume in a new process was refused ('labels' differ)."""
    code = ("from rnnkit.pipelines.classifier_data import ClassifierDataConfig, label_order; "
            "print(label_order(ClassifierDataConfig(), {'10', '1.0', '1', '2', '01'}), "
            "label_order(ClassifierDataConfig(), {'1', 'nan', '2'}))")
    orders = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env={**os.environ, "PYTHONHASHSEED": seed}
                             ).stdout for seed in ("1", "3")}
    assert orders == {"['01', '1', '1.0', '2', '10'] ['1', '2', 'nan']\n"}


@pytest.mark.parametrize(("separator", "name"), [("\t", "tabs"), (";", "';'")])
def test_a_long_csv_with_another_separator_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], separator: str, name: str) -> None:
    """A long file saved with tabs (or ';') was read as one column and refused as having no
    column 'id', listing that column's name, tabs and all, as if it were the five columns."""
    data = tmp_path / "sequences.tsv"
    data.write_text("\n".join(separator.join(row) for row in (
        ("id", "step", "x", "label"), ("a", "0", "1", "p"), ("b", "0", "2", "q"))) + "\n")
    assert main(["train", "classifier", "--train", str(data), "--format", "numeric", "--out",
                 str(tmp_path / "run"), "--set", "data.time_column=step", *QUICK]) == 2
    error = capsys.readouterr().err
    assert f"the header looks separated by {name}, but a long CSV is read separated by " \
        "commas: save it with commas" in error
    assert "\t" not in error and len(error.strip().splitlines()) == 1
    model, _ = _numeric_bundle(tmp_path)
    capsys.readouterr()
    for command in (["evaluate", "--data"], ["predict", "--input"]):
        assert main([command[0], "--model", str(model), command[1], str(data)]) == 2
        assert f"the header looks separated by {name}" in capsys.readouterr().err


def test_a_feature_column_named_with_a_comma_is_refused_by_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The training header's names become data.feature_columns, a comma-separated list: a
    quoted name with a comma ('temp, C') came back as two and the file was refused as having
    no column ['temp', 'C'] while listing the columns 'temp' and 'C'."""
    data = tmp_path / "sequences.csv"
    data.write_text('id,step,"temp, C",label\na,0,1,p\nb,0,2,q\nc,0,3,p\nd,0,1,q\n')
    assert main(["train", "classifier", "--train", str(data), "--format", "numeric", "--out",
                 str(tmp_path / "run"), "--set", "data.time_column=step", *QUICK]) == 2
    error = capsys.readouterr().err
    assert "column 'temp, C' has a comma in its name" in error
    assert len(error.strip().splitlines()) == 1


@pytest.mark.parametrize("column", ["label", "id"])
def test_feature_columns_may_not_name_the_label_or_id_column(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], column: str) -> None:
    """data.feature_columns=x,label trained on the answer itself (numeric labels read as a
    feature: test accuracy 1.0), and the bundle could then predict no unlabelled file."""
    data = tmp_path / "sequences.csv"
    data.write_text("id,step,x,label\n1,0,1,1\n2,0,2,2\n3,0,3,1\n4,0,1,2\n")
    assert main(["train", "classifier", "--train", str(data), "--format", "numeric", "--out",
                 str(tmp_path / "run"), "--set", "data.time_column=step", "--set",
                 f"data.feature_columns=x,{column}", *QUICK]) == 2
    error = capsys.readouterr().err
    assert f"data.feature_columns names the {column} column '{column}'" in error
    assert not (tmp_path / "run").exists()  # refused before any training


def test_infinite_values_are_not_called_missing_nor_refused_for_training_at_predict(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """'1e400' (too large for a float) and 'inf' were refused with 'fill missing values before
    training', also by predict and evaluate, which train nothing."""
    model, _ = _numeric_bundle(tmp_path)
    capsys.readouterr()
    for value, message in (("nan", "holds 'nan', a missing value; fill missing values"),
                           ("inf", "holds 'inf', not a finite number; replace it"),
                           ("1e400", "holds '1e400', not a finite number; replace it")):
        data = tmp_path / f"{value}.csv"
        data.write_text(f"id,step,x,y\na,0,1,2\na,1,{value},2\n")
        assert main(["predict", "--model", str(model), "--input", str(data)]) == 2
        error = capsys.readouterr().err
        assert f"line 3: column 'x' {message}" in error and "training" not in error


def test_a_feature_that_is_no_number_is_told_apart_at_evaluate_and_predict(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """evaluate and predict said to 'leave the column out of data.feature_columns', which they
    cannot (the model reads the columns it was trained on), and an empty cell, the missing
    value pandas' to_csv writes, was 'not a number' where 'nan' was 'a missing value'."""
    model, _ = _numeric_bundle(tmp_path)
    capsys.readouterr()
    for value, message in (
            ("calm", "holds 'calm', not a number; the model reads this column as one of its "
                     "inputs, a number: fix the value"),
            ("", "holds '', a missing value; fill missing values first"),
            ("NA", "holds 'NA', a missing value; fill missing values first")):
        data = tmp_path / "values.csv"
        data.write_text(f"id,step,x,y,label\na,0,1,2,1\na,1,{value},2,1\n")
        for command in (["evaluate", "--data"], ["predict", "--input"]):
            assert main([command[0], "--model", str(model), command[1], str(data)]) == 2
            error = capsys.readouterr().err
            assert f"line 3: column 'x' {message}" in error, error
            assert "feature_columns" not in error and len(error.strip().splitlines()) == 1
    data.write_text("id,step,x,y,label\na,0,1,2,1\na,one,1,2,1\n")  # a step that is no number
    for command in (["evaluate", "--data"], ["predict", "--input"]):
        assert main([command[0], "--model", str(model), command[1], str(data)]) == 2
        error = capsys.readouterr().err
        assert ("line 3: column 'step' holds 'one', not a number; the model orders each "
                "sequence's steps by this column, a number: give each row its step number") \
            in error, error
        assert "data.time_column" not in error  # neither command takes it
    data.write_text("id,step,x,y,label\na,0,1,2,p\na,1,calm,2,p\nb,0,1,1,q\n")
    assert main(["train", "classifier", "--train", str(data), "--format", "numeric", "--out",
                 str(tmp_path / "run"), "--set", "data.time_column=step", *QUICK]) == 2
    assert "fix the value or leave the column out of data.feature_columns" in \
        capsys.readouterr().err  # training may leave it out


def test_a_sigmoid_over_three_numeric_classes_is_not_sent_to_a_refused_setting(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """classifier.output=sigmoid on numeric sequences of 3 labels said 'use softmax, or set
    data.label_separator', and data.label_separator was then refused for numeric data."""
    _, data = _numeric_bundle(tmp_path)
    capsys.readouterr()
    assert main(["train", "classifier", "--train", str(data), "--format", "numeric", "--out",
                 str(tmp_path / "run"), "--set", "data.time_column=step", "--set",
                 "classifier.output=sigmoid", *QUICK]) == 2
    error = capsys.readouterr().err
    assert "classifier.output=sigmoid with 3 classes and one label per example: use softmax " \
        "(a numeric sequence has one label, its label column)" in error
    assert "label_separator" not in error


def test_a_regression_learns_its_target_in_training_deviations(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """classifier.output=linear learned raw numbers from a head that starts near 0: Seattle's
    next-day temp_max in kelvin (mean 289) was still 267 K off (test RMSE) after 30 epochs.
    The head learns (y - mean) / deviation of the training targets, the loss is the MSE in
    deviations, and predictions come back in the target's units."""
    import json

    import torch

    from rnnkit.data.classifier_batches import ClassBatch
    from rnnkit.models.classifier import SequenceClassifier
    from rnnkit.pipelines.classifier import load_classifier_bundle

    lines = ["id,step,x,kelvin"]
    for index in range(16):
        for step in range(1 + index % 3):
            lines.append(f"s{index},{step},{index % 4 + step},{1000 + 2 * (index % 4)}")
    data = tmp_path / "train.csv"
    data.write_text("\n".join(lines) + "\n")  # targets 1000, 1002, 1004, 1006: mean 1003
    assert main(["train", "classifier", "--train", str(data), "--dev", str(data), "--format",
                 "numeric", "--out", str(tmp_path / "run"), "--set", "data.time_column=step",
                 "--set", "data.label_field=kelvin", "--set", "classifier.output=linear",
                 "--set", "train.monitor=val_loss", "--set", "train.mode=min", *QUICK]) == 0
    model = load_classifier_bundle(tmp_path / "run" / "model.rnnkit").double()
    assert model.data["target_units"] == {"mean": [1003.0], "scale": [pytest.approx(5 ** 0.5)]}
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["dev"]["scores"]["rmse"] < 5  # near the mean after one epoch (was ~1003)
    # beside it, the best constants: the mean 1003 (RMSE sqrt(5)), a median 1002 (MAE 2)
    assert results["dev"]["constant_baseline"] == {"rmse": pytest.approx(5 ** 0.5, rel=1e-12),
                                                   "mae": 2.0}
    batch = ClassBatch(torch.tensor([[[0.5], [1.0]], [[-1.0], [0.0]]], dtype=torch.float64),
                       torch.tensor([2, 1]), torch.tensor([[1001.0], [1006.0]]))
    mean, scale = float(model.target_mean[0]), float(model.target_scale[0])  # float32 kept
    assert (mean, scale) == (1003.0, pytest.approx(5 ** 0.5, rel=1e-7))
    with torch.no_grad():
        scores = model.eval()(batch)
        assert torch.allclose(scores, mean + scale * _head(model, batch), rtol=0, atol=1e-12)
        by_hand = (((scores - batch.targets) / scale) ** 2).mean()  # the MSE in deviations
        assert float(model.loss(scores, batch.targets)) == pytest.approx(float(by_hand),
                                                                        rel=1e-12)
        saved_before = SequenceClassifier(model.labels, model.config, model.encoder_config,
                                          num_features=1, data={}).double().eval()
        saved_before.load_state_dict(model.state_dict())  # no target_units: raw units
        assert torch.equal(saved_before(batch), _head(saved_before, batch))
    capsys.readouterr()
    assert main(["predict", "--model", str(tmp_path / "run" / "model.rnnkit"), "--input",
                 str(data)]) == 0
    values = [json.loads(line)["values"]["kelvin"]
              for line in capsys.readouterr().out.splitlines()]
    assert len(values) == 16 and all(990 < value < 1016 for value in values)


def _head(model: Any, batch: Any) -> Any:
    """The head's output on ``batch`` (evaluation): standardized, for a regression."""
    from rnnkit.layers.lengths import padding_mask

    inputs, lengths = batch.inputs, batch.lengths
    outputs, final = model.encoder(inputs, lengths=lengths)
    return model.head(model.pooling(outputs, padding_mask(lengths, inputs.shape[1],
                                                          inputs.device), final))
