"""Recurrent layers: the one time loop, and the fused fast path chosen when options allow."""

from rnnkit.layers.loop import run_cell
from rnnkit.layers.recurrent import Recurrent
from rnnkit.layers.standard import GRU, LSTM, RNN
from rnnkit.layers.validate import KERNELS

__all__ = ["GRU", "KERNELS", "LSTM", "RNN", "Recurrent", "run_cell"]
