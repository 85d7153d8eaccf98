"""The ``model`` and ``train`` sections every task shares, and the checks every run
configuration must pass (:func:`check_sections`)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from rnnkit.config.checks import (
    ConfigError,
    check_at_least,
    check_at_most,
    check_choice,
    check_device,
    check_fraction,
    check_rate,
    check_seed,
    check_threads,
)


def check_model(config: ModelConfig) -> None:
    """Refuse a ``model`` section the recurrent encoder cannot be built from, naming the key
    (the layers' own errors name no setting)."""
    from rnnkit.cells.init import INIT_SCHEMES
    from rnnkit.layers.validate import KERNELS

    check_choice(config.cell, "model.cell", CELLS)
    check_at_least(config.hidden_size, "model.hidden_size", 1)
    check_at_least(config.num_layers, "model.num_layers", 1)
    check_at_most(config.num_layers, "model.num_layers", MAX_LAYERS,
                  "deeper stacks do not train; 2 to 4 layers are usual")
    check_rate(config.dropout, "model.dropout")
    check_rate(config.recurrent_dropout, "model.recurrent_dropout")
    check_choice(config.nonlinearity, "model.nonlinearity", ("tanh", "relu"))
    check_choice(config.init, "model.init", INIT_SCHEMES)
    check_choice(config.kernel, "model.kernel", KERNELS)
    if config.layer_norm and config.cell == "rnn":  # else refused once the data is read
        raise ConfigError("model.layer_norm is available for lstm and gru cells, not rnn: set "
                          "model.cell=lstm (or gru), or model.layer_norm=false")
    # the options that need rnnkit's time loop (layers.fused.loop_reason says it of layers)
    looped = [(name, why) for name, why, on in (
        ("model.recurrent_dropout > 0", "no dropout mask inside the time loop",
         config.recurrent_dropout > 0),
        ("model.layer_norm", "no layer norm", config.layer_norm)) if on]
    if config.kernel == "fused" and looped:
        names, reasons = (" and ".join(parts) for parts in zip(*looped, strict=True))
        raise ConfigError(f"model.kernel=fused cannot run with {names}: PyTorch's fused kernel"
                          f" has {reasons}, so {'these run' if len(looped) > 1 else 'it runs'}"
                          " rnnkit's time loop; set model.kernel=auto (or loop), or turn "
                          f"{'them' if len(looped) > 1 else 'it'} off")


def check_train(config: TrainConfig) -> None:
    """Refuse a ``train`` section the trainer would fail on later, or run without a word."""
    check_at_least(config.epochs, "train.epochs", 1)
    check_at_least(config.batch_size, "train.batch_size", 1)
    check_choice(config.optimizer, "train.optimizer", ("adam", "adamw", "sgd"))
    check_choice(config.mode, "train.mode", ("min", "max"))
    check_mode(config)  # before any data is read: it was the trainer's check alone
    if not 0 < config.lr < math.inf:
        raise ConfigError(f"train.lr must be a finite number above 0; got {config.lr!r}")
    check_threads(config.threads, "train.threads")
    check_fraction(config.lr_factor, "train.lr_factor")
    check_rate(config.ema_decay, "train.ema_decay")
    for name in ("momentum", "weight_decay", "clip_norm", "clip_value", "tbptt_steps",
                 "max_steps", "patience", "lr_patience", "min_lr", "checkpoint_every",
                 "threads"):
        check_at_least(getattr(config, name), f"train.{name}", 0)
    check_device(config.device)
    if config.momentum and config.optimizer != "sgd":  # adam/adamw: betas, not momentum
        raise ConfigError(f"train.momentum is read only with train.optimizer=sgd, and it is "
                          f"{config.optimizer}: leave it out, or set train.optimizer=sgd")
    unread = [f"train.{name}={getattr(config, name)}" for name in ("lr_factor", "min_lr")
              if getattr(config, name) != getattr(TrainConfig, name)]
    if unread and not config.lr_patience:  # the plateau schedule's settings, without one
        raise ConfigError(f"{' and '.join(unread)} {'is' if len(unread) == 1 else 'are'} read "
                          "only when the learning rate is lowered on a plateau, and "
                          "train.lr_patience is 0 (off): set train.lr_patience (e.g. 2), or "
                          "leave them out (or at their defaults, train.lr_factor="
                          f"{TrainConfig.lr_factor} and train.min_lr={TrainConfig.min_lr}, as "
                          "--set must for a run resumed whose config.toml sets them)")


# the metrics rnnkit's own models report (``val_`` or ``train_`` before them), by which way
# is better; a name of one's own (``val_neg_loss``, ``val_mae_skill``) is not guessed at
LOWER_IS_BETTER = ("loss", "nll", "mae", "mse", "rmse", "mae_last", "perplexity", "bpc")
HIGHER_IS_BETTER = ("accuracy", "macro_f1", "micro_f1", "f1", "bleu", "chrf", "precision",
                    "recall")


def metric_mode(monitor: str) -> str | None:
    """``min`` or ``max`` for one of rnnkit's own metrics (:data:`LOWER_IS_BETTER`,
    :data:`HIGHER_IS_BETTER`) of validation or training; None for any other name, which may
    mean either.

    Example:
        >>> metric_mode("val_mae_last"), metric_mode("val_macro_f1"), metric_mode("val_neg_loss")
        ('min', 'max', None)
    """
    source, _, metric = monitor.partition("_")
    if source not in ("val", "train"):
        return None
    if metric in LOWER_IS_BETTER:
        return "min"
    if metric in HIGHER_IS_BETTER:
        return "max"
    return None


def check_mode(config: TrainConfig) -> None:
    """``train.mode`` is min or max, and not the opposite of what ``train.monitor`` needs."""
    if config.mode not in ("min", "max"):
        raise ConfigError(f"train.mode must be min or max, got {config.mode!r}")
    needed = metric_mode(config.monitor)
    if needed is not None and needed != config.mode:
        better = "lower" if needed == "min" else "higher"
        raise ConfigError(
            f"train.monitor {config.monitor!r} is better when {better}, but train.mode is "
            f"{config.mode!r}: the best checkpoint, early stopping and the LR plateau would "
            f"favour its worst epochs; set train.mode={needed} with it")


RATE_NAMES = ("dropout", "label_smoothing")  # a key ending so is a probability in [0, 1)
SIZE_NAMES = ("word_dim", "embedding_dim", "beam_size")  # sizes of at least 1
WIDTH_NAMES = ("hidden_size", "word_dim", "embedding_dim", "char_dim", "char_hidden")
MAX_WIDTH = 2**16  # 4 * 65536**2 float32 weights (W_hh of one LSTM layer): 64 GiB
MAX_LAYERS = 1000
CELLS = ("rnn", "lstm", "gru")  # model.cell: the layers models.encoder builds
MAX_WHOLE = 2**63 - 1  # torch and NumPy read whole numbers as 64-bit


def check_whole(value: int, key: str) -> None:
    """Refuse a whole number past :data:`MAX_WHOLE` (``key``: the setting or flag)."""
    if abs(value) > MAX_WHOLE:
        raise ConfigError(f"{key} must be a whole number below 2**63 (torch and NumPy take no "
                          f"larger); got {value}")


def check_sections(config: Any) -> None:
    """What every run configuration must satisfy, named by key: each section's values
    (:func:`check_section`), and ``train.monitor=auto`` and ``train.tbptt_steps`` only where
    the run reads them.
    Task-specific settings are checked by their pipelines."""
    for section in dataclasses.fields(config):
        values = getattr(config, section.name)
        if not dataclasses.is_dataclass(values):
            continue
        check_section(section.name, values)
        if isinstance(values, TrainConfig) and values.monitor == "auto" and not getattr(
                config, "AUTO_MONITOR", False):
            raise ConfigError("train.monitor=auto is read by train tagger alone (span F1 "
                              "or accuracy, by its tags); name a metric such as val_loss")
        if isinstance(values, TrainConfig) and values.tbptt_steps and not getattr(
                config, "TBPTT", False):  # else refused at the first batch, the data read
            raise ConfigError(f"train.tbptt_steps={values.tbptt_steps} is read by train lm "
                              "alone, whose text stream is cut into windows; this task "
                              "backpropagates through each whole sequence: leave it at 0")


def check_value(key: str, value: Any) -> None:
    """What every setting ``key`` (``section.name``) must satisfy, by its name and type:
    a finite number, a rate in ``[0, 1)``, a size of at least 1 and at most
    :data:`MAX_WIDTH`, a seed NumPy takes, a whole number below 2**63."""
    name = key.rpartition(".")[2]
    if isinstance(value, float) and not math.isfinite(value):  # no setting is nan/inf
        raise ConfigError(f"{key} must be a finite number; got {value!r}")
    if name in WIDTH_NAMES and isinstance(value, int):
        check_at_most(value, key, MAX_WIDTH, "wider layers do not fit in memory: an "
                      "LSTM layer of 65536 units alone holds 64 GiB of weights")
    if name.endswith(RATE_NAMES) and isinstance(value, float):
        check_rate(value, key)
    elif name in SIZE_NAMES and isinstance(value, int):
        check_at_least(value, key, 1)
    elif name == "seed" and isinstance(value, int):
        check_seed(value, key)
    if isinstance(value, int):
        check_whole(value, key)


def check_section(name: str, values: Any) -> None:
    """The values of one section ``name`` (a dataclass), named by key (``name.key``): each
    value (:func:`check_value`), and the ``model`` and ``train`` sections
    (:func:`check_model`, :func:`check_train`). A run checks every section so; a bundle its
    saved ones (:func:`~rnnkit.config.saved.saved_section`)."""
    for item in dataclasses.fields(values):
        check_value(f"{name}.{item.name}", getattr(values, item.name))
    if isinstance(values, ModelConfig):
        check_model(values)
    elif isinstance(values, TrainConfig):
        check_train(values)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The recurrent encoder shared by every task model."""

    cell: str = "lstm"  # rnn | lstm | gru
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0  # between stacked layers
    recurrent_dropout: float = 0.0  # variational dropout on h_(t-1); forces the loop path
    layer_norm: bool = False  # layer-normalised LSTM/GRU; forces the loop path
    nonlinearity: str = "tanh"  # for cell = rnn: tanh | relu
    init: str = "recurrent"  # torch | recurrent (orthogonal W_hh, forget bias 1)
    kernel: str = "auto"  # auto | fused | loop


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Options of :class:`rnnkit.training.Trainer`; 0 switches an optional feature off."""

    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "adam"  # adam | adamw | sgd
    lr: float = 1e-3
    momentum: float = 0.0  # sgd only
    weight_decay: float = 0.0
    clip_norm: float = 0.0  # clip the global gradient norm to this value
    clip_value: float = 0.0  # clip every gradient element to [-v, v]
    ema_decay: float = 0.0  # validate and keep a moving average of the weights (e.g. 0.99)
    tbptt_steps: int = 0  # truncated BPTT window; 0 = backpropagate through the whole sequence
    max_steps: int = 0  # stop after this many optimizer steps
    monitor: str = "val_loss"  # metric for early stopping, LR reduction and the best checkpoint
    mode: str = "min"  # min | max
    patience: int = 0  # early stopping: epochs without improvement
    lr_patience: int = 0  # reduce the LR after this many epochs without improvement
    lr_factor: float = 0.5
    min_lr: float = 0.0
    checkpoint_every: int = 0  # also checkpoint every N steps (the end of each epoch always is)
    seed: int = 0
    device: str = "auto"  # auto | cpu (cpu:0) | cuda | cuda:N
    threads: int = 0  # CPU threads for torch; 0 = torch's default (all cores)
    progress: bool = True
