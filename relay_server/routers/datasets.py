"""``/api/v1/datasets``: list (with counts), create, get, patch, delete (cascading)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request, Response, status
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from relay_server.db.base import utcnow
from relay_server.db.models import Annotation, AnnotationSet, AudioFile, Dataset
from relay_server.errors import FieldErrors, conflict, field_error, not_found
from relay_server.pagination import PageParams, envelope, page_params
from relay_server.schemas.common import ErrorResponse
from relay_server.schemas.datasets import (
    ArtifactTypeIn,
    DatasetCreate,
    DatasetList,
    DatasetListItem,
    DatasetUpdate,
    name_key,
)
from relay_server.schemas.datasets import Dataset as DatasetOut
from relay_server.scoping import SessionDep, TenantDep, dataset_or_404, lock_dataset

log = logging.getLogger("relay_server.datasets")

router = APIRouter(prefix="/api/v1/datasets", tags=["Datasets"],
                   responses={401: {"model": ErrorResponse}})


def check_unique_type_names(types: list[ArtifactTypeIn], loc: list[str | int]) -> None:
    """422 at ``loc + [i, "name"]`` for every artifact type that repeats an earlier name.

    Names are compared normalised and case-insensitively: "glitch" and "Glitch " are one type.
    """
    seen: dict[str, str] = {}
    errors = []
    for i, item in enumerate(types):
        key = name_key(item.name)
        if key in seen:
            same = "appears more than once" if seen[key] == item.name else (
                f"is the same name as {seen[key]!r} (names ignore case and extra spaces)")
            errors.append(field_error(
                [*loc, i, "name"],
                f"Artifact type names must be unique within a dataset; {item.name!r} {same}",
                "value_error.duplicate"))
        seen.setdefault(key, item.name)
    if errors:
        raise FieldErrors(errors)


def check_unique_dataset_name(session: Session, tenant_id: uuid.UUID, name: str,
                              exclude: uuid.UUID | None = None) -> None:
    """409 when another dataset of the tenant already has ``name`` (ignoring case and spaces).

    Compared in Python so the rule is identical on SQLite and PostgreSQL; a tenant's
    dataset names are a short list.
    """
    key = name_key(name)
    query = select(Dataset.id, Dataset.name).where(Dataset.tenant_id == tenant_id)
    for other_id, other_name in session.execute(query).all():
        if other_id != exclude and name_key(other_name) == key:
            raise conflict(f"A dataset named {other_name!r} already exists; "
                           "choose a different name (names ignore case and extra spaces).")


def _types_json(types: list[ArtifactTypeIn]) -> list[dict[str, Any]]:
    return [t.model_dump() for t in types]


@router.get("", response_model=DatasetList)
def list_datasets(session: SessionDep, tenant_id: TenantDep,
                  params: PageParams = Depends(page_params)) -> dict[str, Any]:
    """One page of the caller's datasets, oldest first, each with its counts.

    The counts are correlated sub-selects on indexed columns, evaluated only for
    the rows of this page: one query for the page, one for the total.
    """
    audio_count = (select(func.count()).select_from(AudioFile)
                   .where(AudioFile.dataset_id == Dataset.id).scalar_subquery())
    set_count = (select(func.count()).select_from(AnnotationSet)
                 .where(AnnotationSet.dataset_id == Dataset.id).scalar_subquery())
    mine = Dataset.tenant_id == tenant_id
    total = session.scalar(select(func.count()).select_from(Dataset).where(mine)) or 0
    rows = session.execute(
        select(Dataset, audio_count, set_count).where(mine)
        .order_by(Dataset.created_at, Dataset.id)
        .offset(params.offset).limit(params.page_size)
    ).all()
    items = [
        DatasetListItem.model_validate({**DatasetOut.model_validate(ds).model_dump(),
                                        "audio_count": int(n_audio or 0),
                                        "annotation_set_count": int(n_sets or 0)})
        for ds, n_audio, n_sets in rows
    ]
    return envelope(items, int(total), params)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DatasetOut,
             responses={409: {"model": ErrorResponse}})
def create_dataset(body: DatasetCreate, session: SessionDep, tenant_id: TenantDep) -> Dataset:
    """Create a dataset; its name is unique for the tenant, its type names within it."""
    check_unique_type_names(body.artifact_types, ["body", "artifact_types"])
    check_unique_dataset_name(session, tenant_id, body.name)
    now = utcnow()
    dataset = Dataset(tenant_id=tenant_id, name=body.name, description=body.description,
                      artifact_types=_types_json(body.artifact_types),
                      created_at=now, updated_at=now)
    session.add(dataset)
    session.commit()
    return dataset


@router.get("/{dataset_id}", response_model=DatasetOut,
            responses={404: {"model": ErrorResponse}})
def get_dataset(dataset_id: uuid.UUID, session: SessionDep, tenant_id: TenantDep) -> Dataset:
    return dataset_or_404(session, tenant_id, dataset_id)


def _types_in_use(session: Session, dataset_id: uuid.UUID, names: set[str]) -> dict[str, int]:
    """How many annotations (in any set of the dataset) use each of ``names``."""
    if not names:
        return {}
    rows = session.execute(
        select(Annotation.artifact_type, func.count())
        .join(AnnotationSet, AnnotationSet.id == Annotation.annotation_set_id)
        .where(AnnotationSet.dataset_id == dataset_id, Annotation.artifact_type.in_(names))
        .group_by(Annotation.artifact_type)
    ).all()
    return {name: int(count) for name, count in rows}


@router.patch("/{dataset_id}", response_model=DatasetOut,
              responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}})
def update_dataset(dataset_id: uuid.UUID, body: DatasetUpdate, session: SessionDep,
                   tenant_id: TenantDep) -> Dataset:
    """Partial update of name, description and artifact types.

    Removing an artifact type that annotations still use is a 409: the labels
    would otherwise silently lose their meaning.
    """
    if body.artifact_types is not None:
        check_unique_type_names(body.artifact_types, ["body", "artifact_types"])
    lock_dataset(session, tenant_id, dataset_id, updated_at=utcnow())
    dataset = dataset_or_404(session, tenant_id, dataset_id)
    session.refresh(dataset)
    fields = body.model_fields_set
    if "artifact_types" in fields and body.artifact_types is not None:
        new_names = {t.name for t in body.artifact_types}
        removed = {t["name"] for t in dataset.artifact_types} - new_names
        used = _types_in_use(session, dataset.id, removed)
        if used:
            listing = ", ".join(f"{name!r} ({count} annotation{'s' if count != 1 else ''})"
                                for name, count in sorted(used.items()))
            raise conflict(f"Cannot remove artifact type(s) still used by annotations: "
                           f"{listing}. Delete or relabel those annotations first.")
        dataset.artifact_types = _types_json(body.artifact_types)
    if "name" in fields and body.name is not None:
        if name_key(body.name) != name_key(dataset.name):  # a real rename (not a re-send)
            check_unique_dataset_name(session, tenant_id, body.name, exclude=dataset.id)
        dataset.name = body.name
    if "description" in fields:
        dataset.description = body.description
    session.commit()
    return dataset


@router.delete("/{dataset_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, responses={404: {"model": ErrorResponse}})
def delete_dataset(dataset_id: uuid.UUID, request: Request, session: SessionDep,
                   tenant_id: TenantDep) -> Response:
    """Delete the dataset with its audio files, annotation sets, annotations and objects."""
    result = session.execute(
        delete(Dataset).where(Dataset.id == dataset_id, Dataset.tenant_id == tenant_id)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) == 0:
        raise not_found("Dataset")
    session.commit()
    storage = getattr(request.app.state, "storage", None)
    if storage is not None:
        prefix = f"tenants/{tenant_id}/datasets/{dataset_id}/"
        try:
            storage.delete_prefix(prefix)
        except Exception:  # the rows are gone; leftover bytes must not turn this into a 500
            log.exception("Could not delete stored objects under %s", prefix)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
