"""Typed, immutable results of the Relay API.

Every model is a frozen dataclass with ``from_json(dict)`` that ignores unknown
keys and tolerates the documented optional ones. Ids are ``str``; timestamps
are aware UTC ``datetime`` or None.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")

TERMINAL_TRAINING_STATUSES = frozenset({"completed", "failed", "cancelled"})
TERMINAL_INFERENCE_STATUSES = frozenset({"completed", "failed", "cancelled"})


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 (``Z`` or offset, or naive meaning UTC) -> aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        dt = datetime.fromisoformat(str(value).replace("z", "Z"))
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class ArtifactType:
    """A label a dataset can carry (``glitch``, ``long_pause`` ...)."""

    name: str
    description: str | None = None
    color: str = "#FF0000"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ArtifactType:
        return cls(name=str(data["name"]), description=_opt_str(data.get("description")),
                   color=str(data.get("color") or "#FF0000"))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "color": self.color}
        if self.description is not None:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class Dataset:
    id: str
    name: str
    description: str | None
    artifact_types: tuple[ArtifactType, ...]
    created_at: datetime | None
    updated_at: datetime | None
    audio_count: int | None = None
    annotation_set_count: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Dataset:
        return cls(
            id=str(data["id"]), name=str(data.get("name", "")),
            description=_opt_str(data.get("description")),
            artifact_types=tuple(ArtifactType.from_json(t)
                                 for t in data.get("artifact_types") or ()),
            created_at=parse_time(data.get("created_at")),
            updated_at=parse_time(data.get("updated_at")),
            audio_count=_opt_int(data.get("audio_count")),
            annotation_set_count=_opt_int(data.get("annotation_set_count")),
        )

    @property
    def type_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.artifact_types)


@dataclass(frozen=True)
class AudioFile:
    id: str
    dataset_id: str
    filename: str
    content_type: str | None
    file_size: int | None
    duration_ms: int | None
    sample_rate: int | None
    channels: int | None
    processing_status: str
    error_message: str | None
    created_at: datetime | None
    updated_at: datetime | None
    # Relay Local extension: SHA-256 of the uploaded bytes once processed (else None)
    content_sha256: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AudioFile:
        return cls(
            id=str(data["id"]), dataset_id=str(data.get("dataset_id", "")),
            filename=str(data.get("filename", "")),
            content_type=_opt_str(data.get("content_type")),
            file_size=_opt_int(data.get("file_size")),
            duration_ms=_opt_int(data.get("duration_ms")),
            sample_rate=_opt_int(data.get("sample_rate")),
            channels=_opt_int(data.get("channels")),
            processing_status=str(data.get("processing_status", "pending")),
            error_message=_opt_str(data.get("error_message")),
            created_at=parse_time(data.get("created_at")),
            updated_at=parse_time(data.get("updated_at")),
            content_sha256=_opt_str(data.get("content_sha256")) or None,
        )


@dataclass(frozen=True)
class UploadTicket:
    """A presigned storage POST: send ``fields`` verbatim, then the file, to ``upload_url``.

    ``object_id`` is the AudioFile id (dataset audio) or the InferenceFile id.
    """

    upload_url: str
    fields: Mapping[str, str]
    key: str | None
    expires_in: int | None
    object_id: str

    @property
    def audio_id(self) -> str:
        return self.object_id

    @property
    def file_id(self) -> str:
        return self.object_id

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UploadTicket:
        """Accept both the dataset shape (fields/key/audio_id) and the inference one
        (upload_fields/s3_key/file_id)."""
        fields = data.get("fields")
        if fields is None:
            fields = data.get("upload_fields") or {}
        key = data.get("key", data.get("s3_key"))
        if key is None and isinstance(fields, Mapping):
            key = fields.get("key")
        object_id = data.get("audio_id", data.get("file_id"))
        if object_id is None:
            raise ValueError("upload-url response lacks audio_id/file_id")
        return cls(upload_url=str(data["upload_url"]),
                   fields={str(k): str(v) for k, v in dict(fields).items()},
                   key=_opt_str(key), expires_in=_opt_int(data.get("expires_in")),
                   object_id=str(object_id))


@dataclass(frozen=True)
class UploadConfirmation:
    audio_id: str
    status: str
    message: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UploadConfirmation:
        return cls(audio_id=str(data.get("audio_id", data.get("id", ""))),
                   status=str(data.get("status", data.get("processing_status", "pending"))),
                   message=str(data.get("message") or ""))


@dataclass(frozen=True)
class DownloadLink:
    download_url: str
    expires_in: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DownloadLink:
        return cls(download_url=str(data.get("download_url") or data["url"]),
                   expires_in=_opt_int(data.get("expires_in")))


@dataclass(frozen=True)
class AnnotationSet:
    id: str
    dataset_id: str
    version: int
    status: str
    total_annotations: int
    total_positive_duration_ms: int
    annotations_by_type: Mapping[str, Any]
    created_at: datetime | None
    published_at: datetime | None

    @classmethod
    def _kwargs(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return dict(
            id=str(data["id"]), dataset_id=str(data.get("dataset_id", "")),
            version=int(data.get("version") or 0), status=str(data.get("status", "draft")),
            total_annotations=int(data.get("total_annotations") or 0),
            total_positive_duration_ms=int(data.get("total_positive_duration_ms") or 0),
            annotations_by_type=_dict(data.get("annotations_by_type")),
            created_at=parse_time(data.get("created_at")),
            published_at=parse_time(data.get("published_at")),
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AnnotationSet:
        return cls(**cls._kwargs(data))

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"


@dataclass(frozen=True)
class Annotation:
    id: str
    annotation_set_id: str
    audio_file_id: str
    artifact_type: str
    start_ms: int
    end_ms: int
    confidence: float
    extra_data: Mapping[str, Any]
    created_at: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Annotation:
        conf = data.get("confidence")
        return cls(
            id=str(data["id"]), annotation_set_id=str(data.get("annotation_set_id", "")),
            audio_file_id=str(data.get("audio_file_id", "")),
            artifact_type=str(data.get("artifact_type", "")),
            start_ms=int(data.get("start_ms") or 0), end_ms=int(data.get("end_ms") or 0),
            confidence=1.0 if conf is None else float(conf),
            extra_data=_dict(data.get("extra_data")),
            created_at=parse_time(data.get("created_at")),
        )


@dataclass(frozen=True)
class AnnotationSetDetail(AnnotationSet):
    annotations: tuple[Annotation, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AnnotationSetDetail:
        return cls(**cls._kwargs(data),
                   annotations=tuple(Annotation.from_json(a)
                                     for a in data.get("annotations") or ()))


@dataclass(frozen=True)
class AnnotationCreate:
    """The body of an annotation create (single or bulk)."""

    audio_file_id: str
    artifact_type: str
    start_ms: int
    end_ms: int
    confidence: float = 1.0
    extra_data: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"audio_file_id": self.audio_file_id,
                               "artifact_type": self.artifact_type,
                               "start_ms": int(self.start_ms), "end_ms": int(self.end_ms),
                               "confidence": float(self.confidence)}
        if self.extra_data is not None:
            out["extra_data"] = dict(self.extra_data)
        return out


@dataclass(frozen=True)
class BulkCreateResult:
    created: int
    annotations: tuple[Annotation, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BulkCreateResult:
        anns = tuple(Annotation.from_json(a) for a in data.get("annotations") or ())
        created = data.get("created")
        return cls(created=len(anns) if created is None else int(created), annotations=anns)


@dataclass(frozen=True)
class TrainingProgress:
    """Relay Local extension: the finished epochs and their losses."""

    epoch: int
    epochs: int
    train_loss: tuple[float, ...] = ()
    validation_loss: tuple[float, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrainingProgress:
        return cls(epoch=int(data.get("epoch") or 0), epochs=int(data.get("epochs") or 0),
                   train_loss=tuple(float(v) for v in data.get("train_loss") or ()),
                   validation_loss=tuple(float(v) for v in data.get("validation_loss") or ()))

    @property
    def fraction(self) -> float:
        """Finished share of the epochs, 0.0-1.0."""
        return min(1.0, self.epoch / self.epochs) if self.epochs > 0 else 0.0


@dataclass(frozen=True)
class TrainingJob:
    id: str
    status: str
    dataset_id: str | None = None
    annotation_set_id: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    error_message: str | None = None
    model_id: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    progress: TrainingProgress | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrainingJob:
        progress = data.get("progress")
        return cls(
            id=str(data["id"]), status=str(data.get("status", "pending")),
            dataset_id=_opt_str(data.get("dataset_id")),
            annotation_set_id=_opt_str(data.get("annotation_set_id")),
            config=_dict(data.get("config")),
            error_message=_opt_str(data.get("error_message", data.get("error"))),
            model_id=_opt_str(data.get("model_id")),
            created_at=parse_time(data.get("created_at")),
            started_at=parse_time(data.get("started_at")),
            completed_at=parse_time(data.get("completed_at")),
            progress=(TrainingProgress.from_json(progress) if isinstance(progress, Mapping)
                      else None),
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_TRAINING_STATUSES


@dataclass(frozen=True)
class Model:
    id: str
    name: str | None
    description: str | None
    artifact_types: tuple[str, ...]
    training_job_id: str | None
    eval_metrics: Mapping[str, Any]
    is_active: bool
    created_at: datetime | None
    # Relay Local extensions: the dataset and annotation set it was trained on
    dataset_id: str | None = None
    annotation_set_id: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Model:
        return cls(
            id=str(data["id"]), name=_opt_str(data.get("name")),
            description=_opt_str(data.get("description")),
            artifact_types=tuple(str(t) for t in data.get("artifact_types") or ()),
            training_job_id=_opt_str(data.get("training_job_id")),
            eval_metrics=_dict(data.get("eval_metrics")),
            is_active=bool(data.get("is_active", True)),
            created_at=parse_time(data.get("created_at")),
            dataset_id=_opt_str(data.get("dataset_id")),
            annotation_set_id=_opt_str(data.get("annotation_set_id")),
        )


@dataclass(frozen=True)
class Detection:
    artifact_type: str
    start_ms: int
    end_ms: int
    confidence: float

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Detection:
        return cls(artifact_type=str(data.get("artifact_type", "")),
                   start_ms=int(data.get("start_ms") or 0), end_ms=int(data.get("end_ms") or 0),
                   confidence=float(data.get("confidence") or 0.0))


@dataclass(frozen=True)
class InferenceFile:
    id: str
    inference_job_id: str
    original_filename: str
    s3_key: str | None
    duration_ms: int | None
    status: str
    error_message: str | None
    detections: tuple[Detection, ...] | None
    detection_count: int
    processed_at: datetime | None
    # Relay Local extensions: the dataset audio a from-dataset file was taken from
    source_audio_id: str | None = None
    source_dataset_id: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InferenceFile:
        dets = data.get("detections")
        detections = None if dets is None else tuple(Detection.from_json(d) for d in dets)
        count = data.get("detection_count")
        return cls(
            id=str(data["id"]), inference_job_id=str(data.get("inference_job_id", "")),
            original_filename=str(data.get("original_filename", "")),
            s3_key=_opt_str(data.get("s3_key")), duration_ms=_opt_int(data.get("duration_ms")),
            status=str(data.get("status", "pending")),
            error_message=_opt_str(data.get("error_message")),
            detections=detections,
            detection_count=int(count) if count is not None else len(detections or ()),
            processed_at=parse_time(data.get("processed_at")),
            source_audio_id=_opt_str(data.get("source_audio_id")),
            source_dataset_id=_opt_str(data.get("source_dataset_id")),
        )


@dataclass(frozen=True)
class InferenceJob:
    id: str
    model_id: str
    status: str
    config: Mapping[str, Any] = field(default_factory=dict)
    tenant_id: str | None = None
    total_files: int = 0
    processed_files: int = 0
    failed_files: int = 0
    total_detections: int = 0
    error_message: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    files: tuple[InferenceFile, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InferenceJob:
        return cls(
            id=str(data["id"]), model_id=str(data.get("model_id", "")),
            status=str(data.get("status", "pending")), config=_dict(data.get("config")),
            tenant_id=_opt_str(data.get("tenant_id")),
            total_files=int(data.get("total_files") or 0),
            processed_files=int(data.get("processed_files") or 0),
            failed_files=int(data.get("failed_files") or 0),
            total_detections=int(data.get("total_detections") or 0),
            error_message=_opt_str(data.get("error_message")),
            created_at=parse_time(data.get("created_at")),
            started_at=parse_time(data.get("started_at")),
            completed_at=parse_time(data.get("completed_at")),
            files=tuple(InferenceFile.from_json(f) for f in data.get("files") or ()),
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_INFERENCE_STATUSES


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list endpoint."""

    items: tuple[T, ...]
    total: int | None
    page: int
    page_size: int
    has_more: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any], parse: Callable[[Mapping[str, Any]], T],
                  *, page: int, page_size: int) -> Page[T]:
        """Build a page; ``has_more`` falls back to ``total`` and the page length when absent."""
        items = tuple(parse(x) for x in data.get("items") or ())
        total = _opt_int(data.get("total"))
        page_no = int(data.get("page") or page)
        size = int(data.get("page_size") or page_size)
        has_more_raw = data.get("has_more")
        if has_more_raw is not None:
            has_more = bool(has_more_raw)
        elif total is not None:
            has_more = (page_no - 1) * size + len(items) < total and len(items) > 0
        else:
            has_more = len(items) >= size > 0
        return cls(items=items, total=total, page=page_no, page_size=size, has_more=has_more)
