"""What every resource shares: a handle on the client's one request path."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from relay_desktop.api.client import RelayClient

API = "/api/v1"


def seg(value: object) -> str:
    """One URL path segment from an id (quoted, so an id can never change the path)."""
    text = str(value)
    if not text:
        raise ValueError("an id must not be empty")
    return quote(text, safe="")


def as_json(obj: Any) -> Any:
    """A model with ``to_json`` or a plain mapping, as a JSON-ready dict."""
    to_json = getattr(obj, "to_json", None)
    return to_json() if callable(to_json) else dict(obj)


class Resource:
    """Base class: resources are thin and call ``client._request``."""

    def __init__(self, client: RelayClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._client!r})"
