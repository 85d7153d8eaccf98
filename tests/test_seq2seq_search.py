"""Translation model: greedy and beam search, their scores, batches and length limits."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from test_seq2seq import make_model, scored_alone
from test_seq2seq import tokenizer as tokenizer  # noqa: F401  (fixture)
from test_seq2seq import trained as trained  # noqa: F401  (fixture)

from rnnkit.data.subword import EOS_ID, SubwordTokenizer
from rnnkit.models.beam_search import beam_search
from rnnkit.models.seq2seq import Seq2Seq
from rnnkit.pipelines.seq2seq import collate, encode_pairs
from rnnkit.pipelines.translation import translate_lines


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
