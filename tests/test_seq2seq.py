"""Translation model: attention, teacher forcing, learning, cells, options and dtypes.

Searches, translating lines and bundles, and scores are tested in tests/test_seq2seq_*.py,
which import the helpers and fixtures here; tests/test_cuda.py imports copy_task and make_model.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
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
from rnnkit.pipelines.translation import detokenize, translate_lines
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


def test_forced_attention_of_a_given_pair(trained: Seq2Seq) -> None:
    from rnnkit.pipelines.translation import forced_attention

    weights, tokens = forced_attention(trained, "red dog runs", "runs dog red")
    assert weights.shape == (len(tokens) + 1, len(trained.source_tokenizer.encode(
        "red dog runs")) + 1)
    assert torch.allclose(weights.sum(dim=1), torch.ones(len(tokens) + 1))


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
