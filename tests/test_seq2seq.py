"""Translation model: attention, decoder paths, beam search, bundles, awkward input."""

from __future__ import annotations

import math
import random
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from rnnkit.config import ModelConfig
from rnnkit.data.subword import BOS_ID, EOS_ID, PAD_ID, UNK_ID, SubwordTokenizer
from rnnkit.layers.attention import Attention
from rnnkit.models.beam_search import beam_search
from rnnkit.models.seq2seq import Seq2Seq, Seq2SeqConfig
from rnnkit.pipelines.seq2seq import batches, collate, encode_pairs
from rnnkit.pipelines.translation import detokenize, load_translator, translate_lines
from rnnkit.training.bundle import BundleError, save_bundle
from rnnkit.training.translation_metrics import corpus_scores

WORDS = ["red", "blue", "green", "black", "white", "dog", "cat", "bird", "fish", "horse",
         "runs", "sits", "jumps", "swims"]


def scored_alone(model: Seq2Seq, batch: Any, row: int, tokens: list[int]) -> float:
    """The log probability of ``tokens`` (and the end marker) for source ``row`` of ``batch``,
    decoded alone with teacher forcing."""
    target = torch.tensor([[BOS_ID, *tokens, EOS_ID]])
    memory, state = model.encode(batch.source[row : row + 1], batch.source_lengths[row : row + 1])
    scores = model.decoder(target[:, :-1], state, memory)
    scores = scores.masked_fill(model.forbidden_mask(), float("-inf"))
    return float(F.log_softmax(scores, dim=2).gather(2, target[:, 1:, None]).sum())


