"""The one trainer, checkpoints, bundles and diagnostics."""

from rnnkit.training.task import StepOutput, TaskModel
from rnnkit.training.trainer import Trainer, TrainingDiverged, TrainResult

__all__ = ["StepOutput", "TaskModel", "TrainResult", "Trainer", "TrainingDiverged"]
