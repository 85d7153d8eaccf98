"""The tag confidences: CRF marginals against brute force over every tag path, the softmax
tagger's probabilities, and the probabilities reported for the predicted tags."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnkit.config import ModelConfig
from rnnkit.data.tagger_batches import collate, encode
from rnnkit.data.vocab import Vocab
from rnnkit.models.crf import CRF, allowed_transitions
from rnnkit.models.tagger import Tagger, TaggerConfig

TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
BIOES = ["O", "B-PER", "I-PER", "E-PER", "S-PER"]


def _brute_marginals(crf: CRF, emissions: torch.Tensor) -> torch.Tensor:
    """``[n, K]`` marginals of one unpadded sentence ``[n, K]``, from every one of the K**n
    paths' probabilities."""
    transitions, start, end = crf._scores()
    n, size = emissions.shape
    paths = list(itertools.product(range(size), repeat=n))
    scores = []
    for path in paths:
        score = start[path[0]] + emissions[0, path[0]] + end[path[-1]]
        for t in range(1, n):
            score = score + transitions[path[t - 1], path[t]] + emissions[t, path[t]]
        scores.append(score)
    probabilities = torch.softmax(torch.stack(scores), dim=0)
    marginals = torch.zeros(n, size, dtype=emissions.dtype)
    for path, p in zip(paths, probabilities, strict=True):
        for t, tag in enumerate(path):
            marginals[t, tag] += p
    return marginals


def _crf(tags: list[str] | None, seed: int) -> CRF:
    torch.manual_seed(seed)
    masks = allowed_transitions(tags) if tags else (None, None, None)
    crf = CRF(5, *masks).double()
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.normal_()
    return crf


@pytest.mark.parametrize("tags", [None, TAGS, BIOES], ids=["free", "bio", "bioes"])
def test_marginals_equal_brute_force_with_padding(tags: list[str] | None) -> None:
    crf = _crf(tags, seed=1)
    lengths = [1, 2, 3, 5, 4]  # one batch, padded to 5 words
    emissions = torch.randn(len(lengths), 5, 5, dtype=torch.float64) * 2
    mask = torch.arange(5) < torch.tensor(lengths).unsqueeze(1)
    marginals = crf.marginals(emissions, mask)
    for row, n in enumerate(lengths):
        expected = _brute_marginals(crf, emissions[row, :n])
        torch.testing.assert_close(marginals[row, :n], expected, atol=1e-6, rtol=0)
        torch.testing.assert_close(marginals[row, :n].sum(1), torch.ones(n, dtype=torch.float64),
                                   atol=1e-12, rtol=0)
        if n < 5:
            assert marginals[row, n:].abs().max().item() == 0  # padding: no probability
    if tags:  # a tag the scheme forbids at a sentence's start or end has probability 0 there
        _, start, end = allowed_transitions(tags)
        assert marginals[:, 0][:, ~start].max().item() < 1e-300
        last = torch.stack([marginals[row, n - 1] for row, n in enumerate(lengths)])
        if not end.all():  # BIOES: a sentence cannot end inside a span
            assert last[:, ~end].max().item() < 1e-300


def test_marginals_of_a_batch_equal_each_sentence_alone() -> None:
    crf = _crf(TAGS, seed=2)
    emissions = torch.randn(3, 6, 5, dtype=torch.float64)
    lengths = [6, 2, 4]
    mask = torch.arange(6) < torch.tensor(lengths).unsqueeze(1)
    together = crf.marginals(emissions, mask)
    for row, n in enumerate(lengths):
        alone = crf.marginals(emissions[row : row + 1, :n], mask[row : row + 1, :n])[0]
        torch.testing.assert_close(together[row, :n], alone, atol=1e-12, rtol=0)


def test_marginals_equal_the_gradient_of_the_log_partition() -> None:
    """d log Z / d emissions[b, t, k] = p(tag_t = k): the other standard way to get them."""
    crf = _crf(BIOES, seed=3)
    emissions = torch.randn(2, 7, 5, dtype=torch.float64, requires_grad=True)
    mask = torch.arange(7) < torch.tensor([7, 3]).unsqueeze(1)
    transitions, start, end = crf._scores()
    log_partition = crf._log_partition(emissions, mask, transitions, start, end).sum()
    (gradient,) = torch.autograd.grad(log_partition, emissions)
    marginals = crf.marginals(emissions.detach(), mask)
    torch.testing.assert_close(marginals, gradient * mask.unsqueeze(2), atol=1e-10, rtol=0)


