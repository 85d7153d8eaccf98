"""The running sums of the epoch in progress, which checkpoints carry so a resumed epoch ends
with the same record as an uninterrupted one."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rnnkit.training.monitor import TrainResult
from rnnkit.training.task import StepOutput


@dataclass
class EpochSums:
    """The running sums of the epoch in progress (per process), kept in checkpoints.

    ``totals["loss"]`` adds up each batch's loss times its ``weight``: its item count, or for
    a class-weighted mean (``StepOutput.weighted``) its items' class weights, so the epoch's
    train_loss is the mean over its items weighted alike (as validation's). The metrics are
    means over items, weighted by ``count``."""

    totals: dict[str, float] = field(default_factory=lambda: {"loss": 0.0})
    count: int = 0  # items seen
    first_step: int = 0  # the epoch's first entry in ``grad_norms``
    weight: float = 0.0  # what the loss total is a sum over: items, or their class weights

    def add(self, out: StepOutput, loss: float) -> None:
        weight = out.denominator if out.weighted and out.denominator is not None else out.count
        self.totals["loss"] += loss * weight
        for name, value in out.metrics.items():
            self.totals[name] = self.totals.get(name, 0.0) + value * out.count
        self.count += out.count
        self.weight += weight

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def merged(cls, saved: list[dict[str, Any] | None], result: TrainResult) -> EpochSums:
        """The sums of every process of a checkpoint added up (into one process's)."""
        parts = [cls.from_json(data, result) for data in saved]
        totals: dict[str, float] = {}
        for part in parts:
            for name, value in part.totals.items():
                totals[name] = totals.get(name, 0.0) + value
        return cls(totals or {"loss": 0.0}, sum(part.count for part in parts),
                   parts[0].first_step, sum(part.weight for part in parts))

    @classmethod
    def from_json(cls, data: dict[str, Any] | None, result: TrainResult) -> EpochSums:
        """The saved sums; a checkpoint without them (older) starts them at its resume point.
        One written before ``weight`` was kept added every batch's loss times its count."""
        if data is None:
            return cls(first_step=len(result.grad_norms))
        count = int(data["count"])
        return cls(dict(data["totals"]), count, int(data["first_step"]),
                   float(data.get("weight", count)))
