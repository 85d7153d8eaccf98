"""Classifier data: long numeric CSVs, their rows, headers and time column, read and scaled."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from test_classifier_data import TREES

from rnnkit.cli import main
from rnnkit.data.numeric_sequences import read_numeric_sequences
from rnnkit.data.sst import read_trees
from rnnkit.pipelines.classifier_data import ClassifierDataConfig


def test_long_csv_sequences_order_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("id,step,x,y,label\nb,1,2,20,up\na,0,1,10,down\nb,0,1,10,up\n")
    sequences, names = read_numeric_sequences(path, time_column="step")
    assert names == ["x", "y"] and [s.id for s in sequences] == ["b", "a"]
    assert sequences[0].features.tolist() == [[1, 10], [2, 20]] and len(sequences[1].features) == 1
    path.write_text("id,x,label\na,1.5,up\na,oops,up\n")
    with pytest.raises(ValueError, match=r"s.csv, line 3: column 'x' holds 'oops', not a number"):
        read_numeric_sequences(path)
    path.write_text("id,x,label\na,1.5,up\n\n\na,oops,up\n")  # blank lines are counted
    with pytest.raises(ValueError, match=r"s.csv, line 5: column 'x' holds 'oops'"):
        read_numeric_sequences(path)
    path.write_bytes(b"id,x,label\na,1.5,caf\xe9\n")
    with pytest.raises(ValueError, match=r"s.csv:2: not UTF-8 text"):
        read_numeric_sequences(path)
    path.write_text("id,x,label\na,nan,up\n")
    with pytest.raises(ValueError, match="fill missing values"):
        read_numeric_sequences(path)
    path.write_text("id,x,label\na,1,up\na,2,down\n")
    with pytest.raises(ValueError, match="one label per sequence"):
        read_numeric_sequences(path)
    path.write_text("id,step,x,label\na,0,1,up\na,1,2,up\na,1,3,up\n")
    with pytest.raises(ValueError, match="sequence 'a' has two rows at step 1; one row per"):
        read_numeric_sequences(path, time_column="step")
    path.write_text("id,x,label\na,1,up\n,2,up\nb,3,up\n ,4,up\n")  # rows 3 and 5: one sequence
    with pytest.raises(ValueError, match=r"s.csv, line 3: column 'id' is empty; give every row "
                                         r"the id of its sequence"):
        read_numeric_sequences(path)
    path.write_text("id,x,label\na,1,up\na ,2,up\n")  # an id written with a space: one sequence
    assert [s.id for s in read_numeric_sequences(path)[0]] == ["a"]
    path.write_text("id,step,x,label\na,1420070401,1,up\nb,1420070401,1,up\na,1420070400,2,"
                    "up\n\na,1420070401,3,up\n")  # a step that %g wrote 1.42007e+09
    with pytest.raises(ValueError, match=r"s.csv, lines 2 and 6: sequence 'a' has two rows at "
                                         r"step 1420070401; one row per time step"):
        read_numeric_sequences(path, time_column="step")


def test_cli_numeric_classifier_scales_with_training_statistics(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines, swapped = ["id,step,level,noise ,label"], ["id,step,noise,level,label"]
    for index in range(24):
        label = "high" if index % 2 else "low"
        base = 1000.0 if label == "high" else 0.0
        for step in range(2 + index % 4):
            noise = 0.0  # uninformative: only its position could mislead a model
            lines.append(f"s{index},{step},{base + step},{noise},{label}")
            swapped.append(f"s{index},{step},{noise},{base + step},{label}")
    data = tmp_path / "train.csv"
    data.write_text("\n".join(lines) + "\n")
    (tmp_path / "swapped.csv").write_text("\n".join(swapped) + "\n")
    (tmp_path / "partial.csv").write_text("id,step,level,label\ns0,0,1.0,low\n")
    out = tmp_path / "run"
    assert main(["train", "classifier", "--train", str(data), "--format", "numeric",
                 "--out", str(out), "--set", "data.time_column=step", "--set",
                 "train.epochs=40", "--set", "train.lr=0.02", "--set", "model.hidden_size=8",
                 "--set", "classifier.pooling=last", "--set", "train.progress=false",
                 "--set", "train.device=cpu", "--set", "data.dev_fraction=0.25", "--set",
                 "train.batch_size=6", "--set", "train.patience=0", "--set",
                 "train.lr_patience=0", "--set", "train.monitor=val_loss", "--set",
                 "train.mode=min"]) == 0
    capsys.readouterr()
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input", str(data)]) == 0
    predicted = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [p["label"] for p in predicted] == ["high" if i % 2 else "low" for i in range(24)]
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input",
                 str(tmp_path / "swapped.csv")]) == 0  # the columns are read by name
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == predicted
    assert main(["evaluate", "--model", str(out / "model.rnnkit"), "--data",
                 str(tmp_path / "partial.csv")]) == 2
    error = capsys.readouterr().err  # evaluate and predict take no --set: rename the columns
    assert "no column ['noise']" in error and "set data." not in error
    assert "rename the file's columns" in error
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input",
                 str(tmp_path / "partial.csv")]) == 2
    error = capsys.readouterr().err
    assert "no column ['noise']" in error and "set data." not in error
    assert "rename the file's columns" in error
    for setting, message in (("data.label_separator=|", "data.label_separator is for text"),
                             ("data.dev_fraction=0.99", "too few to hold out")):
        assert main(["train", "classifier", "--train", str(tmp_path / "partial.csv"),
                     "--format", "numeric", "--out", str(tmp_path / "bad"), "--set",
                     setting]) == 2
        assert message in capsys.readouterr().err


HEADER = "id,step,temp,wind,label\n"


@pytest.mark.parametrize(("row", "fields"), [
    ("b,0,20,3,1.1,sun", 6),  # an unquoted decimal comma: read as label '1.1', 'sun' dropped
    ("b,0,20.3,sun", 4),
    ("b", 1),  # was a TypeError from float(None)
])
def test_numeric_row_with_the_wrong_number_of_fields_is_refused(
    tmp_path: Path, row: str, fields: int
) -> None:
    path = tmp_path / "long.csv"
    path.write_text(HEADER + "a,0,12.1,3.2,rain\n" + row + "\n", encoding="utf-8")
    written = f"{fields} field{'s' * (fields != 1)}"  # '1 field': was '1 fields'
    with pytest.raises(ValueError, match=f"line 3: {written} where the header has 5"):
        read_numeric_sequences(path, time_column="step")


def test_numeric_header_naming_a_column_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"  # both 'temp' features were read as 3.0, the 12.1 lost
    path.write_text("id,step,temp,temp,label\na,0,12.1,3,rain\n", encoding="utf-8")
    with pytest.raises(ValueError, match="names column 'temp' twice"):
        read_numeric_sequences(path, time_column="step")
    path.write_text("id,step,temp,note,note,label\na,0,12.1,x,y,rain\n", encoding="utf-8")
    sequences, names = read_numeric_sequences(path, time_column="step",  # 'note' is not read
                                              feature_columns=["temp"])
    assert names == ["temp"] and sequences[0].features.tolist() == [[12.1]]


def test_numeric_input_to_predict_may_have_any_labels(tmp_path: Path) -> None:
    """rnnkit predict reads a long CSV unlabelled (the label column may be missing), but one
    whose label column changed within a sequence (a per-step annotation) was refused as
    'one label per sequence', a rule for training data."""
    path = tmp_path / "long.csv"
    path.write_text(HEADER + "a,0,12.1,3.2,rain\na,1,11.0,4.0,sun\n", encoding="utf-8")
    sequences, _ = read_numeric_sequences(path, time_column="step", labelled=False)
    assert sequences[0].features.tolist() == [[12.1, 3.2], [11.0, 4.0]]
    with pytest.raises(ValueError, match="one label per sequence"):
        read_numeric_sequences(path, time_column="step")


def test_numeric_time_column_of_dates_names_the_time_setting(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"  # the hint was to leave 'date' out of data.feature_columns
    path.write_text("id,date,temp,label\na,2012-01-01,1,rain\n", encoding="utf-8")
    with pytest.raises(ValueError, match="holds '2012-01-01', not a number; data.time_column "
                                         "orders the steps by number") as error:
        read_numeric_sequences(path, time_column="date")
    assert "feature_columns" not in str(error.value)


def test_numeric_features_are_named_from_a_header_with_a_byte_order_mark(tmp_path: Path
                                                                        ) -> None:
    """A CSV saved with a byte-order mark (Excel's "CSV UTF-8") was read right by
    read_numeric_sequences, but train classifier named its features from the raw header:
    '\ufeffid' was taken for a feature and the file refused as having no such column."""
    from rnnkit.pipelines.classifier_data import read_splits, with_named_features

    path = tmp_path / "long.csv"
    rows = "".join(f"{key},0,{i},1,{'up' if i % 2 else 'down'}\n" for i, key in enumerate("abcd"))
    path.write_bytes(("\ufeff" + HEADER + rows).encode("utf-8"))
    data = with_named_features(ClassifierDataConfig(train=str(path), format="numeric",
                                                    time_column="step", dev_fraction=0.25))
    assert data.feature_columns == "temp,wind"
    splits = read_splits(data, seed=0, log=lambda *_: None)
    assert len(splits["train"]) + len(splits["dev"]) == 4


def test_gzipped_numeric_and_sst_files_are_read_decompressed(tmp_path: Path) -> None:
    """A long CSV or an SST file named .gz was refused as 'not UTF-8 text', where the
    classifier's CSV/TSV/JSONL files are decompressed."""
    path = tmp_path / "long.csv.gz"
    path.write_bytes(gzip.compress((HEADER + "a,0,12.1,3.2,rain\n").encode()))
    sequences, names = read_numeric_sequences(path, time_column="step")
    assert names == ["temp", "wind"] and sequences[0].features.tolist() == [[12.1, 3.2]]
    trees = tmp_path / "trees.txt.gz"
    trees.write_bytes(gzip.compress("\n".join(TREES).encode()))
    assert [tree.label for tree in read_trees(trees)] == [3, 1, 2, 4]
