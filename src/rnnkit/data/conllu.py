"""CoNLL-U (Universal Dependencies) for tagging: read UPOS or XPOS, write predictions back.

A CoNLL-U sentence is ``#`` comment lines, then one line per word with ten tab-separated fields
(``ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC``), then a blank line. Lines whose ID
holds ``-`` (multiword tokens such as ``don't``) or ``.`` (empty nodes) are not words: they are
kept in :attr:`TaggedSentence.lines` but give no token.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from rnnkit.data.files import read_lines
from rnnkit.data.tagged import (
    BLANK,
    OTHER,
    DataFormatError,
    LineKind,
    TaggedSentence,
    check_line_endings,
    contents,
    group_sentences,
    line_ending,
    output_stream,
    predictions_for,
    scores_for,
)

FIELDS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")
TAG_COLUMNS = {"upos": 3, "xpos": 4}
_RANGE_OR_EMPTY_NODE = re.compile(r"\d+-\d+|\d+\.\d+")


def _tag_field(column: str) -> int:
    if column not in TAG_COLUMNS:
        raise ValueError(f"data.column must be one of {', '.join(TAG_COLUMNS)} (the CoNLL-U "
                         f"column the tags are read from); got {column!r}")
    return TAG_COLUMNS[column]


def read_conllu(
    path: str | Path, column: str = "upos", require_tags: bool = True,
    lines: list[str] | None = None,
) -> list[TaggedSentence]:
    """The sentences of a CoNLL-U file, tagged with the ``upos`` or ``xpos`` column.

    With ``require_tags=False`` (input to be tagged) an empty tag column (``_``) is accepted and
    read as the tag ``"_"``. ``lines``: the text's lines, already read (standard input, named
    by ``path``), endings kept.

    Raises:
        DataFormatError: a line is malformed (not ten tab-separated fields, an ID that is not a
            number or out of order, an empty form, ``_`` in the tag column), the file holds
            no sentence, or it is not UTF-8. The message names the file and line.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.conllu"
        >>> _ = path.write_text(
        ...     "# text = Don't go\\n1-2\\tDon't\\t_\\t_\\t_\\t_\\t_\\t_\\t_\\t_\\n"
        ...     "1\\tDo\\tdo\\tAUX\\tVBP\\t_\\t3\\taux\\t_\\t_\\n"
        ...     "2\\tn't\\tnot\\tPART\\tRB\\t_\\t3\\tadvmod\\t_\\t_\\n"
        ...     "3\\tgo\\tgo\\tVERB\\tVB\\t_\\t0\\troot\\t_\\t_\\n\\n")
        >>> sentence = read_conllu(path)[0]
        >>> sentence.tokens, sentence.tags, sentence.comments
        (['Do', "n't", 'go'], ['AUX', 'PART', 'VERB'], ["# text = Don't go"])
    """
    tag_field = _tag_field(column)
    lines = read_lines(path) if lines is None else lines
    kinds: list[LineKind] = []
    words_before = 0  # in the current sentence
    texts = contents(lines)
    check_line_endings(texts, path)
    for number, text in enumerate(texts, start=1):
        if not text or text.isspace():
            kinds.append(BLANK)
            words_before = 0
        elif text[0] == "#":
            kinds.append(OTHER)
        else:
            fields = text.split("\t")
            if (len(fields) != len(FIELDS) or not (fields[0].isascii() and fields[0].isdigit())
                    or (require_tags and fields[tag_field] in ("_", ""))):
                _check_word_line(fields, text, column, path, number)  # raises, or a non-word
                kinds.append(OTHER)
                continue
            if int(fields[0]) != words_before + 1:
                raise DataFormatError(
                    f"ID {fields[0]} out of order: expected {words_before + 1}"
                    + (" (a missing blank line between sentences?)" if words_before else ""),
                    path, number,
                )
            if not fields[1]:
                raise DataFormatError("empty FORM field", path, number)
            words_before += 1
            kinds.append((fields[1], fields[tag_field] or "_"))
    return group_sentences(lines, kinds, path, tag_field)


def _check_word_line(
    fields: list[str], text: str, column: str, path: str | Path, number: int
) -> None:
    """Raise the error for a malformed line; return for a multiword-token or empty-node line."""
    if len(fields) != len(FIELDS):
        columns = len(fields) if "\t" in text else len(text.split())  # CoNLL-2003: spaces
        hint = (" (an IOB file of token and tag columns? give --format iob)"
                if 2 <= columns <= 6 else " (fields must be separated by tabs)"
                if " " in text and len(fields) < 10 else "")
        raise DataFormatError(
            f"expected {len(FIELDS)} tab-separated fields, found {len(fields)}{hint}", path, number
        )
    if _RANGE_OR_EMPTY_NODE.fullmatch(fields[0]):
        return
    if not (fields[0].isascii() and fields[0].isdigit()):
        raise DataFormatError(
            f"ID {fields[0]!r} is not a number, a range like 1-2 or an empty node like 1.1",
            path, number,
        )
    raise DataFormatError(
        f"no {column.upper()} tag ({fields[TAG_COLUMNS[column]]!r}) for word {fields[1]!r}; "
        "tagging needs one on every word", path, number,
    )


def write_conllu(
    path_or_stream: str | Path | TextIO,
    sentences: Sequence[TaggedSentence],
    predicted_tags: Sequence[Sequence[str]] | None = None,
    column: str = "upos",
    scores: Sequence[Sequence[float]] | None = None,
) -> None:
    """Write the sentences' original lines with ``column`` replaced by ``predicted_tags`` (and
    with ``scores``, each tag's probability in the MISC column as ``TagProb=0.9731``, beside
    the attributes there; a ``TagProb`` already there is replaced).

    Every other byte is kept, so ``predicted_tags=None`` (the gold tags) reproduces the file that
    was read with the same ``column``.

    Raises:
        ValueError: the tags do not match the sentences, or a sentence was not read from
            CoNLL-U.

    Example:
        >>> import io
        >>> line = "1\\tHi\\thi\\tINTJ\\tUH\\t_\\t0\\troot\\t_\\t_\\n"
        >>> sentence = TaggedSentence(["Hi"], ["INTJ"], [line, "\\n"], [0], 3)
        >>> out = io.StringIO()
        >>> write_conllu(out, [sentence], [["NOUN"]])
        >>> out.getvalue().split("\\t")[3]
        'NOUN'
    """
    tag_field = _tag_field(column)
    all_tags = predictions_for(sentences, predicted_tags)
    all_scores = scores_for(sentences, scores)
    with output_stream(path_or_stream) as stream:
        for sentence, tags, texts in zip(sentences, all_tags, all_scores, strict=True):
            lines = list(sentence.lines)
            for number, (index, tag) in enumerate(zip(sentence.token_lines, tags, strict=True)):
                fields = lines[index].rstrip("\n").rstrip("\r").lstrip("\ufeff").split("\t")
                if len(fields) != len(FIELDS):
                    raise ValueError(
                        f"sentence at {sentence.source}:{sentence.first_line} is not CoNLL-U "
                        f"({len(fields)} fields in a token line); write it with write_iob"
                    )
                fields[tag_field] = tag
                if texts is not None:
                    fields[-1] = _with_probability(fields[-1], texts[number])
                bom = "\ufeff" if lines[index].startswith("\ufeff") else ""
                lines[index] = bom + "\t".join(fields) + line_ending(lines[index])
            stream.write("".join(lines))


def _with_probability(misc: str, probability: str) -> str:
    """A MISC field with ``TagProb=probability`` last (``_``: no attributes before)."""
    kept = [item for item in misc.split("|") if item not in ("", "_")
            and not item.startswith("TagProb=")]
    return "|".join([*kept, f"TagProb={probability}"])
