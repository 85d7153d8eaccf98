"""Classifier data settings and labels refused by name: settings that would change nothing,
another task's dataset, SST trees in a .txt file, bad regression labels, missing files, labels
held out whole or alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_classifier_data import TREES

from rnnkit.cli import main
from rnnkit.data.text_labels import read_labelled_texts


@pytest.mark.parametrize(("flags", "message"), [
    (["--dataset", "imdb", "--set", "data.sst_labels=sst2"],
     "data.sst_labels is read only from SST trees (--dataset sst, or data.format=sst), and "
     "this data is jsonl: leave it out"),
    (["--train", "train.csv", "--set", "data.phrases=true", "--set", "data.sst_labels=sst2"],
     "data.sst_labels and data.phrases are read only from SST trees"),
    (["--dataset", "sst", "--set", "embeddings.freeze=true"],
     "embeddings.freeze acts on pretrained word vectors, and embeddings.vectors gives none"),
    (["--dataset", "sst", "--set", "embeddings.extend_vocab=5"],
     "embeddings.extend_vocab acts on pretrained word vectors"),
    # printed by --print-config; training refused it
    (["--train", "t.jsonl", "--set", "data.dev_fraction=-1"],
     "data.dev_fraction must be between 0 and 1 (both excluded); got -1.0"),
    # text settings on numeric sequences, and a class weighting on numbers, did nothing
    (["--train", "t.csv", "--format", "numeric", "--set", 'embeddings.vectors="v.txt"'],
     "embeddings.vectors is read only from texts, and this data is numeric: leave it out"),
    (["--train", "t.csv", "--format", "numeric", "--set", "classifier.word_dropout=0.2",
      "--set", "data.max_tokens=50"],
     "classifier.word_dropout and data.max_tokens are read only from texts"),
    (["--train", "t.csv", "--set", "data.time_column=step"],
     "data.time_column is read only from numeric sequences (data.format=numeric), and this "
     "data is csv (guessed from the name t.csv): leave it out"),
    (["--train", "t.csv", "--set", "classifier.output=linear", "--set",
      "classifier.class_weights=balanced"],
     "classifier.class_weights=balanced weighs classes, and classifier.output=linear learns "
     "numbers"),
    (["--train", "t.csv", "--dev", "d.csv", "--set", "data.dev_fraction=0.3"],
     "data.dev_fraction holds out training examples where there is no dev split, and "
     "data.dev gives one: leave it out"),
    (["--dataset", "sst", "--set", "data.dev_fraction=0.3"],
     "data.dev_fraction holds out training examples where there is no dev split, and sst "
     "has one"),
])
def test_classifier_settings_that_would_change_nothing_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str],
        message: str) -> None:
    """SST's label scheme and phrases on other data, and the vectors' freeze and extend_vocab
    without vectors, were accepted and did nothing."""
    assert main(["train", "classifier", *flags, "--out", str(tmp_path / "run"),
                 "--print-config"]) == 2
    assert message in capsys.readouterr().err


def test_sst_settings_still_read_for_sst_trees(capsys: pytest.CaptureFixture[str]) -> None:
    for flags in (["--dataset", "sst"], ["--train", "trees.txt", "--format", "sst"]):
        assert main(["train", "classifier", *flags, "--set", "data.phrases=true", "--set",
                     "data.sst_labels=sst2", "--print-config"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize(("dataset", "task"), [
    ("wnut17", "tagging"),  # was: data.format must be one of jsonl, csv, tsv, got 'iob'
    ("tinyshakespeare", "language model"),  # was: no training data: set data.dataset
    ("multi30k", "translation"),  # was: ... has 4 files (...); use dataset_files
])
def test_a_registry_dataset_of_another_task_is_refused_by_its_task(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], dataset: str, task: str) -> None:
    assert main(["train", "classifier", "--dataset", dataset, "--out", str(tmp_path / "run"),
                 "--print-config"]) == 2
    assert (f"dataset {dataset!r} is a {task} dataset, and a classifier reads classification "
            "datasets (imdb, sst)") in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_sst_trees_in_a_txt_file_are_pointed_to_format_sst(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """SST's own train.txt is read as TSV by its name: the error dumped the first tree as
    field names and said to set data.text_field / data.label_field; with data.sst_labels it
    said 'this data is tsv ... or give SST trees', which it was."""
    path = tmp_path / "train.txt"
    long_tree = "(3 " + " ".join(["(2 word)"] * 60) + ")"  # read as the header's one name
    path.write_text("\n".join([long_tree, *TREES]) + "\n")
    with pytest.raises(ValueError, match=r"line 2: needs the fields .*\.\.\.\); the file looks "
                                         r"like SST trees.*--format sst") as error:
        read_labelled_texts(path)
    assert "data.text_field" not in str(error.value) and len(str(error.value)) < 600
    assert main(["train", "classifier", "--train", str(path), "--set", 'data.sst_labels="sst2"',
                 "--out", str(tmp_path / "run"), "--print-config"]) == 2
    assert ("this data is tsv (guessed from the name train.txt): leave it out, or give SST "
            "trees (a file of trees: --format sst)") in capsys.readouterr().err


@pytest.mark.parametrize("label, named", [("pos", "'pos'"), ("nan", "'nan'"), ("inf", "'inf'")])
def test_regression_labels_that_are_not_finite_numbers_are_refused_by_split(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], label: str, named: str) -> None:
    good = tmp_path / "good.csv"
    good.write_text("text,stars\ngreat fun,4.5\ndull,1.0\nfine,3\nbad,1\n")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"text,stars\ngreat fun,4.5\ndull,{label}\nfine,3\n")
    common = ["--set", "data.label_field=stars", "--set", "classifier.output=linear",
              "--set", "train.monitor=val_loss", "--set", "train.mode=min", "--set",
              "train.epochs=1", "--set", "model.hidden_size=4", "--set",
              "classifier.word_dim=4", "--set", "train.progress=false", "--set",
              "train.device=cpu"]
    assert main(["train", "classifier", "--train", str(bad), "--dev", str(good), "--out",
                 str(tmp_path / "run"), *common]) == 2
    error = capsys.readouterr().err
    assert f"the train data has labels that are not finite numbers: [{named}]" in error
    assert "classifier.output=linear" in error and "Traceback" not in error
    assert not (tmp_path / "run" / "model.rnnkit").exists()
    assert main(["train", "classifier", "--train", str(good), "--dev", str(good), "--out",
                 str(tmp_path / "ok"), *common]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--model", str(tmp_path / "ok" / "model.rnnkit"),
                 "--data", str(bad)]) == 2
    assert f"the evaluation data has labels that are not finite numbers: [{named}]" in \
        capsys.readouterr().err


@pytest.mark.parametrize("split", ["--train", "--dev", "--test"])
def test_a_classifier_file_not_there_is_not_called_of_unknown_format(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], split: str) -> None:
    """A --train/--dev/--test path with no suffix that is a folder or is not there (a broken
    link) was refused as 'cannot tell the format ...; set data.format': it now says what the
    path is (as --nproc 2 does: commands/inputs.py)."""
    good = tmp_path / "good.tsv"
    good.write_text("text\tlabel\n" + "good film\tpos\nbad film\tneg\n" * 10, encoding="utf-8")
    (tmp_path / "folder").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    for name, said in (("folder", "a folder, not a file"), ("link", "no such file")):
        files = {"--train": str(good), split: str(tmp_path / name)}
        args = ["train", "classifier", "--out", str(tmp_path / "run"),
                "--set", "train.epochs=1", "--set", "model.hidden_size=4"]
        for flag, path in files.items():
            args += [flag, path]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert said in err and str(tmp_path / name) in err and "cannot tell" not in err


def test_a_label_held_out_whole_by_dev_fraction_names_the_setting(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With no dev file, data.dev_fraction may hold out every example of a rare label; the
    error told the user to fix the data, though the data was fine."""
    from rnnkit.pipelines.classifier_data import ClassifierDataConfig, read_splits

    rows = [f"good film {i},pos" if i % 2 else f"bad film {i},neg" for i in range(20)]
    data = tmp_path / "train.csv"
    data.write_text("text,label\n" + "\n".join([*rows, "odd film,meh"]) + "\n")
    config = ClassifierDataConfig(train=str(data), dev_fraction=0.25)
    seed = next(seed for seed in range(100)
                if any("meh" in e.labels for e in read_splits(config, seed, print)["dev"]))
    capsys.readouterr()
    assert main(["train", "classifier", "--train", str(data), "--out", str(tmp_path / "run"),
                 "--set", "data.dev_fraction=0.25", "--set", f"train.seed={seed}",
                 "--set", "train.progress=false", "--set", "train.device=cpu"]) == 2
    error = capsys.readouterr().err
    assert "data.dev_fraction held out every training example of ['meh']" in error
    assert "Fix the data" not in error


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_a_training_file_of_one_label_is_refused_by_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], output: str) -> None:
    # said "softmax output needs at least 2 classes, got ['pos']" (no file, nothing to do), or
    # with a sigmoid "classifier.output=sigmoid with 1 classes ...: use softmax", which fails too
    data = tmp_path / "train.csv"
    data.write_text("text,label\n" + "".join(f"good film {i},pos\n" for i in range(8)))
    assert main(["train", "classifier", "--train", str(data), "--dev", str(data),
                 "--out", str(tmp_path / "run"), "--set", f"classifier.output={output}",
                 "--set", "train.progress=false", "--set", "train.device=cpu"]) == 2
    assert capsys.readouterr().err == (
        f"rnnkit: error: the training data ({data}) holds examples of one label only, 'pos': "
        "a classifier needs at least 2 labels; give training examples of each (is "
        "data.label_field='label' the label column?)\n")
    assert not (tmp_path / "run").exists()
