"""Column files with IOB2 / BIOES tags (CoNLL-2003, WNUT-17, UNER): read, write predictions back.

One token per line, blank lines between sentences. A line that holds a tab (spaces and tabs
at its end aside) is split at tabs (so a token may hold a space), any other line at runs of
whitespace. Common layouts:

- WNUT-17: ``token<TAB>tag``; the defaults.
- UNER: ``id<TAB>token<TAB>tag<TAB>-<TAB>-`` with ``#`` comments; ``token_column=2, tag_column=3``.
- CoNLL-2003: ``token POS chunk tag``; the defaults (``-DOCSTART-`` lines are skipped).

Columns count from 1; a negative column counts from the end (``-1`` is the last).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from rnnkit.data.files import read_lines
from rnnkit.data.iob_columns import Columns, field_index
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

DOCSTART = "-DOCSTART-"
_NON_SPACE = re.compile(r"\S+")


def field_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each field of a line: split at tabs if it holds one, else at whitespace.

    Example:
        >>> field_spans("New York\\tB-LOC"), field_spans("EU  NNP B-ORG")
        ([(0, 8), (9, 14)], [(0, 2), (4, 7), (8, 13)])
    """
    if "\t" not in text:
        return [match.span() for match in _NON_SPACE.finditer(text)]
    spans = []
    start = 0
    for piece in text.split("\t"):
        spans.append((start, start + len(piece)))
        start += len(piece) + 1
    return spans


def read_iob(
    path: str | Path,
    token_column: int = 1,
    tag_column: int = -1,
    comment_prefix: str | None = "#",
    docstart: bool = True,
    any_tag: bool = False,
    require_tags: bool = True,
    max_fields: int = 0,
    names: tuple[str, str] = ("data.token_column", "data.tag_column"),
    lines: list[str] | None = None,
) -> list[TaggedSentence]:
    """The sentences of a column file with BIO or BIOES tags.

    Args:
        path: the file (UTF-8).
        token_column: the column of the token, from 1 (negative: from the end).
        tag_column: the column of the tag, from 1 (negative: from the end).
        comment_prefix: lines that start with it are comments (kept, not read), unless the line
            reads as a token line with a valid tag and holds a tab or (tags checked, not
            ``any_tag``) as many fields as the token lines before it: tweets have hashtag tokens
            such as ``#NFL<TAB>O``, PTB text ``# # B-NP``. ``None``: no comments.
        docstart: skip CoNLL-2003 ``-DOCSTART-`` lines.
        any_tag: accept any non-empty tag (part-of-speech tags), not only O and BIO/BIOES.
        require_tags: False (input to be tagged): the tag column may also hold the placeholder
            ``_`` (read as the tag ``"_"``).
        max_fields: the most fields a token line may have (0: any): 2 where the columns are a
            guess (the first and the last) that fits ``token<TAB>tag`` lines only.
        names: the settings (or flags) that choose the token and tag columns, named in the
            errors that say how to choose others.
        lines: the text's lines, already read (standard input, named by ``path``), endings
            kept.

    Raises:
        DataFormatError: a token line lacks the token or tag column, has an empty token or a
            tag that is not O, B-X, I-X, E-X or S-X (unless ``any_tag``), or has another number
            of fields than the first token line where that would move the columns
            (whitespace-separated lines, or a column counted from the end); or the file holds
            no sentence or is not UTF-8. The message names the file and line.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.iob2"
        >>> _ = path.write_text("# sent 1\\n1\\tBob\\tB-PER\\t-\\t-\\n2\\tran\\tO\\t-\\t-\\n\\n")
        >>> sentence = read_iob(path, token_column=2, tag_column=3)[0]
        >>> sentence.tokens, sentence.tags, sentence.comments
        (['Bob', 'ran'], ['B-PER', 'O'], ['# sent 1'])
    """
    token_field = field_index(token_column, names[0])
    tag_field = field_index(tag_column, names[1])
    columns = Columns(token_field, tag_field, path, any_tag, require_tags, max_fields, names)
    lines = read_lines(path) if lines is None else lines
    kinds: list[LineKind] = []
    texts = contents(lines)
    check_line_endings(texts, path)
    token_fields: int | None = None  # worked out when a comment-like line needs it
    for number, text in enumerate(texts, start=1):
        if not text or text.isspace():
            kinds.append(BLANK)  # WNUT-17's train file separates sentences with "\t" lines
            continue
        # trailing spaces or tabs after the last column are not part of it, nor a separator
        body = text.rstrip(" \t")
        tab_separated = "\t" in body
        fields = body.split("\t") if tab_separated else body.split()
        if docstart and fields[0] == DOCSTART:
            kinds.append(OTHER)
        elif comment_prefix and text.startswith(comment_prefix):
            # a token that starts with the prefix (a hashtag, PTB's "#" for pounds): a line
            # with a tab, or with as many fields as the token lines (tags checked) reads as one
            expected = columns.field_count
            if not (expected or tab_separated or any_tag):  # a file's first lines too
                if token_fields is None:
                    token_fields = _first_token_fields(texts, comment_prefix, docstart)
                expected = token_fields
            maybe_token = tab_separated or (not any_tag and len(fields) == expected)
            token_and_tag = columns.read(fields, tab_separated, 0) if maybe_token else None
            kinds.append(OTHER if token_and_tag is None else token_and_tag)
        else:
            try:
                token_and_tag = columns.read(fields, tab_separated, number)
            except DataFormatError as error:
                if comment_prefix is None and text.startswith("#"):
                    raise DataFormatError(
                        f"{error.message}; '#' lines are "
                        "read as tokens here (hashtags), not comments: remove the comment lines",
                        path, number,
                    ) from None
                raise
            assert token_and_tag is not None
            kinds.append(token_and_tag)
    return group_sentences(lines, kinds, path, tag_field)


