"""Tenant-scoped lookups: another tenant's resource is indistinguishable from a missing one."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, TypeVar

from fastapi import Depends
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from relay_server.auth import current_tenant_id, get_session
from relay_server.db.models import AnnotationSet, AudioFile, Dataset
from relay_server.errors import not_found

T = TypeVar("T")


def _one_or_404(session: Session, statement: Select[T], what: str) -> T:
    row = session.scalar(statement)
    if row is None:
        raise not_found(what)
    return row


def dataset_or_404(session: Session, tenant_id: uuid.UUID, dataset_id: uuid.UUID) -> Dataset:
    return _one_or_404(session, select(Dataset).where(
        Dataset.id == dataset_id, Dataset.tenant_id == tenant_id), "Dataset")


def audio_or_404(session: Session, tenant_id: uuid.UUID, dataset_id: uuid.UUID,
                 audio_id: uuid.UUID) -> AudioFile:
    return _one_or_404(session, select(AudioFile).where(
        AudioFile.id == audio_id, AudioFile.dataset_id == dataset_id,
        AudioFile.tenant_id == tenant_id), "Audio file")


def annotation_set_or_404(session: Session, tenant_id: uuid.UUID, dataset_id: uuid.UUID,
                          set_id: uuid.UUID) -> AnnotationSet:
    return _one_or_404(session, select(AnnotationSet).where(
        AnnotationSet.id == set_id, AnnotationSet.dataset_id == dataset_id,
        AnnotationSet.tenant_id == tenant_id), "Annotation set")


def lock_dataset(session: Session, tenant_id: uuid.UUID, dataset_id: uuid.UUID,
                 **changes: Any) -> None:
    """Take the dataset's write lock by updating its row first (404 when absent).

    Writing before reading makes concurrent writers queue up on both SQLite (the
    database write lock) and PostgreSQL (the row lock), so what is read next is
    current and checks such as "next version" or "type still used" are safe.
    """
    values: dict[str, Any] = changes or {"updated_at": Dataset.updated_at}
    result = session.execute(
        update(Dataset).where(Dataset.id == dataset_id, Dataset.tenant_id == tenant_id)
        .values(**values).execution_options(synchronize_session=False)
    )
    if _rowcount(result) == 0:
        raise not_found("Dataset")


def lock_annotation_set(session: Session, tenant_id: uuid.UUID, dataset_id: uuid.UUID,
                        set_id: uuid.UUID) -> AnnotationSet:
    """Take the annotation set's write lock (see :func:`lock_dataset`) and return it."""
    result = session.execute(
        update(AnnotationSet)
        .where(AnnotationSet.id == set_id, AnnotationSet.dataset_id == dataset_id,
               AnnotationSet.tenant_id == tenant_id)
        .values(status=AnnotationSet.status).execution_options(synchronize_session=False)
    )
    if _rowcount(result) == 0:
        dataset_or_404(session, tenant_id, dataset_id)
        raise not_found("Annotation set")
    row = annotation_set_or_404(session, tenant_id, dataset_id, set_id)
    session.refresh(row)
    return row


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
"""One database session per request, committed and closed before the response is
sent (FastAPI's default "request" scope would commit only after sending it)."""

TenantDep = Annotated[uuid.UUID, Depends(current_tenant_id)]
"""The caller's tenant id, from the API key."""
