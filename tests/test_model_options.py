"""The task models refuse, by the setting's name, what a run's configuration refuses: the
Python API builds a model from the same sections without the CLI's checks before it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from rnnkit.config import ModelConfig
from rnnkit.data.vocab import Vocab
from rnnkit.models.classifier import ClassifierConfig, SequenceClassifier
from rnnkit.models.language_model import LanguageModel, LMConfig
from rnnkit.models.tagger import Tagger, TaggerConfig

WORDS = Vocab(["a", "b"])
TAGS = Vocab(["O", "B-X", "I-X"], unknown=False)
ENCODER = ModelConfig(hidden_size=8)


def tagger(config: TaggerConfig | None = None, encoder: ModelConfig = ENCODER) -> Any:
    return Tagger(WORDS, WORDS, TAGS, config or TaggerConfig(), encoder)


def classifier(config: ClassifierConfig | None = None, encoder: ModelConfig = ENCODER) -> Any:
    return SequenceClassifier(["x", "y"], config or ClassifierConfig(), encoder, words=WORDS)


def language_model(config: LMConfig | None = None, encoder: ModelConfig = ENCODER) -> Any:
    return LanguageModel(WORDS, config or LMConfig(), encoder)


@pytest.mark.parametrize(("build", "config", "key", "value"), [
    (tagger, TaggerConfig(), "word_dropout", 1.5),  # built, and dropped every word
    (tagger, TaggerConfig(), "output_dropout", 1.5),  # built; torch's error at the first step
    (tagger, TaggerConfig(), "word_dim", -1),  # torch's "negative dimension -1: [4, -1]"
    (classifier, ClassifierConfig(), "embedding_dropout", 1.5),
    (classifier, ClassifierConfig(), "word_dim", -1),
    (language_model, LMConfig(), "weight_dropout", 1.5),
    (language_model, LMConfig(), "embedding_dim", -1),
])
def test_a_task_section_is_refused_by_name(build: Any, config: Any, key: str, value: Any
                                           ) -> None:
    section = {TaggerConfig: "tagger", ClassifierConfig: "classifier", LMConfig: "lm"}
    with pytest.raises(ValueError, match=rf"{section[type(config)]}\.{key} must be"):
        build(replace(config, **{key: value}))


@pytest.mark.parametrize("build", [tagger, classifier, language_model])
def test_the_encoder_section_is_refused_by_name(build: Any) -> None:
    with pytest.raises(ValueError, match=r"model\.recurrent_dropout must be at least 0 and"):
        build(encoder=replace(ENCODER, recurrent_dropout=1.5))  # torch's error at a step
    with pytest.raises(ValueError, match=r"model\.cell must be one of rnn, lstm, gru"):
        build(encoder=replace(ENCODER, cell="elman"))
