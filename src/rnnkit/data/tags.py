"""Span tag schemes: BIO (IOB2) and BIOES, checked, repaired and converted.

A tag is ``O`` (outside any entity) or ``PREFIX-TYPE``: ``B`` begins a span, ``I`` continues
it, and in BIOES ``E`` ends it and ``S`` is a one-token span. The type may hold hyphens
(``B-creative-work`` is a ``B`` of type ``creative-work``). Everything here is a pure function
on lists of strings.
"""

from __future__ import annotations

from collections.abc import Sequence

from rnnkit.data.vocab import PAD

OUTSIDE = "O"
PREFIXES = ("B", "I", "E", "S")


def split_tag(tag: str) -> tuple[str, str]:
    """The prefix and the entity type of a tag; ``("O", "")`` for ``O``.

    Raises:
        ValueError: the tag is neither ``O`` nor ``B-``/``I-``/``E-``/``S-`` and a type.

    Example:
        >>> split_tag("B-creative-work"), split_tag("O")
        (('B', 'creative-work'), ('O', ''))
    """
    if tag == OUTSIDE:
        return OUTSIDE, ""
    prefix, dash, entity = tag.partition("-")
    if not dash or prefix not in PREFIXES or not entity or entity != entity.strip():
        raise ValueError(f"tag {tag!r} is not O, B-X, I-X, E-X or S-X")
    return prefix, entity


def is_tag(tag: str) -> bool:
    """Whether ``tag`` is a well-formed BIO or BIOES tag.

    Example:
        >>> [is_tag(t) for t in ("O", "B-PER", "S-LOC", "PER", "B-", "X-PER")]
        [True, True, True, False, False, False]
    """
    try:
        split_tag(tag)
    except ValueError:
        return False
    return True


def is_valid_bio(tags: Sequence[str]) -> bool:
    """Whether ``tags`` is valid BIO: only O/B-X/I-X, and every I-X continues an X span.

    Example:
        >>> is_valid_bio(["B-PER", "I-PER", "O"]), is_valid_bio(["O", "I-PER"])
        (True, False)
        >>> is_valid_bio(["B-PER", "I-LOC"]), is_valid_bio(["S-PER"])
        (False, False)
    """
    previous = ""
    for tag in tags:
        if not is_tag(tag):
            return False
        prefix, entity = split_tag(tag)
        if prefix in ("E", "S") or (prefix == "I" and previous != entity):
            return False
        previous = entity
    return True


def repair_bio(tags: Sequence[str]) -> list[str]:
    """A valid BIO sequence: every I-X that does not continue an X span becomes B-X.

    Raises:
        ValueError: a tag is not O, B-X or I-X.

    Example:
        >>> repair_bio(["O", "I-PER", "I-PER", "I-LOC", "O"])
        ['O', 'B-PER', 'I-PER', 'B-LOC', 'O']
    """
    repaired = []
    previous = ""
    for tag in tags:
        prefix, entity = split_tag(tag)
        if prefix in ("E", "S"):
            raise ValueError(f"tag {tag!r} is BIOES, not BIO; convert with bioes_to_bio first")
        if prefix == "I" and previous != entity:
            tag = f"B-{entity}"
        repaired.append(tag)
        previous = entity
    return repaired


def bio_to_bioes(tags: Sequence[str]) -> list[str]:
    """BIO -> BIOES: a span's last token gets ``E-`` (``S-`` when the span is one token).

    An I-X that starts a span is read as B-X first (see :func:`repair_bio`).

    Example:
        >>> bio_to_bioes(["B-PER", "I-PER", "I-PER", "O", "B-LOC", "B-LOC"])
        ['B-PER', 'I-PER', 'E-PER', 'O', 'S-LOC', 'S-LOC']
    """
    bio = repair_bio(tags)
    bioes = []
    for position, tag in enumerate(bio):
        prefix, entity = split_tag(tag)
        following = bio[position + 1] if position + 1 < len(bio) else OUTSIDE
        span_goes_on = following == f"I-{entity}"
        if prefix == "B":
            tag = tag if span_goes_on else f"S-{entity}"
        elif prefix == "I":
            tag = tag if span_goes_on else f"E-{entity}"
        bioes.append(tag)
    return bioes


def bio_tag(tag: str) -> str:
    """One tag's BIO name: ``S-X`` as ``B-X``, ``E-X`` as ``I-X``, any other tag as it is.

    Raises:
        ValueError: a tag is not O, B-X, I-X, E-X or S-X.

    Example:
        >>> [bio_tag(t) for t in ("S-PER", "E-PER", "I-PER", "O")]
        ['B-PER', 'I-PER', 'I-PER', 'O']
    """
    prefix, entity = split_tag(tag)
    renamed = {"S": "B", "E": "I"}
    return f"{renamed[prefix]}-{entity}" if prefix in renamed else tag


def bioes_to_bio(tags: Sequence[str]) -> list[str]:
    """BIOES -> BIO: ``S-X`` becomes ``B-X`` and ``E-X`` becomes ``I-X``.

    ``E-`` and ``S-`` close a span, so an ``I-X`` or ``E-X`` that continues no open X span
    (after ``O``, ``E-``, ``S-`` or another type) starts one, as ``B-X``: the BIO has the
    spans the BIOES marks, never two of them run together.

    Raises:
        ValueError: a tag is not O, B-X, I-X, E-X or S-X.

    Example:
        >>> bioes_to_bio(["S-PER", "B-LOC", "E-LOC", "O"])
        ['B-PER', 'B-LOC', 'I-LOC', 'O']
        >>> bioes_to_bio(["S-PER", "I-PER", "E-PER", "E-PER"])
        ['B-PER', 'B-PER', 'I-PER', 'B-PER']
    """
    bio = []
    open_span = ""  # the type an I- or E- tag may continue; "" after O, E- and S-
    for tag in tags:
        prefix, entity = split_tag(tag)
        if prefix in ("I", "E") and entity != open_span:
            tag = f"B-{entity}"  # continues no span: starts one
        bio.append(bio_tag(tag))
        open_span = entity if prefix in ("B", "I") else ""
    return bio


def to_bio(tags: Sequence[str]) -> list[str]:
    """Span tags in any of BIO (IOB2), IOB1 or BIOES as valid BIO: what a tagger trains on
    and is scored against.

    Example:
        >>> to_bio(["I-PER", "I-PER", "B-PER", "O", "S-LOC", "B-ORG", "E-ORG"])
        ['B-PER', 'I-PER', 'B-PER', 'O', 'B-LOC', 'B-ORG', 'I-ORG']
    """
    return repair_bio(bioes_to_bio(tags))


def entity_types(tags: Sequence[str]) -> list[str]:
    """The entity types that occur in ``tags``, sorted.

    Example:
        >>> entity_types(["B-PER", "I-PER", "O", "S-LOC", "B-PER"])
        ['LOC', 'PER']
    """
    return sorted({split_tag(tag)[1] for tag in tags} - {""})


def span_f1_available(tags: Sequence[str]) -> bool:
    """True when the tags follow a BIO/BIOES scheme, so entity spans can be scored: every tag
    (the padding tag aside) is ``O`` or ``B-``/``I-``/``E-``/``S-`` and a type, and one is not
    ``O``. A tag set that only holds some such tags (``B-NP`` beside ``VP``, read with
    ``data.scheme=none``) is read as it is, not as spans.

    Example:
        >>> span_f1_available(["O", "B-PER"]), span_f1_available(["B-NP", "VP"])
        (True, False)
    """
    named = set(tags) - {PAD}
    return any(t != "O" for t in named) and all(is_tag(t) for t in named)
