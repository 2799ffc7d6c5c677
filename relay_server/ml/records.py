"""The plain values the detector takes and returns: regions, files, epochs, detections."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Region:
    """A labelled stretch of audio: ``artifact_type`` from ``start_ms`` to ``end_ms``."""

    artifact_type: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class TrainingFile:
    """One annotated audio file: a local path soundfile can read, and its regions."""

    audio_id: str
    path: Path
    duration_ms: int
    regions: tuple[Region, ...]


@dataclass(frozen=True)
class EpochReport:
    """Progress after one epoch; losses are class-balanced mean log losses over the types."""

    epoch: int
    epochs: int
    train_loss: float
    validation_loss: float


@dataclass(frozen=True)
class Detection:
    """One detected artifact, with the model's confidence in [0, 1]."""

    artifact_type: str
    start_ms: int
    end_ms: int
    confidence: float

    def as_dict(self) -> dict[str, object]:
        return {"artifact_type": self.artifact_type, "start_ms": self.start_ms,
                "end_ms": self.end_ms, "confidence": self.confidence}


@dataclass(frozen=True)
class DetectionResult:
    """Everything ``detect`` found in one file, and the file's decoded length."""

    detections: tuple[Detection, ...]
    duration_ms: int


class TrainingCancelled(Exception):
    """Training stopped because ``should_stop()`` said so."""


class TrainingError(Exception):
    """Training cannot proceed; the message is meant for the user."""