def copy_task(size: int, seed: int) -> list[str]:
    """Sentences of 2-5 words; the target is the sentence reversed."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5))) for _ in range(size)]


def reverse(line: str) -> str:
    return " ".join(reversed(line.split()))


@pytest.fixture(scope="module")
def tokenizer() -> SubwordTokenizer:
    return SubwordTokenizer.train(copy_task(300, 0) + WORDS, vocab_size=40)


def make_model(tokenizer: SubwordTokenizer, cell: str = "gru", seed: int = 0,
               **options: Any) -> Seq2Seq:
    torch.manual_seed(seed)
    config = replace(Seq2SeqConfig(embedding_dim=32, dropout=0.0, label_smoothing=0.0),
                     **options)
    rnn = ModelConfig(cell=cell, hidden_size=32, bidirectional=True, init="torch")
    return Seq2Seq(tokenizer, tokenizer, config, rnn, data={"src": "xx", "tgt": "yy"})


@pytest.fixture(scope="module")
def trained(tokenizer: SubwordTokenizer) -> Seq2Seq:
    """A model that learned to reverse word order (attention, input feeding)."""
    model = make_model(tokenizer, attention="general", input_feeding=True)
    lines = copy_task(600, 1)
    pairs = encode_pairs(model, lines, [reverse(line) for line in lines])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for epoch in range(6):
        for batch in batches(pairs, 32, True, 0).batches(epoch):
            optimizer.zero_grad()
            model.step(batch).loss.backward()
            optimizer.step()
    return model.eval()


@pytest.mark.parametrize("score", ["dot", "general", "additive"])
def test_attention_masks_padding_and_all_steps_match_one_step(score: str) -> None:
    torch.manual_seed(0)
    attention = Attention(6, 6, score)
    memory = torch.randn(2, 5, 6)
    mask = torch.tensor([[True] * 5, [True, True, True, False, False]])
    keys = attention.keys(memory)
    queries = torch.randn(2, 3, 6)
    contexts, weights = attention.attend_all(queries, memory, keys, mask)
    assert torch.all(weights[1, :, 3:] == 0)
    assert torch.allclose(weights.sum(dim=2), torch.ones(2, 3))
    for t in range(3):
        context, step_weights = attention(queries[:, t], memory, keys, mask)
        assert torch.allclose(context, contexts[:, t], atol=1e-6)
        assert torch.allclose(step_weights, weights[:, t], atol=1e-6)


def test_dot_attention_with_unequal_sizes_says_what_to_use() -> None:
    with pytest.raises(ValueError, match="use general or additive attention"):
        Attention(4, 8, "dot")


@pytest.mark.parametrize("attention", ["none", "general", "additive"])
def test_fused_teacher_forcing_equals_step_by_step(tokenizer: SubwordTokenizer,
                                                   attention: str) -> None:
    model = make_model(tokenizer, cell="lstm", attention=attention, input_feeding=False).eval()
    batch = collate(encode_pairs(model, ["red dog runs", "cat"], ["runs dog red", "cat"]))
    memory, state = model.encode(batch.source, batch.source_lengths)
    fused = model.decoder(batch.target[:, :-1], state, memory)
    for t in range(batch.target.shape[1] - 1):
        scores, state, _ = model.decoder.step(batch.target[:, t], state, memory)
        assert torch.allclose(scores, fused[:, t], atol=1e-5)


def test_learns_to_reverse_and_greedy_equals_beam_of_one(trained: Seq2Seq) -> None:
    lines = copy_task(40, 2)
    found = translate_lines(trained, lines, beam_size=1)
    assert corpus_scores(detokenize(trained, found), [reverse(x) for x in lines])["bleu"] > 80
    batch = collate(encode_pairs(trained, lines, lines))
    greedy, _ = trained.greedy(batch.source, batch.source_lengths)
    beam = beam_search(trained, batch.source, batch.source_lengths, beam_size=1)
    assert [found[0].tokens for found in beam] == greedy


@torch.no_grad()
def test_the_ids_on_padded_positions_change_nothing(trained: Seq2Seq) -> None:
    """Padding is where the lengths say, for attention as for the encoder: a batch padded with
    another id (here the end marker, or a word) decodes and scores as when 0-padded. Before,
    attention read padding from the ids and attended to such positions."""
    lines = ["red dog runs fast", "fish swims", "a cat sits on the white horse", "bird"]
    batch = collate(encode_pairs(trained, lines, [reverse(x) for x in lines]))
    assert bool((batch.source == PAD_ID).any())
    greedy, maps = trained.greedy(batch.source, batch.source_lengths)
    beam = beam_search(trained, batch.source, batch.source_lengths, beam_size=3, n_best=3)
    for filler in (EOS_ID, 5):
        source = batch.source.masked_fill(batch.source == PAD_ID, filler)
        other = batch._replace(source=source)
        assert torch.allclose(trained(other), trained(batch), atol=1e-6)
        ids, weights = trained.greedy(source, batch.source_lengths)
        assert ids == greedy
        assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(weights, maps, strict=True)
                   if a is not None and b is not None)
        found = beam_search(trained, source, batch.source_lengths, beam_size=3, n_best=3)
        assert [[h.tokens for h in row] for row in found] == [[h.tokens for h in row]
                                                               for row in beam]


@torch.no_grad()
def test_beam_scores_are_the_model_log_probabilities(trained: Seq2Seq) -> None:
    batch = collate(encode_pairs(trained, ["red dog runs", "fish swims"], ["x", "y"]))
    found = beam_search(trained, batch.source, batch.source_lengths, beam_size=3, alpha=0.0,
                        n_best=3)
    for row, hypotheses in enumerate(found):
        assert len(hypotheses) == 3
        assert [h.score for h in hypotheses] == sorted((h.score for h in hypotheses),
                                                       reverse=True)
        for hypothesis in hypotheses:
            total = scored_alone(trained, batch, row, hypothesis.tokens)
            assert hypothesis.log_probability == pytest.approx(total, abs=1e-4)
            assert hypothesis.attention is not None
            assert hypothesis.attention.shape == (len(hypothesis.tokens) + 1,
                                                  int(batch.source_lengths[row]))


def test_searches_read_the_scores_with_the_forbidden_ids_at_minus_infinity(
        trained: Seq2Seq, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beam search and greedy set the forbidden ids to -inf in place, in their columns alone
    (a masked_fill of the whole [rows, V] took a copy at every step): their translations,
    scores and attention are, to the bit, those of a decoder whose scores come masked."""
    lines = ["red dog runs", "fish swims", "green bird jumps far", "cat"]
    batch = collate(encode_pairs(trained, lines, ["x"] * len(lines)))
    plain = beam_search(trained, batch.source, batch.source_lengths, 3, 1.0, 3)
    greedy = trained.greedy_scored(batch.source, batch.source_lengths)
    step, forbidden = trained.decoder.step, trained.forbidden_mask()

    def masked_step(*args: Any) -> Any:
        scores, state, weights = step(*args)
        return scores.masked_fill(forbidden, float("-inf")), state, weights

    monkeypatch.setattr(trained.decoder, "step", masked_step)
    masked = beam_search(trained, batch.source, batch.source_lengths, 3, 1.0, 3)
    for ours, theirs in zip(plain, masked, strict=True):
        assert [(h.tokens, h.score, h.log_probability) for h in ours] == [
            (h.tokens, h.score, h.log_probability) for h in theirs]
        assert all(torch.equal(a.attention, b.attention) for a, b in zip(ours, theirs, strict=True))
    masked_greedy = trained.greedy_scored(batch.source, batch.source_lengths)
    assert greedy[0] == masked_greedy[0] and greedy[2] == masked_greedy[2]
    assert all(torch.equal(a, b) for a, b in zip(greedy[1], masked_greedy[1], strict=True))


