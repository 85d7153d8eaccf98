"""``rnnkit predict --scores``: each tag's probability in text, CoNLL-U and iob output, the
output without it unchanged, and span confidences."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_tagger_cli import TINY

from rnnkit.cli import main
from rnnkit.commands.common import PREDICTORS
from rnnkit.pipelines.tagger_confidence import predict_spans, span_confidences

CONLLU = """# sent_id = 1
1\tJohn\tJohn\tPROPN\tNNP\t_\t2\tnsubj\t_\t_
2-3\truns.\t_\t_\t_\t_\t_\t_\t_\t_
2\truns\trun\tVERB\tVBZ\t_\t0\troot\t_\tSpaceAfter=No
3\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\tTagProb=0.5|X=1

# sent_id = 2
1\tMary\tMary\tPROPN\tNNP\t_\t2\tnsubj\t_\t_
2\tsleeps\tsleep\tVERB\tVBZ\t_\t0\troot\t_\t_

"""
IOB = "John B-PER\nlives O\nin O\nParis B-LOC  \n\nMary\tB-PER\nleft\tO\r\n\n"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("scores")
    made = {}
    for fmt, text, output in (("conllu", CONLLU, "softmax"), ("iob", IOB, "crf")):
        data = folder / f"data.{fmt}"
        data.write_bytes(text.encode())
        out = folder / fmt
        assert main(["train", "tagger", "--train", str(data), "--dev", str(data), "--test",
                     str(data), "--format", fmt, "--out", str(out), *TINY, "--set",
                     f"tagger.output={output}"]) == 0
        made[fmt], made[f"{fmt}_data"] = out / "model.rnnkit", data
    return made


def _predict(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(["predict", *argv]) == 0
    return capsys.readouterr().out


def _probabilities(model: Path, token_lists: list[list[str]]) -> list[str]:
    from rnnkit.pipelines.tagger import load_tagger_bundle
    from rnnkit.pipelines.tagger_scoring import predict_tags_with_scores

    _, scores = predict_tags_with_scores(load_tagger_bundle(model), token_lists)
    return [f"{p:.4f}" for row in scores for p in row]


@pytest.mark.parametrize("fmt", ["conllu", "iob"])
def test_text_output_gains_a_probability_column(models: dict[str, Path], fmt: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    model = str(models[fmt])
    plain = _predict(capsys, "--model", model, "--text", "Mary runs .\nJohn left")
    scored = _predict(capsys, "--model", model, "--text", "Mary runs .\nJohn left", "--scores")
    rows = [line.split("\t") for line in scored.splitlines() if line]
    assert all(len(row) == 3 for row in rows)
    assert scored.count("\n") == plain.count("\n")
    # without the third column it is the output without --scores, byte for byte
    assert "\n".join("\t".join(line.split("\t")[:2]) for line in scored.split("\n")) == plain
    assert [row[2] for row in rows] == _probabilities(models[fmt],
                                                      [["Mary", "runs", "."], ["John", "left"]])
    assert all(0.0 < float(row[2]) <= 1.0 for row in rows)


def test_conllu_output_puts_tag_prob_in_misc(models: dict[str, Path],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--model", str(models["conllu"]), "--input", str(models["conllu_data"])]
    plain, scored = _predict(capsys, *argv), _predict(capsys, *argv, "--scores")
    assert plain.count("\n") == scored.count("\n") == CONLLU.count("\n")
    words = [line.split("\t") for line in scored.splitlines()
             if line and not line.startswith("#") and "-" not in line.split("\t")[0]]
    probabilities = _probabilities(models["conllu"], [["John", "runs", "."], ["Mary", "sleeps"]])
    assert [w[9] for w in words] == [
        f"TagProb={probabilities[0]}", f"SpaceAfter=No|TagProb={probabilities[1]}",
        f"X=1|TagProb={probabilities[2]}",  # a TagProb already there is replaced
        f"TagProb={probabilities[3]}", f"TagProb={probabilities[4]}"]
    # every other field is the output without --scores, which keeps the file's bytes
    for with_scores, without in zip(scored.splitlines(), plain.splitlines(), strict=True):
        assert with_scores.split("\t")[:9] == without.split("\t")[:9]
        if with_scores.startswith("2-3") or not with_scores or with_scores[0] == "#":
            assert with_scores == without


def test_iob_output_gains_a_last_column(models: dict[str, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.iob"
    argv = ["--model", str(models["iob"]), "--input", str(models["iob_data"])]
    plain = _predict(capsys, *argv)
    assert main(["predict", *argv, "--scores", "--output", str(target)]) == 0
    scored = target.read_bytes().decode()
    probabilities = _probabilities(models["iob"], [["John", "lives", "in", "Paris"],
                                                   ["Mary", "left"]])
    lines = scored.split("\n")
    tags = [line.split()[1] for line in plain.split("\n") if line.strip()]
    # the line's own separator, before the trailing spaces and the line ending it had
    assert lines[:4] == [f"John {tags[0]} {probabilities[0]}", f"lives {tags[1]} "
                         f"{probabilities[1]}", f"in {tags[2]} {probabilities[2]}",
                         f"Paris {tags[3]} {probabilities[3]}  "]
    assert lines[5:8] == [f"Mary\t{tags[4]}\t{probabilities[4]}",
                          f"left\t{tags[5]}\t{probabilities[5]}\r", ""]
    assert scored.count("\n") == plain.count("\n") == IOB.count("\n")
    # read back as the README says, with --tag-column -2: the model's own tags, as without
    (tmp_path / "plain.iob").write_text(plain)
    read = []
    for path, columns in ((target, ["--tag-column", "-2"]), (tmp_path / "plain.iob", [])):
        capsys.readouterr()
        assert main(["evaluate", "--model", str(models["iob"]), "--data", str(path),
                     "--format", "iob", *columns]) == 0
        read.append(json.loads(capsys.readouterr().out))
    assert read[0]["tokens"] == read[1]["tokens"] == 6
    assert read[0]["scores"] == read[1]["scores"] and read[0]["scores"]["accuracy"] == 1.0


def test_scores_is_refused_for_other_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "synthetic"
    assert main(["train", "synthetic", "--set", "data.length=5", "--set", "data.train_size=32",
                 "--set", "data.val_size=16", "--set", "data.test_size=16", "--set",
                 "train.epochs=1", "--set", "model.hidden_size=4", "--set",
                 "train.progress=false", "--out", str(out)]) == 0
    monkeypatch.setitem(PREDICTORS, "synthetic", lambda args: 0)  # a kind predict runs
    capsys.readouterr()
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--text", "a", "--scores"]) == 2
    assert "reads --scores only for a tagger model" in capsys.readouterr().err


def test_span_confidence_is_the_mean_of_its_tokens() -> None:
    tokens = ["Anna", "Smith", "met", "Bob", "in", "New", "York", "City"]
    tags = ["B-PER", "I-PER", "O", "B-PER", "O", "B-LOC", "I-LOC", "I-ORG"]
    probabilities = [0.9, 0.5, 0.99, 0.8, 0.97, 0.6, 0.9, 0.3]
    spans = span_confidences(tokens, tags, probabilities)
    assert [(s.type, s.start, s.end, s.text) for s in spans] == [
        ("PER", 0, 2, "Anna Smith"), ("PER", 3, 4, "Bob"), ("LOC", 5, 7, "New York"),
        ("ORG", 7, 8, "City")]  # an I- of another type starts a span of its own
    assert [s.confidence for s in spans] == pytest.approx([0.7, 0.8, 0.75, 0.3])
    with pytest.raises(ValueError, match="one tag and one probability per token: 2 tokens"):
        span_confidences(["a", "b"], ["O"], [0.5])


def test_predict_spans_scores_the_entities_of_a_span_tagger(models: dict[str, Path]) -> None:
    from rnnkit.pipelines.tagger import load_tagger_bundle

    ner = load_tagger_bundle(models["iob"])
    spans = predict_spans(ner, [["John", "lives", "in", "Paris"]])
    assert len(spans) == 1 and all(0.0 < s.confidence <= 1.0 for s in spans[0])
    with pytest.raises(ValueError, match="needs a tagger of entity spans"):
        predict_spans(load_tagger_bundle(models["conllu"]), [["John"]])
