"""``/api/v1/datasets``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from relay_desktop.api.cancel import CancelToken
from relay_desktop.api.models import ArtifactType, Dataset, Page
from relay_desktop.api.pagination import iter_items
from relay_desktop.api.resources._base import API, Resource, as_json, seg

_UNSET: Any = object()


def _types_json(types: Iterable[ArtifactType | Mapping[str, Any] | str]) -> list[dict[str, Any]]:
    return [{"name": t} if isinstance(t, str) else as_json(t) for t in types]


class DatasetsResource(Resource):
    def list(self, page: int = 1, page_size: int = 20, *,
             cancel: CancelToken | None = None) -> Page[Dataset]:
        data = self._client._request("GET", f"{API}/datasets",
                                     params={"page": page, "page_size": page_size}, cancel=cancel)
        return Page.from_json(data or {}, Dataset.from_json, page=page, page_size=page_size)

    def iter_items(self, page_size: int = 100, *,
                   cancel: CancelToken | None = None) -> Iterator[Dataset]:
        return iter_items(lambda p, s: self.list(p, s, cancel=cancel), page_size)

    def create(self, name: str,
               artifact_types: Iterable[ArtifactType | Mapping[str, Any] | str] = (),
               description: str | None = None, *,
               cancel: CancelToken | None = None) -> Dataset:
        body: dict[str, Any] = {"name": name, "artifact_types": _types_json(artifact_types)}
        if description is not None:
            body["description"] = description
        data = self._client._request("POST", f"{API}/datasets", json=body, cancel=cancel)
        return Dataset.from_json(data)

    def get(self, dataset_id: str, *, cancel: CancelToken | None = None) -> Dataset:
        data = self._client._request("GET", f"{API}/datasets/{seg(dataset_id)}", cancel=cancel)
        return Dataset.from_json(data)

    def update(self, dataset_id: str, *, name: str = _UNSET, description: str | None = _UNSET,
               artifact_types: Iterable[ArtifactType | Mapping[str, Any] | str] = _UNSET,
               cancel: CancelToken | None = None) -> Dataset:
        """PATCH only the fields given (``description=None`` clears it)."""
        body: dict[str, Any] = {}
        if name is not _UNSET:
            body["name"] = name
        if description is not _UNSET:
            body["description"] = description
        if artifact_types is not _UNSET:
            body["artifact_types"] = _types_json(artifact_types)
        data = self._client._request("PATCH", f"{API}/datasets/{seg(dataset_id)}", json=body,
                                     cancel=cancel)
        return Dataset.from_json(data)

    def delete(self, dataset_id: str, *, cancel: CancelToken | None = None) -> None:
        self._client._request("DELETE", f"{API}/datasets/{seg(dataset_id)}", cancel=cancel)
