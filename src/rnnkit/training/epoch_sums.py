"""The running sums of the epoch in progress, which checkpoints carry so a resumed epoch ends
with the same record as an uninterrupted one."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rnnkit.training.monitor import TrainResult
from rnnkit.training.task import StepOutput


@dataclass
class EpochSums:
    """The running sums of the epoch in progress (per process), kept in checkpoints."""

    totals: dict[str, float] = field(default_factory=lambda: {"loss": 0.0})
    count: int = 0  # items seen
    first_step: int = 0  # the epoch's first entry in ``grad_norms``

    def add(self, out: StepOutput, loss: float) -> None:
        self.totals["loss"] += loss * out.count
        for name, value in out.metrics.items():
            self.totals[name] = self.totals.get(name, 0.0) + value * out.count
        self.count += out.count

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
                   parts[0].first_step)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None, result: TrainResult) -> EpochSums:
        """The saved sums; a checkpoint without them (older) starts them at its resume point."""
        if data is None:
            return cls(first_step=len(result.grad_norms))
        return cls(dict(data["totals"]), int(data["count"]), int(data["first_step"]))
