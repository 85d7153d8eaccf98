"""Strategies: turn forecasts into positions, one per decision time.

A position is the fraction of equity held in the asset: ``1`` long, ``0`` flat, ``-1`` short,
in between when sized. ``long_flat`` never goes short; ``long_short`` may. Every rule here
reads only the forecast made at the same time (and, for ``hold="keep"``, the previous
position), so positions are as causal as the forecasts.
"""

from __future__ import annotations

import numpy as np

from rnnkit.timeseries.labels import BUY, HOLD, MISSING, SELL

MODES = ("long_flat", "long_short")
# how a run trades; a bundle keeps them (trained_on["trading"]) for `rnnkit backtest`'s defaults
TRADING_KEYS = ("mode", "threshold", "cost_bps", "slippage_bps")


MAX_COST_BPS = 10_000  # costs of 100% of the value a trade moves: no trade can pay them


def check_cost_values(cost_bps: float, slippage_bps: float) -> None:
    """Refuse costs that are no finite number >= 0, whoever set them (the backtester and the
    trading environment check them so: a NaN made every return NaN); :func:`check_costs`
    bounds a user's settings besides."""
    if not (np.isfinite([cost_bps, slippage_bps]).all() and cost_bps >= 0 and slippage_bps >= 0):
        raise ValueError(f"cost_bps {cost_bps} and slippage_bps {slippage_bps} must be finite "
                         "numbers >= 0")


def check_costs(cost_bps: float, slippage_bps: float, names: str) -> None:
    """Refuse costs (``names``: the settings or flags that set them) that add up to more than
    :data:`MAX_COST_BPS`: the equity would go below zero and every number after it is
    meaningless; such a number is a slip of units (costs are in basis points, 5 = 0.05%).

    Example:
        >>> check_costs(1e4, 5, "--cost-bps and --slippage-bps")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rnnkit.config.ConfigError: --cost-bps and --slippage-bps add up to 10005 basis points...
    """
    from rnnkit.config import ConfigError

    total = cost_bps + slippage_bps
    if total > MAX_COST_BPS:
        raise ConfigError(f"{names} add up to {total:g} basis points, more than "
                          f"{MAX_COST_BPS} (100% of the value a trade moves); costs are in "
                          "basis points: 5 means 0.05%")


def trading_settings(options: object) -> dict[str, object]:
    """The :data:`TRADING_KEYS` that a run's trading options hold (a signal run has no
    threshold), as a bundle keeps them.

    Example:
        >>> from types import SimpleNamespace
        >>> trading_settings(SimpleNamespace(mode="long_short", cost_bps=5.0, slippage_bps=2.0))
        {'mode': 'long_short', 'cost_bps': 5.0, 'slippage_bps': 2.0}
    """
    return {key: getattr(options, key) for key in TRADING_KEYS if hasattr(options, key)}


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")


def threshold_positions(predicted_returns: np.ndarray, threshold: float = 0.0,
                        mode: str = "long_flat") -> np.ndarray:
    """Long when the predicted return is above ``threshold``; short (``long_short``) when it is
    below ``-threshold``; else flat.

    Example:
        >>> threshold_positions(np.array([0.02, 0.001, -0.03]), 0.005, "long_short").tolist()
        [1.0, 0.0, -1.0]
    """
    _check_mode(mode)
    if not 0 <= threshold < np.inf:  # NaN or inf: no return is above it, every position flat
        raise ValueError(f"threshold must be a finite number >= 0, not {threshold}")
    predicted = np.asarray(predicted_returns, dtype=float)
    bad = int((~np.isfinite(predicted)).sum())
    if bad:  # NaN is above no threshold (silently flat), inf above every one (silently long)
        raise ValueError(f"the predicted returns hold {bad} NaN or infinite value(s) (a model "
                         "that diverged?); there is no position to take from them")
    positions = np.where(predicted > threshold, 1.0, 0.0)
    if mode == "long_short":
        positions[predicted < -threshold] = -1.0
    return positions


