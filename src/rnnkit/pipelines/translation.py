"""Apply a translation model to raw text: tokenize, batch, decode, detokenize.

Documented handling of awkward input:

* an empty (or all-space) line translates to an empty line, so output stays line-aligned; so
  does a line with no subwords at all, one of only characters that the tokenizer's
  normalisation removes (zero-width spaces, a byte-order mark), as validation scores it;
* a line longer than ``seq2seq.max_source_tokens`` subwords is **truncated** to that many, with
  a warning naming the line (the rest of it is not translated);
* characters never seen in training become the unknown piece; a warning names them, and the
  model never writes an unknown piece itself.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

from rnnkit.data.batching import bucket_order
from rnnkit.data.files import shortened
from rnnkit.data.subword import BOS_ID, EOS_ID, PAD_ID
from rnnkit.models.beam_search import Hypothesis, beam_search, length_penalty
from rnnkit.models.seq2seq import Seq2Seq
from rnnkit.training.bundle import load_model
from rnnkit.training.task import evaluating


def load_translator(path: str | Path) -> Seq2Seq:
    """A saved translation model, checked to be one (another task's bundle is a BundleError)."""
    return load_model(path, Seq2Seq)


def source_ids(model: Seq2Seq, line: str, number: int = 0, source_file: str = ""
               ) -> list[int]:
    """The source ids of one raw line with the end marker, truncated with a warning if long;
    the warnings name the line ``number`` (from 0) and the file ``source_file`` when given."""
    tokenizer = model.source_tokenizer
    unknown = tokenizer.unknown_characters(line)
    where = f"{source_file}, line {number + 1}" if source_file else f"line {number + 1}"
    if unknown:
        warnings.warn(f"{where}: characters never seen in training are read as"
                      f" unknown: {' '.join(unknown)}", stacklevel=2)
    ids = tokenizer.encode(line)
    limit = model.config.max_source_tokens
    if len(ids) > limit:
        warnings.warn(f"{where} has {len(ids)} subword tokens; only the first {limit}"
                      " are translated (raise seq2seq.max_source_tokens or split the line)",
                      stacklevel=2)
        ids = ids[:limit]
    return ids + [EOS_ID]


def has_subwords(model: Seq2Seq, line: str) -> bool:
    """Whether ``line`` holds anything to translate: a blank line has no subwords, nor has one
    of only characters that normalisation removes (a zero-width space U+200B, a byte-order
    mark); such a line translates to an empty line, which is how validation scores it."""
    return bool(line.strip()) and bool(model.source_tokenizer.encode(line))


def pad(rows: Sequence[Sequence[int]]) -> tuple[Tensor, Tensor]:
    """Id lists -> ``[B, T]`` padded with 0, and their lengths ``[B]``."""
    lengths = torch.tensor([len(row) for row in rows], dtype=torch.long)
    out = torch.full((len(rows), int(lengths.max())), PAD_ID, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.tensor(row, dtype=torch.long)
    return out, lengths


@torch.no_grad()
def translate_lines(model: Seq2Seq, lines: Sequence[str], beam_size: int | None = None,
                    alpha: float | None = None, n_best: int = 1, batch_size: int = 64,
                    source_file: str = "") -> list[list[Hypothesis]]:
    """The ``n_best`` translations of each raw line, in the input's order (``source_file``:
    the file they come from, which a warning about a line names).

    ``beam_size`` 1 is greedy decoding; None takes the model's ``seq2seq.beam_size`` (and
    ``length_penalty`` for ``alpha``). An empty line, or one with no subwords (see
    :func:`has_subwords`), gets one empty hypothesis.
    """
    if isinstance(lines, str):
        raise TypeError(f"translate_lines takes a list of lines, got the string {lines[:40]!r};"
                        " pass [line] for one")
    for number, line in enumerate(lines):
        if not isinstance(line, str):
            raise TypeError(f"translate_lines: line {number + 1} is a {type(line).__name__},"
                            f" not text: {shortened(repr(line))}; give every line as a str"
                            " (str(line), or '' for an empty one)")
    if batch_size < 1:
        raise ValueError(f"translate_lines: batch_size must be at least 1 (lines decoded "
                         f"together), got {batch_size}")
    with evaluating(model):  # its mode (train or eval) is given back after
        beam = model.config.beam_size if beam_size is None else beam_size
        alpha = model.config.length_penalty if alpha is None else alpha
        results: list[list[Hypothesis]] = [[Hypothesis([], 0.0, 0.0)] for _ in lines]
        encoded = {i: source_ids(model, line, i, source_file) for i, line in enumerate(lines)
                   if line.strip()}
        todo = [i for i, ids in encoded.items() if len(ids) > 1]  # more than the end marker
        device = model.device
        for chunk in bucket_order([len(encoded[i]) for i in todo], batch_size, None):
            indices = [todo[j] for j in chunk]
            source, lengths = pad([encoded[i] for i in indices])
            source = source.to(device)
            if beam == 1 and n_best == 1:
                ids, maps, totals = model.greedy_scored(source, lengths)
                found = [[Hypothesis(row, total / length_penalty(len(row), alpha), total, weights)]
                         for row, weights, total in zip(ids, maps, totals, strict=True)]
            else:
                found = beam_search(model, source, lengths, beam, alpha, n_best)
            for index, hypotheses in zip(indices, found, strict=True):
                results[index] = hypotheses
        return results


def detokenize(model: Seq2Seq, hypotheses: list[list[Hypothesis]]) -> list[str]:
    """The best hypothesis of each line as text."""
    return [model.target_tokenizer.decode(found[0].tokens) for found in hypotheses]


def forced_attention(model: Seq2Seq, source: str, target: str) -> tuple[Tensor, list[int]]:
    """Attention weights ``[len + 1, S]`` while the model reads a given translation ``target``
    of ``source`` (teacher forcing), and the target's ids; for a heat map of any pair."""
    if model.decoder.attention is None:
        raise ValueError("this model has no attention (seq2seq.attention = none): no heat map")
    # no gradients, and its mode (train or eval) given back after; no_grad not as a decorator,
    # whose frame the warning below would name as its caller (cli.main prints rnnkit's own
    # warnings in one line, told by the file named)
    with torch.no_grad(), evaluating(model):
        source_tensor, lengths = pad([source_ids(model, source)])
        unknown = model.target_tokenizer.unknown_characters(target)
        if unknown:
            warnings.warn("the given translation has characters never seen in training, read"
                          f" as unknown: {' '.join(unknown)}", stacklevel=2)
        target_ids = model.target_tokenizer.encode(target)
        memory, state = model.encode(source_tensor.to(model.device), lengths)
        rows: list[Tensor] = []
        for token in [BOS_ID, *target_ids]:
            _, state, weights = model.decoder.step(torch.tensor([token], device=model.device),
                                                   state, memory)
            assert weights is not None
            rows.append(weights[0])
        return torch.stack(rows), target_ids  # [len + 1, S]
