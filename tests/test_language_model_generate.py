"""Language model: sampling text from a model (rnnkit generate, primes, filters)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from test_language_model import _model

from rnnkit.cli import main
from rnnkit.data.text_stream import tokenize
from rnnkit.models.generate import SamplingConfig, filter_scores, generate
from rnnkit.training.bundle import save_bundle


def test_sampling_is_repeatable_with_a_seed_and_streams_every_piece() -> None:
    model, _ = _model()
    pieces: list[str] = []
    config = SamplingConfig(prime="RO", length=30, temperature=1.0, top_k=5, seed=7)
    text = generate(model, config, on_text=pieces.append)
    assert "".join(pieces) == text and len(text) == 32
    assert generate(model, config) == text
    assert generate(model, SamplingConfig(prime="RO", length=30, seed=8)) != text
    greedy = generate(model, SamplingConfig(prime="RO", length=30, temperature=0))
    assert generate(model, SamplingConfig(prime="RO", length=30, top_k=1, seed=3)) == greedy
    assert generate(model, SamplingConfig(prime="RO", length=30, top_p=1e-6, seed=3)) == greedy
    tiny = SamplingConfig(prime="RO", length=30, temperature=1e-40, seed=3)  # no inf / inf
    assert generate(model, tiny) == greedy


def test_filter_scores_keeps_top_k_and_the_top_p_nucleus() -> None:
    scores = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    assert torch.isinf(filter_scores(scores, 2, 1.0)).tolist() == [False, False, True, True]
    assert torch.isinf(filter_scores(scores, 0, 0.7)).tolist() == [False, False, True, True]
    assert torch.isinf(filter_scores(scores, 0, 0.5)).tolist() == [False, True, True, True]


def test_bad_primes_and_settings_are_clear_errors() -> None:
    model, _ = _model()
    with pytest.raises(ValueError, match=r"never saw in training: \['Z', 'é'\]"):
        generate(model, SamplingConfig(prime="Zé", length=5))
    with pytest.raises(ValueError, match="sample.top_p must be above 0 and at most 1"):
        generate(model, SamplingConfig(top_p=0.0))
    with pytest.raises(ValueError, match="sample.temperature must be at least 0"):
        generate(model, SamplingConfig(temperature=-1.0))


def test_word_level_model_maps_unknown_prime_words_to_unk() -> None:
    model, _ = _model("word", embedding_dim=32)
    pieces: list[str] = []
    text = generate(model, SamplingConfig(prime="Juliet speaks", length=5, seed=0),
                    on_text=pieces.append)
    assert text.startswith("Juliet speaks ") and "<unk>" not in text
    assert "".join(pieces).split() == text.split()  # the stream shows the same words
    assert "perplexity" in model.metric_names() and "bpc" not in model.metric_names()


def test_a_word_prime_s_line_break_is_kept_with_spaces_after_it() -> None:
    from rnnkit.models.generate import prime_ids

    model, _ = _model("word", embedding_dim=32)
    for prime in ("ROMEO:\n", "ROMEO:\n ", "ROMEO:\n\t"):  # the model reads ROMEO: <eos>
        assert model.vocab.decode(prime_ids(model, prime)) == ["ROMEO:", "<eos>"], repr(prime)
        text = generate(model, SamplingConfig(prime=prime, length=3, temperature=0))
        assert text.startswith(prime) and not text[len(prime)].isspace()  # no space added
    assert model.vocab.decode(prime_ids(model, "ROMEO:")) == ["ROMEO:"]


@pytest.mark.parametrize(("flags", "message"), [
    (["--length", "-5"], "--length must be at least 0; got -5"),
    (["--temperature", "-1"], "--temperature must be at least 0; got -1.0"),
    (["--top-k", "-1"], "--top-k must be at least 0; got -1"),
    (["--top-p", "0"], "--top-p must be above 0 and at most 1"),
    (["--prime", "Zebra"], "--prime 'Zebra': the prime holds characters the model never saw"),
])
def test_generate_names_its_flags(flags: list[str], message: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    model, _ = _model()
    save_bundle(model, tmp_path / "lm.rnnkit")
    assert main(["generate", "--model", str(tmp_path / "lm.rnnkit"), *flags]) == 2
    assert message in capsys.readouterr().err  # not the sample.* keys of `train lm`


def test_generate_gives_back_the_model_s_mode() -> None:
    model, _ = _model()
    for mode in (True, False):
        model.train(mode)
        text = generate(model, SamplingConfig(prime="RO", length=5, seed=0))
        assert text.startswith("RO") and len(text) == 7
        assert model.training is mode  # sampling between training steps keeps dropout on


def test_streamed_words_are_the_returned_text_and_a_tiny_temperature_is_greedy() -> None:
    from rnnkit.config import ConfigError

    model, _ = _model("word")
    for prime in ("ROMEO:", ""):
        pieces: list[str] = []
        config = SamplingConfig(prime=prime, length=40, seed=3)
        text = generate(model, config, on_text=pieces.append)
        assert "".join(pieces) == text and " \n" not in text and not text.endswith(" ")
    greedy = generate(model, SamplingConfig(prime="ROMEO:", length=8, temperature=0))
    assert generate(model, SamplingConfig(prime="ROMEO:", length=8, temperature=1e-300)) == greedy
    with pytest.raises(ConfigError, match="sample.seed must be a whole number from 0 to 2"):
        generate(model, SamplingConfig(length=1, seed=2**64))


def test_a_temperature_beyond_float32_samples_as_a_large_one() -> None:
    """A temperature above 3.4e38 became inf in float32: -inf / inf = nan for <pad>, and
    torch.multinomial failed ('probability tensor contains either inf, nan ...'); in train lm
    only after training. Any temperature that large samples uniformly, as 1e30 does."""
    model, _ = _model()
    uniform = generate(model, SamplingConfig(prime="RO", length=30, temperature=1e30, seed=4))
    for temperature in (1e39, 1e300):
        config = SamplingConfig(prime="RO", length=30, temperature=temperature, seed=4)
        assert generate(model, config) == uniform


def test_a_word_prime_ending_in_a_space_gets_no_second_one() -> None:
    """A word prime "ROMEO: " came back as "ROMEO:  But ...": the separator went after the
    prime's own space (a line break's was the only whitespace it checked)."""
    model, _ = _model("word", embedding_dim=32)
    for prime in ("ROMEO: ", "But soft,\t"):
        pieces: list[str] = []
        text = generate(model, SamplingConfig(prime=prime, length=4, seed=1),
                        on_text=pieces.append)
        assert text.startswith(prime) and not text[len(prime)].isspace(), repr(text)
        assert "".join(pieces) == text


def test_a_word_prime_followed_by_a_line_break_gets_no_space_before_it() -> None:
    """A word prime "ROMEO:" whose first generated token was <eos> came back (and streamed)
    as "ROMEO: \\n...": the space after the prime was written before the token was drawn; with
    length 0 the text was "ROMEO: "."""
    model, _ = _model("word", embedding_dim=32)
    starts = set()
    for seed in range(10):
        pieces: list[str] = []
        text = generate(model, SamplingConfig(prime="ROMEO:", length=3, seed=seed),
                        on_text=pieces.append)
        assert " \n" not in text and "".join(pieces) == text, repr(text)
        starts.add(text[len("ROMEO:")])
    assert starts == {" ", "\n"}  # both cases were drawn
    assert generate(model, SamplingConfig(prime="ROMEO:", length=0)) == "ROMEO:"


def test_a_top_p_below_float32_s_range_keeps_the_most_likely_token() -> None:
    """A top_p of 1e-50 rounded to 0 in the float32 comparison, so even the most likely token
    was dropped: every score -inf, and torch.multinomial failed ('probability tensor contains
    either inf, nan ...'), a traceback from rnnkit generate."""
    scores = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    assert torch.isinf(filter_scores(scores, 0, 1e-50)).tolist() == [False, True, True, True]
    model, _ = _model()
    greedy = generate(model, SamplingConfig(prime="RO", length=10, temperature=0))
    assert generate(model, SamplingConfig(prime="RO", length=10, top_p=1e-300)) == greedy


def test_generate_s_length_says_a_line_break_counts_as_a_word(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--length counts tokens, and a word model's line breaks are tokens: --length 40 of a
    tiny-shakespeare word model gave 24 words and 16 line breaks, while its help said only
    'tokens to generate'."""
    model, _ = _model("word", embedding_dim=32)
    bundle = tmp_path / "model.rnnkit"
    save_bundle(model, bundle)
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    assert "or for a word model words and line breaks, each line break one of them" in \
        " ".join(capsys.readouterr().out.split())
    assert main(["generate", "--model", str(bundle), "--prime", "ROMEO:", "--length", "40",
                 "--seed", "3"]) == 0
    text = capsys.readouterr().out[len("ROMEO:"):-1]  # the prime, then a final line break
    assert len(tokenize(text, "word")) == 40
