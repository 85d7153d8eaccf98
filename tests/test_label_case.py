"""Labels that differ only by case (Positive, positive; JSON true, read as 'True', beside
"true") were two classes in rnnkit train classifier, without a word: now a warning says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnkit.cli import main

SETTINGS = ["--set", "train.epochs=1", "--set", "train.batch_size=4", "--set",
            "model.hidden_size=4", "--set", "classifier.word_dim=4", "--set",
            "train.progress=false", "--set", "train.device=cpu"]


def _train(tmp_path: Path, labels: list[object], *extra: str) -> str:
    texts = ["great fun film", "loved it", "dull bad film", "hated it", "a fine cast"]
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps({"text": texts[i % len(texts)], "label": label}) + "\n"
                            for i, label in enumerate(labels)))
    assert main(["train", "classifier", "--train", str(path), "--out",
                 str(tmp_path / "run"), *SETTINGS, *extra]) == 0
    return str(path)


def test_labels_differing_only_by_case_are_warned_of_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _train(tmp_path, ["Positive"] * 2 + ["positive"] * 3 + ["negative"] * 4 +
                  ["NEGATIVE"] * 1 + ["neutral"] * 2, "--set", "data.dev_fraction=0.25")
    err = capsys.readouterr().err
    assert err.count("differ only by case") == 1, err
    assert (f"the training data ({path}) has labels that differ only by case, each trained "
            "as a class of its own: 'NEGATIVE' (1 example) and 'negative' (4 examples); "
            "'Positive' (2 examples) and 'positive' (3 examples). If they are one class, "
            "write it one way in the file (all 'negative', say) and train again") in err
    bundle = json.loads((tmp_path / "run" / "results.json").read_text())
    assert sorted(bundle["labels"]) == ["NEGATIVE", "Positive", "negative", "neutral",
                                        "positive"]  # read as they were


def test_a_json_boolean_beside_its_string_is_warned_of(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _train(tmp_path, [True, True, "true", False, False, False] * 2)
    err = capsys.readouterr().err
    assert "'True' (4 examples) and 'true' (2 examples)" in err
    assert "(a JSON true or false is read as 'True' or 'False')" in err
    _train(tmp_path, ["yes", "no"] * 4)
    assert "differ only by case" not in capsys.readouterr().err
