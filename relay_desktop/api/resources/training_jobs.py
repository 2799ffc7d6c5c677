"""``/api/v1/training-jobs`` (plus the Relay Local cancel extension)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from relay_desktop.api.cancel import CancelToken
from relay_desktop.api.models import Page, TrainingJob
from relay_desktop.api.pagination import iter_items
from relay_desktop.api.resources._base import API, Resource, seg


class TrainingJobsResource(Resource):
    def create(self, dataset_id: str, annotation_set_id: str, config: Mapping[str, Any], *,
               cancel: CancelToken | None = None) -> TrainingJob:
        """Start training; ``config`` needs ``artifact_types`` (epochs etc. optional)."""
        body = {"dataset_id": dataset_id, "annotation_set_id": annotation_set_id,
                "config": dict(config)}
        data = self._client._request("POST", f"{API}/training-jobs", json=body, cancel=cancel)
        return TrainingJob.from_json(data)

    def list(self, page: int = 1, page_size: int = 20, *, status: str | None = None,
             dataset_id: str | None = None,
             cancel: CancelToken | None = None) -> Page[TrainingJob]:
        data = self._client._request(
            "GET", f"{API}/training-jobs", cancel=cancel,
            params={"page": page, "page_size": page_size, "status": status,
                    "dataset_id": dataset_id})
        return Page.from_json(data or {}, TrainingJob.from_json, page=page, page_size=page_size)

    def iter_items(self, page_size: int = 100, *, status: str | None = None,
                   dataset_id: str | None = None,
                   cancel: CancelToken | None = None) -> Iterator[TrainingJob]:
        return iter_items(lambda p, s: self.list(p, s, status=status, dataset_id=dataset_id,
                                                 cancel=cancel), page_size)

    def get(self, job_id: str, *, cancel: CancelToken | None = None) -> TrainingJob:
        data = self._client._request("GET", f"{API}/training-jobs/{seg(job_id)}", cancel=cancel)
        return TrainingJob.from_json(data)

    def cancel(self, job_id: str, *, cancel: CancelToken | None = None) -> TrainingJob:
        """Relay Local extension: stop a pending or running training job."""
        data = self._client._request("POST", f"{API}/training-jobs/{seg(job_id)}/cancel",
                                     cancel=cancel, extension="Cancelling a training job")
        return TrainingJob.from_json(data)
