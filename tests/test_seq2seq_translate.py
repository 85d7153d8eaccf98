"""Translation model: translating lines, awkward input, tokenizers and bundles."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import pytest
from test_seq2seq import copy_task, make_model
from test_seq2seq import tokenizer as tokenizer  # noqa: F401  (fixture)
from test_seq2seq import trained as trained  # noqa: F401  (fixture)

from rnnkit.config import ModelConfig
from rnnkit.data.subword import SubwordTokenizer
from rnnkit.models.seq2seq import Seq2Seq
from rnnkit.pipelines.seq2seq import batches, encode_pairs
from rnnkit.pipelines.translation import detokenize, load_translator, translate_lines
from rnnkit.training.bundle import BundleError, save_bundle


def test_bundle_carries_the_tokenizers(trained: Seq2Seq, tmp_path: Path) -> None:
    path = save_bundle(trained, tmp_path / "model.rnnkit")
    loaded = load_translator(path)
    lines = ["red dog runs", "white horse jumps"]
    assert detokenize(loaded, translate_lines(loaded, lines)) == detokenize(
        trained, translate_lines(trained, lines))


def test_another_task_bundle_is_refused(tmp_path: Path) -> None:
    from rnnkit.models.synthetic import SyntheticTaskModel

    path = save_bundle(SyntheticTaskModel("adding", ModelConfig(hidden_size=4)),
                       tmp_path / "other.rnnkit")
    with pytest.raises(BundleError, match="holds a 'synthetic' model, but a 'seq2seq'"):
        load_translator(path)


def test_empty_long_and_unseen_input(trained: Seq2Seq) -> None:
    short = replace(trained.config, max_source_tokens=5)
    model = trained
    model.config = short
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found = translate_lines(model, ["", "   ", "red dog ☃ runs", "red " * 20])
        messages = [str(w.message) for w in caught]
    finally:
        model.config = replace(short, max_source_tokens=256)
    texts = detokenize(model, found)
    assert texts[0] == texts[1] == ""
    assert any("line 3" in m and "never seen in training" in m and "☃" in m for m in messages)
    assert any("line 4 has 20 subword tokens; only the first 5" in m for m in messages)
    assert all("⁇" not in text for text in texts)  # no unknown piece is ever written


def test_unknown_characters_are_those_left_after_normalisation(tokenizer: SubwordTokenizer
                                                                ) -> None:
    assert tokenizer.unknown_characters("ｒｅｄ dog") == []  # full-width letters are NFKC "red"
    assert tokenizer.unknown_characters("red ☃ dog") == ["☃"]


def test_decoding_a_bare_word_start_piece_leaves_no_stray_space() -> None:
    # a model may emit the piece "▁" alone (a word start with nothing after it): SentencePiece
    # decodes it to a double or trailing space, which the docstring promises never to give
    lines = ["a dog runs", "a cat sits", "the dog sits", "(a) dog"] * 20
    tokenizer = SubwordTokenizer.train(lines, vocab_size=30)
    bare = tokenizer.processor.piece_to_id("\u2581")
    assert tokenizer.pieces([bare]) == ["\u2581"]
    ids = tokenizer.encode("a dog sits")
    assert tokenizer.decode([bare, bare, *ids, bare]) == "a dog sits"
    assert tokenizer.decode([*ids[:2], bare, bare, *ids[2:]]) == "a dog sits"


def test_a_vocabulary_too_small_for_the_characters_says_to_raise_it() -> None:
    with pytest.raises(ValueError, match="every character of the training text: raise data"):
        SubwordTokenizer.train(copy_task(50, 0), vocab_size=6)


def test_translation_gives_back_the_model_s_mode_and_refuses_a_string(
    tokenizer: SubwordTokenizer,
) -> None:
    from rnnkit.pipelines.translation import forced_attention

    model = make_model(tokenizer, attention="general")
    for mode in (True, False):
        model.train(mode)
        with pytest.warns(UserWarning, match="characters never seen in training.* unknown: "
                                             "x$"):  # fox's x: not in the toy data
            assert len(translate_lines(model, ["red fox", ""], beam_size=2)) == 2
            weights, _ = forced_attention(model, "red fox", "fox red")
        assert weights.shape[0] >= 2 and model.training is mode
    with pytest.raises(TypeError, match="takes a list of lines, got the string 'red fox'"):
        translate_lines(model, "red fox")  # type: ignore[arg-type]


def test_a_line_with_no_subwords_translates_to_an_empty_line(tokenizer: SubwordTokenizer
                                                             ) -> None:
    """A line of only zero-width spaces or a byte-order mark has no subwords (normalisation
    removes them), yet it was translated from the end marker alone: the model wrote a sentence
    of its own there (and validation scored it), where a blank line gives an empty line."""
    model = make_model(tokenizer, attention="general").eval()  # untrained: writes anything
    lines = ["\u200b", "\ufeff\u200b", "red dog", ""]
    assert [tokenizer.encode(line) for line in lines[:2]] == [[], []]
    for beam in (1, 2):
        found = translate_lines(model, lines, beam)
        assert detokenize(model, found)[:2] == ["", ""]
        assert found[0] == found[3]  # as the blank line: one empty hypothesis, score 0
    from rnnkit.pipelines.seq2seq import score_lines

    own = detokenize(model, translate_lines(model, ["red dog"], 1))[0]  # scores above 0
    references = ["dog red", "red dog", own, "dog"]

    # validation scored a blank source (or one of no subwords) by what the model wrote from the
    # end marker alone, the test scores and rnnkit evaluate by an empty line
    validation = model.evaluate(batches(encode_pairs(model, lines, references), 8, False, 0)
                                .batches(0))
    scored = score_lines(model, lines, references, 1)
    assert scored["chrf"] > 0
    assert (validation["bleu"], validation["chrf"]) == pytest.approx(
        (scored["bleu"], scored["chrf"]))


def test_lines_that_are_not_text_and_an_empty_batch_are_named(trained: Seq2Seq) -> None:
    """A None or a number among the lines failed with "'NoneType' object has no attribute
    'strip'", and batch_size=0 with "range() arg 3 must not be zero"."""
    with pytest.raises(TypeError, match=r"line 2 is a NoneType, not text: None; .*str\(line\)"):
        translate_lines(trained, ["red dog", None])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="line 1 is a int, not text"):
        translate_lines(trained, [5])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"line 2 is a bytes, not text: b'x+\.\.\.; give") as error:
        translate_lines(trained, ["ok", b"x" * 10**6])  # type: ignore[list-item]
    assert len(str(error.value)) < 400  # a megabyte of bytes was quoted whole
    with pytest.raises(ValueError, match="batch_size must be at least 1 .*, got 0"):
        translate_lines(trained, ["red dog"], batch_size=0)
