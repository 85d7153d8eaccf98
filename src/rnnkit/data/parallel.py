"""Parallel text: two line-aligned files (or a registry dataset's two languages) -> sentence pairs.

Lines are kept raw (cased, untokenized): the subword tokenizer sees the text as written, and
BLEU is scored on the detokenized output against these raw references.
"""

from __future__ import annotations

from pathlib import Path

from rnnkit.data import files, tagged
from rnnkit.data.registry import dataset_files, get_task_spec
from rnnkit.plural import plural


def read_lines(path: str | Path) -> list[str]:
    """The lines of a UTF-8 text file, without their line ends (a final newline adds none),
    split at ``\n`` only (``str.splitlines`` would also split at U+2028, form feeds...) and
    without a byte-order mark.

    Raises:
        DataFormatError: a carriage return within a line: a file with old Mac (CR) line endings
            would read as one line, its sentences translated (or trained on) as one.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"text file {path} is a folder; give a file" if path.is_dir()
                                else f"text file {path} does not exist")
    texts = tagged.contents(files.read_lines(path))
    tagged.check_line_endings(texts, path)
    return texts


def one_file_of_a_pair(prefix: str, source_language: str, target_language: str,
                       flag: str) -> None:
    """Refuse a ``flag`` that names one file of a pair (``test.de``) where the pair's prefix
    (``test``) is read: it said ``test.de.de does not exist``."""
    stem, dot, language = prefix.rpartition(".")
    if (dot and language in (source_language, target_language)
            and not Path(f"{prefix}.{source_language}").exists()
            and Path(f"{stem}.{source_language}").is_file()):
        raise ValueError(f"{flag} {prefix!r} names one file of the pair; give their prefix, "
                         f"{flag} {stem} (reads {stem}.{source_language} and "
                         f"{stem}.{target_language})")


def read_parallel(source: str | Path, target: str | Path) -> tuple[list[str], list[str]]:
    """Two line-aligned files; a different line count is an error naming both counts."""
    sources, targets = read_lines(source), read_lines(target)
    if len(sources) != len(targets):
        longer, lines = (source, sources) if len(sources) > len(targets) else (target, targets)
        blank = len(lines) - len("\n".join(lines).rstrip().split("\n"))  # at the end
        extra = abs(len(sources) - len(targets))
        hint = (f"; {longer} ends with {blank} blank line(s), which count as lines: remove "
                f"the last {extra}" if blank >= extra else "")
        raise ValueError(
            f"parallel files are not line-aligned: {source} has "
            f"{plural(len(sources), 'line')}, {target} has {len(targets)}; every line of one "
            "must translate the same line of the other"
            + hint
        )
    return sources, targets


def dataset_pair_files(name: str, split: str, source_language: str, target_language: str,
                       mirror: str | Path | None = None) -> tuple[Path, Path]:
    """The source and target files of one split of a registered parallel dataset.

    Example:
        >>> dataset_pair_files("multi30k", "test_2017_mscoco", "cs", "en")
        Traceback (most recent call last):
        ValueError: multi30k split 'test_2017_mscoco' has no 'cs' file; it has de, en, fr
    """
    spec = get_task_spec(name, "translation", "a translation model")
    if source_language == target_language:
        raise ValueError(f"source and target language are both {source_language!r}")
    entries = spec.split_files(split)
    by_language = {entry.filename.rsplit(".", 1)[-1]: entry for entry in entries}
    for language in (source_language, target_language):
        if language not in by_language:
            raise ValueError(f"{name} split {split!r} has no {language!r} file; it has "
                             f"{', '.join(sorted(by_language))}")
    wanted = (by_language[source_language].filename, by_language[target_language].filename)
    paths = {path.name: path for path in dataset_files(name, split, mirror, names=wanted)}
    return (paths[by_language[source_language].filename],
            paths[by_language[target_language].filename])



def without_one_side_blank(sources: list[str], targets: list[str], names: tuple[str, str]
                           ) -> tuple[list[str], list[str], str]:
    """The pairs but those blank on one side and not the other (a sentence translated as
    nothing, or nothing as a sentence: no translation to learn), and a note of what was left
    out, naming the first few lines and the file blank there (``names``: the source's and the
    target's), or ``""``. Pairs blank on both sides are kept.

    Example:
        >>> without_one_side_blank(["Ein Hund.", "", "Ja."], ["A dog.", "A cat.", ""],
        ...                        ("t.de", "t.en"))  # doctest: +NORMALIZE_WHITESPACE
        (['Ein Hund.'], ['A dog.'], 'left out 2 training pairs blank on one side, no
        translation of the other: line 2 (t.de blank), line 3 (t.en blank)')
    """
    pairs = zip(sources, targets, strict=True)
    blank = [number for number, (source, target) in enumerate(pairs, 1)
             if bool(source.strip()) != bool(target.strip())]
    if not blank:
        return sources, targets, ""
    shown = [f"line {n} ({names[0] if not sources[n - 1].strip() else names[1]} blank)"
             for n in blank[:5]]
    skip = set(blank)
    kept = [n for n in range(1, len(sources) + 1) if n not in skip]
    return ([sources[n - 1] for n in kept], [targets[n - 1] for n in kept],
            f"left out {plural(len(blank), 'training pair')} blank on one "
            f"side, no translation of the other: {', '.join(shown)}"
            + (f" and {len(blank) - 5} more" if len(blank) > 5 else ""))
