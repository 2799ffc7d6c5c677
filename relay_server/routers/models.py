"""``/api/v1/models``: list (``is_active`` filter) and get. Models are made by training jobs."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from relay_server.db.models import Model
from relay_server.errors import not_found
from relay_server.pagination import PageParams, envelope, page_params, paginate
from relay_server.schemas.common import ErrorResponse
from relay_server.schemas.models import Model as ModelOut
from relay_server.schemas.models import ModelList
from relay_server.scoping import SessionDep, TenantDep

router = APIRouter(prefix="/api/v1/models", tags=["Models"],
                   responses={401: {"model": ErrorResponse}, 404: {"model": ErrorResponse}})


def model_or_404(session: Session, tenant_id: uuid.UUID, model_id: uuid.UUID) -> Model:
    """The tenant's model; another tenant's is indistinguishable from a missing one."""
    row = session.scalar(select(Model).where(Model.id == model_id, Model.tenant_id == tenant_id))
    if row is None:
        raise not_found("Model")
    return row


@router.get("", response_model=ModelList)
def list_models(session: SessionDep, tenant_id: TenantDep,
                params: PageParams = Depends(page_params),
                is_active: bool | None = Query(None, description="only active (true) or "
                                                                 "inactive (false) models"),
                ) -> dict[str, Any]:
    """The caller's models, oldest first."""
    query = select(Model).where(Model.tenant_id == tenant_id)
    if is_active is not None:
        query = query.where(Model.is_active == is_active)
    rows, total = paginate(session, query.order_by(Model.created_at, Model.id), params)
    return envelope([ModelOut.model_validate(r) for r in rows], total, params)


@router.get("/{model_id}", response_model=ModelOut)
def get_model(model_id: uuid.UUID, session: SessionDep, tenant_id: TenantDep) -> ModelOut:
    return ModelOut.model_validate(model_or_404(session, tenant_id, model_id))
