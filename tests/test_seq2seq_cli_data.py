"""``rnnkit train seq2seq``'s splits and training pairs: missing or empty splits, pairs left out
and warnings that name their file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_seq2seq_cli import SOURCE, TARGET, TINY
from test_seq2seq_cli import prefix as prefix  # noqa: F401  (fixture)

from rnnkit.cli import main
from rnnkit.config import ModelConfig, TrainConfig
from rnnkit.data.subword import SubwordTokenizer
from rnnkit.models.seq2seq import Seq2Seq, Seq2SeqConfig
from rnnkit.pipelines.seq2seq import (
    Seq2SeqRunConfig,
    TranslationDataConfig,
    encode_pairs,
    train_seq2seq,
)


@pytest.mark.parametrize(("test", "message"), [
    ([], "no test data: set data.dataset, or data.test (--test) to a file prefix"),
    (["--test", "missing"], "data.test (--test) missing.de: no such file; give the prefix"),
    # one file of the pair said 'TINY.de.de does not exist'
    (["--test", "TINY.de"], "--test 'TINY.de' names one file of the pair; give their prefix, "
                            "--test TINY (reads TINY.de and TINY.en)"),
])

def test_the_test_split_is_read_before_training(prefix: Path, tmp_path: Path, test: list[str],
                                                message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    test = [part.replace("TINY", str(prefix)) for part in test]
    code = main(["train", "seq2seq", "--train", str(prefix), "--dev", str(prefix), *test,
                 "--out", str(out), *TINY])
    assert code == 2
    assert message.replace("TINY", str(prefix)) in capsys.readouterr().err
    assert not (out / "model.rnnkit").exists()


@pytest.mark.parametrize(("files", "message"), [
    ({"de": "", "en": ""}, "the train data has no sentence pairs (its files are empty); give "
                           "data.train (--train)"),
    ({"de": "\n \n", "en": "a dog\na cat\n"}, "has no text in {prefix}.de: every line is blank"),
])
def test_training_text_with_nothing_on_a_side_is_named(
        prefix: Path, tmp_path: Path, files: dict[str, str], message: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Such training text failed in SentencePiece: 'cannot train a tokenizer: the training
    text has no non-empty line', naming neither the file nor the flag."""
    for language, text in files.items():
        (tmp_path / f"bad.{language}").write_text(text, encoding="utf-8")
    assert main(["train", "seq2seq", "--train", str(tmp_path / "bad"), "--dev", str(prefix),
                 "--test", str(prefix), "--out", str(tmp_path / "run"), *TINY]) == 2
    assert message.format(prefix=tmp_path / "bad") in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "message"), [
    (["--dev", "{empty}"], "the dev data has no sentence pairs"),
    (["--test", "{empty}"], "the test data has no sentence pairs"),
    (["--dev", "{blank}"], "the dev data's references (en) are only blank lines"),  # was BLEU
    (["--test", "{blank}"], "the test data's references (en) are only blank lines"),  # 0.00
    (["--set", "data.max_train_tokens=1"],
     "none of the 24 training pairs is at most 1 subwords long"),
])
def test_nothing_to_train_on_or_to_score_is_refused_before_training(
        prefix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str],
        message: str) -> None:
    empty = tmp_path / "empty"
    for language in ("de", "en"):
        Path(f"{empty}.{language}").write_text("", encoding="utf-8")
        Path(f"{tmp_path / 'blank'}.{language}").write_text("\n\n \n", encoding="utf-8")
    out = tmp_path / "run"
    given = [flag.format(empty=empty, blank=tmp_path / "blank") for flag in flags]
    defaults = ["--train", str(prefix), "--dev", str(prefix), "--test", str(prefix)]
    assert main(["train", "seq2seq", "--src", "de", "--tgt", "en", *defaults, *given,
                 "--out", str(out), *TINY]) == 2
    assert message in capsys.readouterr().err
    assert not (out / "last.pt").exists()  # not after an epoch of training


