"""Build the recurrent encoder of a task model from a :class:`ModelConfig`."""

from __future__ import annotations

from typing import Any

from rnnkit.config import ModelConfig, check_section
from rnnkit.layers import GRU, LSTM, RNN
from rnnkit.layers.recurrent import Recurrent


def build_encoder(config: ModelConfig, input_size: int, batch_first: bool = True) -> Recurrent:
    """An RNN, LSTM or GRU layer with the configuration's options, checked as a run's
    ``[model]`` section is (:func:`~rnnkit.config.check_section`), so that the Python API
    refuses by name what the CLI refuses (the layers' own errors name no setting)."""
    check_section("model", config)
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
        return RNN(input_size, config.hidden_size, nonlinearity=config.nonlinearity, **common)
    layer = LSTM if config.cell == "lstm" else GRU
    return layer(input_size, config.hidden_size, layer_norm=config.layer_norm, **common)
