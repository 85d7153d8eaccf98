"""Text generation from a language model: greedy, temperature, top-k and top-p sampling.

The prime is read through the model first (its state carries over), then one token is drawn
at a time from the scores of the last one. A seed makes the output repeatable; ``on_text``
receives every piece as soon as it is drawn (streaming to a terminal).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from rnnkit.config import ConfigError, check_at_least
from rnnkit.data.text_stream import EOS, tokenize
from rnnkit.models.language_model import LanguageModel
from rnnkit.training.task import evaluating


@dataclass(frozen=True)
class SamplingConfig:
    """How to draw text; ``temperature = 0`` is greedy (always the most likely token)."""

    prime: str = ""  # text to start from; "" starts at a line break
    length: int = 500  # tokens to generate after the prime (words: a line break is one)
    temperature: float = 0.8
    top_k: int = 0  # keep only the k most likely tokens; 0 keeps all
    top_p: float = 1.0  # keep the smallest set of tokens whose probability reaches p
    seed: int = 0


def filter_scores(scores: Tensor, top_k: int, top_p: float) -> Tensor:
    """Scores with every token outside the top-k / top-p set at ``-inf``.

    Shape:
        scores: ``[V]`` -> ``[V]``.
    """
    if top_k > 0 and top_k < scores.shape[0]:
        threshold = torch.topk(scores, top_k).values[-1]
        scores = scores.masked_fill(scores < threshold, float("-inf"))
    if top_p < 1.0:
        ordered, order = torch.sort(scores, descending=True)
        cumulative = torch.softmax(ordered, dim=0).cumsum(dim=0)
        drop = cumulative - torch.softmax(ordered, dim=0) >= top_p
        drop[0] = False  # the first token always stays (a top_p that rounds to 0 dropped it)
        scores = scores.masked_fill(drop.scatter(0, order, drop), float("-inf"))
    return scores


def check_sampling(config: SamplingConfig,
                   key: Callable[[str], str] = lambda name: f"sample.{name}") -> None:
    """Refuse sampling settings out of range; ``key`` names a field as the user set it (the
    ``sample.*`` settings of ``rnnkit train lm`` by default, or ``rnnkit generate``'s flags)."""
    check_at_least(config.length, key("length"), 0)
    check_at_least(config.temperature, key("temperature"), 0)  # 0: greedy
    check_at_least(config.top_k, key("top_k"), 0)  # 0: off
    if not 0 <= config.seed < 2**64:  # what torch.Generator.manual_seed takes
        raise ConfigError(f"{key('seed')} must be a whole number from 0 to 2**64 - 1; got "
                          f"{config.seed!r}")
    if not 0.0 < config.top_p <= 1.0:
        raise ConfigError(f"{key('top_p')} must be above 0 and at most 1 (1 = off); got "
                          f"{config.top_p!r}")


def check_prime(model: LanguageModel, prime: str, key: str = "sample.prime") -> None:
    """Refuse a prime the model cannot start from, naming the setting ``key`` (or a flag)."""
    try:
        prime_ids(model, prime)
    except ValueError as error:
        raise ConfigError(f"{key}: {error}") from None


def prime_ids(model: LanguageModel, prime: str) -> list[int]:
    """The prime as token ids; characters the model never saw are an error naming them.

    Words the model does not know become ``<unk>`` (word-level models have one).
    """
    level = model.config.level
    tokens = tokenize(prime, level) if prime else []  # a word prime's line breaks are <eos>
    if not tokens:
        start = "\n" if level == "char" else EOS
        if start not in model.vocab:
            raise ValueError("the model saw no line break in training (its text is one "
                             "line), which a sample starts from when no prime is given; give "
                             "a prime, the text the sample starts with, such as its first "
                             "word")
        tokens = [start]
    if not model.vocab.unknown:
        unseen = sorted(set(tokens) - set(model.vocab.symbols))
        if unseen:
            raise ValueError(
                f"the prime holds characters the model never saw in training: {unseen}; "
                "use only characters of its vocabulary (rnnkit generate --show-vocabulary)"
            )
    return model.vocab.encode(tokens)


@torch.no_grad()
def generate(model: LanguageModel, config: SamplingConfig,
             on_text: Callable[[str], None] | None = None) -> str:
    """The prime followed by ``config.length`` generated tokens, as text."""
    check_sampling(config)
    with evaluating(model):  # its mode (train or eval) is given back after
        device = next(model.parameters()).device
        generator = torch.Generator(device=device).manual_seed(config.seed)
        ids = prime_ids(model, config.prime)
        level = model.config.level
        scores, state = model(torch.tensor(ids, device=device).unsqueeze(1))  # [P, 1] -> [P, 1, V]
        last = scores[-1, 0]
        pieces = [config.prime]  # the text as streamed: the prime, then one piece per token
        # a word goes after a space, unless it starts the text, a line, or follows the prime's
        # own whitespace; a line break never does (as detokenize writes the words)
        spaced = level == "word" and bool(config.prime[-1:].strip())
        if on_text is not None and config.prime:
            on_text(config.prime)
        for _ in range(config.length):
            last = last.clone()
            last[0] = float("-inf")  # never the padding symbol
            if model.vocab.unknown:
                last[model.vocab.unk_id] = float("-inf")  # nor <unk>
            if config.temperature < torch.finfo(last.dtype).tiny:  # 0, or one that rounds to 0
                token = int(last.argmax())  # (its distribution is the argmax's anyway)
            else:
                # no overflow at a tiny one; one beyond the dtype's range would be inf there
                # (-inf / inf = nan): as large a one samples as uniformly
                temperature = min(config.temperature, torch.finfo(last.dtype).max)
                scaled = (last - last.max()) / temperature
                filtered = filter_scores(scaled, config.top_k, config.top_p)
                token = int(torch.multinomial(torch.softmax(filtered, 0), 1, generator=generator))
            symbol = model.vocab.symbols[token]
            if level == "char":
                piece = symbol
            else:
                piece = "\n" if symbol == EOS else (" " if spaced else "") + symbol
                spaced = symbol != EOS
            pieces.append(piece)
            if on_text is not None:
                on_text(piece)
            scores, state = model(torch.tensor([[token]], device=device), state)
            last = scores[-1, 0]
        return "".join(pieces)
