"""Which corpus reads a file: the format guessed from its name and first line
(:func:`guess_format`), and :func:`open_corpus`, the one entry the CLI and the tagger use."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from rnnkit.embeddings.corpus import (
    ConlluCorpus,
    IobCorpus,
    JsonlCorpus,
    SstCorpus,
    TextCorpus,
    as_paths,
    numbered_lines,
)

FORMATS = ("text", "jsonl", "conllu", "iob", "sst")


def guess_format(path: str | Path) -> str:
    """``jsonl`` for ``.jsonl``/``.json`` (also ``.gz``), ``conllu`` for ``.conllu``, ``iob``
    for ``.iob``/``.iob2`` (UNER's files), else text;
    a ``.conll`` file is ``conllu`` when its first word line has ten or more tab-separated
    fields (CoNLL-X), else ``iob`` (token and tag columns: WNUT-17, CoNLL-2003); a text file
    whose first line is a sentiment tree such as ``(3 (2 It) (4 good))`` is ``sst``, and one
    whose first line is a token, a tab and a BIO tag (``Paris<TAB>B-LOC``) is ``iob``."""
    suffixes = Path(path).suffixes
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in (".jsonl", ".json"):
        return "jsonl"
    if last == ".conllu":
        return "conllu"
    if last == ".conll":
        return _conll_format(Path(path))
    if last in (".iob", ".iob2"):
        return "iob"
    if last in (".csv", ".tsv"):  # was read as text: its header and labels became words
        raise ValueError(f"{path} is a table ({last}), and a corpus is read as text, JSON "
                         "lines, CoNLL-U, iob or SST trees: a table read as text gives its "
                         "header and every column as words. Save its text column one text a "
                         "line (or as JSON lines); rnnkit word2vec train --format text reads it "
                         "as it is")
    return _text_format(Path(path))


def _conll_format(path: Path) -> str:
    try:
        for _, line in numbered_lines(path):
            if line.strip() and not line.startswith("#"):
                return "conllu" if len(line.split("\t")) >= 10 else "iob"
    except ValueError:
        pass  # missing, a folder or not UTF-8: the reader says so
    return "conllu"


def _text_format(path: Path) -> str:
    """``sst`` if the first line that is not blank is a sentiment tree, ``iob`` if it is a
    tab-separated token and BIO tag (WNUT-17's emerging.test.annotated), else ``text``."""
    from rnnkit.data.sst import is_tree_line
    from rnnkit.data.tags import is_tag

    try:
        for _, line in numbered_lines(path):
            if line.strip():
                fields = line.rstrip("\r\n \t").split("\t")
                if len(fields) >= 2 and fields[0].strip() and is_tag(fields[-1]):
                    return "iob"
                if is_tree_line(line):
                    return "sst"
                break
    except ValueError:
        pass  # missing, a folder, not UTF-8, or no tree: the text reader says so or reads it
    return "text"


def open_corpus(
    paths: str | Path | Sequence[str | Path], format: str | None = None
) -> Iterable[list[str]]:
    """A re-iterable corpus over ``paths`` in one ``format`` (guessed from the names, which
    must then agree: a CoNLL-U file read as text would give its ID, lemma and tag columns as
    words)."""
    paths = as_paths(paths)
    if not paths:
        raise ValueError("no corpus file given")
    if not format:
        guessed = {path: guess_format(path) for path in paths}
        format = guessed[paths[0]]
        other = next((path for path in paths if guessed[path] != format), None)
        if other is not None:
            raise ValueError(f"corpus files in two formats: {paths[0]} reads as {format}, "
                             f"{other} as {guessed[other]}; give the files of one format "
                             "(or give the format, --format, to read them all in it)")
    if format == "text":
        return TextCorpus(paths)
    if format == "jsonl":
        return JsonlCorpus(paths)
    if format == "conllu":
        return ConlluCorpus(paths)
    if format == "iob":
        return IobCorpus(paths)
    if format == "sst":
        return SstCorpus(paths)
    raise ValueError(f"unknown corpus format {format!r}; expected one of {', '.join(FORMATS)}")
