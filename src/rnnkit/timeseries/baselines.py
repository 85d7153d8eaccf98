"""Baselines reported beside every model, on the same windows and the same targets.

Each forecaster takes a :class:`~rnnkit.timeseries.windows.Windows` and returns ``[N, H]``
predictions aligned with ``windows.targets``; each uses only the window's own past (the
target history and inputs up to its origin), so a prediction made at ``t`` never sees a value
after ``t``. The ridge regression is fitted on training windows only.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from rnnkit.timeseries.labels import classify_returns, past_returns
from rnnkit.timeseries.windows import Windows, input_batches


def persistence(windows: Windows) -> np.ndarray:
    """``[N, H]``: the last known value, for every step ahead.

    Example:
        >>> import pandas as pd
        >>> from rnnkit.timeseries.windows import make_windows
        >>> frame = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0]},
        ...                      index=pd.date_range("2020-01-01", periods=4, freq="D"))
        >>> persistence(make_windows(frame, "y", lookback=2, horizon=2)).tolist()
        [[2.0, 2.0]]
    """
    return np.repeat(windows.current[:, None], windows.horizon, axis=1)


def seasonal_naive(windows: Windows, period: int) -> np.ndarray:
    """``[N, H]``: the value one season earlier (24 for hourly data: the same hour yesterday;
    7 for daily data: the same day last week).

    Step ``h`` ahead takes the value ``period * ceil(h / period)`` rows before its target, the
    latest same-season value known at the origin.

    Raises:
        ValueError: a ``period`` longer than the lookback (that value is not in the window).
    """
    if period < 1 or period > windows.lookback:
        raise ValueError(f"seasonal period {period} must be between 1 and the lookback "
                         f"{windows.lookback}; lengthen the lookback to at least {period}")
    steps = np.arange(1, windows.horizon + 1)
    back = steps - period * np.ceil(steps / period).astype(int)  # offset from origin, <= 0
    return windows.target_history[:, windows.lookback - 1 + back]


def moving_average(windows: Windows, size: int) -> np.ndarray:
    """``[N, H]``: the mean of the last ``size`` known values, for every step ahead."""
    if size < 1 or size > windows.lookback:
        raise ValueError(f"moving average size {size} must be between 1 and the lookback "
                         f"{windows.lookback}")
    mean = windows.target_history[:, -size:].mean(axis=1)
    return np.repeat(mean[:, None], windows.horizon, axis=1)


class RidgeRegression:
    """Linear least squares with an L2 penalty on the weights, not on the intercept (numpy).

    ``w = (Xc^T Xc + alpha I)^-1 Xc^T yc`` with ``Xc``, ``yc`` centred on their training means;
    ``intercept = mean(y) - mean(X) w``. Sufficient statistics are summed batch by batch, so
    the design matrix is never held in memory at once, and kept, so :meth:`refit` tries
    another alpha without reading the rows again.

    Example:
        >>> x = np.array([[0.0], [1.0], [2.0]])
        >>> model = RidgeRegression(alpha=0.0).fit(x, 2 * x + 1)
        >>> model.predict(np.array([[3.0]])).round(6).tolist()
        [[7.0]]
    """

    def __init__(self, alpha: float = 1.0) -> None:
        if not 0 <= alpha < np.inf:  # NaN too: it gave NaN weights and predictions
            raise ValueError(f"alpha must be a finite number >= 0, not {alpha}")
        self.alpha = alpha
        self.weights: np.ndarray | None = None  # [D, H]
        self.intercept: np.ndarray | None = None  # [H]
        self._moments: tuple[np.ndarray, ...] | None = None  # means and centred sums

    def fit(self, inputs: np.ndarray, targets: np.ndarray) -> RidgeRegression:
        """Fit on ``inputs [N, D]`` and ``targets [N, H]`` (or ``[N]``)."""
        targets = np.asarray(targets, dtype=float)
        return self.fit_batches([(np.asarray(inputs, dtype=float),
                                  targets.reshape(len(targets), -1))])

    def fit_batches(self, batches: Iterable[tuple[np.ndarray, np.ndarray]]) -> RidgeRegression:
        """Fit on an iterable of ``(inputs [B, D], targets [B, H])`` batches."""
        count, sum_x, sum_y, gram, cross = 0, 0.0, 0.0, 0.0, 0.0
        for inputs, targets in batches:
            count += len(inputs)
            sum_x = sum_x + inputs.sum(axis=0)
            sum_y = sum_y + targets.sum(axis=0)
            gram = gram + inputs.T @ inputs  # [D, D]
            cross = cross + inputs.T @ targets  # [D, H]
        if count < 2:
            raise ValueError(f"ridge regression needs at least 2 training rows, got {count}")
        mean_x, mean_y = np.asarray(sum_x) / count, np.asarray(sum_y) / count
        centred_gram = np.asarray(gram) - count * np.outer(mean_x, mean_x)
        centred_cross = np.asarray(cross) - count * np.outer(mean_x, mean_y)
        self._moments = (mean_x, mean_y, centred_gram, centred_cross)
        return self.refit(self.alpha)

    def refit(self, alpha: float) -> RidgeRegression:
        """Solve again with another ``alpha`` on the rows already fitted."""
        if self._moments is None:
            raise ValueError("the ridge regression is not fitted; call fit() first")
        if not 0 <= alpha < np.inf:  # NaN too: it gave NaN weights and predictions
            raise ValueError(f"alpha must be a finite number >= 0, not {alpha}")
        mean_x, mean_y, centred_gram, centred_cross = self._moments
        self.alpha = alpha
        penalty = alpha * np.eye(len(mean_x))
        try:
            self.weights = np.linalg.solve(centred_gram + penalty, centred_cross)
        except np.linalg.LinAlgError:  # singular with alpha 0: the least-norm solution
            self.weights = np.linalg.lstsq(centred_gram + penalty, centred_cross, rcond=None)[0]
        self.intercept = mean_y - mean_x @ self.weights
        return self

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """``[N, H]`` predictions for ``inputs [N, D]``."""
        if self.weights is None or self.intercept is None:
            raise ValueError("the ridge regression is not fitted; call fit() first")
        return np.asarray(inputs, dtype=float) @ self.weights + self.intercept


def fit_ridge(train: Windows, alpha: float = 1.0, steps: int | None = None,
              batch_size: int = 4096) -> RidgeRegression:
    """Ridge on each training window's last ``steps`` input steps, flattened.

    Scale the features first (a scaler fitted on the training period): the penalty treats
    every input alike.
    """
    steps = train.lookback if steps is None else steps
    if steps < 1 or steps > train.lookback:
        raise ValueError(f"steps {steps} must be between 1 and the lookback {train.lookback}")
    targets = train.targets
    batches = ((inputs, targets[start:start + len(inputs)])
               for start, inputs in zip(range(0, len(train), batch_size),
                                        input_batches(train, batch_size, steps), strict=True))
    return RidgeRegression(alpha).fit_batches(batches)


def ridge_predict(model: RidgeRegression, windows: Windows, steps: int | None = None,
                  batch_size: int = 4096) -> np.ndarray:
    """``[N, H]``: a fitted :func:`fit_ridge` model on ``windows`` (same ``steps``)."""
    steps = windows.lookback if steps is None else steps
    parts = [model.predict(inputs) for inputs in input_batches(windows, batch_size, steps)]
    return np.concatenate(parts) if parts else np.empty((0, windows.horizon))


def ridge_forecast(train: Windows, windows: Windows, alpha: float = 1.0,
                   steps: int | None = None) -> np.ndarray:
    """``[N, H]``: fit on ``train``, predict ``windows``."""
    return ridge_predict(fit_ridge(train, alpha, steps), windows, steps)


def majority_class(train_labels: np.ndarray, count: int) -> np.ndarray:
    """``[count]``: the most frequent training class (the smallest on a tie), for every window.

    Example:
        >>> majority_class(np.array([0, 2, 2, 1]), 3).tolist()
        [2, 2, 2]
    """
    labels = np.asarray(train_labels)
    labels = labels[labels >= 0]
    if not len(labels):
        raise ValueError("no training labels to take the majority of")
    return np.full(count, int(np.bincount(labels.astype(int)).argmax()))


def persistence_return(windows: Windows, kind: str = "price") -> np.ndarray:
    """``[N]``: the persistence forecast of the return over the horizon: the last ``H``-step
    return, known at the origin (see :func:`~rnnkit.timeseries.labels.past_returns`).

    A persistence forecast of a *price* predicts no change, so it cannot drive a strategy;
    this return persistence (momentum) is the persistence-driven signal.
    """
    return past_returns(windows, kind)


def persistence_signal(windows: Windows, up: float, down: float,
                       kind: str = "price") -> np.ndarray:
    """``[N]`` classes (sell 0, hold 1, buy 2): the last ``H``-step return, classified with the
    same thresholds as the labels (:func:`~rnnkit.timeseries.labels.window_labels`)."""
    return classify_returns(persistence_return(windows, kind), up, down)
