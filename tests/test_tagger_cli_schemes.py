"""``rnnkit train tagger``'s tag schemes and tag sets: IOB1, BIO and BIOES, scheme none, and tags
the model never saw."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from test_tagger_cli import CONLLU, IOB, TINY, _train
from test_tagger_cli import files as files  # noqa: F401  (fixture)

from rnnkit.cli import main

IOB1 = "John\tI-PER\nSmith\tI-PER\nlives\tO\nin\tO\nParis\tI-LOC\n\nMary\tI-PER\nleft\tO\n\n"
BIOES = "John\tB-PER\nSmith\tE-PER\nlives\tO\nin\tO\nParis\tS-LOC\n\nMary\tS-PER\nleft\tO\n\n"


@pytest.mark.parametrize("text", [IOB1, BIOES], ids=["iob1", "bioes"])
@pytest.mark.parametrize("scheme", ["bio", "bioes"])
def test_iob1_and_bioes_files_train_as_bio(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           text: str, scheme: str) -> None:
    from rnnkit.data.tags import is_valid_bio

    data = tmp_path / "ner.iob"
    data.write_text(text)
    out = tmp_path / "ner"
    assert _train({"iob": data}, "iob", out, "--set", f"data.scheme={scheme}") == 0
    results = json.loads((out / "results.json").read_text())
    assert results["history"][0]["train_loss"] < 100  # no gold path the CRF forbids (1e4)
    assert "unknown_gold_tags" not in results["test"]  # the gold is read as BIO too
    capsys.readouterr()
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--text", "Mary left"]) == 0
    assert is_valid_bio([line.split("\t")[1] for line in capsys.readouterr().out.split("\n")
                         if line])


def test_validation_scores_what_dev_reports_for_a_bioes_model(tmp_path: Path) -> None:
    from rnnkit.data.iob import read_iob
    from rnnkit.data.tagger_batches import collate, encode
    from rnnkit.pipelines.tagger import _training_tags, load_tagger_bundle
    from rnnkit.pipelines.tagger_scoring import evaluate_sentences

    data = tmp_path / "ner.iob"
    data.write_text("John\tB-PER\nSmith\tI-PER\nleft\tO\n\n")
    out = tmp_path / "ner"
    assert _train({"iob": data}, "iob", out, "--set", "data.scheme=bioes",
                  "--set", "tagger.output=softmax") == 0
    model = load_tagger_bundle(out / "model.rnnkit")
    with torch.no_grad():  # predict E-PER everywhere: invalid BIOES, three one-word spans
        model.head.weight.zero_()
        model.head.bias.fill_(-10.0)
        model.head.bias[model.tags.encode(["E-PER"])[0]] = 10.0
    sentences = read_iob(data)
    gold = _training_tags(sentences, "bioes")  # B-PER E-PER O
    batch = collate([encode(s.tokens, tags, model.words, model.chars, model.tags, True)
                     for s, tags in zip(sentences, gold, strict=True)])
    validation = model.evaluate([batch])  # what training logs and selects the epoch on
    dev = evaluate_sentences(model, sentences, None, "dev")["scores"]
    assert dev["accuracy"] == pytest.approx(1 / 3)  # B-PER B-PER B-PER: only B-PER right
    for name in ("accuracy", "precision", "recall", "f1"):
        assert validation[name] == pytest.approx(dev[name]), name


def test_scheme_bioes_on_part_of_speech_tags_is_refused_naming_the_setting(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # it failed with "tag 'PROPN' is not O, B-X, I-X, E-X or S-X", naming no file or setting
    assert _train(files, "conllu", tmp_path / "pos", "--set", "data.scheme=bioes") == 2
    err = capsys.readouterr().err
    assert "data.scheme=bioes" in err and "pos.conllu" in err and "PROPN" in err


def test_a_two_column_pos_file_trains_with_scheme_none(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "pos.txt"  # token and part-of-speech tag, space-separated
    data.write_text("John PROPN\nruns VERB\n. PUNCT\n\nMary PROPN\nsleeps VERB\n\n")
    out = tmp_path / "pos"
    assert _train({"iob": data}, "iob", out) == 2
    assert "data.scheme=none" in capsys.readouterr().err
    assert _train({"iob": data}, "iob", out, "--set", "data.scheme=none") == 0
    results = json.loads((out / "results.json").read_text())
    assert "f1" not in results["test"]["scores"]
    capsys.readouterr()
    model = str(out / "model.rnnkit")
    assert main(["evaluate", "--model", model, "--data", str(data)]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] == 5
    assert main(["predict", "--model", model, "--input", str(data)]) == 0
    tags = [line.split()[1] for line in capsys.readouterr().out.splitlines() if line]
    assert len(tags) == 5 and set(tags) <= {"PROPN", "VERB", "PUNCT"}


def test_scheme_bioes_trains_with_a_dev_file_that_holds_no_entity(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a dev file of O tags only was refused as 'not spans (O)', as part of speech is;
    # data.scheme=bio trained on it
    dev = tmp_path / "dev.iob"
    dev.write_text("He\tO\nleft\tO\n\n")
    path = str(files["iob"])
    assert main(["train", "tagger", "--train", path, "--dev", str(dev), "--test", path,
                 "--format", "iob", "--out", str(tmp_path / "ner"), *TINY,
                 "--set", "data.scheme=bioes"]) == 0
    results = json.loads((tmp_path / "ner" / "results.json").read_text())
    assert results["dev"]["scores"]["f1"] == 0.0 and "unknown_gold_tags" not in results["dev"]


@pytest.mark.parametrize("scheme", ["bio", "bioes"])
def test_entities_of_another_tag_set_are_refused_though_o_is_shared(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        scheme: str) -> None:
    # a PER/LOC model on WNUT-17-like tags (person, location) scored F1 0 in silence: O, most
    # tokens, is in every entity tag set, so 'more than half the tokens' never held
    out = tmp_path / "ner"
    assert _train(files, "iob", out, "--set", f"data.scheme={scheme}") == 0
    model = str(out / "model.rnnkit")
    other = tmp_path / "other.iob"
    other.write_text(IOB.replace("-PER", "-person").replace("-LOC", "-location"))
    capsys.readouterr()
    assert main(["evaluate", "--model", model, "--data", str(other)]) == 2
    err = capsys.readouterr().err
    assert ("3 of the 3 test entity tokens carry tags the model never saw (B-location, "
            "B-person); it predicts B-LOC, B-PER") in err
    rare = tmp_path / "rare.iob"  # one unseen type among known ones is scored, and named
    rare.write_text(IOB.replace("Paris\tB-LOC", "Paris\tB-MISC"))
    assert main(["evaluate", "--model", model, "--data", str(rare)]) == 0
    assert json.loads(capsys.readouterr().out)["unknown_gold_tags"] == ["B-MISC"]
    # training with such a test file is refused before it trains, not after
    path = str(files["iob"])
    assert main(["train", "tagger", "--train", path, "--dev", path, "--test", str(other),
                 "--format", "iob", "--out", str(tmp_path / "x"), *TINY]) == 2
    assert (f"3 of the 3 entity tokens of the test file {other} carry tags the training and "
            "dev data lack (B-location, B-person); theirs are B-LOC, B-PER") in \
        capsys.readouterr().err
    assert not (tmp_path / "x" / "model.rnnkit").exists()


def test_a_tag_named_like_the_padding_tag_is_a_clear_error(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # training said "unknown symbol '<pad>'; known: NNP, VBD" of a tag its own file holds,
    # and evaluate counted a gold '<pad>' as a tag the model knows (it never predicts it)
    padded = tmp_path / "pad.iob"
    padded.write_text("John\tNNP\nran\t<pad>\n\nMary\tNNP\nleft\tVBD\n\n")
    assert main(["train", "tagger", "--train", str(padded), "--dev", str(padded), "--test",
                 str(padded), "--format", "iob", "--out", str(tmp_path / "x"), *TINY,
                 "--set", "data.scheme=none"]) == 2
    assert (f"{padded}:2: the tag <pad> is the name of the tagger's padding tag; rename it in "
            "the data") in capsys.readouterr().err
    out = tmp_path / "pos"
    assert _train(files, "conllu", out) == 0
    gold = tmp_path / "gold.conllu"
    gold.write_text(CONLLU.replace("PUNCT", "<pad>"))
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out / "model.rnnkit"), "--data", str(gold)]) == 0
    assert json.loads(capsys.readouterr().out)["unknown_gold_tags"] == ["<pad>"]


def test_scheme_none_reads_tags_as_they_are_when_only_some_look_like_spans(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # chunk tags beside others (B-NP, I-NP, VP) were read as entity spans: training stopped
    # with "tag 'VP' is not O, B-X, I-X, E-X or S-X", and the CRF forbade VP then I-NP
    from rnnkit.config import ModelConfig
    from rnnkit.data.tags import span_f1_available
    from rnnkit.data.vocab import Vocab
    from rnnkit.models.tagger import Tagger, TaggerConfig

    mixed = tmp_path / "mixed.iob"
    mixed.write_text("John\tB-NP\nran\tVP\nhome\tI-NP\n\nMary\tB-NP\nleft\tO\n\n")
    out = tmp_path / "mixed"
    assert main(["train", "tagger", "--train", str(mixed), "--dev", str(mixed), "--test",
                 str(mixed), "--format", "iob", "--out", str(out), *TINY,
                 "--set", "data.scheme=none"]) == 0, capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    assert set(results["test"]["scores"]) == {"accuracy"}
    assert not span_f1_available(["<pad>", "B-NP", "I-NP", "VP"])
    assert span_f1_available(["<pad>", "O", "B-PER", "I-PER"])
    assert not span_f1_available(["<pad>", "O"])
    tags = Vocab(["B-NP", "I-NP", "VP"], unknown=False)
    words = Vocab(["a"])
    model = Tagger(words, words, tags, TaggerConfig(), ModelConfig(hidden_size=4))
    assert model.crf is not None
    assert model.crf.penalty[1:, 1:].eq(0).all()  # VP then I-NP is allowed
