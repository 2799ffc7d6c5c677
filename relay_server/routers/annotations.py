"""``.../annotation-sets/{annotation_set_id}/annotations``: create, bulk, patch, delete.

Every write first locks the set (see :func:`relay_server.scoping.lock_annotation_set`)
and refuses a published one with a 409. The rules that depend on the dataset
(artifact type, audio file, duration, ``start_ms < end_ms``) are checked here
and reported as 422 items located at the offending field; a bulk request is
all-or-nothing and lists every bad item at ``["body", "annotations", i, field]``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Response, status
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from relay_server.db.base import utcnow
from relay_server.db.models import Annotation, AnnotationSet, AudioFile, Dataset
from relay_server.errors import FieldErrors, conflict, field_error, not_found
from relay_server.routers.annotation_sets import published_detail
from relay_server.schemas.annotations import Annotation as AnnotationOut
from relay_server.schemas.annotations import (
    AnnotationBulkCreate,
    AnnotationBulkCreateResponse,
    AnnotationCreate,
    AnnotationUpdate,
)
from relay_server.schemas.common import ErrorResponse
from relay_server.scoping import SessionDep, TenantDep, lock_annotation_set

router = APIRouter(
    prefix="/api/v1/datasets/{dataset_id}/annotation-sets/{annotation_set_id}/annotations",
    tags=["Annotations"],
    responses={401: {"model": ErrorResponse}, 404: {"model": ErrorResponse},
               409: {"model": ErrorResponse}},
)

_ID_CHUNK = 500  # ids per IN (...) list, well under every database's parameter limit


@dataclass(frozen=True)
class Candidate:
    """The fields of one annotation to validate, wherever they came from."""

    audio_file_id: uuid.UUID
    artifact_type: str
    start_ms: int
    end_ms: int


def _draft_set(session: Session, tenant_id: uuid.UUID, dataset_id: uuid.UUID,
               set_id: uuid.UUID) -> tuple[AnnotationSet, Dataset]:
    row = lock_annotation_set(session, tenant_id, dataset_id, set_id)
    if row.status != "draft":
        raise conflict(published_detail(row))
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:  # pragma: no cover - the set's foreign key guarantees it
        raise not_found("Dataset")
    return row, dataset


def _durations(session: Session, dataset: Dataset,
               audio_ids: set[uuid.UUID]) -> dict[uuid.UUID, int | None]:
    """Duration (or None when unknown) of each of ``audio_ids`` that is in ``dataset``."""
    found: dict[uuid.UUID, int | None] = {}
    ids = sorted(audio_ids)
    for i in range(0, len(ids), _ID_CHUNK):
        for audio_id, duration in session.execute(
            select(AudioFile.id, AudioFile.duration_ms)
            .where(AudioFile.id.in_(ids[i:i + _ID_CHUNK]),
                   AudioFile.dataset_id == dataset.id,
                   AudioFile.tenant_id == dataset.tenant_id)
        ):
            found[audio_id] = None if duration is None else int(duration)
    return found


def validate(session: Session, dataset: Dataset, items: Sequence[Candidate],
             prefixes: Sequence[list[str | int]]) -> None:
    """Check every item against the dataset; raise one 422 listing all problems."""
    type_names = [str(t["name"]) for t in dataset.artifact_types]
    allowed = set(type_names)
    durations = _durations(session, dataset, {c.audio_file_id for c in items})
    errors: list[dict[str, Any]] = []
    for item, loc in zip(items, prefixes, strict=True):
        if item.artifact_type not in allowed:
            choices = ", ".join(repr(n) for n in type_names) or "none defined"
            errors.append(field_error(
                [*loc, "artifact_type"],
                f"{item.artifact_type!r} is not an artifact type of this dataset "
                f"(allowed: {choices})", "value_error.artifact_type"))
        if item.audio_file_id not in durations:
            errors.append(field_error(
                [*loc, "audio_file_id"],
                f"Audio file {item.audio_file_id} does not belong to this dataset",
                "value_error.audio_file"))
        if item.end_ms <= item.start_ms:
            errors.append(field_error(
                [*loc, "end_ms"],
                f"end_ms ({item.end_ms}) must be greater than start_ms ({item.start_ms})",
                "value_error.range"))
        duration = durations.get(item.audio_file_id)
        if duration is not None and item.end_ms > duration:
            errors.append(field_error(
                [*loc, "end_ms"],
                f"end_ms ({item.end_ms}) is past the end of the audio file "
                f"(duration_ms {duration})", "value_error.range"))
    if errors:
        raise FieldErrors(errors)


def _row_values(set_id: uuid.UUID, body: AnnotationCreate) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "annotation_set_id": set_id,
            "audio_file_id": body.audio_file_id, "artifact_type": body.artifact_type,
            "start_ms": body.start_ms, "end_ms": body.end_ms, "confidence": body.confidence,
            "extra_data": dict(body.extra_data or {}), "created_at": utcnow()}


def _candidate(body: AnnotationCreate) -> Candidate:
    return Candidate(body.audio_file_id, body.artifact_type, body.start_ms, body.end_ms)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AnnotationOut)
def create_annotation(dataset_id: uuid.UUID, annotation_set_id: uuid.UUID,
                      body: AnnotationCreate, session: SessionDep,
                      tenant_id: TenantDep) -> dict[str, Any]:
    """Add one annotation to a draft set."""
    row, dataset = _draft_set(session, tenant_id, dataset_id, annotation_set_id)
    validate(session, dataset, [_candidate(body)], [["body"]])
    values = _row_values(row.id, body)
    session.execute(insert(Annotation), [values])
    session.commit()
    return values


@router.post("/bulk", status_code=status.HTTP_201_CREATED,
             response_model=AnnotationBulkCreateResponse)
def create_annotations_bulk(dataset_id: uuid.UUID, annotation_set_id: uuid.UUID,
                            body: AnnotationBulkCreate, session: SessionDep,
                            tenant_id: TenantDep) -> dict[str, Any]:
    """Add up to 10,000 annotations at once: all of them, or none and a 422."""
    row, dataset = _draft_set(session, tenant_id, dataset_id, annotation_set_id)
    validate(session, dataset, [_candidate(a) for a in body.annotations],
             [["body", "annotations", i] for i in range(len(body.annotations))])
    values = [_row_values(row.id, a) for a in body.annotations]
    if values:
        session.execute(insert(Annotation), values)
    session.commit()
    return {"created": len(values), "annotations": values}


def _annotation_or_404(session: Session, set_id: uuid.UUID,
                       annotation_id: uuid.UUID) -> Annotation:
    found = session.scalar(select(Annotation).where(Annotation.id == annotation_id,
                                                    Annotation.annotation_set_id == set_id))
    if found is None:
        raise not_found("Annotation")
    return found


@router.patch("/{annotation_id}", response_model=AnnotationOut)
def update_annotation(dataset_id: uuid.UUID, annotation_set_id: uuid.UUID,
                      annotation_id: uuid.UUID, body: AnnotationUpdate, session: SessionDep,
                      tenant_id: TenantDep) -> Annotation:
    """Change some fields of an annotation in a draft set; the result is re-validated."""
    row, dataset = _draft_set(session, tenant_id, dataset_id, annotation_set_id)
    annotation = _annotation_or_404(session, row.id, annotation_id)
    changes = body.model_dump(exclude_unset=True)
    merged = Candidate(
        changes.get("audio_file_id", annotation.audio_file_id),
        changes.get("artifact_type", annotation.artifact_type),
        changes.get("start_ms", annotation.start_ms),
        changes.get("end_ms", annotation.end_ms),
    )
    validate(session, dataset, [merged], [["body"]])
    for name, value in changes.items():
        if name == "extra_data":
            value = dict(value or {})
        setattr(annotation, name, value)
    session.commit()
    return annotation


@router.delete("/{annotation_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response)
def delete_annotation(dataset_id: uuid.UUID, annotation_set_id: uuid.UUID,
                      annotation_id: uuid.UUID, session: SessionDep,
                      tenant_id: TenantDep) -> Response:
    """Remove an annotation from a draft set."""
    row, _dataset = _draft_set(session, tenant_id, dataset_id, annotation_set_id)
    annotation = _annotation_or_404(session, row.id, annotation_id)
    session.delete(annotation)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
