"""Training-job bodies: the create request with its config ranges, and the job itself."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from relay_server.schemas.common import RequestModel, ResponseModel, SafeStr, UTCTimestamp

TRAINING_STATUSES = ("pending", "queued", "training", "completed", "failed", "cancelled")
TrainingStatus = Literal["pending", "queued", "training", "completed", "failed", "cancelled"]
ACTIVE_STATUSES = ("pending", "queued", "training")

MIN_CHUNK_MS, MAX_CHUNK_MS = 100, 5000
MIN_STRIDE_MS = 10

TypeName = Annotated[SafeStr, StringConstraints(min_length=1, max_length=100)]


class TrainingConfigIn(RequestModel):
    """The documented TrainingConfig; the chunk and stride ranges are Relay Local's."""

    artifact_types: list[TypeName] = Field(min_length=1, max_length=100)
    epochs: int = Field(20, ge=1, le=100)
    validation_split: float = Field(0.2, ge=0.1, le=0.5)
    learning_rate: float = Field(0.001, ge=0.0001, le=0.1)
    batch_size: int = Field(32, ge=8, le=256)
    chunk_size_ms: int = Field(500, ge=MIN_CHUNK_MS, le=MAX_CHUNK_MS)
    stride_ms: int = Field(250, ge=MIN_STRIDE_MS, le=MAX_CHUNK_MS)

    @field_validator("artifact_types")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        repeated = sorted({name for name in value if value.count(name) > 1})
        if repeated:
            raise ValueError(f"lists {', '.join(map(repr, repeated))} more than once")
        return value

    @field_validator("stride_ms")
    @classmethod
    def _stride_within_chunk(cls, value: int, info: ValidationInfo) -> int:
        chunk = info.data.get("chunk_size_ms")
        if isinstance(chunk, int) and value > chunk:
            raise ValueError(f"must be at most chunk_size_ms ({chunk}), or windows would "
                             "leave gaps of audio unseen")
        return value


class TrainingJobCreate(RequestModel):
    dataset_id: uuid.UUID
    annotation_set_id: uuid.UUID
    config: TrainingConfigIn


class TrainingProgress(ResponseModel):
    """Relay Local extension: how far training has got, one loss per finished epoch."""

    epoch: int = 0
    epochs: int = 0
    train_loss: list[float] = Field(default_factory=list)
    validation_loss: list[float] = Field(default_factory=list)


class TrainingJob(ResponseModel):
    id: uuid.UUID
    tenant_id: uuid.UUID
    dataset_id: uuid.UUID
    annotation_set_id: uuid.UUID
    config: dict[str, Any]
    status: TrainingStatus
    error_message: str | None
    model_id: uuid.UUID | None
    progress: TrainingProgress
    created_at: UTCTimestamp
    started_at: UTCTimestamp | None
    completed_at: UTCTimestamp | None


class TrainingJobList(ResponseModel):
    items: list[TrainingJob]
    total: int
    page: int
    page_size: int
    has_more: bool
