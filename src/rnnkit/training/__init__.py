"""The one trainer, checkpoints, bundles and diagnostics."""

from rnnkit.training.interruption import TrainingInterrupted
from rnnkit.training.monitor import TrainingDiverged
from rnnkit.training.task import StepOutput, TaskModel
from rnnkit.training.trainer import Trainer, TrainResult

__all__ = ["StepOutput", "TaskModel", "TrainResult", "Trainer", "TrainingDiverged",
           "TrainingInterrupted"]
