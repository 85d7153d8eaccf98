"""Task models: embeddings or inputs -> recurrent encoder -> head. Importing registers them."""

from rnnkit.models.forecaster import Forecaster
from rnnkit.models.signal import SignalClassifier
from rnnkit.models.synthetic import SyntheticTaskModel
from rnnkit.models.tagger import Tagger

__all__ = ["Forecaster", "SignalClassifier", "SyntheticTaskModel", "Tagger"]
