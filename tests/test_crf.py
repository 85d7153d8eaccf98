"""The CRF against brute force over every tag path, and its scheme constraints."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnkit.models.crf import CRF, allowed_transitions

TAGS = ["<pad>", "O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def _path_score(crf: CRF, emissions: torch.Tensor, path: tuple[int, ...]) -> torch.Tensor:
    transitions, start, end = crf._scores()
    score = start[path[0]] + emissions[0, path[0]]
    for t in range(1, len(path)):
        score = score + transitions[path[t - 1], path[t]] + emissions[t, path[t]]
    return score + end[path[-1]]


@pytest.mark.parametrize("constrained", [False, True])
def test_likelihood_and_viterbi_equal_brute_force(constrained: bool) -> None:
    torch.manual_seed(0)
    masks = allowed_transitions(TAGS[1:]) if constrained else (None, None, None)
    crf = CRF(len(TAGS) - 1, *masks).double()
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.normal_()
    emissions = torch.randn(3, 4, 5, dtype=torch.double)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0], [1, 0, 0, 0]], dtype=torch.bool)
    gold = torch.tensor([[1, 2, 0, 3], [0, 3, 4, 0], [1, 0, 0, 0]])
    expected_nll, expected_paths = 0.0, []
    for b in range(3):
        n = int(mask[b].sum())
        scores = {p: _path_score(crf, emissions[b], p)
                  for p in itertools.product(range(5), repeat=n)}
        log_z = torch.logsumexp(torch.stack(list(scores.values())), 0)
        gold_score = _path_score(crf, emissions[b], tuple(gold[b, :n].tolist()))
        expected_nll += float((log_z - gold_score).detach())
        expected_paths.append(list(max(scores, key=lambda p: float(scores[p].detach()))))
    nll = crf.neg_log_likelihood(emissions, gold, mask).detach()
    assert float(nll) == pytest.approx(expected_nll / 3)
    assert crf.decode(emissions, mask) == expected_paths


def test_bio_constraints() -> None:
    allowed, start, end = allowed_transitions(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"])
    assert not allowed[0, 2]  # O -> I-PER
    assert allowed[1, 2] and allowed[2, 2]  # B-PER / I-PER -> I-PER
    assert not allowed[1, 4]  # B-PER -> I-LOC
    assert not start[2] and start[1] and end.all()


def test_bioes_constraints() -> None:
    tags = ["O", "B-PER", "I-PER", "E-PER", "S-PER"]
    allowed, start, end = allowed_transitions(tags)
    assert not allowed[1, 0] and not allowed[1, 4]  # an open span must continue
    assert not allowed[1, 1] and not allowed[2, 1]  # ... and cannot restart
    assert allowed[1, 2] and allowed[1, 3] and allowed[3, 0] and allowed[4, 1]
    assert not end[1] and not end[2] and end[3] and end[4]
    assert not start[2] and not start[3]


def test_constrained_decoding_is_always_valid() -> None:
    from rnnkit.data.tags import is_valid_bio

    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    crf = CRF(len(tags), *allowed_transitions(tags))
    torch.manual_seed(1)
    emissions = torch.randn(50, 12, len(tags)) * 5  # wild scores favour invalid sequences
    for path in crf.decode(emissions, torch.ones(50, 12, dtype=torch.bool)):
        assert is_valid_bio([tags[i] for i in path])


def test_part_of_speech_tags_are_unconstrained() -> None:
    allowed, start, end = allowed_transitions(["NOUN", "VERB", "ADJ"])
    assert allowed.all() and start.all() and end.all()


def _valid_bioes(tags: list[str]) -> bool:
    from rnnkit.data.tags import bio_to_bioes, bioes_to_bio, is_valid_bio

    bio = bioes_to_bio(tags)
    return is_valid_bio(bio) and bio_to_bioes(bio) == tags


@pytest.mark.parametrize("scheme", ["bio", "bioes"])
def test_the_masks_allow_exactly_the_valid_sequences(scheme: str) -> None:
    from rnnkit.data.tags import is_valid_bio

    prefixes = "BI" if scheme == "bio" else "BIES"
    tags = ["O"] + [f"{p}-{kind}" for kind in ("PER", "creative-work") for p in prefixes]
    valid = is_valid_bio if scheme == "bio" else _valid_bioes
    allowed, start, end = allowed_transitions(tags)
    for n in range(1, 4):
        for path in itertools.product(range(len(tags)), repeat=n):
            permitted = bool(start[path[0]] and end[path[-1]]) and all(
                bool(allowed[a, b]) for a, b in itertools.pairwise(path))
            assert permitted == valid([tags[i] for i in path]), [tags[i] for i in path]


def test_gradients_and_padded_decoding() -> None:
    torch.manual_seed(2)
    crf = CRF(3)
    for name in ("transitions", "start", "end"):
        delattr(crf, name)  # plain attributes below, the inputs gradcheck varies
    emissions = torch.randn(3, 4, 3, dtype=torch.double, requires_grad=True)
    scores = [torch.randn(*shape, dtype=torch.double, requires_grad=True)
              for shape in ((3, 3), (3,), (3,))]
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=torch.bool)
    gold = torch.tensor([[0, 2, 1, 1], [1, 1, 0, 0], [2, 0, 0, 0]])

    def loss(*inputs: torch.Tensor) -> torch.Tensor:
        crf.transitions, crf.start, crf.end = inputs[1:]
        return crf.neg_log_likelihood(inputs[0], gold, mask)

    crf.double()
    assert torch.autograd.gradcheck(loss, (emissions, *scores))
    # a sentence decodes alike alone and padded beside longer ones (padding scores ignored)
    padded = emissions.detach().clone()
    padded[~mask] = 1e3
    together = crf.decode(padded, mask)
    for b, n in enumerate(mask.sum(1).tolist()):
        assert crf.decode(emissions.detach()[b:b + 1, :n], mask[b:b + 1, :n])[0] == together[b]
