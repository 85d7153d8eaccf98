"""The Stanford Sentiment Treebank: PTB-style trees with a sentiment label 0-4 on every node.

``(3 (2 It) (4 (2 's) (3 (3 good))))``: every bracket is a phrase with its label, leaves are
words. SST-5 uses the five labels; SST-2 drops neutral (2) and maps 0-1 to negative, 3-4 to
positive. Phrase-level training adds every labelled phrase of the training trees as an example.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from rnnkit.data.files import read_text, shortened

SST5_LABELS = ("very negative", "negative", "neutral", "positive", "very positive")
SST2_LABELS = ("negative", "positive")
SCHEMES = ("sst5", "sst2")
TREE_START = re.compile(r"\s*\(\d\s+\(")  # a labelled phrase holding another: (3 (2 It) ...
_BLANKS = " \t"  # between labels, words and brackets (a no-break space is part of a word)
_PTB_BRACKETS = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]",
                 "-LCB-": "{", "-RCB-": "}"}


@dataclass(frozen=True)
class SentimentTree:
    """One parsed tree: its words and every phrase ``(first word, end, label 0-4)``.

    The whole sentence is the last phrase.
    """

    tokens: tuple[str, ...]
    phrases: tuple[tuple[int, int, int], ...]

    @property
    def label(self) -> int:
        return self.phrases[-1][2]


def parse_tree(line: str) -> SentimentTree:
    """Parse one PTB-style line: one tree, nothing before or after it.

    Example:
        >>> tree = parse_tree("(3 (2 It) (4 (2 's) (3 good)))")
        >>> tree.tokens, tree.label, len(tree.phrases)
        (('It', "'s", 'good'), 3, 5)
    """
    tokens: list[str] = []
    phrases: list[tuple[int, int, int]] = []
    stack: list[tuple[int, int]] = []  # (label, first token) of every open bracket
    position, text = 0, line.strip()
    while position < len(text):
        char = text[position]
        if not stack and char not in _BLANKS + ")" and (phrases or char != "("):
            shown = shortened(repr(text[position:]))  # a 50 MB line was quoted whole
            raise ValueError(f"text outside the tree's brackets: {shown} (a line holds one "
                             "tree, such as (3 (2 It) (4 good)))")
        if char == "(":
            end = position + 1
            while end < len(text) and text[end] not in _BLANKS + "()":
                end += 1
            label = text[position + 1 : end]
            if not label.isdigit() or not 0 <= int(label) <= 4:
                raise ValueError(f"a tree node needs a label 0-4, got {label!r}")
            stack.append((int(label), len(tokens)))
            position = end
        elif char == ")":
            if not stack:
                raise ValueError("unbalanced brackets: ')' without '('")
            value, first = stack.pop()
            if first == len(tokens):
                raise ValueError(f"a tree node holds no words: ({value}); every node needs a "
                                 "word, such as (2 It), or nodes that hold words")
            phrases.append((first, len(tokens), value))
            position += 1
        elif char in _BLANKS:
            position += 1
        else:
            end = position
            while end < len(text) and text[end] not in _BLANKS + "()":
                end += 1
            word = text[position:end]
            tokens.append(_PTB_BRACKETS.get(word, word))
            position = end
    if stack or not phrases:
        raise ValueError("unbalanced brackets: a '(' is never closed" if stack else "empty tree")
    if not tokens:
        raise ValueError("the tree has no words")
    return SentimentTree(tuple(tokens), tuple(phrases))


def is_tree_line(line: str) -> bool:
    """Whether ``line`` is one whole SST tree whose root holds other phrases, such as
    ``(3 (2 It) (4 good))``: a text in brackets, such as ``(4 out of 5)``, is none.

    Example:
        >>> is_tree_line("(3 (2 It) (4 good))"), is_tree_line("(4 out of 5)")
        (True, False)
    """
    if not TREE_START.match(line):
        return False
    try:
        parse_tree(line)
    except ValueError:
        return False
    return True


def read_trees(path: str | Path) -> list[SentimentTree]:
    """Every tree of a UTF-8 file (one per line); a bad line (or bytes that are not UTF-8), or
    a file with no tree, is an error naming the file (and line)."""
    text = read_text(path)
    trees = []
    for number, line in enumerate(io.StringIO(text, newline=None), 1):  # \r\n, \r: \n
        if not line.strip():
            continue
        try:
            trees.append(parse_tree(line))
        except ValueError as error:
            raise ValueError(f"{path}, line {number}: {error}") from None
    if not trees:
        raise ValueError(f"{path} holds no trees (is this the right file and format? SST has "
                         "one tree per line, such as (3 (2 It) (4 good)))")
    return trees


def map_label(label: int, scheme: str) -> str | None:
    """The label's name under a scheme; None when SST-2 drops it (neutral)."""
    if scheme == "sst5":
        return SST5_LABELS[label]
    if scheme == "sst2":
        return None if label == 2 else SST2_LABELS[int(label > 2)]
    raise ValueError(f"data.sst_labels must be one of {', '.join(SCHEMES)}, got {scheme!r}")


def sst_examples(trees: list[SentimentTree], scheme: str, phrases: bool
                 ) -> list[tuple[list[str], str]]:
    """``(tokens, label)`` pairs: whole sentences, or (``phrases``) every distinct phrase."""
    examples: list[tuple[list[str], str]] = []
    seen: set[tuple[str, ...]] = set()
    for tree in trees:
        spans = tree.phrases if phrases else tree.phrases[-1:]
        for first, end, label in reversed(spans):  # the sentence first
            name = map_label(label, scheme)
            words = tree.tokens[first:end]
            if name is None or (phrases and words in seen):
                continue
            seen.add(words)
            examples.append((list(words), name))
    return examples