def test_seq2seq_training_pairs_are_judged_and_kept_whole(tmp_path: Path) -> None:
    """Training sources were cut to seq2seq.max_source_tokens before data.max_train_tokens
    judged them: a pair longer than the limit was kept (cut), and a kept source lost its end
    while its target did not."""
    short = ["ein hund", "eine katze", "ein vogel"] * 4
    long = ["ein roter hund rennt schnell über die grüne wiese zum see"] * 4
    (tmp_path / "tiny.de").write_text("\n".join(short + long) + "\n", encoding="utf-8")
    (tmp_path / "tiny.en").write_text("\n".join(["a dog"] * 16) + "\n", encoding="utf-8")
    prefix = str(tmp_path / "tiny")
    config = Seq2SeqRunConfig(
        data=TranslationDataConfig(dataset="", train=prefix, dev=prefix, test=prefix,
                                   vocab_size=30, max_train_tokens=20),
        seq2seq=Seq2SeqConfig(embedding_dim=8, max_source_tokens=2, beam_size=1),
        model=ModelConfig(cell="gru", hidden_size=8),
        train=TrainConfig(epochs=1, progress=False, threads=1, monitor="val_bleu", mode="max"))
    with pytest.warns(UserWarning, match=r"line \d+ has \d+ subword tokens; only the first 2 "
                                         r"are translated \(raise seq2seq.max_source_tokens"):
        results = train_seq2seq(config, tmp_path / "run", log=lambda *_: None)  # dev, test
    stored = json.loads((tmp_path / "run" / "tokenizers.json").read_text(encoding="utf-8"))
    tokenizers = [SubwordTokenizer.from_json(stored[side]) for side in ("source", "target")]
    assert len(tokenizers[0].encode(long[0])) > 20 >= max(
        len(tokenizers[0].encode(line)) for line in short)
    assert results["train_pairs"] == len(short)  # the long sources left out, not cut to 2
    model = Seq2Seq(*tokenizers, config.seq2seq, config.model)
    whole = encode_pairs(model, short[:1] + long[:1], ["a dog"] * 2, truncate=False)
    assert [len(pair[0]) for pair in whole] == [
        len(tokenizers[0].encode(line)) + 1 for line in (short[0], long[0])]
    cut = encode_pairs(model, long[:1], ["a dog"])  # scoring reads it as translation does
    assert len(cut[0][0]) == 3


def test_training_pairs_blank_on_one_side_are_left_out_and_named(tmp_path: Path) -> None:
    """A blank line on one side of a training pair (the files' line counts agreeing) was
    trained on in silence: the model learnt to translate that sentence as nothing."""
    sources, targets = list(SOURCE), list(TARGET)
    targets[1], sources[4] = "", "  "  # line 2: no translation; line 5: nothing translated
    (tmp_path / "t.de").write_text("\n".join(sources) + "\n", encoding="utf-8")
    (tmp_path / "t.en").write_text("\n".join(targets) + "\n", encoding="utf-8")
    prefix = str(tmp_path / "t")
    config = Seq2SeqRunConfig(
        data=TranslationDataConfig(dataset="", train=prefix, dev=prefix, test=prefix,
                                   vocab_size=30),
        seq2seq=Seq2SeqConfig(embedding_dim=8, beam_size=1),
        model=ModelConfig(cell="gru", hidden_size=8),
        train=TrainConfig(epochs=1, progress=False, threads=1, monitor="val_bleu", mode="max"))
    logged: list[str] = []
    results = train_seq2seq(config, tmp_path / "run", log=logged.append)
    assert results["train_pairs"] == len(SOURCE) - 2
    assert (f"left out 2 training pairs blank on one side, no translation of the other: "
            f"line 2 ({prefix}.en blank), line 5 ({prefix}.de blank)") in logged


def test_warnings_about_a_test_line_name_its_file(
        prefix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """'line 2: characters never seen in training' did not say of which file: train seq2seq
    scores its test split after training (dev validated before), evaluate a prefix's pair."""
    (tmp_path / "unseen.de").write_text("ein hund\nein hund ☃\n", encoding="utf-8")
    (tmp_path / "unseen.en").write_text("a dog\na dog\n", encoding="utf-8")
    test = tmp_path / "unseen"
    out = tmp_path / "run"
    assert main(["train", "seq2seq", "--train", str(prefix), "--dev", str(prefix),
                 "--test", str(test), "--out", str(out), *TINY]) == 0
    said = (f"rnnkit: warning: {test}.de, line 2: characters never seen in training are read "
            "as unknown: ☃\n")
    assert said in capsys.readouterr().err
    assert main(["evaluate", "--model", str(out / "model.rnnkit"), "--data", str(test)]) == 0
    assert said in capsys.readouterr().err
