"""The translation model's own options (:class:`Seq2SeqConfig`, the ``[seq2seq]`` section of a
run; the recurrent layers' are ``model``'s) and their checks, made before any model is built and
when a bundle is loaded (:func:`resolved_config`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rnnkit.config import check_at_least, check_section


@dataclass(frozen=True)
class Seq2SeqConfig:
    """The translation model's own options (the recurrent layers are in ``model``)."""

    embedding_dim: int = 256
    attention: str = "general"  # none | dot | general | additive
    input_feeding: bool = True  # feed the attentional vector into the next decoder step
    bridge: bool = True  # tanh(W [h_fwd; h_bwd]) -> decoder start; off: sum of the directions
    tie_embeddings: bool = True  # the output layer reuses the target embeddings
    dropout: float = 0.3  # embeddings and the decoder's output vector
    label_smoothing: float = 0.1
    teacher_forcing: float = 1.0  # probability of feeding the gold previous token
    teacher_forcing_final: float = 1.0  # scheduled: the ratio moves linearly to this value...
    teacher_forcing_steps: int = 0  # ...over this many training steps (0: constant ratio)
    beam_size: int = 5  # for the final decoding and `rnnkit translate` (1 = greedy)
    length_penalty: float = 1.0  # GNMT alpha: score / ((5 + length) / 6) ** alpha
    max_length_ratio: float = 2.0  # output at most ratio * source length + 10 tokens
    max_source_tokens: int = 256  # translate cuts longer inputs (with a warning), as scoring
    # does; training pairs are kept whole (data.max_train_tokens leaves long ones out)
    validation_decoding: str = "greedy"  # greedy | beam: how val BLEU is measured per epoch


def resolved_config(config: Seq2SeqConfig) -> Seq2SeqConfig:
    """The options as the model uses them (no input feeding without attention), checked: each
    value as a run's ``[seq2seq]`` section is (:func:`~rnnkit.config.check_section`: rates in
    [0, 1), sizes of at least 1), so that the Python API refuses what the CLI does."""
    check_section("seq2seq", config)
    if config.validation_decoding not in ("greedy", "beam"):
        raise ValueError("seq2seq.validation_decoding must be greedy or beam, got"
                         f" {config.validation_decoding!r}")
    # (check_section refused a beam_size below 1 already)
    check_at_least(config.max_source_tokens, "seq2seq.max_source_tokens", 1)
    rates = (config.teacher_forcing, config.teacher_forcing_final)
    if not all(0 <= rate <= 1 for rate in rates):
        raise ValueError("seq2seq.teacher_forcing and seq2seq.teacher_forcing_final are"
                         " probabilities of feeding the gold previous token, from 0 (the"
                         " model's own always) to 1 (the gold one always), got"
                         f" {rates[0]} and {rates[1]}")
    # translate refuses --length-penalty below 0; the bundle's own value is its default
    check_at_least(config.length_penalty, "seq2seq.length_penalty", 0)
    if config.teacher_forcing_steps < 0:
        raise ValueError("seq2seq.teacher_forcing_steps must be at least 0 (0: a constant"
                         f" ratio), got {config.teacher_forcing_steps}")
    if config.max_length_ratio < 0:
        raise ValueError("seq2seq.max_length_ratio must be at least 0 (outputs may be"
                         " ratio * source length + 10 tokens long), got"
                         f" {config.max_length_ratio}")
    if config.attention == "none" and config.input_feeding:
        config = replace(config, input_feeding=False)  # nothing to feed without attention
    return config
