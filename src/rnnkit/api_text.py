"""``rnnkit.generate`` and ``rnnkit.translate``: the text ``rnnkit generate`` streams and the
lines ``rnnkit translate`` writes, as Python strings.

Each runs the command's own checks (their errors name the command's flags, ``--top-p``,
``--n-best``) and functions; the defaults are the flags' defaults.

Example:
    >>> generate("runs/lm/model.rnnkit", prime="ROMEO:", length=40, seed=3)  # doctest: +SKIP
    'ROMEO: ...'
    >>> translate("runs/seq2seq/model.rnnkit", ["ein hund rennt"])  # doctest: +SKIP
    ['a dog runs']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rnnkit.api import loaded
from rnnkit.config import ConfigError


def generate(model_or_path: Any, prime: str = "", length: int = 500, temperature: float = 0.8,
             top_k: int = 0, top_p: float = 1.0, seed: int = 0) -> str:
    """The text ``rnnkit generate`` streams (the prime, then ``length`` tokens; without the
    line break the command ends with), for a language model or its bundle's path."""
    from rnnkit.commands.language_model import sampling
    from rnnkit.models.generate import check_prime
    from rnnkit.models.generate import generate as sample

    if not isinstance(prime, str):
        raise ConfigError(f"prime={prime!r}: give the text to start from as a string")
    for name, count in (("length", length), ("top_k", top_k), ("seed", seed)):
        _check_number(name, count, whole=True)
    for name, number in (("temperature", temperature), ("top_p", top_p)):
        _check_number(name, number, whole=False)
    config = sampling(prime, length, temperature, top_k, top_p, seed)
    model = loaded(model_or_path, ("language_model",), "generate")
    check_prime(model, prime, key=f"--prime {prime!r}")
    return sample(model, config)


def translate(model_or_path: Any, sentences: Sequence[str], beam_size: int | None = None,
              n_best: int = 1, length_penalty: float | None = None) -> Any:
    """What ``rnnkit translate`` writes for these sentences (one a line of ``--input``), for a
    seq2seq model or its bundle's path: a list of translations, one a sentence; with
    ``n_best`` above 1, a list of each sentence's ``n_best`` translations, best first (the
    command writes each with its score). ``beam_size`` and ``length_penalty``: default the
    model's (``seq2seq.beam_size``, ``length_penalty``); 1 is greedy."""
    from rnnkit.commands.seq2seq import (
        check_decoding,
        check_decoding_flags,
        decoded,
        translations,
    )

    if isinstance(sentences, str):
        raise ValueError("sentences is one string; give a list of them (one a line of "
                         "--input): [sentence]")
    for number, sentence in enumerate(sentences, 1):
        if not isinstance(sentence, str):
            raise ValueError(f"sentences item {number} is {sentence!r}: give each sentence "
                             "as a string")
        if "\n" in sentence or "\r" in sentence:
            raise ValueError(f"sentences item {number} holds a line break: rnnkit translate "
                             "reads one sentence a line; give each line as its own item")
    if beam_size is not None:
        _check_number("beam_size", beam_size, whole=True)
    _check_number("n_best", n_best, whole=True)
    if length_penalty is not None:
        _check_number("length_penalty", length_penalty, whole=False)
    check_decoding_flags(beam_size, n_best, length_penalty)
    model = loaded(model_or_path, ("seq2seq",), "translate")
    check_decoding(model, beam_size, n_best)
    texts = decoded(model, translations(model, list(sentences), beam_size, length_penalty,
                                        n_best))
    if n_best > 1:
        return [[text for text, _ in best] for best in texts]
    return [best[0][0] for best in texts]


def _check_number(name: str, value: Any, whole: bool) -> None:
    """Refuse what the flag ``--NAME`` would not read: a bool, a string, 2.5 for a count."""
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        what = "a whole number" if whole else "a number"
        raise ConfigError(f"{name}={value!r}: give {what}, as --{name.replace('_', '-')} "
                          "takes")
