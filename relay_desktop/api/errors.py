"""The client's error hierarchy: every failure a caller can see is a ``RelayError``.

``str(err)`` is always a sentence a person understands; the structured parts
(status code, ``detail``, the 422 field list, the S3 error code) are attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class RelayError(Exception):
    """Base class of every error the client raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ApiConnectionError(RelayError):
    """The server could not be reached, or the connection broke mid-request."""


class ApiTimeoutError(RelayError):
    """The server did not answer within the read timeout."""


class Cancelled(RelayError):
    """The operation was cancelled through its ``CancelToken``."""

    def __init__(self, message: str = "The operation was cancelled.") -> None:
        super().__init__(message)


class NotSupported(RelayError):
    """The server lacks a Relay Local extension endpoint (it answered 404 or 405 for the route)."""


class StorageError(RelayError):
    """The storage host refused an upload or download; ``code`` is the S3 error code."""

    def __init__(self, message: str, *, status_code: int, code: str = "",
                 storage_message: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.storage_message = storage_message

    @property
    def expired(self) -> bool:
        """True when storage says the presigned policy has expired."""
        text = f"{self.code} {self.storage_message}".lower()
        return self.status_code == 403 and "expired" in text


@dataclass(frozen=True)
class FieldError:
    """One item of a 422 ``detail`` list."""

    loc: tuple[str | int, ...]
    msg: str
    type: str

    @classmethod
    def from_json(cls, item: Any) -> FieldError:
        if not isinstance(item, dict):
            return cls((), str(item), "")
        loc = item.get("loc") or ()
        if not isinstance(loc, (list, tuple)):
            loc = (loc,)
        return cls(tuple(x if isinstance(x, int) else str(x) for x in loc),
                   str(item.get("msg", "")), str(item.get("type", "")))

    def __str__(self) -> str:
        where = ".".join(str(x) for x in self.loc if x != "body")
        return f"{where}: {self.msg}" if where else self.msg


class ApiStatusError(RelayError):
    """The server answered with an error status.

    ``detail`` is the server's ``detail`` (a string, a list, or None when the
    body was not Relay JSON); ``message`` the readable sentence.
    """

    def __init__(self, status_code: int, detail: Any, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.detail = detail


class BadRequest(ApiStatusError):
    """400: the request was malformed or broke a business rule."""


class Unauthorized(ApiStatusError):
    """401: the API key is missing or invalid."""


class Forbidden(ApiStatusError):
    """403: the key is valid but lacks permission."""


class NotFound(ApiStatusError):
    """404: the resource does not exist (or belongs to another tenant)."""


class Conflict(ApiStatusError):
    """409: the resource is in a state that forbids the operation."""


class ValidationFailed(ApiStatusError):
    """422: the body or a parameter failed validation; ``errors`` lists the fields."""

    def __init__(self, status_code: int, detail: Any, message: str,
                 errors: tuple[FieldError, ...] = ()) -> None:
        super().__init__(status_code, detail, message)
        self.errors = errors


class RateLimited(ApiStatusError):
    """429: too many requests (raised once retries are exhausted)."""


class ServerError(ApiStatusError):
    """5xx: the server failed."""


_BY_STATUS: dict[int, type[ApiStatusError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict,
    422: ValidationFailed, 429: RateLimited,
}

_GENERIC = {
    400: "The server rejected the request as malformed",
    401: "The API key is missing or invalid",
    403: "The API key does not allow this",
    404: "Not found",
    409: "The request conflicts with the current state",
    422: "The request failed validation",
    429: "Too many requests; try again later",
}


def _sentence(text: str) -> str:
    text = text.strip()
    if text and text[-1] not in ".!?":
        text += "."
    return text


def error_for_status(status_code: int, detail: Any, body_text: str = "",
                     reason: str = "") -> ApiStatusError:
    """Build the typed error for an error response.

    ``detail`` is the parsed ``detail`` (None when the body was not Relay JSON);
    ``body_text`` is the raw body, used for a readable message when there is no detail.
    """
    fields: tuple[FieldError, ...] = ()
    if isinstance(detail, list):
        fields = tuple(FieldError.from_json(item) for item in detail)
        text = "; ".join(str(f) for f in fields) or _GENERIC.get(status_code, "")
        base = "Invalid request" if status_code == 422 else _GENERIC.get(status_code, "Error")
        message = _sentence(f"{base}: {text}" if text else base)
    elif isinstance(detail, str) and detail.strip():
        message = _sentence(detail)
    elif detail is not None:
        message = _sentence(str(detail))
    else:
        snippet = " ".join(body_text.split())[:200]
        generic = _GENERIC.get(status_code) or (
            "The server failed" if status_code >= 500 else "The request failed")
        message = _sentence(f"{generic} (HTTP {status_code}{' ' + reason if reason else ''})"
                            + (f": {snippet}" if snippet else ""))
    if status_code >= 500:
        return ServerError(status_code, detail, message)
    cls = _BY_STATUS.get(status_code, ApiStatusError)
    if cls is ValidationFailed:
        return ValidationFailed(status_code, detail, message, fields)
    return cls(status_code, detail, message)
