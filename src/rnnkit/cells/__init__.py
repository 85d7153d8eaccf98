"""Recurrent cells: one time step each, written out as the textbook equations."""

from rnnkit.cells.base import RecurrentCell, State
from rnnkit.cells.gru import GRUCell
from rnnkit.cells.init import INIT_SCHEMES, init_recurrent_
from rnnkit.cells.layer_norm_gru import LayerNormGRUCell
from rnnkit.cells.layer_norm_lstm import LayerNormLSTMCell
from rnnkit.cells.lstm import LSTMCell
from rnnkit.cells.rnn import RNNCell

__all__ = [
    "INIT_SCHEMES",
    "GRUCell",
    "LSTMCell",
    "LayerNormGRUCell",
    "LayerNormLSTMCell",
    "RNNCell",
    "RecurrentCell",
    "State",
    "init_recurrent_",
]
