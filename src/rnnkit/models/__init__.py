"""Task models: embeddings or inputs -> recurrent encoder -> head. Importing a model's module
registers its kind with the bundle.

The modules are imported when first named (``rnnkit.models.Tagger``, or a bundle of that kind
loaded), not with the package: the time-series models import pandas, which a tagger's
``rnnkit predict`` paid for (about 0.3 s of CPU) at every start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from rnnkit.lazy import attach

# each class and the module that defines it
CLASS_MODULES = {
    "DQNAgent": "dqn_agent",
    "Forecaster": "forecaster",
    "LanguageModel": "language_model",
    "Seq2Seq": "seq2seq",
    "SequenceClassifier": "classifier",
    "SignalClassifier": "signal",
    "SyntheticTaskModel": "synthetic",
    "Tagger": "tagger",
}
# each bundle kind and the module whose model registers it
KIND_MODULES = {
    "classifier": "classifier",
    "dqn": "dqn_agent",
    "forecaster": "forecaster",
    "language_model": "language_model",
    "seq2seq": "seq2seq",
    "signal": "signal",
    "synthetic": "synthetic",
    "tagger": "tagger",
}

if TYPE_CHECKING:
    from rnnkit.models.classifier import SequenceClassifier
    from rnnkit.models.dqn_agent import DQNAgent
    from rnnkit.models.forecaster import Forecaster
    from rnnkit.models.language_model import LanguageModel
    from rnnkit.models.seq2seq import Seq2Seq
    from rnnkit.models.signal import SignalClassifier
    from rnnkit.models.synthetic import SyntheticTaskModel
    from rnnkit.models.tagger import Tagger


def register_kind(kind: str) -> None:
    """Import the module of rnnkit's model of bundle kind ``kind`` (which registers it); a
    kind rnnkit has no model of is left to the caller to refuse."""
    if kind in KIND_MODULES:
        importlib.import_module(f"{__name__}.{KIND_MODULES[kind]}")


__getattr__, __dir__ = attach(__name__, CLASS_MODULES)


__all__ = [
    "DQNAgent",
    "Forecaster",
    "LanguageModel",
    "Seq2Seq",
    "SequenceClassifier",
    "SignalClassifier",
    "SyntheticTaskModel",
    "Tagger",
]
