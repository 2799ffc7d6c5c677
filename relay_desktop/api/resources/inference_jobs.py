"""``/api/v1/inference-jobs`` and their files (note the inference field names:
``file_size_bytes``, ``upload_fields``, ``s3_key``, ``file_id``)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from relay_desktop.api.cancel import CancelToken
from relay_desktop.api.downloads import download_to_file
from relay_desktop.api.models import DownloadLink, InferenceFile, InferenceJob, Page, UploadTicket
from relay_desktop.api.pagination import iter_items
from relay_desktop.api.resources._base import API, Resource, seg
from relay_desktop.api.uploads import Progress, guess_content_type, post_to_storage

MAX_INFERENCE_FILE_BYTES = 524_288_000


class InferenceJobsResource(Resource):
    def create(self, model_id: str, config: Mapping[str, Any] | None = None, *,
               cancel: CancelToken | None = None) -> InferenceJob:
        body: dict[str, Any] = {"model_id": model_id}
        if config is not None:
            body["config"] = dict(config)
        data = self._client._request("POST", f"{API}/inference-jobs", json=body, cancel=cancel)
        return InferenceJob.from_json(data)

    def list(self, page: int = 1, page_size: int = 20, *, status: str | None = None,
             cancel: CancelToken | None = None) -> Page[InferenceJob]:
        data = self._client._request(
            "GET", f"{API}/inference-jobs", cancel=cancel,
            params={"page": page, "page_size": page_size, "status": status})
        return Page.from_json(data or {}, InferenceJob.from_json, page=page, page_size=page_size)

    def iter_items(self, page_size: int = 100, *, status: str | None = None,
                   cancel: CancelToken | None = None) -> Iterator[InferenceJob]:
        return iter_items(lambda p, s: self.list(p, s, status=status, cancel=cancel), page_size)

    def get(self, job_id: str, *, cancel: CancelToken | None = None) -> InferenceJob:
        """The job with its files and their detections."""
        data = self._client._request("GET", f"{API}/inference-jobs/{seg(job_id)}", cancel=cancel)
        return InferenceJob.from_json(data)

    def cancel(self, job_id: str, *, cancel: CancelToken | None = None) -> InferenceJob:
        data = self._client._request("POST", f"{API}/inference-jobs/{seg(job_id)}/cancel",
                                     cancel=cancel)
        return InferenceJob.from_json(data)

    # -- files --------------------------------------------------------------------

    def _files(self, job_id: str) -> str:
        return f"{API}/inference-jobs/{seg(job_id)}/files"

    def request_file_upload(self, job_id: str, filename: str, file_size_bytes: int,
                            content_type: str | None = None, *,
                            cancel: CancelToken | None = None) -> UploadTicket:
        """Add a file to the job; ``ticket.file_id`` identifies it (not retried)."""
        body: dict[str, Any] = {"filename": filename, "file_size_bytes": file_size_bytes}
        if content_type is not None:
            body["content_type"] = content_type
        data = self._client._request("POST", f"{self._files(job_id)}/upload-url", json=body,
                                     cancel=cancel)
        return UploadTicket.from_json(data)

    def confirm_file(self, job_id: str, file_id: str, *,
                     cancel: CancelToken | None = None) -> InferenceFile:
        data = self._client._request("POST", f"{self._files(job_id)}/confirm",
                                     json={"file_id": file_id}, cancel=cancel)
        return InferenceFile.from_json(data)

    def upload_file(self, job_id: str, path: str | os.PathLike[str], *,
                    content_type: str | None = None, progress: Progress | None = None,
                    cancel: CancelToken | None = None) -> InferenceFile:
        """All three steps for one file. An expired policy is not retried here: a new
        upload-url would add a second file to the job, which cannot be removed."""
        path = Path(path)
        size = path.stat().st_size
        if size > MAX_INFERENCE_FILE_BYTES:
            raise ValueError(f"{path.name} is {size} bytes; inference files may be at most "
                             f"{MAX_INFERENCE_FILE_BYTES} bytes (500 MiB).")
        ctype = content_type or guess_content_type(path)
        ticket = self.request_file_upload(job_id, path.name, size, ctype, cancel=cancel)
        post_to_storage(self._client.session, ticket.upload_url, ticket.fields, path,
                        timeout=self._client.timeout, content_type=ctype, progress=progress,
                        cancel=cancel)
        return self.confirm_file(job_id, ticket.file_id, cancel=cancel)

    def add_dataset_files(self, job_id: str, audio_file_ids: Iterable[str], *,
                          cancel: CancelToken | None = None) -> tuple[InferenceFile, ...]:
        """Relay Local extension: run the job over ready audio already in the caller's
        datasets (nothing is uploaded); the new files, queued, in the order given."""
        data = self._client._request("POST", f"{self._files(job_id)}/from-dataset",
                                     json={"audio_file_ids": list(audio_file_ids)},
                                     cancel=cancel)
        return tuple(InferenceFile.from_json(f) for f in (data or {}).get("files") or ())

    def get_file(self, job_id: str, file_id: str, *,
                 cancel: CancelToken | None = None) -> InferenceFile:
        data = self._client._request("GET", f"{self._files(job_id)}/{seg(file_id)}",
                                     cancel=cancel)
        return InferenceFile.from_json(data)

    def file_download_url(self, job_id: str, file_id: str, *,
                          cancel: CancelToken | None = None) -> DownloadLink:
        data = self._client._request("GET", f"{self._files(job_id)}/{seg(file_id)}/download-url",
                                     cancel=cancel)
        return DownloadLink.from_json(data)

    def download_file(self, job_id: str, file_id: str, dest: str | os.PathLike[str], *,
                      progress: Progress | None = None,
                      cancel: CancelToken | None = None) -> Path:
        link = self.file_download_url(job_id, file_id, cancel=cancel)
        return download_to_file(self._client.session, link.download_url, dest,
                                timeout=self._client.timeout, progress=progress, cancel=cancel)
