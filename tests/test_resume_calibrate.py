"""A classifier run checkpointed while bundles kept ``classifier.calibrate`` resumes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rnnkit.cli import main
from rnnkit.training.checkpoint import CheckpointError
from rnnkit.training.resume import check_built_from

ROWS = [("great fun film", "pos"), ("loved it", "pos"), ("dull bad film", "neg"),
        ("hated it", "neg")] * 3


def _train(folder: Path, epochs: int, *extra: str) -> int:
    return main(["train", "classifier", "--train", str(folder / "train.jsonl"), "--out",
                 str(folder / "run"), "--set", f"train.epochs={epochs}", "--set",
                 "train.progress=false", "--set", "model.hidden_size=4", "--set",
                 "classifier.word_dim=4", "--set", "train.device=cpu", *extra])


def test_a_checkpoint_whose_classifier_section_holds_calibrate_resumes(
        tmp_path: Path) -> None:
    """810a046's rnnkit checkpointed the classifier section with 'calibrate'; 3132f06 left it
    out of the section, so such a run was refused on --resume as 'built from other data or
    settings (... classifier)'."""
    (tmp_path / "train.jsonl").write_text("".join(
        json.dumps({"text": text, "label": label}) + "\n" for text, label in ROWS))
    assert _train(tmp_path, 1) == 0
    last = tmp_path / "run" / "last.pt"
    state = torch.load(last, weights_only=False)
    built = json.loads(state["built_from"])
    assert "calibrate" not in built["classifier"]
    built["classifier"]["calibrate"] = "none"  # as 810a046 wrote it
    state["built_from"] = json.dumps(built, sort_keys=True)
    torch.save(state, last)
    assert _train(tmp_path, 2, "--resume") == 0
    assert torch.load(last, weights_only=False)["epoch"] == 2


def test_other_differences_of_the_classifier_section_are_still_refused() -> None:
    now = {"classifier": {"pooling": "last"}, "labels": ["neg", "pos"]}
    saved = {"classifier": {"pooling": "mean", "calibrate": "none"}, "labels": ["neg", "pos"]}
    with pytest.raises(CheckpointError, match=r"differ from this run's: classifier\)"):
        check_built_from(json.dumps(saved), json.dumps(now), "last.pt")
    saved["classifier"]["pooling"] = "last"
    check_built_from(json.dumps(saved), json.dumps(now), "last.pt")
