"""rnnkit: recurrent neural networks written out plainly and run on PyTorch's fused kernels."""

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

__version__ = "0.1.0"

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
    "__version__",
    "init_recurrent_",
]