def class_positions(classes: np.ndarray, mode: str = "long_flat",
                    hold: str = "keep") -> np.ndarray:
    """Positions from buy/sell/hold classes (:mod:`rnnkit.timeseries.labels`).

    Buy goes long; sell goes short (``long_short``) or flat (``long_flat``). Hold (and a
    missing class, ``-1``) keeps the previous position with ``hold="keep"`` (the trading
    meaning: no trade; flat before the first signal) or goes flat with ``hold="flat"``.

    Example:
        >>> class_positions(np.array([2, 1, 0, 1]), "long_short").tolist()
        [1.0, 1.0, -1.0, -1.0]
        >>> class_positions(np.array([2, 1, 0, 1]), "long_flat", hold="flat").tolist()
        [1.0, 0.0, 0.0, 0.0]
    """
    _check_mode(mode)
    if hold not in ("keep", "flat"):
        raise ValueError(f"hold must be 'keep' or 'flat', not {hold!r}")
    labels = _classes(classes)
    short = -1.0 if mode == "long_short" else 0.0
    positions = np.zeros(len(labels))
    previous = 0.0
    for i, label in enumerate(labels):
        if label == BUY:
            previous = 1.0
        elif label == SELL:
            previous = short
        elif hold == "flat":
            previous = 0.0
        positions[i] = previous
    return positions


def _classes(classes: np.ndarray) -> np.ndarray:
    """``[N]`` classes as ints; anything else refused (probabilities ``[N, 3]``, a value that is
    no class: it was read as hold, and 0.9 cut to 0, sell)."""
    values = np.asarray(classes)
    if values.ndim != 1:
        hint = (": class probabilities? Take their argmax over the last axis"
                if values.ndim == 2 and values.shape[1] == 3 else "")
        raise ValueError(f"classes must be one per decision ([N]), not shape {values.shape}"
                         f"{hint}")
    known = np.isin(values, (MISSING, SELL, HOLD, BUY)) if values.size else np.ones(0, bool)
    if not known.all():
        bad = int(np.flatnonzero(~known)[0])
        raise ValueError(f"classes must be sell 0, hold 1 or buy 2 (-1: none); got "
                         f"{values[bad]} at {bad}")
    return values.astype(int)


def next_position(action: int, position: float, mode: str) -> float:
    """The position after an action: buy -> long, sell -> short or flat, hold -> unchanged.

    Example:
        >>> next_position(0, 1.0, "long_flat"), next_position(0, 1.0, "long_short")
        (0.0, -1.0)
    """
    if action == BUY:
        return 1.0
    if action == SELL:
        return -1.0 if mode == "long_short" else 0.0
    return position


def size_by_confidence(positions: np.ndarray, confidence: np.ndarray,
                       min_confidence: float = 0.0) -> np.ndarray:
    """Scale positions by a confidence in ``[0, 1]`` (a class probability, or
    ``|predicted return| / cap``: above 1 is full size); below ``min_confidence`` the position
    is flat. A negative confidence is refused (a signed return over its cap made a short flat).

    Example:
        >>> size_by_confidence(np.array([1.0, -1.0, 1.0]), np.array([0.8, 0.5, 0.3]), 0.4).tolist()
        [0.8, -0.5, 0.0]
    """
    positions = np.asarray(positions, dtype=float)
    given = np.asarray(confidence, dtype=float)
    negative = np.flatnonzero(given < 0)
    if len(negative):
        first = int(negative[0])
        raise ValueError(f"confidence must be at least 0; got {given.flat[first]:g} at {first}: "
                         "size by |predicted return| / cap (the position holds the sign)")
    confidence = np.clip(given, 0.0, 1.0)
    if positions.shape != confidence.shape:
        raise ValueError(f"positions {positions.shape} and confidence {confidence.shape} must "
                         "have the same shape")
    if not 0.0 <= min_confidence <= 1.0:  # NaN too: no confidence reached it, all flat
        raise ValueError(f"min_confidence must be a number in [0, 1], not {min_confidence}")
    if np.isnan(confidence).any():  # below no minimum: it was silently flat
        raise ValueError(f"the confidence holds {int(np.isnan(confidence).sum())} NaN (a model "
                         "that diverged?); there is no size to take from them")
    return np.where(confidence >= min_confidence, positions * confidence, 0.0)
