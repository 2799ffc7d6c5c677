"""Annotation-set and annotation bodies, mirroring openapi.yaml."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from relay_server.schemas.common import (
    MAX_MS,
    JsonObject,
    RequestModel,
    ResponseModel,
    SafeStr,
    UTCTimestamp,
)

MAX_BULK_ITEMS = 10_000

TypeName = Annotated[SafeStr, StringConstraints(min_length=1, max_length=100)]
StartMs = Annotated[int, Field(ge=0, le=MAX_MS)]
EndMs = Annotated[int, Field(ge=-MAX_MS, le=MAX_MS)]
Confidence = Annotated[float, Field(ge=0.0, le=1.0)]


class AnnotationCreate(RequestModel):
    """One new annotation. ``start_ms < end_ms`` and the dataset-dependent rules
    (type, audio file, duration) are checked by the router with precise locations."""

    audio_file_id: uuid.UUID
    artifact_type: TypeName
    start_ms: StartMs
    end_ms: EndMs
    confidence: Confidence = 1.0
    extra_data: JsonObject | None = None


class AnnotationUpdate(RequestModel):
    """Partial update: only the fields present change; ``extra_data`` may be null."""

    audio_file_id: uuid.UUID | None = None
    artifact_type: TypeName | None = None
    start_ms: StartMs | None = None
    end_ms: EndMs | None = None
    confidence: Confidence | None = None
    extra_data: JsonObject | None = None

    @field_validator("audio_file_id", "artifact_type", "start_ms", "end_ms", "confidence",
                     mode="after")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class AnnotationBulkCreate(RequestModel):
    annotations: list[AnnotationCreate] = Field(max_length=MAX_BULK_ITEMS)


class Annotation(ResponseModel):
    id: uuid.UUID
    annotation_set_id: uuid.UUID
    audio_file_id: uuid.UUID
    artifact_type: str
    start_ms: int
    end_ms: int
    confidence: float
    extra_data: dict[str, Any] | None = None
    created_at: UTCTimestamp


class AnnotationBulkCreateResponse(ResponseModel):
    created: int
    annotations: list[Annotation]


class AnnotationSet(ResponseModel):
    id: uuid.UUID
    dataset_id: uuid.UUID
    version: int
    status: Literal["draft", "published"]
    total_annotations: int
    total_positive_duration_ms: int
    annotations_by_type: dict[str, int]
    created_at: UTCTimestamp
    published_at: UTCTimestamp | None


class AnnotationSetDetail(AnnotationSet):
    annotations: list[Annotation]


class AnnotationSetList(ResponseModel):
    items: list[AnnotationSet]
    total: int
    page: int
    page_size: int
    has_more: bool