def test_a_beam_of_one_is_greedy_when_the_model_ends_at_the_length_limit(
        tokenizer: SubwordTokenizer) -> None:
    """At the last allowed step the model ends (p 0.5) rather than write one more word (p 0.4):
    greedy stops there, and so must a beam of 1, though the cut, longer hypothesis has the
    better length-normalized score (alpha 1). Before, the cut one was kept as well and won."""
    model = make_model(tokenizer, attention="general", max_length_ratio=0.0).eval()  # limit 10
    vocab, word, other = len(tokenizer), 5, 6
    calls: list[int] = []

    def scripted(tokens: torch.Tensor, state: Any, memory: Any) -> Any:
        step = len(calls)
        calls.append(step)
        probs = torch.zeros(vocab)
        if step < 9:  # the word (0.4), or any other but the end (0.6 shared)
            probs[EOS_ID + 1 :] = 0.6 / (vocab - EOS_ID - 2)
            probs[word] = 0.4
        else:  # the end (0.5), the other word (0.4), the rest (0.1 shared)
            probs[EOS_ID + 1 :] = 0.1 / (vocab - EOS_ID - 2)
            probs[EOS_ID], probs[other] = 0.5, 0.4
        return probs.log().expand(tokens.shape[0], vocab), state, None

    model.decoder.step = scripted  # type: ignore[method-assign]
    batch = collate(encode_pairs(model, ["red dog runs"], ["x"]))
    greedy, _ = model.greedy(batch.source, batch.source_lengths)
    assert greedy == [[word] * 9]
    calls.clear()
    found = beam_search(model, batch.source, batch.source_lengths, beam_size=1, alpha=1.0)
    assert [h.tokens for h in found[0]] == greedy
    calls.clear()  # a wider beam still cuts the live ones it lacks at the limit, best first
    two = beam_search(model, batch.source, batch.source_lengths, beam_size=2, alpha=0.0,
                      n_best=2)[0]
    assert [h.tokens for h in two] == [[word] * 9, [word] * 9 + [other]]


def one_ends_at_once(tokenizer: SubwordTokenizer) -> tuple[Seq2Seq, Any, list[int]]:
    """A model whose first sentence ends at once and whose second runs to its limit (10 steps),
    their batch, and the list that gets the number of rows of every decoder step."""
    model = make_model(tokenizer, attention="general", input_feeding=True,
                       max_length_ratio=0.0).eval()  # limit 10 for both
    batch = collate(encode_pairs(model, ["red", "red dog runs fast and far"], ["x", "y"]))
    short = int(batch.source_lengths[0])
    step, decoded = model.decoder.step, []

    def scripted(tokens: torch.Tensor, state: Any, memory: Any) -> Any:
        decoded.append(tokens.shape[0])
        scores, state, weights = step(tokens, state, memory)
        ends = memory.mask.sum(dim=1) == short  # the short sentence's rows end, the other's never
        scores[:, EOS_ID] = torch.where(ends, 100.0, -100.0)
        return scores, state, weights

    model.decoder.step = scripted  # type: ignore[method-assign]
    return model, batch, decoded


