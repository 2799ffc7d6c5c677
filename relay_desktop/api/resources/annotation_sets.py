"""``/api/v1/datasets/{id}/annotation-sets``."""

from __future__ import annotations

from collections.abc import Iterator

from relay_desktop.api.cancel import CancelToken
from relay_desktop.api.models import AnnotationSet, AnnotationSetDetail, Page
from relay_desktop.api.pagination import iter_items
from relay_desktop.api.resources._base import API, Resource, seg


class AnnotationSetsResource(Resource):
    def _base(self, dataset_id: str) -> str:
        return f"{API}/datasets/{seg(dataset_id)}/annotation-sets"

    def list(self, dataset_id: str, page: int = 1, page_size: int = 100, *,
             cancel: CancelToken | None = None) -> Page[AnnotationSet]:
        data = self._client._request("GET", self._base(dataset_id), cancel=cancel,
                                     params={"page": page, "page_size": page_size})
        return Page.from_json(data or {}, AnnotationSet.from_json, page=page,
                              page_size=page_size)

    def iter_items(self, dataset_id: str, page_size: int = 100, *,
                   cancel: CancelToken | None = None) -> Iterator[AnnotationSet]:
        return iter_items(lambda p, s: self.list(dataset_id, p, s, cancel=cancel), page_size)

    def create(self, dataset_id: str, *, cancel: CancelToken | None = None) -> AnnotationSet:
        """A new draft with the next version number (no body)."""
        data = self._client._request("POST", self._base(dataset_id), cancel=cancel)
        return AnnotationSet.from_json(data)

    def get(self, dataset_id: str, set_id: str, *,
            cancel: CancelToken | None = None) -> AnnotationSetDetail:
        data = self._client._request("GET", f"{self._base(dataset_id)}/{seg(set_id)}",
                                     cancel=cancel)
        return AnnotationSetDetail.from_json(data)

    def publish(self, dataset_id: str, set_id: str, *,
                cancel: CancelToken | None = None) -> AnnotationSet:
        data = self._client._request("POST", f"{self._base(dataset_id)}/{seg(set_id)}/publish",
                                     cancel=cancel)
        return AnnotationSet.from_json(data)
