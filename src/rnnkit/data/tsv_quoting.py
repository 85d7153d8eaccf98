"""Whether a TSV file was quoted by a CSV writer (pandas' ``to_csv(sep="\\t")``) or, as GLUE's,
holds its quotes as characters of the text: :func:`writer_quoted`, which
:mod:`rnnkit.data.text_labels` asks before reading a TSV."""

from __future__ import annotations

import csv
import io
import re

# a whole TSV field in quotes, each quote inside doubled: as a CSV writer quotes a field
_QUOTED_FIELD = re.compile(r'(?:^|(?<=\t))"((?:[^"]|"")*)"(?=\t|\r?\n|\Z)', re.MULTILINE)


def writer_quoted(text: str) -> bool:
    """Whether a TSV file's ``text`` was quoted by a CSV writer: pandas' ``to_csv(sep="\\t")``
    puts a text holding a quote in quotes and doubles the quote (``"He said ""wow"" twice"``), and
    one holding a line break in quotes across lines. Such a file is read with that quoting; any
    other TSV, as GLUE's, without: its quotes are characters of the text (``"the best" movie``).
    A file is read quoted only where it is consistent with a writer's quoting: a field shows the
    writer's doubled quote or quoted line break; every quote is in a whole quoted field, its
    quotes doubled (a writer quotes any field holding one: ``he said "hi"`` is GLUE's); no
    quoted field runs across a line break and a tab (GLUE rows with a stray quote at the start
    of one and the end of another, which would merge into one); and every row has the header's
    number of fields.

    Example:
        >>> writer_quoted('text\\tlabel\\n"He said ""wow"" twice"\\tpos\\n'), writer_quoted(
        ...     'text\\tlabel\\n"the best" movie\\tpos\\n')
        (True, False)
    """
    quoted = [match[1] for match in _QUOTED_FIELD.finditer(text)]
    if not any('""' in field or "\n" in field for field in quoted):
        return False
    if any("\t" in field and "\n" in field for field in quoted):
        return False  # a span over rows and fields: GLUE's stray quotes, not one field
    if '"' in _QUOTED_FIELD.sub("", text):
        return False  # a quote outside a whole quoted field: no writer leaves one there
    try:
        widths = {len(row) for row in csv.reader(io.StringIO(text, newline=""),
                                                   delimiter="\t", strict=True) if row}
    except csv.Error:  # a quote a writer would have doubled: quotes are the text's own
        return False
    return len(widths) == 1
