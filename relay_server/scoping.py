"""Tenant-scoped lookups: another tenant's resource is indistinguishable from a missing one."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay_server.db.models import AnnotationSet, AudioFile, Dataset
from relay_server.errors import not_found


def dataset_or_404(session: Session, tenant_id: uuid.UUID, dataset_id: uuid.UUID) -> Dataset:
    row = session.scalar(
        select(Dataset).where(Dataset.id == dataset_id, Dataset.tenant_id == tenant_id)
    )
    if row is None:
        raise not_found("Dataset")
    return row


def audio_or_404(session: Session, tenant_id: uuid.UUID, dataset_id: uuid.UUID,
                 audio_id: uuid.UUID) -> AudioFile:
    row = session.scalar(
        select(AudioFile).where(AudioFile.id == audio_id, AudioFile.dataset_id == dataset_id,
                                AudioFile.tenant_id == tenant_id)
    )
    if row is None:
        raise not_found("Audio file")
    return row


def annotation_set_or_404(session: Session, tenant_id: uuid.UUID, dataset_id: uuid.UUID,
                          set_id: uuid.UUID) -> AnnotationSet:
    row = session.scalar(
        select(AnnotationSet).where(AnnotationSet.id == set_id,
                                    AnnotationSet.dataset_id == dataset_id,
                                    AnnotationSet.tenant_id == tenant_id)
    )
    if row is None:
        raise not_found("Annotation set")
    return row
