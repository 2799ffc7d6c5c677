"""Shared schema pieces: UTC timestamps, safe strings, JSON objects, error bodies."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer

# The largest time position (ms) the server stores: about 285,000 years, far
# beyond any audio, and well inside a 64-bit integer and a JSON double.
MAX_MS = 2**53 - 1


def _iso_utc(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


UTCTimestamp = Annotated[datetime, PlainSerializer(_iso_utc, return_type=str, when_used="json")]
"""A datetime serialised as ISO-8601 UTC ending in ``Z``."""


def _storable_text(value: str) -> str:
    """Reject text a database cannot store (NUL bytes, lone surrogates)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value


SafeStr = Annotated[str, AfterValidator(_storable_text)]
"""A string that every supported database can store verbatim."""


def _check_json(value: Any, depth: int = 0) -> None:
    if depth > 32:
        raise ValueError("is nested too deeply (more than 32 levels)")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must not contain NaN or infinite numbers")
    if isinstance(value, str):
        _storable_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable_text(str(key))
            _check_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)


def _storable_object(value: dict[str, Any]) -> dict[str, Any]:
    _check_json(value)
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_storable_object)]
"""A free-form JSON object that round-trips through the database and JSON output."""


class RequestModel(BaseModel):
    """Base of request bodies: unknown fields are ignored, strings kept verbatim."""

    model_config = ConfigDict(extra="ignore")


class ResponseModel(BaseModel):
    """Base of response bodies, built from ORM rows or dicts."""

    model_config = ConfigDict(from_attributes=True)


class ErrorResponse(BaseModel):
    """``{"detail": "..."}``: every non-validation error."""

    detail: str
