"""The token and tag columns of an iob file's lines: which fields they are, and the checks
that a token line has them (:func:`rnnkit.data.iob.read_iob` reads a file with these).

Columns count from 1; a negative column counts from the end (``-1`` is the last).
"""

from __future__ import annotations

import re
from pathlib import Path

from rnnkit.data.files import shortened
from rnnkit.data.tagged import DataFormatError
from rnnkit.data.tags import is_tag
from rnnkit.plural import plural

_CONLLU_ID = re.compile(r"1(-\d+)?")  # a CoNLL-U sentence's first word (or multiword token)
_BILOU = re.compile(r"[UL]-\S+")  # BILOU's unit and last tags: BIOES's S- and E-


def field_index(column: int, name: str) -> int:
    """A 1-based (or negative, from the end) column as a Python index."""
    if column == 0:
        raise ValueError(f"{name} counts from 1 (or from the end with -1), so 0 is not a column")
    return column - 1 if column > 0 else column


def shown(value: object, limit: int = 200) -> str:
    """``repr(value)`` cut to ``limit`` characters: a line of a text file read as IOB (one
    paragraph a line) put all of it, megabytes, into the one-line error.

    Example:
        >>> shown(["a" * 300, "O"], 10)
        "['aaaaaaaa..."
    """
    return shortened(repr(value), limit)


class Columns:
    """Reads the token and tag fields of a line and checks them."""

    def __init__(self, token_field: int, tag_field: int, path: str | Path,
                 any_tag: bool = False, require_tags: bool = True, max_fields: int = 0,
                 names: tuple[str, str] = ("data.token_column", "data.tag_column")) -> None:
        self.token_field = token_field
        self.any_tag = any_tag
        self.plain_tags = ("O",) if require_tags else ("O", "_")  # _: a column to be filled
        self.tag_field = tag_field
        self.needed = max(i + 1 if i >= 0 else -i for i in (token_field, tag_field))
        self.from_end = token_field < 0 or tag_field < 0
        self.field_count = 0  # of the first token line, once seen
        self.path = path
        self.max_fields = max_fields
        self.names = names

    def choose(self, token: int | None, tag: int) -> str:
        """How to choose the tag column (and the token's): ``set data.tag_column=3 and
        data.token_column=2``, or by flags ``give --tag-column 3 --token-column 2``."""
        flags = self.names[0].startswith("--")
        settings = [f"{name} {value}" if flags else f"{name}={value}"
                    for name, value in zip(self.names[::-1], (tag, token), strict=True)
                    if value is not None]
        return ("give " if flags else "set ") + (" " if flags else " and ").join(settings)

    def read(self, fields: list[str], tab_separated: bool, number: int) -> tuple[str, str] | None:
        """(token, tag); for ``number == 0`` (a possible comment) None instead of an error."""
        try:
            token, tag = self._read(fields, tab_separated, number)
        except DataFormatError:
            if number:
                raise
            return None
        self.field_count = self.field_count or len(fields)
        return token, tag

    def _read(self, fields: list[str], tab_separated: bool, number: int) -> tuple[str, str]:
        # A token with a space shifts the columns of a whitespace-separated line, and a column
        # counted from the end moves with the field count: then every line needs the same count.
        # Tab-separated lines with columns counted from the start may vary (UNER's raw
        # pre-release train file has "4<TAB>:<TAB>O" beside five-field lines).
        count = len(fields)
        if not self.field_count and count == 10 and tab_separated and _CONLLU_ID.fullmatch(
                fields[0]):  # the columns would be read as tokens and tags, any tag accepted
            raise DataFormatError(
                f"ten tab-separated fields with the ID {fields[0]} first: a CoNLL-U file, not "
                "token and tag columns; read it as CoNLL-U (--format conllu)", self.path, number,
            )
        if (self.field_count and count != self.field_count
                and (self.from_end or not tab_separated)):
            raise DataFormatError(
                f"{plural(count, 'field')} where the first token line has {self.field_count} "
                "(a token with a space in a file that is not tab-separated?): "
                f"{shown(fields)}",
                self.path, number,
            )
        if count < self.needed:
            raise DataFormatError(
                f"{plural(count, 'field')} but the token and tag columns need {self.needed}: "
                f"{shown(fields)}; choose columns the lines have "
                f"({self.choose(1, count) if count > 1 else 'a tag column is needed'})",
                self.path, number,
            )
        if self.max_fields and count > self.max_fields:
            raise DataFormatError(
                f"{count} fields, and without both columns chosen only token and tag lines "
                f"({self.max_fields} fields) are read: say which column holds the token and "
                f"which the tag ({self.choose(2, 3)}, say): {shown(fields)}", self.path, number,
            )
        if self.token_field % count == self.tag_field % count:
            # a file of tokens only under the default columns (the first and the last): the
            # token would be read as its own tag, and a written prediction would replace it
            other = next((s for s in ";,|" if count == 1 and s in fields[0]
                          and is_tag(fields[0].rsplit(s, 1)[1])), "")  # 'word;B-PER'
            raise DataFormatError(
                f"this line is one field, {shown(fields[0])}: its columns look separated by "
                f"'{other}', but an iob file's are separated by tabs or spaces; save it so"
                if other else
                f"the token and tag columns are both field {self.token_field % count + 1} of "
                f"this line of {count} field(s): {shown(fields)}; a tag column is needed (any "
                "valid tag, e.g. O, for text to be tagged; or rnnkit predict --format text)",
                self.path, number,
            )
        token, tag = fields[self.token_field], fields[self.tag_field]
        if not token or token.isspace():
            raise DataFormatError("empty token", self.path, number)
        if self.any_tag:
            if not tag or tag.isspace():
                raise DataFormatError(f"empty tag: {shown(fields)}", self.path, number)
        elif tag not in self.plain_tags and not is_tag(tag):
            tags_at = [i + 1 for i, field in enumerate(fields)
                       if i != self.token_field % len(fields) and is_tag(field)]
            numbered = self.token_field == 0 and fields[0].isdigit() and len(fields) > 2
            hint = ("" if not tags_at else f"; column {tags_at[0]} holds a tag: "
                    + (self.choose(2, tags_at[0]) + " (column 1 numbers the words)" if numbered
                       else self.choose(None, tags_at[0])))
            raise DataFormatError(
                f"tag {shown(tag)} is not O, B-X, I-X, E-X or S-X (is the tag column right? "
                f"fields: {shown(fields)}{hint}; {self._other_tags(tag)})", self.path, number,
            )
        return token, tag

    def _other_tags(self, tag: str) -> str:
        """What to do with tags of another kind than entity spans: training reads them with
        data.scheme=none, while predict and evaluate (their columns chosen by flags) read for
        an entity model and take no data.scheme. BILOU's tags are spans, read as none they
        would be scored as plain tags, without span F1."""
        if _BILOU.fullmatch(tag):
            return ("U-X and L-X are BILOU tags, which BIOES writes S-X and E-X: rename them "
                    "(U- to S-, L- to E-) and the spans read as BIOES")
        if not self.names[0].startswith("--"):
            return "for tags of another kind, such as part of speech, set data.scheme=none"
        if "_" in self.plain_tags:  # predict: the column is to be overwritten
            return ("predict writes the model's entity tags into this column, which may hold "
                    "_ or entity tags, not tags of another kind: add a column of _ and give "
                    f"its number as {self.names[1]}")
        return ("the model tags entity spans, so it is scored against entity tags only: give a "
                f"file of them ({self.names[1]} names their column)")
