"""Tag schemes: BIO/BIOES checks, repair and conversion."""

from __future__ import annotations

import random

import pytest

from rnnkit.data.tags import (
    bio_tag,
    bio_to_bioes,
    bioes_to_bio,
    entity_types,
    is_tag,
    is_valid_bio,
    repair_bio,
    split_tag,
)


@pytest.mark.parametrize("tag, parts", [
    ("O", ("O", "")), ("B-PER", ("B", "PER")), ("I-creative-work", ("I", "creative-work")),
    ("E-LOC", ("E", "LOC")), ("S-ORG", ("S", "ORG")),
])
def test_split_tag(tag: str, parts: tuple[str, str]) -> None:
    assert split_tag(tag) == parts and is_tag(tag)


@pytest.mark.parametrize("tag", ["", "PER", "B-", "B", "X-PER", "o", "B- PER", "-PER", "O-PER"])
def test_malformed_tags_are_refused(tag: str) -> None:
    assert not is_tag(tag)
    with pytest.raises(ValueError, match="is not O, B-X, I-X, E-X or S-X"):
        split_tag(tag)


def test_valid_bio() -> None:
    assert is_valid_bio([]) and is_valid_bio(["O", "B-PER", "I-PER", "B-PER", "O"])
    assert not is_valid_bio(["I-PER"])  # nothing to continue
    assert not is_valid_bio(["B-PER", "O", "I-PER"])
    assert not is_valid_bio(["B-PER", "I-LOC"])  # other type
    assert not is_valid_bio(["B-PER", "E-PER"])  # BIOES is not BIO
    assert not is_valid_bio(["B-PER", "PER"])


def test_repair_bio_starts_spans_at_stray_i_tags() -> None:
    tags = ["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-LOC", "I-ORG"]
    repaired = repair_bio(tags)
    assert repaired == ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "B-ORG"]
    assert is_valid_bio(repaired) and repair_bio(repaired) == repaired
    with pytest.raises(ValueError, match="convert with bioes_to_bio"):
        repair_bio(["S-PER"])


def test_bio_bioes_conversion() -> None:
    bio = ["B-PER", "I-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "B-creative-work"]
    bioes = ["B-PER", "I-PER", "E-PER", "O", "S-LOC", "B-LOC", "E-LOC", "S-creative-work"]
    assert bio_to_bioes(bio) == bioes
    assert bioes_to_bio(bioes) == bio
    assert bio_to_bioes(["O", "I-PER"]) == ["O", "S-PER"]  # a stray I- is read as B-


def test_bioes_to_bio_keeps_spans_that_e_and_s_tags_close_apart() -> None:
    # S- and E- end a span: an I- or E- after them starts a new one, never extends the last
    assert bioes_to_bio(["S-PER", "I-PER", "E-PER", "E-PER"]) == [
        "B-PER", "B-PER", "I-PER", "B-PER"]
    assert bioes_to_bio(["B-PER", "E-PER", "I-PER"]) == ["B-PER", "I-PER", "B-PER"]
    assert bioes_to_bio(["O", "E-PER", "B-LOC", "E-PER"]) == ["O", "B-PER", "B-LOC", "B-PER"]
    assert bioes_to_bio(["I-PER", "I-PER", "E-PER"]) == ["B-PER", "I-PER", "I-PER"]  # IOB1-like
    assert [bio_tag(t) for t in ("S-PER", "E-PER", "I-PER", "B-PER", "O")] == [
        "B-PER", "I-PER", "I-PER", "B-PER", "O"]


def test_bioes_to_bio_keeps_the_spans_conlleval_reads_in_any_sequence() -> None:
    from seqeval.metrics.sequence_labeling import get_entities

    rng = random.Random(0)
    alphabet = ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC"]
    for _ in range(500):
        tags = rng.choices(alphabet, k=rng.randint(0, 10))
        bio = bioes_to_bio(tags)
        assert is_valid_bio(bio), (tags, bio)
        assert get_entities(bio) == get_entities(tags), (tags, bio)


def test_conversion_round_trips_on_random_sequences() -> None:
    rng = random.Random(0)
    alphabet = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    for _ in range(200):
        tags = repair_bio(rng.choices(alphabet, k=rng.randint(0, 12)))
        bioes = bio_to_bioes(tags)
        assert bioes_to_bio(bioes) == tags
        assert len(bioes) == len(tags) and entity_types(bioes) == entity_types(tags)


def test_entity_types() -> None:
    assert entity_types(["O", "B-PER", "I-PER", "S-LOC", "E-LOC"]) == ["LOC", "PER"]
    assert entity_types(["O"]) == [] and entity_types([]) == []
