"""Dataset and artifact-type bodies, mirroring openapi.yaml's Dataset schemas."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from relay_server.schemas.common import RequestModel, ResponseModel, SafeStr, UTCTimestamp

DEFAULT_COLOR = "#FF0000"
MAX_ARTIFACT_TYPES = 100


def normalise_name(value: str) -> str:
    """``value`` without leading/trailing whitespace and with inner runs collapsed to one space."""
    return " ".join(value.split())


def name_key(value: str) -> str:
    """What two names must share to count as the same name: normalised, case-insensitive."""
    return normalise_name(value).casefold()


def _normalised_not_blank(value: str) -> str:
    value = normalise_name(value)
    if not value:
        raise ValueError("must not be blank")
    return value


Name = Annotated[SafeStr, StringConstraints(min_length=1, max_length=500),
                 AfterValidator(_normalised_not_blank)]
TypeName = Annotated[SafeStr, StringConstraints(min_length=1, max_length=100),
                     AfterValidator(_normalised_not_blank)]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")]


class ArtifactTypeIn(RequestModel):
    """One artifact type as sent by a client; ``color`` is a ``#RRGGBB`` hex string."""

    name: TypeName
    description: SafeStr | None = None
    color: Color | None = DEFAULT_COLOR

    @field_validator("color", mode="after")
    @classmethod
    def _default_color(cls, value: str | None) -> str:
        return value or DEFAULT_COLOR


class ArtifactType(ResponseModel):
    name: str
    description: str | None = None
    color: str = DEFAULT_COLOR


class DatasetCreate(RequestModel):
    name: Name
    description: SafeStr | None = None
    artifact_types: list[ArtifactTypeIn] = Field(default_factory=list,
                                                 max_length=MAX_ARTIFACT_TYPES)


class DatasetUpdate(RequestModel):
    """Partial update: only the fields present in the body change."""

    name: Name | None = None
    description: SafeStr | None = None
    artifact_types: list[ArtifactTypeIn] | None = Field(default=None,
                                                        max_length=MAX_ARTIFACT_TYPES)

    @field_validator("name", "artifact_types", mode="after")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class Dataset(ResponseModel):
    id: uuid.UUID
    name: str
    description: str | None = None
    artifact_types: list[ArtifactType]
    created_at: UTCTimestamp
    updated_at: UTCTimestamp


class DatasetListItem(Dataset):
    """A dataset as it appears in the list, with its counts."""

    audio_count: int
    annotation_set_count: int


class DatasetList(ResponseModel):
    items: list[DatasetListItem]
    total: int
    page: int
    page_size: int
    has_more: bool
