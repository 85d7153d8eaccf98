"""The CoNLL-U and IOB readers on the real datasets (UD English-EWT, UNER English-EWT, WNUT-17):
sizes, byte-identical round trips and tag sets."""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from test_readers import DATA, needs_data, written

from rnnkit.data.conllu import read_conllu, write_conllu
from rnnkit.data.iob import read_iob, write_iob
from rnnkit.data.registry import get_spec
from rnnkit.data.tagged import TaggedSentence
from rnnkit.data.tags import entity_types, is_valid_bio

# ---- the real datasets ----------------------------------------------------------------------

@cache
def real(name: str, split: str) -> tuple[Path, list[TaggedSentence]]:
    spec = get_spec(name)
    path = DATA / spec.mirror_dir / spec.split_files(split)[0].filename
    reader = read_conllu if spec.format == "conllu" else read_iob
    return path, reader(path, **spec.reader_options)


SIZES = {  # sentences, words: the README's counts; UNER's word counts from its .stats files
    ("ud_english_ewt", "train"): (12_544, 204_577), ("ud_english_ewt", "dev"): (2_001, 25_147),
    ("ud_english_ewt", "test"): (2_077, 25_094),
    ("uner_english_ewt", "train"): (12_543, 204_579), ("uner_english_ewt", "dev"): (2_001, 25_149),
    ("uner_english_ewt", "test"): (2_077, 25_097),
    ("wnut17", "train"): (3_394, 62_730), ("wnut17", "dev"): (1_009, 15_733),
    ("wnut17", "test"): (1_287, 23_394),
}


@needs_data
@pytest.mark.parametrize("name, split", sorted(SIZES))
def test_real_sizes_and_byte_identical_round_trip(name: str, split: str) -> None:
    path, sentences = real(name, split)
    assert (len(sentences), sum(len(s) for s in sentences)) == SIZES[name, split]
    spec = get_spec(name)
    if spec.format == "conllu":
        out = written(write_conllu, sentences, None, **spec.reader_options)
    else:
        out = written(write_iob, sentences)
        assert all(is_valid_bio(s.tags) for s in sentences)
    assert out.encode("utf-8") == path.read_bytes()


@needs_data
def test_real_tag_sets() -> None:
    upos = Counter(tag for s in real("ud_english_ewt", "train")[1] for tag in s.tags)
    assert len(upos) == 17 and {"NOUN", "VERB", "PROPN", "X"} <= set(upos)
    for name, types in (("uner_english_ewt", ["LOC", "ORG", "PER"]),
                        ("wnut17", ["corporation", "creative-work", "group", "location",
                                    "person", "product"])):
        tags = {tag for s in real(name, "train")[1] for tag in s.tags}
        assert entity_types(sorted(tags)) == types
    begins = Counter(t for s in real("uner_english_ewt", "train")[1] for t in s.tags if t[0] == "B")
    assert begins == {"B-PER": 2_873, "B-LOC": 2_698, "B-ORG": 1_434}  # the README's counts
    hashtags = sum(t.startswith("#") for s in real("wnut17", "train")[1] for t in s.tokens)
    assert hashtags == 828  # tokens, not comments


@needs_data
def test_uner_train_lacks_one_ud_sentence() -> None:
    """UNER was annotated on an older EWT: one train sentence fewer, a few retokenized."""
    def ids(name: str, split: str) -> list[str]:
        return [c.split("=", 1)[1].strip() for s in real(name, split)[1]
                for c in s.comments if c.startswith("# sent_id")]

    assert set(ids("ud_english_ewt", "train")) - set(ids("uner_english_ewt", "train")) == {
        "reviews-275919-0013"}
    assert set(ids("ud_english_ewt", "dev")) == set(ids("uner_english_ewt", "dev"))
