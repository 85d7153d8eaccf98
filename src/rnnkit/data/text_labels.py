"""Labelled texts from JSON lines (``.jsonl`` or ``.jsonl.gz``), CSV or TSV files.

Every row gives a text and a label (or, with a label separator, several labels: multi-label,
in JSON also as an array; or a number: regression). Texts are tokenized with
:func:`rnnkit.data.words.tokenize` (words, punctuation, clitics split, ``<br />``
removed), so words match the word2vec vectors trained by ``rnnkit word2vec``.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rnnkit.data.files import read_text, shortened
from rnnkit.data.sst import TREE_START
from rnnkit.data.tsv_quoting import writer_quoted
from rnnkit.data.words import text_words
from rnnkit.plural import plural

FORMATS = ("jsonl", "csv", "tsv")
ONE_OBJECT_A_LINE = ("a JSON-lines file holds one whole JSON object a line, such as "
                     '{"text": "good film", "label": "pos"} (a JSON array, or an object '
                     "spread over several lines, must be written one object a line)")
TRUNCATIONS = ("head", "tail", "head_tail")
FIELDS_HINT = "set data.text_field / data.label_field"  # evaluate and predict rewrite it
MAX_TEXT_TOKENS = 100_000  # a text's words after data.max_tokens: IMDB's longest has 2,742


@dataclass(frozen=True)
class LabelledText:
    """One example: its tokens and its labels (one label unless multi-label)."""

    tokens: tuple[str, ...]
    labels: tuple[str, ...]


def guess_text_format(path: str | Path) -> str:
    """``jsonl``, ``csv`` or ``tsv`` from the file name (``.gz`` ignored)."""
    name = str(path).lower().removesuffix(".gz")
    for fmt, suffixes in (("jsonl", (".jsonl", ".json")), ("csv", (".csv",)),
                          ("tsv", (".tsv", ".txt"))):
        if name.endswith(suffixes):
            return fmt
    raise ValueError(f"cannot tell the format of {path}; set data.format to one of "
                     + ", ".join(FORMATS))


def _open(path: Path) -> io.StringIO:
    """The file's text (``.gz`` decompressed), a stream with no newline translation; bytes that
    are not UTF-8 (or a ``.gz`` that is not gzip data) are a ``DataFormatError`` naming the
    file."""
    text = read_text(path)
    return io.StringIO(text, newline="")


def _rows(path: Path, fmt: str, fields: tuple[str, ...]
          ) -> Iterator[tuple[int, dict[str, object]]]:
    with _open(path) as file:
        if fmt == "jsonl":
            for number, line in enumerate(file, 1):
                if line.strip():
                    try:
                        yield number, json.loads(line)
                    except json.JSONDecodeError as error:
                        raise ValueError(f"{path}, line {number}: not JSON ({error}); "
                                         f"{ONE_OBJECT_A_LINE}") from None
        elif fmt in ("csv", "tsv"):
            yield from _table_rows(file, fmt, path, fields)
        else:
            raise ValueError(f"data.format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def _table_rows(file: io.StringIO, fmt: str, path: Path, fields: tuple[str, ...]
                ) -> Iterator[tuple[int, dict[str, object]]]:
    """A CSV or TSV file's rows by header name, each with the line it starts on (blank lines
    and quoted line breaks counted); blank lines are no rows, and a short row's missing fields
    are None. Spaces around the header's names are not part of them; a header naming one of
    ``fields`` (those read) twice is an error. A TSV is read without quoting, as GLUE's, unless
    a CSV writer quoted it (:func:`writer_quoted`)."""
    if fmt == "csv":
        reader = csv.reader(file)
    elif writer_quoted(file.getvalue()):
        reader = csv.reader(file, delimiter="\t")
    else:
        reader = csv.reader(file, delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header is None:
        return  # an empty file: no examples
    names = [name.strip() for name in header]
    if not any(names):
        raise ValueError(f"{path}, line 1: blank, but the header (the field names, such as "
                         "text and label) must be on line 1; remove the blank lines above it")
    twice = [name for name in fields if names.count(name) > 1]
    if twice:  # a row's dict would hold the last one's value alone
        raise ValueError(f"{path}, line 1: the header names column {twice[0]!r} "
                         f"{names.count(twice[0])} times, and only one can be read; give every "
                         "column its own name")
    start = reader.line_num + 1
    named = all(name in names for name in fields)  # else the missing name is the error
    for values in reader:
        if named and any(value.strip() for value in values[len(names):]):  # beyond the header
            fix = ("quote a text that holds a comma, as in \"good, not great\"" if fmt == "csv"
                   else "a TSV field cannot hold a tab: replace the tabs within the text")
            raise ValueError(f"{path}, line {start}: {plural(len(values), 'field')} where the "
                             f"header has {len(names)}, so a text or label would be cut short or "
                             f"shifted; {fix}")
        if values:
            yield start, {name: values[i] if i < len(values) else None
                          for i, name in enumerate(names)}
        start = reader.line_num + 1


def truncate(tokens: list[str], max_tokens: int, how: str) -> list[str]:
    """At most ``max_tokens`` tokens (0 keeps all): the first, the last, or half of each.

    Example:
        >>> truncate(list("abcdef"), 4, "head_tail")
        ['a', 'b', 'e', 'f']
    """
    if how not in TRUNCATIONS:
        raise ValueError(f"data.truncate must be one of {', '.join(TRUNCATIONS)}, got {how!r}")
    if max_tokens <= 0 or len(tokens) <= max_tokens:
        return tokens
    if how == "head":
        return tokens[:max_tokens]
    if how == "tail":
        return tokens[-max_tokens:]
    head = (max_tokens + 1) // 2
    return tokens[:head] + tokens[len(tokens) - (max_tokens - head):]


def prepare_tokens(text: str, lowercase: bool, max_tokens: int, how: str) -> list[str]:
    """Tokenize, lowercase and truncate one text as the classifier reads it."""
    tokens = text_words(text)
    if lowercase:
        tokens = [t.lower() for t in tokens]
    return truncate(tokens, max_tokens, how)


def check_text_length(tokens: list[str], where: str) -> None:
    """Refuse a text of more than :data:`MAX_TEXT_TOKENS` words (those kept by
    ``data.max_tokens``): a whole file on one line (50 MB of text, 9 million words) was read as
    one text, and the classifier's embeddings and recurrent outputs for it took more than 14 GB
    and ran on past a minute and a half."""
    if len(tokens) > MAX_TEXT_TOKENS:
        raise ValueError(f"{where}: a text of {len(tokens):,} words, more than one text may "
                         f"hold ({MAX_TEXT_TOKENS:,}; is it a whole file on one line?); split "
                         "it into texts, one a line or row, or keep the first words of each "
                         "with data.max_tokens when training")


def _separator_hint(row: object, fmt: str, fields: tuple[str, ...]) -> str:
    """What to do about a row without the named ``fields``: a header that is one column holding
    another separator (a CSV saved with ';' by a spreadsheet) is a file read with the wrong
    separator, one that is an SST tree (SST's train.txt, read as TSV by its name) a file of
    another format, and one that holds texts or labels a file without a header, not field
    names to set."""
    header = list(row) if isinstance(row, dict) else []
    if fmt in ("csv", "tsv") and len(header) == 1 and TREE_START.match(str(header[0])):
        return ("the file looks like SST trees, one a line, not a table: read it with "
                "--format sst (data.format=sst)")
    if fmt in ("csv", "tsv") and len(header) == 1:
        expected = "," if fmt == "csv" else "\t"
        for separator, name in ((";", "';'"), ("\t", "tabs"), (",", "commas"), ("|", "'|'")):
            if separator != expected and separator in str(header[0]):
                return (f"the header looks separated by {name}, but a {fmt} file is read "
                        f"separated by {'commas' if fmt == 'csv' else 'tabs'}: save it with "
                        f"{'commas' if fmt == 'csv' else 'tabs'}"
                        + (" (or name it .tsv, or pass --format tsv)" if separator == "\t"
                           else ""))
    if fmt in ("csv", "tsv") and any(_looks_like_data(str(name)) for name in header):
        named = " and ".join(map(repr, fields))
        example = ("," if fmt == "csv" else "<TAB>").join(fields)
        return ("the file seems to have no header: line 1 is read as the column names, but "
                "it looks like a row of data; add a header line above it naming the column"
                + (f"s {named}, such as {example}" if len(fields) > 1 else f" {named}"))
    return FIELDS_HINT


def _looks_like_data(name: str) -> bool:
    """Whether a header's name is rather a text or a label: several words, long, or a number.

    Example:
        >>> [_looks_like_data(n) for n in ("review text", "A tired, dull mess", "1", "label")]
        [False, True, True, False]
    """
    return (len(name.split()) >= 3 or len(name) > 40
            or name.strip().lstrip("-").replace(".", "", 1).isdigit())


def _json_kind(value: object) -> str:
    """JSON's name for the type of a parsed value."""
    kinds = ((bool, "boolean"), (list, "array"), (str, "string"), ((int, float), "number"))
    return next((name for kind, name in kinds if isinstance(value, kind)), "null")


def read_labelled_texts(
    path: str | Path,
    fmt: str = "auto",
    text_field: str = "text",
    label_field: str = "label",
    label_separator: str = "",
    lowercase: bool = True,
    max_tokens: int = 0,
    how: str = "head",
    labelled: bool = True,
) -> list[LabelledText]:
    """Every row of a file; a missing field or an empty text is an error naming the line.
    ``labelled`` False (texts to classify): the label field may be missing; labels ``()``."""
    path = Path(path)
    if fmt == "auto" and not path.is_file():  # not 'cannot tell the format' of a path not there
        missing = errno.EISDIR if path.is_dir() else errno.ENOENT
        raise (IsADirectoryError if path.is_dir() else FileNotFoundError)(
            missing, os.strerror(missing), str(path))
    fmt = guess_text_format(path) if fmt == "auto" else fmt
    examples = []
    fields = (text_field, label_field) if labelled else (text_field,)
    for number, row in _rows(path, fmt, fields):
        where = f"{path}, line {number}"
        if not isinstance(row, dict):  # a JSON array (of examples), a string, a number
            raise ValueError(f"{where}: a JSON {_json_kind(row)}, not an object with the "
                             f"field{'s' if len(fields) > 1 else ''} "
                             f"{' and '.join(map(repr, fields))}; {ONE_OBJECT_A_LINE}")
        if any(field not in row for field in fields):
            found = shortened(", ".join(map(str, row)))  # a 50 MB line read as names
            raise ValueError(f"{where}: needs the field{'s' if len(fields) > 1 else ''} "
                             f"{' and '.join(map(repr, fields))}"
                             f" (found: {found}); {_separator_hint(row, fmt, fields)}")
        if isinstance(row[text_field], list | dict):  # JSON: its Python form is no text
            raise ValueError(f"{where}: the text ({text_field!r}) is a JSON "
                             f"{'array' if isinstance(row[text_field], list) else 'object'}, "
                             "not a string; give each example's text as one string")
        tokens = prepare_tokens(str(row[text_field] or ""), lowercase, max_tokens, how)
        if not tokens:
            raise ValueError(f"{where}: the text is empty; remove the row or give it a text")
        check_text_length(tokens, where)
        if not labelled:
            examples.append(LabelledText(tuple(tokens), ()))
            continue
        if row[label_field] is None:  # a short CSV row, or a JSON null
            raise ValueError(f"{where}: no label (the row has no {label_field!r} value); "
                             "give it one or remove the row")
        value = row[label_field]
        if isinstance(value, dict) or (isinstance(value, list) and not label_separator):
            raise ValueError(
                f"{where}: the label is a JSON {'array' if isinstance(value, list) else 'object'}"
                f" ({json.dumps(value)[:60]}), which would be read as one class named by its "
                "text; give one label (a string or number), or for several labels set "
                "data.label_separator (an array is then read as the example's labels)")
        if isinstance(value, list):  # multi-label: a JSON array of the labels
            labels = [str(label).strip() for label in value]
        else:
            raw = str(value).strip()
            labels = ([p.strip() for p in raw.split(label_separator)] if label_separator
                      else [raw])
        labels = [label for label in labels if label]
        if not labels and not label_separator:
            raise ValueError(f"{where}: the label ({label_field!r}) is empty; give it one or "
                             "remove the row")
        examples.append(LabelledText(tuple(tokens), tuple(labels)))
    if not examples:
        raise ValueError(f"{path} holds no examples")
    return examples


def row_texts(path: str | Path, text_field: str = "text") -> list[tuple[int, str]]:
    """Each row's text as a CSV, TSV or JSONL file gives it (not lowercased or tokenized), with
    the line the row starts on: of a file :func:`read_labelled_texts` has read, row by row."""
    path = Path(path)
    return [(number, str(row[text_field] or ""))
            for number, row in _rows(path, guess_text_format(path), (text_field,))]
