"""rnnkit: recurrent neural networks written out plainly and run on PyTorch's fused kernels.

``train``, ``load``, ``predict``, ``forecast``, ``generate`` and ``translate`` (the command
line's tasks from Python, :mod:`rnnkit.api`, :mod:`rnnkit.api_series`, :mod:`rnnkit.api_text`)
load on first use: ``import rnnkit`` stays the cells and layers alone.
"""

from typing import TYPE_CHECKING

from rnnkit.cells import (
    GRUCell,
    LayerNormGRUCell,
    LayerNormLSTMCell,
    LSTMCell,
    RecurrentCell,
    RNNCell,
    init_recurrent_,
)
from rnnkit.layers import GRU, LSTM, RNN, Recurrent
from rnnkit.lazy import attach as _attach

if TYPE_CHECKING:  # the front door's types for mypy; at run time its names load on first use
    from rnnkit.api import TrainedRun, load, predict, train
    from rnnkit.api_series import forecast
    from rnnkit.api_text import generate, translate

__version__ = "0.1.0"

# the front door, rnnkit.api: read as a string here, imported at first use (it sits above
# the command line, which this package is far below)
__getattr__, __dir__ = _attach(__name__, {
    "train": "api", "load": "api", "predict": "api", "TrainedRun": "api",
    "forecast": "api_series", "generate": "api_text", "translate": "api_text"})

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "GRUCell",
    "LSTMCell",
    "LayerNormGRUCell",
    "LayerNormLSTMCell",
    "RNNCell",
    "Recurrent",
    "RecurrentCell",
    "TrainedRun",
    "__version__",
    "forecast",
    "generate",
    "init_recurrent_",
    "load",
    "predict",
    "train",
    "translate",
]
