"""Inference-job and inference-file bodies, mirroring openapi.yaml (REFERENCE §9-10).

Relay Local adds to the documented shapes: the file status ``cancelled``
(a file of a cancelled job that never ran), and on each file
``content_type``, ``file_size``, ``source_audio_id``, ``confirmed_at`` and
``created_at``. See docs/interfaces.md.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, field_validator

from relay_server.config import MAX_UPLOAD_BYTES
from relay_server.schemas.audio import AudioContentType, UploadFilename
from relay_server.schemas.common import RequestModel, ResponseModel, UTCTimestamp

MAX_DATASET_FILES = 1000
"""Most dataset audio files one ``files/from-dataset`` call may add."""


class InferenceJobStatus(StrEnum):
    pending = "pending"
    processing = "processing"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"


class InferenceFileStatus(StrEnum):
    pending = "pending"
    queued = "queued"
    processing = "processing"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"


Threshold = Annotated[float, Field(ge=0.0, le=1.0, strict=True,
                                   description="minimum confidence a detection needs")]
MergeWindowMs = Annotated[int, Field(ge=0, le=5000, strict=True,
                                     description="same-type detections closer than this merge")]
MinDurationMs = Annotated[int, Field(ge=0, le=1000, strict=True,
                                     description="detections shorter than this are dropped")]


class InferenceConfig(RequestModel):
    """The documented post-processing settings; a missing field takes its default."""

    threshold: Threshold = 0.5
    merge_window_ms: MergeWindowMs = 200
    min_duration_ms: MinDurationMs = 50


class InferenceJobCreate(RequestModel):
    model_id: uuid.UUID
    config: InferenceConfig | None = None


class Detection(ResponseModel):
    artifact_type: str
    start_ms: int
    end_ms: int
    confidence: float


class InferenceFile(ResponseModel):
    id: uuid.UUID
    inference_job_id: uuid.UUID
    original_filename: str
    s3_key: str = Field(validation_alias="storage_key")
    duration_ms: int | None
    status: InferenceFileStatus
    error_message: str | None
    detections: list[Detection] | None
    detection_count: int
    processed_at: UTCTimestamp | None
    # Relay Local extensions
    content_type: str
    file_size: int
    source_audio_id: uuid.UUID | None
    source_dataset_id: uuid.UUID | None = None
    confirmed_at: UTCTimestamp | None
    created_at: UTCTimestamp


class InferenceJob(ResponseModel):
    id: uuid.UUID
    tenant_id: uuid.UUID
    model_id: uuid.UUID
    config: dict[str, Any]
    status: InferenceJobStatus
    total_files: int
    processed_files: int
    failed_files: int
    total_detections: int
    error_message: str | None
    created_at: UTCTimestamp
    started_at: UTCTimestamp | None
    completed_at: UTCTimestamp | None


class InferenceJobDetail(InferenceJob):
    files: list[InferenceFile]


class InferenceJobList(ResponseModel):
    items: list[InferenceJob]
    total: int
    page: int
    page_size: int
    has_more: bool


class InferenceFileUploadUrlRequest(RequestModel):
    filename: UploadFilename
    file_size_bytes: Annotated[int, Field(ge=0, le=MAX_UPLOAD_BYTES, strict=True,
                                          description="bytes, at most 500 MiB")]
    content_type: AudioContentType = "audio/wav"


class InferenceFileUploadUrlResponse(ResponseModel):
    file_id: uuid.UUID
    upload_url: str
    upload_fields: dict[str, str]
    s3_key: str
    expires_in: int


class InferenceFileConfirmRequest(RequestModel):
    file_id: uuid.UUID


class InferenceFilesFromDataset(RequestModel):
    """Relay Local extension: run the job over audio files already in a dataset."""

    audio_file_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_DATASET_FILES)

    @field_validator("audio_file_ids", mode="after")
    @classmethod
    def _unique(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        if len(set(value)) != len(value):
            raise ValueError("must not repeat an audio file id")
        return value


class InferenceFileBatch(ResponseModel):
    """The files one ``files/from-dataset`` call created, in the order asked for."""

    files: list[InferenceFile]
