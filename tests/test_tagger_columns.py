"""``rnnkit evaluate`` / ``predict`` of a tagger on files laid out otherwise than its training
data: the model's own reader settings, and the columns given by flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import SHARED_DATA

from rnnkit.cli import main

TINY = ["--set", "train.max_steps=2", "--set", "train.progress=false", "--set",
        "model.hidden_size=8", "--set", "tagger.word_dim=8", "--set", "tagger.char_dim=4",
        "--set", "tagger.char_hidden=4", "--set", "train.threads=1"]
WNUT = "#NFL\tB-group\nrocks\tO\n\nMary\tB-person\nleft\tO\n\n"


NO_WNUT = pytest.mark.skipif(not (SHARED_DATA / "wnut17").is_dir(),
                             reason="needs the wnut17 mirror (RNNKIT_DATA)")


def _wnut_model(tmp_path: Path) -> str:
    """A tiny model of the registry's wnut17, which reads no comments (hashtags are tokens)."""
    out = tmp_path / "wnut"
    assert main(["train", "tagger", "--dataset", "wnut17", "--data-dir", str(SHARED_DATA),
                 "--out", str(out), *TINY]) == 0
    return str(out / "model.rnnkit")


@NO_WNUT
def test_evaluate_reads_a_file_with_the_model_s_comment_prefix_as_predict_does(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """evaluate read '#' lines of a file as comments for a WNUT model, trained with none, while
    predict read them as the model does: a line the model reads as a token was skipped."""
    model = _wnut_model(tmp_path)
    data = tmp_path / "tweets.txt"
    data.write_text("# a note\nMary\tB-person\nleft\tO\n\n")
    capsys.readouterr()
    assert main(["predict", "--model", model, "--input", str(data)]) == 2
    refused = capsys.readouterr().err
    assert "tweets.txt:1:" in refused
    assert main(["evaluate", "--model", model, "--data", str(data)]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == refused.splitlines()[-1].replace(
        "text, conllu, iob", "conllu, iob")
    data.write_text(WNUT)
    assert main(["evaluate", "--model", model, "--data", str(data)]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] == 4
