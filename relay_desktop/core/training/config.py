"""TrainingConfig: the documented parameters, their defaults and ranges, and the guide's advice.

Ranges are REFERENCE §7.2's; ``chunk_size_ms`` (100-5000) and ``stride_ms``
(10..``chunk_size_ms``) are Relay Local's, the reference states none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Param:
    """One numeric training parameter as the form shows it."""

    name: str
    label: str
    default: float
    minimum: float
    maximum: float
    integer: bool
    help: str
    decimals: int = 0
    step: float = 1


PARAMS: tuple[Param, ...] = (
    Param("epochs", "Epochs", 20, 1, 100, True, "Passes over the training data."),
    Param("validation_split", "Validation split", 0.2, 0.1, 0.5, False,
          "Fraction of the data held out to measure the model.", decimals=2, step=0.05),
    Param("learning_rate", "Learning rate", 0.001, 0.0001, 0.1, False,
          "Optimiser step size.", decimals=4, step=0.0005),
    Param("batch_size", "Batch size", 32, 8, 256, True, "Samples per step."),
    Param("chunk_size_ms", "Chunk size (ms)", 500, 100, 5000, True,
          "Length of the audio windows fed to the model.", step=50),
    Param("stride_ms", "Stride (ms)", 250, 10, 5000, True,
          "Step between window starts; at most the chunk size.", step=10),
)
PARAM_BY_NAME: dict[str, Param] = {p.name: p for p in PARAMS}
MAX_TYPES = 100


@dataclass(frozen=True)
class TrainingConfig:
    """What ``POST /training-jobs`` takes as ``config``; defaults are the documented ones."""

    artifact_types: tuple[str, ...] = ()
    epochs: int = 20
    validation_split: float = 0.2
    learning_rate: float = 0.001
    batch_size: int = 32
    chunk_size_ms: int = 500
    stride_ms: int = 250

    def validate(self, known_types: Iterable[str] | None = None) -> dict[str, str]:
        """Per-field messages (empty when the config is acceptable)."""
        problems: dict[str, str] = {}
        types = list(self.artifact_types)
        if not types:
            problems["artifact_types"] = "Choose at least one artifact type to train on."
        elif len(types) > MAX_TYPES:
            problems["artifact_types"] = f"At most {MAX_TYPES} artifact types."
        elif len(set(types)) != len(types):
            problems["artifact_types"] = "Each artifact type may be listed only once."
        elif known_types is not None:
            unknown = [t for t in types if t not in set(known_types)]
            if unknown:
                problems["artifact_types"] = (
                    f"Not a type of this dataset: {', '.join(unknown)}.")
        for param in PARAMS:
            value = getattr(self, param.name)
            if param.integer and (isinstance(value, bool) or not isinstance(value, int)):
                problems[param.name] = f"{param.label} must be a whole number."
            elif not isinstance(value, int | float) or isinstance(value, bool):
                problems[param.name] = f"{param.label} must be a number."
            elif not param.minimum <= value <= param.maximum:
                problems[param.name] = (f"{param.label} must be between "
                                        f"{_fmt(param, param.minimum)} and "
                                        f"{_fmt(param, param.maximum)}.")
        if ("stride_ms" not in problems and "chunk_size_ms" not in problems
                and self.stride_ms > self.chunk_size_ms):
            problems["stride_ms"] = ("Stride must be at most the chunk size "
                                     f"({self.chunk_size_ms} ms), or audio between windows "
                                     "is never seen.")
        return problems

    def to_json(self) -> dict[str, Any]:
        """The ``config`` body."""
        data = asdict(self)
        data["artifact_types"] = list(self.artifact_types)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrainingConfig:
        """A config from a stored/returned ``config`` (unknown keys ignored, defaults filled)."""
        values: dict[str, Any] = {"artifact_types": tuple(data.get("artifact_types") or ())}
        for param in PARAMS:
            if param.name in data:
                values[param.name] = data[param.name]
        return cls(**values)


def _fmt(param: Param, value: float) -> str:
    return str(int(value)) if param.integer else f"{value:g}"


SMALL_MIN, LARGE_MIN = 30, 120   # minutes of audio: the guide's size bands


@dataclass(frozen=True)
class TuningAdvice:
    """The guide's tuning advice for a dataset of ``minutes`` of audio."""

    minutes: float
    size: str                          # "small" | "medium" | "large"
    epochs: tuple[int, int]
    lines: tuple[str, ...]
    suggested: dict[str, float] = field(default_factory=dict)

    def text(self) -> str:
        return "\n".join(self.lines)


def tuning_advice(total_audio_ms: int) -> TuningAdvice:
    """REFERENCE §7.2 "Guide tuning advice" applied to the dataset's total audio."""
    minutes = max(0, total_audio_ms) / 60_000
    if minutes < SMALL_MIN:
        size, epochs = "small", (10, 20)
        split = "Validation split: 0.3 suits a small dataset (more held out to measure it)."
        suggested: dict[str, float] = {"epochs": 20, "validation_split": 0.3}
        batch = "Batch size: 16 if training runs short of memory; otherwise keep 32."
    elif minutes <= LARGE_MIN:
        size, epochs = "medium", (20, 40)
        split = "Validation split: the default 0.2 suits a dataset of this size."
        suggested = {"epochs": 30, "validation_split": 0.2}
        batch = "Batch size: 16 if training runs short of memory; otherwise keep 32."
    else:
        size, epochs = "large", (30, 50)
        split = "Validation split: 0.1 suits a very large dataset."
        suggested = {"epochs": 40, "validation_split": 0.1, "batch_size": 64}
        batch = "Batch size: 64-128 for a large dataset (16 under memory pressure)."
    lines = (
        f"{_minutes_text(minutes)} of audio: a {size} dataset.",
        f"Epochs: {epochs[0]}-{epochs[1]} for {_band(size)}.",
        split,
        ("Learning rate: 0.0001 for fine-tuning or unstable runs"
         + (", 0.01 for faster training on large data." if size == "large"
            else "; keep 0.001 otherwise.")),
        batch,
    )
    return TuningAdvice(minutes=minutes, size=size, epochs=epochs, lines=lines,
                        suggested=suggested)


def _band(size: str) -> str:
    return {"small": f"under {SMALL_MIN} min of audio",
            "medium": f"{SMALL_MIN}-{LARGE_MIN} min of audio",
            "large": f"over {LARGE_MIN} min of audio"}[size]


def _minutes_text(minutes: float) -> str:
    if minutes < 1:
        return f"{round(minutes * 60)} s"
    if minutes < 120:
        return f"{minutes:.1f} min"
    return f"{minutes / 60:.1f} h"