def _tagger(output: str) -> Tagger:
    torch.manual_seed(0)
    sentences = [["John", "lives", "in", "New", "York"], ["Mary", "left"]]
    words = Vocab.build([[t.lower() for t in s] for s in sentences])
    chars = Vocab.build([list(t) for s in sentences for t in s])
    tags = Vocab.build([TAGS], unknown=False)
    config = TaggerConfig(word_dim=8, char_dim=0, embedding_dropout=0.0, output_dropout=0.0,
                          word_dropout=0.0, output=output)
    model = Tagger(words, chars, tags, config,
                   ModelConfig(cell="lstm", hidden_size=8, bidirectional=True, init="torch"))
    model.double().eval()
    if model.crf is not None:
        with torch.no_grad():
            model.crf.transitions.normal_()
    return model


@pytest.mark.parametrize("output", ["crf", "softmax"])
def test_the_predicted_tags_probabilities_are_reported(output: str) -> None:
    model = _tagger(output)
    sentences = [["John", "lives", "in", "New", "York"], ["Mary", "left"], ["Paris"]]
    batch = collate([encode(s, None, model.words, model.chars, model.tags, True)
                     for s in sentences])
    ids, confidences = model.predict_with_confidence(batch)
    assert ids == model.predict_ids(batch)
    scores = model.emissions(batch)
    for row, (path, confidence) in enumerate(zip(ids, confidences, strict=True)):
        n = len(sentences[row])
        assert len(path) == len(confidence) == n
        if model.crf is not None:
            expected = _brute_marginals(model.crf, scores[row, :n])
        else:
            expected = torch.zeros(n, len(model.tags), dtype=torch.float64)
            expected[:, 1:] = torch.softmax(scores[row, :n, 1:], dim=1)
        assert expected[:, 0].max().item() < 1e-300  # the padding tag is never likely
        assert confidence == pytest.approx([expected[t, k].item() for t, k in enumerate(path)],
                                           abs=1e-9)
        if model.crf is None:  # softmax: the predicted tag is the most probable one
            assert confidence == pytest.approx(expected.max(1).values.tolist(), abs=1e-12)


@pytest.mark.parametrize(("scale", "offset"), [(5.0, 0.0), (5.0, 20.0), (10.0, 0.0)])
def test_float32_marginals_of_a_long_sentence_are_exact(scale: float, offset: float) -> None:
    """A 150-word BIO sentence with large scores: the forward and backward sums reach
    thousands of nats, where float32's ulp made the marginals 1e-3 off and above 1; they are
    computed in float64 and within rounding of the float64 gradient of the log partition."""
    tags = ["<pad>", *TAGS]
    allowed, start, end = allowed_transitions(tags)
    allowed[:, 0] = False
    start[0] = end[0] = False
    torch.manual_seed(0)
    crf = CRF(len(tags), allowed, start, end)
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.normal_()
    emissions = torch.randn(2, 150, len(tags)) * scale + offset
    mask = torch.arange(150) < torch.tensor([150, 120]).unsqueeze(1)
    marginals = crf.marginals(emissions, mask)
    assert marginals.dtype == torch.float32
    assert marginals.min().item() >= 0 and marginals.max().item() <= 1
    exact_crf = CRF(len(tags), allowed, start, end).double()
    exact_crf.load_state_dict(crf.state_dict())
    exact = emissions.double().requires_grad_()
    transitions, start_scores, end_scores = exact_crf._scores()
    log_partition = exact_crf._log_partition(exact, mask, transitions, start_scores, end_scores)
    (gradient,) = torch.autograd.grad(log_partition.sum(), exact)
    torch.testing.assert_close(marginals.double(), gradient * mask.unsqueeze(2), atol=1e-6,
                               rtol=0)
