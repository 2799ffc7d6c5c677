"""Request and response bodies of the audio routes."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, StrictInt

from relay_server.config import MAX_UPLOAD_BYTES
from relay_server.schemas.common import RequestModel, ResponseModel, SafeStr, UTCTimestamp

# The reference's table of supported types, plus the spellings browsers and
# operating systems commonly use for the same formats.
AUDIO_TYPES: dict[str, str] = {
    "audio/wav": "WAV", "audio/x-wav": "WAV", "audio/wave": "WAV", "audio/vnd.wave": "WAV",
    "audio/mpeg": "MP3", "audio/mp3": "MP3",
    "audio/mp4": "MP4", "audio/x-m4a": "MP4", "audio/m4a": "MP4",
    "audio/ogg": "OGG",
    "audio/flac": "FLAC", "audio/x-flac": "FLAC",
    "audio/webm": "WebM",
    "audio/aac": "AAC", "audio/x-aac": "AAC",
}
DOCUMENTED_TYPES = ("audio/wav", "audio/mpeg", "audio/mp4", "audio/ogg", "audio/flac",
                    "audio/webm", "audio/aac")


class ProcessingStatus(StrEnum):
    pending = "pending"
    normalizing = "normalizing"
    embedding = "embedding"
    ready = "ready"
    failed = "failed"


def _audio_type(value: str) -> str:
    value = value.strip()
    base = value.split(";", 1)[0].strip().lower()
    if base not in AUDIO_TYPES:
        raise ValueError(f"must be an audio MIME type: one of {', '.join(DOCUMENTED_TYPES)}")
    if any(ord(ch) < 32 or ord(ch) > 126 for ch in value) or len(value) > 200:
        raise ValueError("must be a plain ASCII MIME type")
    return value


def _filename(value: str) -> str:
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("must not contain control characters")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


AudioContentType = Annotated[str, Field(min_length=1, max_length=200),
                             AfterValidator(_audio_type)]
"""An audio MIME type (the reference's seven or a common alias), as upload bodies take it."""
UploadFilename = Annotated[SafeStr, Field(min_length=1, max_length=500), AfterValidator(_filename)]
"""A client's file name: 1-500 characters, not blank, no control characters."""


class UploadUrlRequest(RequestModel):
    filename: UploadFilename
    content_type: AudioContentType
    file_size: Annotated[StrictInt, Field(ge=1, le=MAX_UPLOAD_BYTES,
                                          description="bytes, at most 500 MiB")]


class UploadUrlResponse(ResponseModel):
    upload_url: str
    fields: dict[str, str]
    key: str
    expires_in: int
    audio_id: uuid.UUID


class ConfirmRequest(RequestModel):
    audio_id: uuid.UUID


class ConfirmResponse(ResponseModel):
    audio_id: uuid.UUID
    status: ProcessingStatus
    message: str


class AudioFileOut(ResponseModel):
    id: uuid.UUID
    dataset_id: uuid.UUID
    filename: str
    content_type: str
    file_size: int
    duration_ms: int | None
    sample_rate: int | None
    channels: int | None
    processing_status: ProcessingStatus
    error_message: str | None
    created_at: UTCTimestamp
    updated_at: UTCTimestamp
    content_sha256: str | None = Field(
        None, description="Relay Local extension: hex SHA-256 of the uploaded bytes, set "
                          "while the file is processed (null before, and for files "
                          "processed before this field existed)")


class AudioFileList(ResponseModel):
    items: list[AudioFileOut]
    total: int
    page: int
    page_size: int
    has_more: bool


class DownloadLink(ResponseModel):
    download_url: str
    expires_in: int