@pytest.mark.parametrize(("beam", "rows"), [(1, [2] + [1] * 9), (3, [6, 6] + [3] * 8)])
def test_a_done_sentence_leaves_the_beam_search_batch(tokenizer: SubwordTokenizer, beam: int,
                                                      rows: list[int]) -> None:
    """Beam search kept decoding a sentence that was done (its K hypotheses finished) until the
    whole batch was: every step decoded the K rows of both sentences. Now the done one's rows
    leave the batch, and each sentence decodes as it does alone (same translations, scores to
    1e-6 relative)."""
    model, batch, decoded = one_ends_at_once(tokenizer)
    found = beam_search(model, batch.source, batch.source_lengths, beam_size=beam, n_best=beam)
    assert decoded == rows
    assert found[0][0].tokens == [] and all(len(h.tokens) <= 1 for h in found[0])
    assert all(len(h.tokens) == 10 for h in found[1])
    for row, hypotheses in enumerate(found):
        length = int(batch.source_lengths[row])
        alone = beam_search(model, batch.source[row:row + 1, :length],
                            batch.source_lengths[row:row + 1], beam_size=beam, n_best=beam)[0]
        assert [h.tokens for h in hypotheses] == [h.tokens for h in alone]
        assert [h.score for h in hypotheses] == pytest.approx([h.score for h in alone], rel=1e-6)


def test_an_ended_sentence_leaves_the_greedy_batch(tokenizer: SubwordTokenizer) -> None:
    """Greedy decoding fed an ended sentence the end marker until every sentence had ended:
    every step decoded both rows. Now the ended one leaves the batch, and each sentence decodes
    as it does alone (same ids and attention rows, log probability to 1e-6 relative)."""
    model, batch, decoded = one_ends_at_once(tokenizer)
    ids, maps, totals = model.greedy_scored(batch.source, batch.source_lengths)
    assert decoded == [2] + [1] * 9
    assert len(ids[0]) == 0 and len(ids[1]) == 10
    for row in range(2):
        length = int(batch.source_lengths[row])
        alone = model.greedy_scored(batch.source[row:row + 1, :length],
                                    batch.source_lengths[row:row + 1])
        assert alone[0][0] == ids[row]
        assert alone[1][0] is not None and maps[row] is not None
        assert alone[1][0].shape == maps[row].shape == (len(ids[row]) + (row == 0), length)
        assert torch.allclose(alone[1][0], maps[row], atol=1e-6)
        assert alone[2][0] == pytest.approx(totals[row], rel=1e-6)  # -27: 1 ulp is 1.9e-6


def test_forced_attention_of_a_given_pair(trained: Seq2Seq) -> None:
    from rnnkit.pipelines.translation import forced_attention

    weights, tokens = forced_attention(trained, "red dog runs", "runs dog red")
    assert weights.shape == (len(tokens) + 1, len(trained.source_tokenizer.encode(
        "red dog runs")) + 1)
    assert torch.allclose(weights.sum(dim=1), torch.ones(len(tokens) + 1))


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


def test_scheduled_teacher_forcing_moves_linearly(tokenizer: SubwordTokenizer) -> None:
    model = make_model(tokenizer, teacher_forcing=1.0, teacher_forcing_final=0.5,
                       teacher_forcing_steps=4)
    batch = collate(encode_pairs(model, ["red dog", "cat runs"], ["dog red", "runs cat"]))
    ratios = []
    model.train()
    for _ in range(5):
        ratios.append(model.teacher_forcing_ratio())
        assert torch.isfinite(model.step(batch).loss)
    assert ratios == [1.0, 0.875, 0.75, 0.625, 0.5]


def test_corpus_scores_need_one_translation_per_reference() -> None:
    with pytest.raises(ValueError, match="2 translations for 1 references"):
        corpus_scores(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="no sentences to score: the reference text is empty"):
        corpus_scores([], [])
    with pytest.raises(ValueError, match="the reference text is empty .or only blank lines."):
        corpus_scores(["", "a"], ["", " "])  # was BLEU 0.00: as if the model were bad


def test_a_vocabulary_too_small_for_the_characters_says_to_raise_it() -> None:
    with pytest.raises(ValueError, match="every character of the training text: raise data"):
        SubwordTokenizer.train(copy_task(50, 0), vocab_size=6)


def test_scoring_leaves_gradients_off_where_they_were_off(trained: Seq2Seq) -> None:
    from rnnkit.pipelines.seq2seq import score_lines

    with torch.no_grad():
        scores = score_lines(trained, ["red dog"], ["dog red"], beam_size=2)
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled() and 0.0 <= scores["bleu"] <= 100.0


