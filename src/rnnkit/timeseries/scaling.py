"""The per-feature scaler, fitted on the training period only."""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence

import numpy as np


class StandardScaler:
    """Per-feature ``(x - mean) / scale``, fitted on the training period only.

    ``NaN`` is ignored when fitting; a constant feature gets scale 1.

    Example:
        >>> scaler = StandardScaler().fit(np.array([[1.0], [3.0]]))
        >>> scaler.transform(np.array([[5.0]])).tolist(), scaler.to_json()
        ([[3.0]], '{"mean": [2.0], "scale": [1.0], "feature_names": null}')
    """

    def __init__(self, feature_names: Sequence[str] | None = None) -> None:
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None
        self.feature_names = None if feature_names is None else list(feature_names)

    def fit(self, values: np.ndarray) -> StandardScaler:
        """Learn mean and standard deviation per feature (the last axis)."""
        values = np.asarray(values, dtype=float)
        flat = values.reshape(-1, values.shape[-1])  # [..., F] -> [R, F]
        empty = np.flatnonzero(~np.isfinite(flat).any(axis=0))
        if len(empty):
            names = self.feature_names or [f"feature {i}" for i in range(flat.shape[1])]
            shown = ", ".join(str(names[i]) if i < len(names) else f"feature {i}"
                              for i in empty)
            raise ValueError(f"{shown}: no finite value in the {len(flat)} training rows, so "
                             "no mean or scale to learn; drop it from the features")
        self.mean = np.nanmean(flat, axis=0)
        std = np.nanstd(flat, axis=0)
        self.scale = np.where(std > 0, std, 1.0)
        return self

    def _fitted(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.mean is None or self.scale is None:
            raise ValueError("the scaler is not fitted; call fit() on the training rows first")
        values = np.asarray(values, dtype=float)
        if values.shape[-1:] != self.mean.shape and len(self.mean) != 1:
            raise ValueError(f"the scaler was fitted on {len(self.mean)} features, these values "
                             f"have shape {values.shape}; the last axis must be the features")
        return values, self.mean, self.scale

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Scale values whose last axis is the features (any shape for one feature)."""
        values, mean, scale = self._fitted(values)
        return (values - mean) / scale

    def inverse_transform(self, values: np.ndarray) -> np.ndarray:
        """Undo :meth:`transform`."""
        values, mean, scale = self._fitted(values)
        return values * scale + mean

    def check(self, values: np.ndarray, ratio: float = 10.0, action: str = "raise") -> list[str]:
        """Find features whose scale is wildly outside the training range.

        A feature is flagged when the standard deviation of ``values`` exceeds ``ratio``
        times the training one, or their mean lies more than ``ratio`` training standard
        deviations from the training mean (default 10: a unit change such as cents for
        dollars, or a price level far beyond training). Single outliers do not trip it.
        ``action`` is ``"raise"`` (ValueError), ``"warn"`` or ``"ignore"``; the problems are
        returned.
        """
        values, mean, scale = self._fitted(values)
        flat = values.reshape(-1, len(mean))  # [..., F] -> [R, F]
        names = self.feature_names or [f"feature {i}" for i in range(len(mean))]
        new_mean, new_std = np.nanmean(flat, axis=0), np.nanstd(flat, axis=0)
        problems = [
            f"{names[i]}: mean {new_mean[i]:.4g} and std {new_std[i]:.4g}, training mean "
            f"{mean[i]:.4g} and std {scale[i]:.4g}"
            for i in range(len(mean))
            if new_std[i] > ratio * scale[i] or abs(new_mean[i] - mean[i]) > ratio * scale[i]
        ]
        if problems and action != "ignore":
            message = (f"{len(problems)} feature(s) lie more than {ratio:g}x outside the "
                       f"training scale: {'; '.join(problems)}. Check the units, use returns "
                       "instead of price levels, or refit on data that covers this range")
            if action == "raise":
                raise ValueError(message)
            warnings.warn(message, UserWarning, stacklevel=2)
        return problems

    def to_json(self) -> str:
        """The fitted state as JSON, for bundles."""
        if self.mean is None or self.scale is None:
            raise ValueError("the scaler is not fitted; call fit() on the training rows first")
        mean, scale = self.mean, self.scale
        return json.dumps({"mean": mean.tolist(), "scale": scale.tolist(),
                           "feature_names": self.feature_names})

    @classmethod
    def from_json(cls, text: str) -> StandardScaler:
        """A scaler from :meth:`to_json` output."""
        state = json.loads(text)
        scaler = cls(state.get("feature_names"))
        scaler.mean = np.asarray(state["mean"], dtype=float)
        scaler.scale = np.asarray(state["scale"], dtype=float)
        return scaler
