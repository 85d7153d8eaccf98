"""Translation model: BLEU and chrF scores, and validation's metrics."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch
from test_seq2seq import copy_task, make_model, reverse
from test_seq2seq import tokenizer as tokenizer  # noqa: F401  (fixture)
from test_seq2seq import trained as trained  # noqa: F401  (fixture)

from rnnkit.data.subword import PAD_ID, SubwordTokenizer
from rnnkit.models.seq2seq import Seq2Seq
from rnnkit.pipelines.seq2seq import batches, encode_pairs
from rnnkit.training.translation_metrics import corpus_scores


def test_corpus_scores_need_one_translation_per_reference() -> None:
    with pytest.raises(ValueError, match="2 translations for 1 references"):
        corpus_scores(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="no sentences to score: the reference text is empty"):
        corpus_scores([], [])
    with pytest.raises(ValueError, match="the reference text is empty .or only blank lines."):
        corpus_scores(["", "a"], ["", " "])  # was BLEU 0.00: as if the model were bad


def test_scoring_leaves_gradients_off_where_they_were_off(trained: Seq2Seq) -> None:
    from rnnkit.pipelines.seq2seq import score_lines

    with torch.no_grad():
        scores = score_lines(trained, ["red dog"], ["dog red"], beam_size=2)
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled() and 0.0 <= scores["bleu"] <= 100.0


def test_validation_bleu_with_beam_search(trained: Seq2Seq,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import rnnkit.models.beam_search as beam_module

    lines = copy_task(20, 3)
    pairs = encode_pairs(trained, lines, [reverse(line) for line in lines])
    source = batches(pairs, 8, False, 0)
    greedy = trained.evaluate(source.batches(0))
    real, sizes = beam_module.beam_search, []
    monkeypatch.setattr(beam_module, "beam_search",
                        lambda *args: sizes.append(args[3]) or real(*args))
    trained.config = replace(trained.config, validation_decoding="beam", beam_size=3)
    try:
        beam = trained.evaluate(source.batches(0))
    finally:
        trained.config = replace(trained.config, validation_decoding="greedy")
    assert sizes == [3, 3, 3]  # every validation batch (20 lines, 8 a batch) decoded by beam
    assert greedy["loss"] == pytest.approx(beam["loss"])
    assert set(beam) == {"loss", "nll", "perplexity", "bleu", "chrf"}
    assert 0.0 <= beam["bleu"] <= 100.0


def test_validation_reports_the_likelihood_without_label_smoothing(trained: Seq2Seq) -> None:
    """val_loss includes label smoothing, so it was no log-likelihood and gave no perplexity;
    val_nll is the mean negative log-probability of the gold target tokens."""
    lines = copy_task(20, 3)
    source = batches(encode_pairs(trained, lines, [reverse(line) for line in lines]), 8, False, 0)
    total, tokens = 0.0, 0
    with torch.no_grad():
        for batch in source.batches(0):
            gold = batch.target[:, 1:]
            log_probs = torch.log_softmax(trained(batch).double(), dim=-1)
            picked = log_probs.gather(-1, gold.unsqueeze(-1)).squeeze(-1)
            total -= float(picked[gold != PAD_ID].sum())
            tokens += int((gold != PAD_ID).sum())
    trained.config = replace(trained.config, label_smoothing=0.1)
    try:
        smoothed = trained.evaluate(source.batches(0))
    finally:
        trained.config = replace(trained.config, label_smoothing=0.0)
    plain = trained.evaluate(source.batches(0))
    assert smoothed["nll"] == pytest.approx(total / tokens, rel=1e-5)
    assert smoothed["perplexity"] == pytest.approx(math.exp(total / tokens), rel=1e-5)
    assert smoothed["loss"] > smoothed["nll"]  # a trained model: smoothing costs it
    assert plain["loss"] == plain["nll"] == smoothed["nll"]


def test_bleu_tokenizes_the_target_language_as_sacrebleu_does() -> None:
    """Chinese has no spaces between words: with 13a for every language, each sentence was one
    token and BLEU 0.0 here, where ``sacrebleu -l en-zh`` gives 49.46."""
    from rnnkit.pipelines.seq2seq import score_lines

    hypotheses = ["我爱北京天安门。", "今天天气很好。"]
    references = ["我爱北京天坛。", "今天天气不错。"]
    chinese = corpus_scores(hypotheses, references, "zh")
    assert chinese["bleu"] == pytest.approx(49.457, abs=1e-3)
    assert "|tok:zh|" in chinese["bleu_signature"]
    english = corpus_scores(["a dog runs on the green grass"], ["a dog runs on the grass"], "en")
    assert english == corpus_scores(["a dog runs on the green grass"], ["a dog runs on the grass"])
    assert "|tok:13a|" in english["bleu_signature"]
    tokenizer = SubwordTokenizer.train(hypotheses + references, vocab_size=40)
    model = make_model(tokenizer)
    model.data = {"src": "en", "tgt": "zh"}  # training, translate and evaluate read it here
    assert "|tok:zh|" in score_lines(model, ["今天"], ["今天天气很好。"], 1)["bleu_signature"]


def test_a_target_language_whose_bleu_tokenizer_is_missing_is_named() -> None:
    from rnnkit.pipelines.seq2seq import Seq2SeqRunConfig, TranslationDataConfig, check_run

    pytest.importorskip("sacrebleu")
    try:
        import MeCab  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("MeCab is installed: Japanese BLEU works")
    config = Seq2SeqRunConfig(data=TranslationDataConfig(dataset="", src="en", tgt="ja"))
    with pytest.raises(ValueError, match=r"pip install 'sacrebleu\[ja\]'"):
        check_run(config)  # before any data is read or model trained