def test_bad_options_say_what_is_allowed(tokenizer: SubwordTokenizer) -> None:
    with pytest.raises(ValueError, match="validation_decoding must be greedy or beam"):
        make_model(tokenizer, validation_decoding="sample")
    with pytest.raises(ValueError, match="seq2seq.attention must be one of none, dot"):
        make_model(tokenizer, attention="cosine")
    with pytest.raises(ValueError, match="seq2seq.max_length_ratio must be at least 0"):
        make_model(tokenizer, max_length_ratio=-0.5)  # no output step for a long sentence
    # the API refuses what a run's [seq2seq] section refuses (torch's own errors before,
    # or a model that built: an LSTMCell's "input_size must be a positive int, got 0")
    with pytest.raises(ValueError, match="seq2seq.dropout"):
        make_model(tokenizer, dropout=1.5)
    with pytest.raises(ValueError, match="seq2seq.label_smoothing"):
        make_model(tokenizer, label_smoothing=2.0)
    with pytest.raises(ValueError, match="seq2seq.embedding_dim"):
        make_model(tokenizer, embedding_dim=0)
    # only max_source_tokens is wrong: the message named beam_size (its default 5) first
    with pytest.raises(ValueError, match="^seq2seq.max_source_tokens must be at least 1; got 0$"):
        make_model(tokenizer, max_source_tokens=0)
    with pytest.raises(ValueError, match="^seq2seq.beam_size must be at least 1; got 0$"):
        make_model(tokenizer, beam_size=0)


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


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("bridge", [False, True])
def test_every_cell_layers_and_bridge(tokenizer: SubwordTokenizer, cell: str,
                                      bidirectional: bool, bridge: bool) -> None:
    torch.manual_seed(0)
    rnn = ModelConfig(cell=cell, hidden_size=16, num_layers=2, bidirectional=bidirectional,
                      dropout=0.1)
    config = Seq2SeqConfig(embedding_dim=8, attention="additive", input_feeding=True,
                           bridge=bridge, tie_embeddings=False)
    model = Seq2Seq(tokenizer, tokenizer, config, rnn)
    batch = collate(encode_pairs(model, ["red dog runs", "cat"], ["runs dog red", "cat"]))
    model.step(batch).loss.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    ids, maps = model.eval().greedy(batch.source, batch.source_lengths)
    assert len(ids) == 2 and maps[0] is not None
    with torch.no_grad():  # the decoder starts from every encoder direction's final state
        inputs = model.source_embedding(batch.source)
        _, final = model.encoder(inputs, lengths=batch.source_lengths)
        h_n = (final[0] if isinstance(final, tuple) else final).view(2, model.directions, 2, -1)
        start = model.encode(batch.source, batch.source_lengths)[1].hidden
        start_h = start[0] if isinstance(start, tuple) else start
        if bridge:
            joined = h_n.permute(0, 2, 1, 3).reshape(2, 2, -1)  # [L, B, D*H]
            expected = torch.tanh(model.bridges[0](joined))
        else:
            expected = h_n.sum(dim=1)
        torch.testing.assert_close(start_h, expected)


def test_a_sentence_cut_at_its_length_limit_has_one_attention_row_per_token(
        tokenizer: SubwordTokenizer) -> None:
    model = make_model(tokenizer, attention="general").eval()
    never_ends = model.forbidden_mask().clone()
    never_ends[EOS_ID] = True  # every sentence runs to its limit
    model.forbidden_mask = lambda: never_ends  # type: ignore[method-assign]
    rows = [tokenizer.encode("red dog runs fast and far away"), tokenizer.encode("cat")]
    source = torch.zeros(2, len(rows[0]), dtype=torch.long)
    for row, ids in enumerate(rows):
        source[row, : len(ids)] = torch.tensor(ids)
    lengths = torch.tensor([len(ids) for ids in rows])
    ids, maps = model.greedy(source, lengths)
    for row, limit in enumerate(model.max_lengths(lengths).tolist()):
        assert len(ids[row]) == limit and maps[row] is not None
        assert maps[row].shape[0] == limit  # no row for an end the model never wrote
        alone_ids, alone = model.greedy(source[row:row + 1, : len(rows[row])], lengths[row:row + 1])
        assert alone_ids[0] == ids[row] and alone[0] is not None
        assert torch.allclose(alone[0], maps[row], atol=1e-6)


