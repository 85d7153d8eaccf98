"""Corpora for word2vec: re-iterable streams of token lists read from text, JSON lines, CoNLL-U,
token-and-tag column files (IOB) or sentiment trees (SST).

gensim walks a corpus once to count words and once per epoch to train, so every corpus here is
a class whose ``__iter__`` opens the file again: a large corpus (the 50 000 IMDB reviews) is
streamed from disk on every pass and never held in memory. A one-shot generator would be
exhausted after the counting pass; :func:`check_reiterable` rejects one with a clear message.

Example:
    >>> tokenize("Don't panic: it's 3.5 stars, not 10!")
    ['Do', "n't", 'panic', ':', 'it', "'s", '3.5', 'stars', ',', 'not', '10', '!']
    >>> corpus = TokenizedCorpus([["a", "b"], ["c"]])
    >>> list(corpus), list(corpus)  # a second pass sees the same sentences
    ([['a', 'b'], ['c']], [['a', 'b'], ['c']])
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from rnnkit.data.files import GZIP_ERRORS, compressed_as
from rnnkit.data.words import text_words, tokenize  # noqa: F401  (rnnkit.embeddings.tokenize)


class HasTokens(Protocol):
    """Anything with a ``tokens`` list, such as a tagger's ``TaggedSentence``."""

    @property
    def tokens(self) -> Sequence[str]: ...


def check_reiterable(corpus: Iterable[Sequence[str]]) -> None:
    """Raise ValueError if ``corpus`` is a one-shot iterator (a generator, ``iter(list)``), or
    a collection of strings rather than of token lists (gensim would learn characters)."""
    if iter(corpus) is corpus:
        raise ValueError(
            f"the corpus is a one-shot iterator ({type(corpus).__name__}); word2vec reads it "
            "several times: pass a list, or a class whose __iter__ starts a new pass "
            "(TextCorpus, JsonlCorpus, ConlluCorpus, TokenizedCorpus)"
        )
    first = corpus if isinstance(corpus, str) else next(iter(corpus), None)
    if isinstance(first, str):
        raise ValueError(
            f"a sentence must be a list of tokens, got the string {first[:40]!r}; split the "
            "lines into tokens (rnnkit.data.words.tokenize), or read a file with "
            "TextCorpus"
        )


def numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """The numbered lines of a UTF-8 text file (``.gz`` decompressed on the fly), without a
    leading byte-order mark; bytes that are not UTF-8 are an error naming the file and the
    line."""
    if path.is_dir():
        raise ValueError(f"corpus file {path} is a folder; give the files in it, e.g. "
                         f"{path / '*.txt'}")
    if not path.is_file():
        raise ValueError(f"corpus file {path} does not exist")
    packed = path.suffix == ".gz"
    with (gzip.open(path, "rb") if packed else path.open("rb")) as file:
        for number, raw in enumerate(_gzip_checked(file, path) if packed else file, start=1):
            compressed = compressed_as(raw, path) if number == 1 else None
            if compressed:  # not UTF-8 text, said of a .bz2, .xz or .zip file
                raise ValueError(f"corpus file {path} {compressed}")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(f"{path}, line {number}: not UTF-8 text ({error.reason}); "
                                 "save the file as UTF-8") from None
            if number == 1:  # a byte-order mark is no text: kept, it became a word of its
                text = text.removeprefix("\ufeff")  # own (or broke a JSON line's parse)
            for line in text.replace("\r\n", "\n").split("\r"):  # old Mac (CR) lines too
                if line:
                    yield number, line


def _gzip_checked(file: Iterable[bytes], path: Path) -> Iterator[bytes]:
    """The lines of ``file``; a ``.gz`` file that is cut short or damaged (a bare EOFError or
    zlib.error) or no gzip data at all is a ValueError naming it."""
    lines = iter(file)
    while True:
        try:
            raw = next(lines)
        except StopIteration:
            return
        except (OSError, *GZIP_ERRORS) as error:  # gzip.BadGzipFile is an OSError
            raise ValueError(f"corpus file {path} cannot be read as gzip data ({error}): is it "
                             "cut short? If it is not gzipped, rename it without .gz") from None
        yield raw


