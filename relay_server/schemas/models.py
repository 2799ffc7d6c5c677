"""The Model resource (REFERENCE section 8) with Relay Local's lineage fields."""

from __future__ import annotations

import uuid
from typing import Any

from relay_server.schemas.common import ResponseModel, UTCTimestamp


class Model(ResponseModel):
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str | None
    description: str | None
    artifact_types: list[str]
    training_job_id: uuid.UUID | None
    eval_metrics: dict[str, Any]
    is_active: bool
    created_at: UTCTimestamp
    # extensions: where the model came from
    dataset_id: uuid.UUID | None
    annotation_set_id: uuid.UUID | None


class ModelList(ResponseModel):
    items: list[Model]
    total: int
    page: int
    page_size: int
    has_more: bool
