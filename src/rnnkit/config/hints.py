"""Guesses for a misspelt or misplaced setting: `` did you mean train.epochs?``, for the
errors :mod:`~rnnkit.config.files` raises on an unknown key or section."""

from __future__ import annotations

import difflib


def did_you_mean(section: str, name: str, known: list[str]) -> str:
    """`` did you mean train.epochs?`` for a misspelt ``name`` of ``section`` (a section
    itself when ``section`` is ""), or a key put in the wrong section, among ``known``.

    Example:
        >>> did_you_mean("train", "hidden_size", ["model.hidden_size", "train.lr"])
        ' did you mean model.hidden_size?'
    """
    if section:
        elsewhere = [key for key in known if key.partition(".")[2] == name]
        own = [key.partition(".")[2] for key in known if key.startswith(f"{section}.")]
        close = elsewhere or [f"{section}.{match}" for match in
                              difflib.get_close_matches(name, own, n=1)]
    else:
        close = difflib.get_close_matches(name, known, n=1)
    return f" did you mean {close[0]}?" if close else ""


def did_you_mean_key(name: str, known: list[str]) -> str:
    """`` did you mean train.lr (under a [train] line)?`` for a key ``name`` given outside
    any section: the key of that name (or the closest), among ``known``.

    Example:
        >>> did_you_mean_key("epoch", ["model.cell", "train.epochs"])
        ' did you mean train.epochs (under a [train] line)?'
    """
    tails = {key.partition(".")[2]: key for key in reversed(known)}  # first key of a name
    close = [name] if name in tails else difflib.get_close_matches(name, list(tails), n=1)
    if not close:
        return ""
    key = tails[close[0]]
    return f" did you mean {key} (under a [{key.partition('.')[0]}] line)?"


def did_you_mean_section(section: str, names: list[str], known: list[str]) -> str:
    """`` did you mean model.hidden_size?`` for keys ``names`` under an unknown ``section``:
    a close section holding the same key (``modle.dropout``: ``model.dropout``, though
    ``seq2seq.dropout`` comes first), else the same key in another section, else a close
    section holding a key close to one of them, else a close key anywhere (a section name
    alone can mislead: ``train`` is close to ``trading``, which holds no ``epochs``).

    Example:
        >>> keys = ["agent.episodes", "agent.lr", "trading.mode", "model.hidden_size"]
        >>> did_you_mean_section("train", ["epochs"], keys)  # not trading
        ''
        >>> did_you_mean_section("train", ["lr"], keys)
        ' did you mean agent.lr?'
        >>> did_you_mean_section("modle", ["hiden_size"], keys)
        ' did you mean model.hidden_size?'
        >>> did_you_mean_section("modle", ["lr"], ["agent.lr", "model.lr"])
        ' did you mean model.lr?'
    """
    sections = list(dict.fromkeys(key.partition(".")[0] for key in known))
    nearest = difflib.get_close_matches(section, sections, n=3)
    for name in names:
        for near in nearest:
            if f"{near}.{name}" in known:
                return f" did you mean {near}.{name}?"
    for name in names:
        hint = did_you_mean(section, name, known)
        if hint:
            return hint
    for near in nearest:
        for name in names:
            hint = did_you_mean(near, name, known)
            if hint:
                return hint
    tails = {key.partition(".")[2]: key for key in reversed(known)}  # first key of a name
    for name in names:
        close = difflib.get_close_matches(name, list(tails), n=1)
        if close:
            return f" did you mean {tails[close[0]]}?"
    if not names:  # an empty [section] of a file: the section alone
        return did_you_mean("", section, sections)
    return ""
