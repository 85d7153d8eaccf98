"""Recurrent layers: the one time loop, and the fused fast path chosen when options allow."""

from rnnkit.layers.recurrent import KERNELS, Recurrent, run_cell
from rnnkit.layers.standard import GRU, LSTM, RNN

__all__ = ["GRU", "KERNELS", "LSTM", "RNN", "Recurrent", "run_cell"]
