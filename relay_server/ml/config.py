"""Training and inference settings, parsed from the API's config objects.

``from_mapping`` fills the documented defaults and raises ValueError, naming
the field, for a missing, mistyped or out-of-range value. Unknown keys are
ignored (the API layer validates the request body itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


def _number(data: Mapping[str, Any], name: str, default: float, low: float, high: float,
            *, integer: bool) -> Any:
    value = data.get(name, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number")
    if integer:
        if float(value) != int(value):
            raise ValueError(f"{name} must be a whole number")
        value = int(value)
    else:
        value = float(value)
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}")
    return value


@dataclass(frozen=True)
class TrainingConfig:
    """How to train: the types to learn and the documented hyper-parameters.

    ``validation_split`` is the fraction of audio FILES held out for
    validation (rounded, at least one file on each side when there are two
    or more). ``stride_ms`` is the hop between window starts.
    """

    artifact_types: tuple[str, ...]
    epochs: int = 20
    validation_split: float = 0.2
    learning_rate: float = 0.001
    batch_size: int = 32
    chunk_size_ms: int = 500
    stride_ms: int = 250

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TrainingConfig:
        types = data.get("artifact_types")
        if (not isinstance(types, (list, tuple)) or not types
                or not all(isinstance(t, str) and t for t in types)):
            raise ValueError("artifact_types must be a non-empty list of type names")
        if len(set(types)) != len(types):
            raise ValueError("artifact_types must not repeat a type")
        chunk = _number(data, "chunk_size_ms", 500, 50, 10_000, integer=True)
        return cls(
            artifact_types=tuple(types),
            epochs=_number(data, "epochs", 20, 1, 100, integer=True),
            validation_split=_number(data, "validation_split", 0.2, 0.1, 0.5, integer=False),
            learning_rate=_number(data, "learning_rate", 0.001, 0.0001, 0.1, integer=False),
            batch_size=_number(data, "batch_size", 32, 8, 256, integer=True),
            chunk_size_ms=chunk,
            stride_ms=_number(data, "stride_ms", 250, 10, chunk, integer=True),
        )

    def as_dict(self) -> dict[str, Any]:
        """The effective config as JSON-ready values (defaults filled)."""
        out = asdict(self)
        out["artifact_types"] = list(self.artifact_types)
        return out


@dataclass(frozen=True)
class InferenceConfig:
    """How detections are filtered: see ``relay_server.ml.postprocess``."""

    threshold: float = 0.5
    merge_window_ms: int = 200
    min_duration_ms: int = 50

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> InferenceConfig:
        data = data or {}
        return cls(
            threshold=_number(data, "threshold", 0.5, 0.0, 1.0, integer=False),
            merge_window_ms=_number(data, "merge_window_ms", 200, 0, 5000, integer=True),
            min_duration_ms=_number(data, "min_duration_ms", 50, 0, 1000, integer=True),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