def _first_token_fields(texts: list[str], comment_prefix: str | None, docstart: bool) -> int:
    """The field count of the first whitespace-separated line that cannot be a comment (0 if
    none): a line before it that starts with the prefix and has as many fields may be a
    token (``#NFL B-ORG`` on a file's first line)."""
    for text in texts:
        fields = text.rstrip(" \t").split()
        if (fields and "\t" not in text.rstrip(" \t")
                and not (comment_prefix and text.startswith(comment_prefix))
                and not (docstart and fields[0] == DOCSTART)):
            return len(fields)
    return 0


def write_iob(
    path_or_stream: str | Path | TextIO,
    sentences: Sequence[TaggedSentence],
    predicted_tags: Sequence[Sequence[str]] | None = None,
    tag_column: int | None = None,
    scores: Sequence[Sequence[float]] | None = None,
) -> None:
    """Write the sentences' original lines with the tag column replaced by ``predicted_tags``
    (and with ``scores``, each tag's probability as an extra last column, ``0.9731``, split
    from the line's last field as the line's own fields are: a tab, else a space).

    Separators, other columns, comments and blank lines are kept byte for byte, so
    ``predicted_tags=None`` (the gold tags) reproduces the file that was read.

    Args:
        path_or_stream: a file to create or a text stream.
        sentences: as read by :func:`read_iob` (or made by ``sentences_from_tokens``).
        predicted_tags: one tag per token of each sentence; ``None``: the sentences' own tags.
        tag_column: the column to replace, from 1 (negative: from the end); ``None``: the
            column the tags were read from.

    Raises:
        ValueError: the tags do not match the sentences, or a line lacks the tag column.

    Example:
        >>> import io
        >>> from rnnkit.data.tagged import sentences_from_tokens
        >>> out = io.StringIO()
        >>> write_iob(out, sentences_from_tokens([["Bob", "ran"]]), [["B-PER", "O"]])
        >>> out.getvalue()
        'Bob\\tB-PER\\nran\\tO\\n\\n'
    """
    all_tags = predictions_for(sentences, predicted_tags)
    chosen = None if tag_column is None else field_index(tag_column, "tag_column")
    all_scores = scores_for(sentences, scores)
    with output_stream(path_or_stream) as stream:
        for sentence, tags, texts in zip(sentences, all_tags, all_scores, strict=True):
            field = sentence.tag_field if chosen is None else chosen
            lines = list(sentence.lines)
            for number, (index, tag) in enumerate(zip(sentence.token_lines, tags, strict=True)):
                lines[index] = _replace_field(lines[index], field, tag, sentence, index)
                if texts is not None:
                    lines[index] = _append_field(lines[index], texts[number])
            stream.write("".join(lines))


def _append_field(line: str, value: str) -> str:
    body = line[: len(line) - len(line_ending(line))].rstrip(" \t")  # as read_iob splits it
    separator = "\t" if "\t" in body else " "
    return body + separator + value + line[len(body):]


def _replace_field(line: str, field: int, value: str, sentence: TaggedSentence, index: int) -> str:
    body = line[: len(line) - len(line_ending(line))].rstrip(" \t")  # as read_iob splits it
    rest = line[len(body):]  # trailing spaces or tabs and the line ending, kept as they were
    offset = 1 if body.startswith("\ufeff") else 0
    spans = field_spans(body[offset:])
    if not -len(spans) <= field < len(spans):
        raise ValueError(
            f"{sentence.source}:{sentence.first_line + index}: no field {field} "
            f"in {body!r} to write the tag into"
        )
    start, end = spans[field]
    return body[: offset + start] + value + body[offset + end:] + rest
