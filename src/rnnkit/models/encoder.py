"""Build the recurrent encoder of a task model from a :class:`ModelConfig`."""

from __future__ import annotations

from typing import Any

from rnnkit.config import CELLS, ModelConfig
from rnnkit.layers import GRU, LSTM, RNN
from rnnkit.layers.recurrent import Recurrent


def build_encoder(config: ModelConfig, input_size: int, batch_first: bool = True) -> Recurrent:
    """An RNN, LSTM or GRU layer with the configuration's options."""
    if config.cell not in CELLS:
        raise ValueError(f"model.cell must be one of {', '.join(CELLS)}, got {config.cell!r}")
    common: dict[str, Any] = {
        "num_layers": config.num_layers,
        "batch_first": batch_first,
        "dropout": config.dropout if config.num_layers > 1 else 0.0,
        "bidirectional": config.bidirectional,
        "recurrent_dropout": config.recurrent_dropout,
        "init": config.init,
        "kernel": config.kernel,
    }
    if config.cell == "rnn":
        if config.layer_norm:
            raise ValueError("model.layer_norm is available for lstm and gru cells, not rnn")
        return RNN(input_size, config.hidden_size, nonlinearity=config.nonlinearity, **common)
    layer = LSTM if config.cell == "lstm" else GRU
    return layer(input_size, config.hidden_size, layer_norm=config.layer_norm, **common)
