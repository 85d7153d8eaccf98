"""A count and its noun for a message: ``1 row``, ``2 rows``, never ``1 rows``."""

from __future__ import annotations


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``count`` and ``noun``, or its plural (``nouns``; default: ``noun`` + s) for any count
    but 1.

    Example:
        >>> plural(1, "row"), plural(3, "row"), plural(0, "class", "classes")
        ('1 row', '3 rows', '0 classes')
    """
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"