def test_scheduled_sampling_never_feeds_back_padding_unknown_or_begin(
        tokenizer: SubwordTokenizer) -> None:
    model = make_model(tokenizer, attention="general", teacher_forcing=0.0)
    with torch.no_grad():  # the model's favourite output is <unk>
        decoder = model.decoder
        (decoder.output_bias if decoder.projection is not None else decoder.output.bias)[
            UNK_ID] = 100.0
    fed: list[torch.Tensor] = []
    model.decoder.embedding.register_forward_hook(lambda _, args, __: fed.append(args[0]))
    lines = copy_task(8, 3)
    batch = collate(encode_pairs(model, lines, [reverse(line) for line in lines]))
    model.train()
    model(batch)
    steps = torch.stack(fed[1:])  # after the begin marker, every input is the model's own
    assert not torch.isin(steps, torch.tensor([PAD_ID, UNK_ID, BOS_ID])).any()


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


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_translations_carry_their_scores_as_a_beam_of_one(tokenizer: SubwordTokenizer,
                                                                 trained: Seq2Seq,
                                                                 seed: int) -> None:
    """translate_lines(beam_size=1) decodes greedily; its hypotheses gave score and log
    probability 0.0 (a certain translation) instead of the model's, as a beam of 1 gives."""
    untrained = make_model(tokenizer, seed=seed, max_length_ratio=0.0).eval()  # often cut
    for model in (trained, untrained):
        lines = ["red dog runs", "fish", "green cat sits on a bird"]
        batch = collate(encode_pairs(model, lines, lines))
        beam = beam_search(model, batch.source, batch.source_lengths, beam_size=1, alpha=0.7)
        found = translate_lines(model, lines, beam_size=1, alpha=0.7)
        for greedy, (expected,) in zip(found, beam, strict=True):
            assert greedy[0].tokens == expected.tokens
            assert greedy[0].log_probability == pytest.approx(expected.log_probability, abs=1e-4)
            assert greedy[0].score == pytest.approx(expected.score, abs=1e-4)
            assert greedy[0].log_probability < 0


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


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_a_model_in_another_dtype_decodes_and_scores_in_it(trained: Seq2Seq,
                                                           dtype: torch.dtype) -> None:
    """Greedy decoding summed log probabilities into a float32 buffer: a model in float64 (as
    the float64 checks run it) or bfloat16 failed with "index_add_(): self (Float) and source
    (Double) must have the same scalar type", so did its validation; beam search rounded its
    float64 scores to float32 between steps. Both now sum in the model's dtype, at least
    float32, and give the float64 log probability of what they wrote."""
    model = Seq2Seq.from_bundle_config(trained.bundle_config())
    model.load_state_dict(trained.state_dict())
    model.to(dtype).eval()
    lines = ["red dog runs", "fish", "green cat sits on a bird"]
    batch = collate(encode_pairs(model, lines, [reverse(x) for x in lines]))
    greedy = translate_lines(model, lines, beam_size=1)
    beam = translate_lines(model, lines, beam_size=3)
    assert all(found[0].tokens for found in greedy + beam)
    assert math.isfinite(model.evaluate([batch])["bleu"])
    if dtype != torch.float64:
        return
    with torch.no_grad():
        for row, hypotheses in enumerate(greedy + beam):
            hypothesis = hypotheses[0]
            total = scored_alone(model, batch, row % len(lines), hypothesis.tokens)
            assert hypothesis.log_probability == pytest.approx(total, rel=1e-12)
            assert hypothesis.attention is not None
            assert hypothesis.attention.dtype == torch.float64


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


def test_masked_scores_writes_in_place_only_into_a_tensor_of_its_own() -> None:
    """Beam and greedy search set the forbidden ids to -inf in place (a masked_fill copied the
    [R, V] scores at every step); a decoder's expanded or sliced scores share memory with
    other rows or with what the decoder keeps, and are copied first (torch warned of the
    write into an expanded tensor, whose rows it changes together)."""
    import warnings

    from rnnkit.models.seq2seq_decoder import masked_scores

    forbidden = torch.tensor([0, 2])
    fresh = torch.randn(3, 5)
    assert masked_scores(fresh, torch.float32, forbidden) is fresh
    assert fresh[:, [0, 2]].eq(float("-inf")).all() and fresh[:, 1].isfinite().all()
    row = torch.randn(1, 5)
    kept = torch.randn(4, 5)
    for shared, base in ((row.expand(3, 5), row), (kept[1:], kept), (kept[:2], kept)):
        before = base.clone()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            masked = masked_scores(shared, torch.float32, forbidden)
        assert torch.equal(base, before)
        assert masked[:, [0, 2]].eq(float("-inf")).all()
        torch.testing.assert_close(masked[:, [1, 3, 4]], shared[:, [1, 3, 4]])
