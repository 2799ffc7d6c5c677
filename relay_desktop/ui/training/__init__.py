"""The "Train model…" dialog and its pre-flight list."""

from relay_desktop.ui.training.checks import PreflightList, server_checks
from relay_desktop.ui.training.dialog import TrainingData, TrainingDialog, load_training_data

__all__ = ["PreflightList", "TrainingData", "TrainingDialog", "load_training_data",
           "server_checks"]
