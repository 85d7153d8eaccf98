"""The forecaster's losses: which there are, what each strategy allows, and for each loss how
the head's outputs read (a mean, and a spread: log-variance or quantiles) and how a batch is
scored (:class:`~rnnkit.models.forecaster.Forecaster` calls these; the pipeline checks the
same options before any data is read).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from rnnkit.models.quantiles import ordered_quantiles, pinball_loss
from rnnkit.training.task import StepOutput

LOSSES = ("mse", "mae", "gaussian", "quantile")
STRATEGIES = ("direct", "recursive")
LOG_VARIANCE_RANGE = (-10.0, 10.0)


def check_strategy(strategy: str, loss: str, last_step_weight: float) -> None:
    """Refuse what a recursive model cannot do: intervals (a Gaussian or quantile loss) and
    a last-step weight (it learns one step)."""
    if strategy == "recursive" and loss not in ("mse", "mae"):
        raise ValueError(f"forecast.loss={loss} is unsupported with forecast.strategy="
                         "recursive (the roll-out feeds back point forecasts, so it gives "
                         "no intervals); use loss mse or mae, or strategy direct")
    if strategy == "recursive" and last_step_weight != 1:
        raise ValueError("forecast.last_step_weight applies to direct models; a recursive "
                         "model learns one step. Leave it at 1")


def check_loss_options(loss: str, strategy: str, input_noise: float,
                       last_step_weight: float) -> None:
    """The forecaster's loss, strategy, input noise and last-step weight, as it checks them."""
    if loss not in LOSSES:
        raise ValueError(f"forecast.loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    if strategy not in STRATEGIES:
        raise ValueError(f"forecast.strategy must be one of {', '.join(STRATEGIES)}, "
                         f"got {strategy!r}")
    if not (math.isfinite(input_noise) and input_noise >= 0
            and math.isfinite(last_step_weight) and last_step_weight > 0):
        raise ValueError("forecast.input_noise must be >= 0 and forecast.last_step_weight "
                         f"> 0, got {input_noise} and {last_step_weight}")
    check_strategy(strategy, loss, last_step_weight)


def mean_and_spread(head: Tensor, shift: Tensor, outputs: int, loss: str,
                    quantiles: list[float], median_index: int) -> tuple[Tensor, Tensor | None]:
    """The mean ``[B, outputs]`` (the median for ``quantile``) and the spread of the head's
    output ``[B, outputs * per_output]``, ``shift`` ``[B, outputs]`` added to every value:
    log-variance ``[B, H]`` (``gaussian``), the quantiles ``[B, H, Q]`` (``quantile``) or None.
    """
    mean, spread = head[:, :outputs] + shift, None
    if loss == "gaussian":
        spread = head[:, outputs:].clamp(*LOG_VARIANCE_RANGE)
    elif loss == "quantile":
        raw = head.view(len(head), outputs, len(quantiles))  # -> [B, H, Q]
        spread = ordered_quantiles(raw, median_index) + shift[..., None]
        mean = spread[..., median_index]
    return mean, spread


def step_output(mean: Tensor, spread: Tensor | None, targets: Tensor, loss_name: str,
                quantiles: list[float], last_step_weight: float, last: int,
                recursive: bool) -> StepOutput:
    """The loss and metrics of one batch: ``mae`` and ``mae_last``, the error of output
    column ``last`` (the last step, or a recursive model's target). NaN targets (a recursive
    feature gone missing) are left out."""
    present = ~torch.isnan(targets)  # all True, but for a recursive feature gone missing
    error = torch.nan_to_num(targets) - mean  # [B, H] or [B, D]
    weights = step_weights(error, last_step_weight)  # [H] with mean 1, or [D] ones
    if loss_name == "mae":  # the metric itself: robust to heavy-tailed errors
        loss = (error.abs() * weights)[present].mean()
    elif loss_name == "quantile":
        assert spread is not None
        levels = torch.as_tensor(quantiles, dtype=spread.dtype, device=spread.device)
        loss = pinball_loss(spread, targets, levels, weights)
    elif spread is None:
        loss = (error.pow(2) * weights)[present].mean()
    else:  # Gaussian negative log-likelihood, constant dropped
        loss = (0.5 * (spread + error.pow(2) * torch.exp(-spread)) * weights).mean()
    absolute = error.detach().abs()
    metrics = {"mae": float(absolute[present].mean()),
               "mae_last": float(absolute[:, last][present[:, last]].mean())}
    # a recursive model's loss (MAE or MSE) is a mean over the next row's values present
    # (some may lack), not over the windows: what shares of a batch are weighted by on
    # several processes (a direct model's windows hold every target)
    denominator = float(present.sum()) if recursive else None
    return StepOutput(loss, int(targets.shape[0]), metrics=metrics,
                      denominator=denominator)


def step_weights(error: Tensor, last_step_weight: float) -> Tensor:
    """Loss weight per output column, mean 1: the last step's is ``last_step_weight``
    times the others' (direct models)."""
    weights = torch.ones(error.shape[1], dtype=error.dtype, device=error.device)
    weights[-1] = last_step_weight
    return weights / weights.mean()
