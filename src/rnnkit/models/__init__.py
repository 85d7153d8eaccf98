"""Task models: embeddings or inputs -> recurrent encoder -> head. Importing registers them."""

from rnnkit.models.classifier import SequenceClassifier
from rnnkit.models.dqn_agent import DQNAgent
from rnnkit.models.forecaster import Forecaster
from rnnkit.models.language_model import LanguageModel
from rnnkit.models.seq2seq import Seq2Seq
from rnnkit.models.signal import SignalClassifier
from rnnkit.models.synthetic import SyntheticTaskModel
from rnnkit.models.tagger import Tagger

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
