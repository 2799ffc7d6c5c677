"""Relay Local's artifact detector: training and detection, free of Qt, HTTP and the database.

Callers (the training and inference jobs) use only the names re-exported
here. The pipeline: ``audio`` decodes any file to 16 kHz blocks;
``features`` computes 10 ms log-mel/flatness/ZCR and 2 ms energy/high-pass
signals in one pass; ``windows`` pools them into per-window features
(``chunk_size_ms`` every ``stride_ms``) and labels; ``network`` is a small
multi-label MLP ensemble trained with Adam; ``train`` splits by file, trains
and tunes thresholds on training files only; ``detect`` scores windows,
turns runs into events, tightens their edges (``boundaries``, using the
dropout/burst finders of ``candidates``) and applies ``postprocess``;
``events`` holds the event-level matching and metrics; ``model`` the safe
byte format (JSON header + npz, no pickle).
"""

from relay_server.ml.config import InferenceConfig, TrainingConfig
from relay_server.ml.detect import DetectionCancelled, detect
from relay_server.ml.events import Matching, edge_errors, event_metrics, match_events
from relay_server.ml.model import TrainedModel
from relay_server.ml.postprocess import postprocess
from relay_server.ml.records import (
    Detection,
    DetectionResult,
    EpochReport,
    Region,
    TrainingCancelled,
    TrainingError,
    TrainingFile,
)
from relay_server.ml.train import EVAL_CONFIG, train_model

__all__ = [
    "EVAL_CONFIG",
    "Detection",
    "DetectionCancelled",
    "DetectionResult",
    "EpochReport",
    "InferenceConfig",
    "Matching",
    "Region",
    "TrainedModel",
    "TrainingCancelled",
    "TrainingConfig",
    "TrainingError",
    "TrainingFile",
    "detect",
    "edge_errors",
    "event_metrics",
    "match_events",
    "postprocess",
    "train_model",
]
