"""``/api/v1/datasets/{dataset_id}/annotation-sets``: create, list, get, publish.

Statistics (``total_annotations``, ``total_positive_duration_ms``,
``annotations_by_type``) are stored when a set is published; a draft reports
them live. ``total_positive_duration_ms`` is the length of the *union* of the
annotated spans of each audio file, summed over files: two overlapping labels
(say a glitch inside a long pause) count their shared milliseconds once, so
the figure is "how much audio is labelled positive", never more than the audio.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, status
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from relay_server.db.base import utcnow
from relay_server.db.models import Annotation, AnnotationSet
from relay_server.errors import conflict
from relay_server.pagination import PageParams, envelope, page_params_default
from relay_server.schemas.annotations import AnnotationSet as AnnotationSetOut
from relay_server.schemas.annotations import AnnotationSetDetail, AnnotationSetList
from relay_server.schemas.common import ErrorResponse
from relay_server.scoping import (
    SessionDep,
    TenantDep,
    annotation_set_or_404,
    dataset_or_404,
    lock_dataset,
)

router = APIRouter(prefix="/api/v1/datasets/{dataset_id}/annotation-sets",
                   tags=["Annotation Sets"],
                   responses={401: {"model": ErrorResponse}, 404: {"model": ErrorResponse}})


@dataclass
class SetStats:
    """The statistics of one annotation set."""

    total_annotations: int = 0
    total_positive_duration_ms: int = 0
    annotations_by_type: dict[str, int] = field(default_factory=dict)


def union_length(spans: Iterable[tuple[int, int]]) -> int:
    """Total length covered by half-open ``[start, end)`` spans, overlaps counted once."""
    total = 0
    cur_start: int | None = None
    cur_end = 0
    for start, end in sorted(spans):
        if cur_start is None or start > cur_end:
            if cur_start is not None:
                total += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    if cur_start is not None:
        total += cur_end - cur_start
    return total


def compute_stats(session: Session, set_ids: list[uuid.UUID]) -> dict[uuid.UUID, SetStats]:
    """Statistics of ``set_ids`` from their annotations (two queries in all)."""
    stats = {set_id: SetStats() for set_id in set_ids}
    if not set_ids:
        return stats
    for set_id, type_name, count in session.execute(
        select(Annotation.annotation_set_id, Annotation.artifact_type, func.count())
        .where(Annotation.annotation_set_id.in_(set_ids))
        .group_by(Annotation.annotation_set_id, Annotation.artifact_type)
    ):
        entry = stats[set_id]
        entry.annotations_by_type[type_name] = int(count)
        entry.total_annotations += int(count)
    spans: dict[tuple[uuid.UUID, uuid.UUID], list[tuple[int, int]]] = defaultdict(list)
    for set_id, audio_id, start, end in session.execute(
        select(Annotation.annotation_set_id, Annotation.audio_file_id, Annotation.start_ms,
               Annotation.end_ms).where(Annotation.annotation_set_id.in_(set_ids))
    ):
        spans[(set_id, audio_id)].append((int(start), int(end)))
    for (set_id, _audio), file_spans in spans.items():
        stats[set_id].total_positive_duration_ms += union_length(file_spans)
    return stats


def set_out(row: AnnotationSet, live: SetStats | None = None) -> AnnotationSetOut:
    """The API view of a set; ``live`` statistics replace the stored ones of a draft."""
    data: dict[str, Any] = {
        "id": row.id, "dataset_id": row.dataset_id, "version": row.version,
        "status": row.status, "created_at": row.created_at, "published_at": row.published_at,
        "total_annotations": row.total_annotations,
        "total_positive_duration_ms": row.total_positive_duration_ms,
        "annotations_by_type": dict(row.annotations_by_type or {}),
    }
    if live is not None and row.status == "draft":
        data.update(total_annotations=live.total_annotations,
                    total_positive_duration_ms=live.total_positive_duration_ms,
                    annotations_by_type=dict(live.annotations_by_type))
    return AnnotationSetOut.model_validate(data)


def published_detail(row: AnnotationSet) -> str:
    return (f"Annotation set v{row.version} is published and cannot be changed; "
            "create a new draft to edit labels")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AnnotationSetOut)
def create_annotation_set(dataset_id: uuid.UUID, session: SessionDep,
                          tenant_id: TenantDep) -> AnnotationSetOut:
    """A new draft with the next version number of the dataset.

    The dataset row is locked first, so concurrent creates get distinct versions.
    """
    lock_dataset(session, tenant_id, dataset_id)
    latest = session.scalar(
        select(func.max(AnnotationSet.version)).where(AnnotationSet.dataset_id == dataset_id)
    )
    row = AnnotationSet(tenant_id=tenant_id, dataset_id=dataset_id, version=int(latest or 0) + 1,
                        status="draft", total_annotations=0, total_positive_duration_ms=0,
                        annotations_by_type={}, created_at=utcnow())
    session.add(row)
    session.commit()
    return set_out(row)


@router.get("", response_model=AnnotationSetList)
def list_annotation_sets(dataset_id: uuid.UUID, session: SessionDep, tenant_id: TenantDep,
                         params: PageParams = Depends(page_params_default(100))
                         ) -> dict[str, Any]:
    """The dataset's sets by version (page_size defaults to 100)."""
    dataset_or_404(session, tenant_id, dataset_id)
    where = (AnnotationSet.dataset_id == dataset_id, AnnotationSet.tenant_id == tenant_id)
    total = session.scalar(select(func.count()).select_from(AnnotationSet).where(*where)) or 0
    rows = list(session.scalars(
        select(AnnotationSet).where(*where).order_by(AnnotationSet.version)
        .offset(params.offset).limit(params.page_size)
    ))
    live = compute_stats(session, [r.id for r in rows if r.status == "draft"])
    return envelope([set_out(r, live.get(r.id)) for r in rows], int(total), params)