def as_paths(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    if isinstance(paths, (str, Path)):
        return [Path(paths)]
    return [Path(path) for path in paths]


class TextCorpus:
    """Plain text (or ``.gz``), one sentence or document per line, split by :func:`tokenize`;
    ``<br />`` removed, as from JSON lines and the classifier's texts.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> _ = path.write_text("The cat sat.<br /><br />\\n\\nA dog!\\n")
        >>> list(TextCorpus(path))
        [['The', 'cat', 'sat', '.'], ['A', 'dog', '!']]
    """

    def __init__(self, paths: str | Path | Sequence[str | Path]) -> None:
        self.paths = as_paths(paths)

    def __iter__(self) -> Iterator[list[str]]:
        for path in self.paths:
            for _, line in numbered_lines(path):
                tokens = text_words(line)
                if tokens:
                    yield tokens


class JsonlCorpus:
    """JSON lines (or ``.jsonl.gz``) with a text field, one document each; ``<br />`` removed.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
        >>> _ = path.write_text('{"text": "Great film.<br /><br />Loved it"}\\n')
        >>> list(JsonlCorpus(path))
        [['Great', 'film', '.', 'Loved', 'it']]
    """

    def __init__(self, paths: str | Path | Sequence[str | Path], field: str = "text") -> None:
        self.paths = as_paths(paths)
        self.field = field

    def __iter__(self) -> Iterator[list[str]]:
        for path in self.paths:
            for number, line in numbered_lines(path):
                if not line.strip():
                    continue
                try:
                    text = json.loads(line)[self.field]
                except (json.JSONDecodeError, KeyError, TypeError):
                    raise ValueError(
                        f"{path}, line {number}: expected a JSON object with a string "
                        f"{self.field!r} field, got {line[:80]!r}"
                    ) from None
                if not isinstance(text, str):
                    raise ValueError(
                        f"{path}, line {number}: field {self.field!r} is "
                        f"{type(text).__name__}, expected a string"
                    )
                tokens = text_words(text)
                if tokens:
                    yield tokens


class ConlluCorpus:
    """The tokens (FORM column) of CoNLL-U files, read by :func:`rnnkit.data.conllu.read_conllu`.

    Treebanks are small (UD English-EWT train: 204 000 words), so the token lists are kept in
    memory; comments, multiword-token ranges (``1-2``) and empty nodes (``1.1``) give no token.
    The tag columns are not read, so an untagged file (``_`` in UPOS and XPOS) is fine. The
    reader checks the rest strictly (ten fields, IDs in order, a form on every word) and raises
    ``DataFormatError`` (a ValueError) naming the file and line.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.conllu"
        >>> row = "\\t".join(["1", "Hi", "hi", "INTJ", "UH", "_", "0", "root", "_", "_"])
        >>> _ = path.write_text("# text = Hi\\n" + row + "\\n\\n")
        >>> list(ConlluCorpus(path))
        [['Hi']]
    """

    def __init__(self, paths: str | Path | Sequence[str | Path]) -> None:
        from rnnkit.data.conllu import read_conllu

        self.paths = as_paths(paths)
        self.sentences = [
            sentence.tokens for path in self.paths
            for sentence in read_conllu(path, require_tags=False)
        ]

    def __iter__(self) -> Iterator[list[str]]:
        for tokens in self.sentences:
            yield list(tokens)


class IobCorpus:
    """The tokens of token-and-tag column files, read by :func:`rnnkit.data.iob.read_iob`
    (any tag) and held in memory as :class:`ConlluCorpus` holds its treebank: the first column
    (WNUT-17, CoNLL-2003), or the second where the first numbers each sentence's words 1, 2,
    3 ... (UNER's ``id<TAB>token<TAB>tag ...``).

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.conll"
        >>> _ = path.write_text("#NFL\\tB-group\\nrocks\\tO\\n\\nHi\\tO\\n")
        >>> list(IobCorpus(path))
        [['#NFL', 'rocks'], ['Hi']]
        >>> _ = path.write_text("1\\tHi\\tO\\t-\\t-\\n2\\tBob\\tB-PER\\t-\\t-\\n")
        >>> list(IobCorpus(path))
        [['Hi', 'Bob']]
    """

    def __init__(self, paths: str | Path | Sequence[str | Path]) -> None:
        self.paths = as_paths(paths)
        self.sentences = [tokens for path in self.paths for tokens in _iob_tokens(path)]

    def __iter__(self) -> Iterator[list[str]]:
        for tokens in self.sentences:
            yield list(tokens)


class SstCorpus:
    """The words of PTB-style sentiment trees, one a line (the Stanford Sentiment Treebank's
    ``train.txt``), parsed by :func:`rnnkit.data.sst.parse_tree` and held in memory: the
    brackets and labels 0-4 are not words, and ``-LRB-`` is ``(``.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "train.txt"
        >>> _ = path.write_text("(3 (2 It) (4 (2 's) (3 good)))\\n(1 (2 -LRB-) (1 Bad))\\n")
        >>> list(SstCorpus(path))
        [['It', "'s", 'good'], ['(', 'Bad']]
    """

    def __init__(self, paths: str | Path | Sequence[str | Path]) -> None:
        from rnnkit.data.sst import parse_tree

        self.paths = as_paths(paths)
        self.sentences: list[list[str]] = []
        for path in self.paths:
            for number, line in numbered_lines(path):
                if not line.strip():
                    continue
                try:
                    self.sentences.append(list(parse_tree(line).tokens))
                except ValueError as error:
                    raise ValueError(f"{path}, line {number}: {error}; is it a file of SST "
                                     "trees? Give the format text to read it as text") from None

    def __iter__(self) -> Iterator[list[str]]:
        for tokens in self.sentences:
            yield list(tokens)


def _iob_tokens(path: Path) -> list[list[str]]:
    from rnnkit.data.iob import read_iob

    sentences = [sentence.tokens for sentence in read_iob(path, any_tag=True)]
    if all(tokens == [str(i) for i in range(1, len(tokens) + 1)] for tokens in sentences):
        # word numbers, not words: the tokens are in the next column (UNER)
        sentences = [sentence.tokens for sentence in
                     read_iob(path, token_column=2, tag_column=3, any_tag=True)]
    return sentences


class TokenizedCorpus:
    """Sentences already split into tokens: lists of strings or objects with ``.tokens``.

    Example:
        >>> from types import SimpleNamespace
        >>> list(TokenizedCorpus([SimpleNamespace(tokens=["Hi", "!"])]))
        [['Hi', '!']]
    """

    def __init__(self, sentences: Iterable[Sequence[str] | HasTokens]) -> None:
        self.sentences = list(sentences)  # references only: the token lists are not copied

    def __iter__(self) -> Iterator[list[str]]:
        for sentence in self.sentences:
            tokens = sentence.tokens if hasattr(sentence, "tokens") else sentence
            if isinstance(tokens, str):
                raise ValueError(
                    f"a sentence must be a list of tokens, got the string {tokens[:40]!r}"
                )
            yield list(tokens)


class LowercaseCorpus:
    """Another corpus with every token lowercased, pass after pass."""

    def __init__(self, corpus: Iterable[Sequence[str]]) -> None:
        self.corpus = corpus

    def __iter__(self) -> Iterator[list[str]]:
        for sentence in self.corpus:
            yield [token.lower() for token in sentence]
