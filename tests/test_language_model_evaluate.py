"""Language model: perplexity and unknown words in training's validation and rnnkit
evaluate, and the tokens a run counts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_language_model import TEXT, _model

from rnnkit.cli import main
from rnnkit.data.text_stream import StreamBatches, batchify, split_text, tokenize
from rnnkit.training.bundle import load_bundle, save_bundle


def train_on_play(tmp_path: Path, *settings: str) -> Path:
    """``train lm`` on ``TEXT * 3`` (``tmp_path/play.txt``) with ``settings`` beside two
    validation columns, a 5-token sample and no progress bar; the run folder."""
    corpus = tmp_path / "play.txt"
    corpus.write_text(TEXT * 3, encoding="utf-8")
    out = tmp_path / "run"
    sets = [*settings, "data.eval_batch_size=2", "sample.length=5", "train.progress=false"]
    assert main(["train", "lm", "--file", str(corpus), "--out", str(out),
                 *[part for item in sets for part in ("--set", item)]]) == 0
    return out


def test_unseen_validation_words_with_no_training_unk_are_noted() -> None:
    """With data.min_count=1 no training word is <unk>, so the model never learns it and every
    unseen validation word is scored at an untrained guess: the run said nothing of it."""
    from rnnkit.data.text_stream import build_stream_vocab
    from rnnkit.pipelines.language_model import encode_stream, untrained_unknown

    train = ["the", "cat", "sat", "on", "the", "mat", "the", "end"]
    val = ["the", "dog", "sat", "on", "the", "log"]
    vocab = build_stream_vocab(train, "word", min_count=1)
    note = untrained_unknown(encode_stream(train, vocab, "t"), encode_stream(val, vocab, "v"),
                             vocab)
    assert note.startswith("2 of 6 validation words (33.3%) were never seen in training")
    assert "(data.min_count=1)" in note and "data.min_count=2 or more trains <unk>" in note
    twice = ["a", "b", "a", "b", "c", "c"]  # every word twice: min_count=2 leaves none rare
    vocab2 = build_stream_vocab(twice, "word", min_count=2)
    note = untrained_unknown(encode_stream(twice, vocab2, "t"),
                             encode_stream(["a", "d"], vocab2, "v"), vocab2, min_count=2)
    assert "(data.min_count=2)" in note and "data.min_count=3 or more" in note
    rare = build_stream_vocab(train, "word", min_count=2)  # cat, sat, ... become <unk>
    assert untrained_unknown(encode_stream(train, rare, "t"), encode_stream(val, rare, "v"),
                             rare) == ""
    assert untrained_unknown(encode_stream(train, vocab, "t"),
                             encode_stream(["the", "cat"], vocab, "v"), vocab) == ""
    chars = build_stream_vocab(list("abc"), "char")
    assert untrained_unknown([1, 2], [1, 2], chars) == ""


def test_evaluate_scores_a_saved_model_on_a_text_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """rnnkit evaluate refused language models ('use rnnkit generate'): there was no way to
    get the perplexity of a saved model on new text."""
    import json
    import math

    from rnnkit.data.text_stream import StreamBatches, tokenize
    from rnnkit.pipelines.language_model import load_language_model

    out = train_on_play(tmp_path, "train.epochs=1", "model.hidden_size=16",
                        "train.batch_size=4", "data.steps=20", "train.device=cpu")
    held_out = tmp_path / "held_out.txt"
    held_out.write_text(TEXT[:300], encoding="utf-8")
    capsys.readouterr()
    bundle = str(out / "model.rnnkit")
    assert main(["evaluate", "--model", bundle, "--data", str(held_out), "--out",
                 str(tmp_path / "scores")]) == 0
    printed = json.loads(capsys.readouterr().out)
    model = load_language_model(bundle)
    ids = model.vocab.encode(tokenize(TEXT[:300], "char"))
    expected = model.evaluate(StreamBatches(ids, 16, 100, shuffle=False).batches(0))
    assert printed["tokens"] == (300 // 16 - 1) * 16 and printed["columns"] == 16
    assert math.isclose(printed["loss"], expected["loss"], rel_tol=1e-9)
    assert math.isclose(printed["perplexity"], math.exp(printed["loss"]), rel_tol=1e-9)
    assert math.isclose(printed["bpc"], printed["loss"] / math.log(2), rel_tol=1e-9)
    saved = json.loads((tmp_path / "scores" / "evaluation.json").read_text())
    assert saved["loss"] == printed["loss"]
    (tmp_path / "odd.txt").write_text("§§§", encoding="utf-8")
    for args, message in (
            # the advice was 'train on text that contains them', for a model already trained
            (["--data", str(tmp_path / "odd.txt")], "never seen in training: ['§']; a "
             "character model cannot score a character it never saw: remove them from the "
             "file, or score a model trained on text that has them"),
            (["--data", str(tmp_path / "missing.txt")], "no such file"),
            (["--data", "tinyshakespeare"], "--data tinyshakespeare is a registry dataset; a "
                                            "language model is scored on a text file"),
            ([], "needs --data: a UTF-8 text file"),
            (["--data", str(held_out), "--split", "dev"], "--split is not read for a language"),
            (["--data", str(held_out), "--format", "iob"], "reads --format only for")):
        assert main(["evaluate", "--model", bundle, *args]) == 2
        assert message in capsys.readouterr().err
    (tmp_path / "one.txt").write_text("R", encoding="utf-8")
    assert main(["evaluate", "--model", bundle, "--data", str(tmp_path / "one.txt")]) == 2
    assert "holds 1 char token(s); a language model is scored on 2 or more" in \
        capsys.readouterr().err


def test_tokens_per_second_counts_the_windows_of_an_epoch_cut_short(tmp_path: Path) -> None:
    from rnnkit.pipelines.language_model import trained_tokens

    model, _ = _model()
    source = StreamBatches(list(range(1, 42)), batch_size=2, steps=4, shuffle=False)
    # 20 rows a column, 19 predicted: windows of 4, 4, 4, 4 and 3 time steps, 2 columns each
    assert trained_tokens(source, model, 2, 0) == 16
    assert trained_tokens(source, model, 5, 0) == source.tokens() == 38
    assert trained_tokens(source, model, 7, 0) == 38 + 16  # into the second epoch
    assert trained_tokens(source, model, 3, 3) == (3 + 1 + 3) * 2  # train.tbptt_steps=3
    out = train_on_play(tmp_path, "train.max_steps=3", "model.hidden_size=8",
                        "train.batch_size=2", "data.steps=10")
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["stopped"] == "max_steps" and results["epochs"] == 0
    assert results["tokens_per_second"] > 0  # was 0.0: only whole epochs were counted


def test_evaluate_counts_the_unknown_words_it_scores(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """rnnkit evaluate's unknown_tokens counted <unk> over every token of the file, beside
    "tokens", those it predicts: an unknown word heading a column (given, never scored) or in
    the tail that fills no column counted, so the two did not make a rate (tiny-shakespeare's
    validation text, a 6,472-word model: 3,769 unknown of 24,608 scored, 3,767 of them
    scored)."""
    model, _ = _model("word", embedding_dim=32)
    bundle = tmp_path / "model.rnnkit"
    save_bundle(model, bundle)
    # 2 columns of 3 tokens, the 7th left over: "zz" heads column 1, "qq" is the tail; only
    # "xx" (predicted in column 0) is scored
    (tmp_path / "held.txt").write_text("ROMEO: xx But zz soft, But qq", encoding="utf-8")
    from rnnkit.pipelines.language_model import evaluate_text

    result = evaluate_text(load_bundle(bundle), tmp_path / "held.txt", batch_size=2)
    assert (result["tokens"], result["columns"]) == (4, 2)
    assert result["unknown_tokens"] == 1  # was 3


def test_a_word_run_reports_the_unknown_words_its_validation_scores(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """<unk> is predicted and scored as one word, so the validation perplexity of a word model
    falls as data.min_count turns more words into <unk> (tiny-shakespeare, an add-1/2 unigram:
    1,068 at min_count=1, 217 at 3, 94 at 10): train lm said how many validation words were
    <unk> only when none of the training text was; results.json and the log now say it."""
    from rnnkit.pipelines.language_model import LMDataConfig, read_text

    corpus = tmp_path / "play.txt"
    corpus.write_text(TEXT * 3 + "Juliet sleeps, Juliet dreams\n", encoding="utf-8")
    out = tmp_path / "run"
    assert main(["train", "lm", "--file", str(corpus), "--out", str(out), "--set",
                 "lm.level=word", "--set", "data.min_count=2", "--set", "train.epochs=1",
                 "--set", "model.hidden_size=8", "--set", "train.batch_size=4", "--set",
                 "data.steps=20", "--set", "data.eval_batch_size=2", "--set",
                 "sample.length=5", "--set", "train.progress=false"]) == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    vocab = load_bundle(out / "model.rnnkit").vocab
    _, val_text = split_text(read_text(LMDataConfig(file=str(corpus))), 0.1, "word")
    columns = batchify(vocab.encode(tokenize(val_text, "word")), 2)  # [N, 2]
    expected = int((columns[1:] == vocab.unk_id).sum())  # the predicted ones
    assert expected == 4  # Juliet sleeps, Juliet dreams
    assert results["validation_unknown_tokens"] == expected
    assert (f"({expected} of the {results['validation_tokens']} tokens scored are <unk>"
            in capsys.readouterr().out)
    (tmp_path / "char").mkdir()
    char = train_on_play(tmp_path / "char", "train.epochs=1", "model.hidden_size=8",
                         "train.batch_size=4", "data.steps=20")
    assert "validation_unknown_tokens" not in json.loads((char / "results.json").read_text())
