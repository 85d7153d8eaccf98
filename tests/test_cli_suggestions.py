"""A misspelt option, command or choice is named with the nearest valid one, and the usage of
the command it was given to."""

from __future__ import annotations

import pytest

from rnnkit.cli import main


@pytest.mark.parametrize("argv, usage, hint", [
    (["train", "tagger", "--datset", "x"], "rnnkit train tagger: error: unrecognized",
     "did you mean --dataset?"),
    (["train", "synthetic", "--print-confg"], "rnnkit train synthetic: error:",
     "did you mean --print-config?"),
    (["generate", "--model", "m", "--top_k=3"], "rnnkit generate: error:",
     "did you mean --top-k?"),
    (["trian"], "rnnkit: error:", "did you mean 'train'?"),
    (["train", "taggr"], "rnnkit train: error:", "did you mean 'tagger'?"),
    (["word2vec", "neighbours"], "rnnkit word2vec: error:", "did you mean 'neighbors'?"),
    (["train", "tagger", "--format", "conll"], "rnnkit train tagger: error:",
     "did you mean 'conllu'?"),
])
def test_a_misspelt_name_gets_a_suggestion(argv: list[str], usage: str, hint: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert usage in err and hint in err, err


def test_a_word_far_from_every_option_gets_no_suggestion(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["info", "--zzzz"])
    err = capsys.readouterr().err
    assert "rnnkit info: error: unrecognized arguments: --zzzz" in err
    assert "did you mean" not in err
