"""Tagged sentences: tokens and tags, plus the original lines so predictions can be written back.

The readers (:mod:`rnnkit.data.conllu`, :mod:`rnnkit.data.iob`) share the pieces here: a file is
read as lines with their line endings kept
(:func:`~rnnkit.data.files.read_lines`), :func:`group_sentences` groups the lines into
sentences so that every line of the file belongs to exactly one sentence, and the writers put
the lines back with one field replaced. Writing the gold tags back reproduces the file byte for
byte.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO


class DataFormatError(ValueError):
    """A data file that does not read as its format; the message names the file and line.

    Example:
        >>> str(DataFormatError("expected 10 columns, found 9", "train.conllu", 12))
        'train.conllu:12: expected 10 columns, found 9'
    """

    def __init__(self, message: str, path: str | Path, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.message = message  # without the file and line
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {message}")


@dataclass
class TaggedSentence:
    """One sentence: its tokens, their tags, and the lines of the file it came from.

    Attributes:
        tokens: the words.
        tags: one tag per token; empty when the input carries no tags.
        lines: the sentence's original lines, line endings kept: comments and separator lines
            before it, the token lines (and skipped ones such as CoNLL-U multiword tokens), and
            the blank lines after it. Every line of a file belongs to exactly one sentence.
        token_lines: ``lines[token_lines[i]]`` holds ``tokens[i]``.
        tag_field: the field of a token line that holds the tag, as a Python index (0 is the
            first field, -1 the last).
        source: the file the sentence was read from.
        first_line: the 1-based line number of ``lines[0]`` in ``source``.

    Example:
        >>> sentence = TaggedSentence(["Hi", "Bob"], ["O", "B-PER"])
        >>> len(sentence), sentence.tags[1]
        (2, 'B-PER')
    """

    tokens: list[str]
    tags: list[str]
    lines: list[str] = field(default_factory=list)
    token_lines: list[int] = field(default_factory=list)
    tag_field: int = -1
    source: str = ""
    first_line: int = 1

    def __post_init__(self) -> None:
        if self.tags and len(self.tags) != len(self.tokens):
            raise ValueError(f"{len(self.tokens)} tokens but {len(self.tags)} tags")
        if self.lines and len(self.token_lines) != len(self.tokens):
            raise ValueError(f"{len(self.tokens)} tokens but {len(self.token_lines)} token lines")

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def comments(self) -> list[str]:
        """The sentence's ``#`` comment lines (not its tokens, such as ``#NFL``), without line
        endings."""
        words = set(self.token_lines)
        return [text for index, text in enumerate(contents(self.lines))
                if index not in words and text.startswith("#")]

    def line_number(self, index: int) -> int:
        """The 1-based line number in ``source`` of token ``index``."""
        return self.first_line + self.token_lines[index]


def sentences_from_tokens(
    token_lists: Sequence[Sequence[str]], source: str = "<tokens>"
) -> list[TaggedSentence]:
    """Untagged sentences from tokenized text; written back they become ``token<TAB>tag`` lines.

    Raises:
        ValueError: a token is empty or holds a tab or a line break.

    Example:
        >>> sentence = sentences_from_tokens([["Hello", "world"]])[0]
        >>> sentence.tokens, sentence.tags, sentence.lines
        (['Hello', 'world'], [], ['Hello\\t_\\n', 'world\\t_\\n', '\\n'])
    """
    sentences = []
    first_line = 1
    for number, tokens in enumerate(token_lists, start=1):
        for token in tokens:
            if not token or any(c in token for c in "\t\r\n"):
                raise ValueError(
                    f"sentence {number}: token {token!r} is empty or holds a tab or line break"
                )
        lines = [f"{token}\t_\n" for token in tokens] + ["\n"]
        sentences.append(TaggedSentence(
            list(tokens), [], lines, list(range(len(tokens))), 1, source, first_line
        ))
        first_line += len(lines)
    return sentences


def contents(lines: Sequence[str]) -> list[str]:
    """The lines without their endings (``\\n`` or ``\\r\\n``) and without a byte-order mark."""
    texts = [line.rstrip("\n").rstrip("\r") for line in lines]
    if texts and texts[0].startswith("\ufeff"):
        texts[0] = texts[0][1:]
    return texts


def check_line_endings(texts: Sequence[str], path: str | Path) -> None:
    """Refuse a carriage return within a line of ``texts`` (as :func:`contents` gives them, so
    ``\\r\\n`` endings are fine): a file with old Mac ``\\r`` line endings would read as one line.

    Raises:
        DataFormatError: naming the file and the line.
    """
    for number, text in enumerate(texts, start=1):
        if "\r" in text:
            raise DataFormatError(
                "a carriage return (\\r) within the line: a file with old Mac (CR) line endings "
                "reads as one line; convert it to \\n (LF) line endings, or remove the stray \\r",
                path, number,
            )


def text_lines(text: str, name: str | Path) -> list[str]:
    """The lines of a text given whole (``--text``, standard input), split at ``\\n`` only, each
    without the carriage returns that end it (``\\r\\n``; also the last line of a CRLF text
    whose final ``\\n`` is gone), as :func:`contents` gives a file's lines; a carriage return
    within a line is refused by :func:`check_line_endings`, naming ``name`` and the line.

    Example:
        >>> text_lines("good\\r\\n\\r\\nbad\\r", "--text")
        ['good', '', 'bad']
    """
    lines = [line.rstrip("\r") for line in text.split("\n")]
    check_line_endings(lines, name)
    return lines


def line_ending(line: str) -> str:
    """The ending of a line: ``"\\r\\n"``, ``"\\n"`` or ``""``."""
    return line[len(line.rstrip("\n").rstrip("\r")):]


BLANK = None  # a line that separates sentences
MAX_SENTENCE_TOKENS = 10_000  # UD English-EWT's longest sentence has 159, WNUT-17's 41
OTHER = ()  # a line that is kept but gives no token (comment, multiword token, -DOCSTART-)
LineKind = tuple[str, str] | tuple[()] | None  # (token, tag) for a token line


def group_sentences(
    lines: Sequence[str], kinds: Sequence[LineKind], source: str | Path, tag_field: int
) -> list[TaggedSentence]:
    """Group the lines of a file into sentences, losing none.

    ``kinds[i]`` says what ``lines[i]`` is: ``(token, tag)``, :data:`BLANK` or :data:`OTHER`.
    Lines before a sentence's first token belong to it, and so do the blank lines after its
    last token; lines after the last sentence join it.

    Raises:
        DataFormatError: no line holds a token.

    Example:
        >>> lines = ["# one\\n", "Hi\\tO\\n", "\\n", "Yo\\tO\\n"]
        >>> kinds = [OTHER, ("Hi", "O"), BLANK, ("Yo", "O")]
        >>> [s.lines for s in group_sentences(lines, kinds, "x.iob", 1)]
        [['# one\\n', 'Hi\\tO\\n', '\\n'], ['Yo\\tO\\n']]
    """
    source = str(source)
    sentences: list[TaggedSentence] = []
    begin = 0  # the first line not yet given to a sentence
    tokens: list[str] = []
    tags: list[str] = []
    token_lines: list[int] = []
    closed = False  # a blank line came after the tokens
    for index, kind in enumerate(kinds):
        if kind is None:
            closed = bool(tokens)
            continue
        if closed:
            sentences.append(TaggedSentence(
                tokens, tags, list(lines[begin:index]), token_lines, tag_field, source, begin + 1
            ))
            begin, tokens, tags, token_lines, closed = index, [], [], [], False
        if kind:
            tokens.append(kind[0])
            tags.append(kind[1])
            token_lines.append(index - begin)
    if tokens:
        sentences.append(TaggedSentence(
            tokens, tags, list(lines[begin:]), token_lines, tag_field, source, begin + 1
        ))
    elif sentences:
        sentences[-1].lines.extend(lines[begin:])
    else:
        raise DataFormatError("no sentences (is this the right file and format?)", source)
    for sentence in sentences:
        check_sentence_length(sentence.tokens, source, sentence.first_line)
    return sentences


def check_sentence_length(tokens: Sequence[str], source: str | Path, line: int) -> None:
    """Refuse a sentence of more than :data:`MAX_SENTENCE_TOKENS` tokens: a file without
    blank lines between its sentences, or a whole text on one line (a 50 MB line is 11
    million tokens), was tagged as one sentence, a 2 MB line in 53 s and 4 GB, a 50 MB one
    past any memory.

    Raises:
        DataFormatError: naming the file, the sentence's first line and its length.
    """
    if len(tokens) > MAX_SENTENCE_TOKENS:
        raise DataFormatError(
            f"a sentence of {len(tokens):,} tokens, more than one sentence may hold "
            f"({MAX_SENTENCE_TOKENS:,}); a file needs a blank line after each sentence, and "
            "text to tag one sentence a line", source, line)


def predictions_for(
    sentences: Sequence[TaggedSentence], predicted_tags: Sequence[Sequence[str]] | None
) -> list[Sequence[str]]:
    """The tags to write for each sentence (``None``: the sentences' own tags), checked.

    Raises:
        ValueError: counts do not match, or a tag is empty or holds whitespace.
    """
    if predicted_tags is None:
        predicted_tags = [sentence.tags for sentence in sentences]
    if len(predicted_tags) != len(sentences):
        raise ValueError(f"{len(sentences)} sentences but {len(predicted_tags)} tag sequences")
    for sentence, tags in zip(sentences, predicted_tags, strict=True):
        where = f"sentence at {sentence.source}:{sentence.first_line}"
        if len(tags) != len(sentence.tokens):
            raise ValueError(f"{where} has {len(sentence.tokens)} tokens but {len(tags)} tags")
        for tag in tags:
            if not tag or tag != "".join(tag.split()):
                raise ValueError(f"{where}: tag {tag!r} is empty or holds whitespace")
    return list(predicted_tags)


def probability_text(probability: float) -> str:
    """A tag's probability as predictions write it: 4 decimals (``0.9731``)."""
    return f"{probability:.4f}"


def scores_for(sentences: Sequence[TaggedSentence], scores: Sequence[Sequence[float]] | None
               ) -> list[list[str] | None]:
    """Each sentence's tag probabilities as they are written (4 decimals, ``0.9731``), or
    ``None`` for each sentence when there are none to write.

    Raises:
        ValueError: counts do not match the sentences and their tokens.
    """
    if scores is None:
        return [None for _ in sentences]
    if len(scores) != len(sentences):
        raise ValueError(f"{len(sentences)} sentences but {len(scores)} score sequences")
    texts: list[list[str] | None] = []
    for sentence, row in zip(sentences, scores, strict=True):
        if len(row) != len(sentence.tokens):
            raise ValueError(f"sentence at {sentence.source}:{sentence.first_line} has "
                             f"{len(sentence.tokens)} tokens but {len(row)} scores")
        texts.append([probability_text(probability) for probability in row])
    return texts


@contextlib.contextmanager
def output_stream(path_or_stream: str | Path | TextIO) -> Iterator[TextIO]:
    """A text stream to write to: the given one, or one whose text is written to the file as
    UTF-8 with no newline translation (so line endings are written exactly as they were read)
    once the block ends, atomically: an error or Ctrl-C mid-way leaves the old file whole."""
    if isinstance(path_or_stream, (str, Path)):
        from rnnkit.training.checkpoint import write_output_text

        with io.StringIO(newline="") as stream:
            yield stream
            write_output_text(path_or_stream, stream.getvalue())
    else:
        yield path_or_stream
