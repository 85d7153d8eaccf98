"""The English word tokenizer that text readers and word2vec corpora share, and the HTML line
break (``<br />``, in IMDB reviews) both remove before tokenizing.

Words and punctuation, with English clitics split off as in the Penn Treebank and Universal
Dependencies ("do n't", "it 's"), so that the words match a tagger's tokens and the vectors
trained by ``rnnkit word2vec``; decimals and times stay whole.
"""

from __future__ import annotations

import re

_CLITIC = r"(?:s|re|ve|ll|d|m)\b"  # after an apostrophe
TOKEN_PATTERN = re.compile(
    r"\w+(?=n't\b)|n't\b"  # do|n't, ca|n't
    rf"|'{_CLITIC}"  # 's 're 've 'll 'd 'm
    r"|\d+(?:[.,:]\d+)+"  # 3.5  1,000  10:30
    rf"|\w+(?:-\w+|'(?!{_CLITIC})\w+)*"  # words, well-known, o'clock
    r"|[^\w\s]",  # any other symbol, one at a time
    re.IGNORECASE,
)
HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)  # IMDB reviews hold HTML line breaks


def tokenize(text: str) -> list[str]:
    """Words and punctuation of ``text``, with English clitics split off.

    Example:
        >>> tokenize("Don't panic: it's 3.5 stars, not 10!")
        ['Do', "n't", 'panic', ':', 'it', "'s", '3.5', 'stars', ',', 'not', '10', '!']
    """
    return TOKEN_PATTERN.findall(text)


def text_words(text: str) -> list[str]:
    """:func:`tokenize` of ``text`` without its HTML line breaks, as every text reader and
    word2vec corpus reads a text.

    Example:
        >>> text_words("Great.<br /><br />Don't miss it")
        ['Great', '.', 'Do', "n't", 'miss', 'it']
    """
    return tokenize(HTML_BREAK.sub(" ", text))
