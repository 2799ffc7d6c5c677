"""``.../annotation-sets/{id}/annotations``: create, bulk create, update, delete."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from relay_desktop.api.cancel import CancelToken
from relay_desktop.api.models import Annotation, AnnotationCreate, BulkCreateResult
from relay_desktop.api.resources._base import API, Resource, as_json, seg

_FIELDS = frozenset({"audio_file_id", "artifact_type", "start_ms", "end_ms", "confidence",
                     "extra_data"})


class AnnotationsResource(Resource):
    def _base(self, dataset_id: str, set_id: str) -> str:
        return f"{API}/datasets/{seg(dataset_id)}/annotation-sets/{seg(set_id)}/annotations"

    def create(self, dataset_id: str, set_id: str,
               annotation: AnnotationCreate | Mapping[str, Any], *,
               cancel: CancelToken | None = None) -> Annotation:
        data = self._client._request("POST", self._base(dataset_id, set_id),
                                     json=as_json(annotation), cancel=cancel)
        return Annotation.from_json(data)

    def bulk_create(self, dataset_id: str, set_id: str,
                    annotations: Iterable[AnnotationCreate | Mapping[str, Any]], *,
                    cancel: CancelToken | None = None) -> BulkCreateResult:
        body = {"annotations": [as_json(a) for a in annotations]}
        data = self._client._request("POST", f"{self._base(dataset_id, set_id)}/bulk",
                                     json=body, cancel=cancel)
        return BulkCreateResult.from_json(data or {})

    def update(self, dataset_id: str, set_id: str, annotation_id: str, *,
               cancel: CancelToken | None = None, **fields: Any) -> Annotation:
        """PATCH the given fields (any of audio_file_id, artifact_type, start_ms, end_ms,
        confidence, extra_data)."""
        unknown = set(fields) - _FIELDS
        if unknown:
            raise TypeError(f"unknown annotation field(s): {', '.join(sorted(unknown))}")
        data = self._client._request(
            "PATCH", f"{self._base(dataset_id, set_id)}/{seg(annotation_id)}", json=fields,
            cancel=cancel)
        return Annotation.from_json(data)

    def delete(self, dataset_id: str, set_id: str, annotation_id: str, *,
               cancel: CancelToken | None = None) -> None:
        self._client._request("DELETE", f"{self._base(dataset_id, set_id)}/{seg(annotation_id)}",
                              cancel=cancel)