@router.get("/{annotation_set_id}", response_model=AnnotationSetDetail)
def get_annotation_set(dataset_id: uuid.UUID, annotation_set_id: uuid.UUID,
                       session: SessionDep, tenant_id: TenantDep) -> AnnotationSetDetail:
    """The set with every annotation, ordered by audio file then start time."""
    row = annotation_set_or_404(session, tenant_id, dataset_id, annotation_set_id)
    annotations = list(session.scalars(
        select(Annotation).where(Annotation.annotation_set_id == row.id)
        .order_by(Annotation.audio_file_id, Annotation.start_ms, Annotation.end_ms,
                  Annotation.id)
    ))
    live = compute_stats(session, [row.id]).get(row.id) if row.status == "draft" else None
    base = set_out(row, live).model_dump()
    return AnnotationSetDetail.model_validate({**base, "annotations": annotations},
                                              from_attributes=True)


@router.post("/{annotation_set_id}/publish", response_model=AnnotationSetOut,
             responses={409: {"model": ErrorResponse}})
def publish_annotation_set(dataset_id: uuid.UUID, annotation_set_id: uuid.UUID,
                           session: SessionDep, tenant_id: TenantDep) -> AnnotationSetOut:
    """Lock a draft: status ``published``, statistics stored, ``published_at`` set.

    The status flips in one conditional UPDATE, so of two concurrent publishes
    exactly one succeeds and the other gets the 409.
    """
    now = utcnow()
    result = session.execute(
        update(AnnotationSet)
        .where(AnnotationSet.id == annotation_set_id, AnnotationSet.dataset_id == dataset_id,
               AnnotationSet.tenant_id == tenant_id, AnnotationSet.status == "draft")
        .values(status="published", published_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) == 0:
        dataset_or_404(session, tenant_id, dataset_id)
        existing = annotation_set_or_404(session, tenant_id, dataset_id, annotation_set_id)
        raise conflict(f"Annotation set v{existing.version} is already published")
    row = annotation_set_or_404(session, tenant_id, dataset_id, annotation_set_id)
    session.refresh(row)
    stats = compute_stats(session, [row.id])[row.id]
    row.total_annotations = stats.total_annotations
    row.total_positive_duration_ms = stats.total_positive_duration_ms
    row.annotations_by_type = stats.annotations_by_type
    session.commit()
    return set_out(row)
