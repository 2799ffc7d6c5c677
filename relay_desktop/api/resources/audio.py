"""``/api/v1/datasets/{id}/audio``: list, the presigned upload, and the Relay Local extensions."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from relay_desktop.api.cancel import CancelToken
from relay_desktop.api.downloads import download_to_file
from relay_desktop.api.errors import Cancelled, RelayError, StorageError
from relay_desktop.api.models import AudioFile, DownloadLink, Page, UploadConfirmation, UploadTicket
from relay_desktop.api.pagination import iter_items
from relay_desktop.api.resources._base import API, Resource, seg
from relay_desktop.api.uploads import Progress, guess_content_type, post_to_storage

log = logging.getLogger(__name__)


class AudioResource(Resource):
    def _base(self, dataset_id: str) -> str:
        return f"{API}/datasets/{seg(dataset_id)}/audio"

    def list(self, dataset_id: str, page: int = 1, page_size: int = 20,
             processing_status: str | None = None, *, content_sha256: str | None = None,
             cancel: CancelToken | None = None) -> Page[AudioFile]:
        """One page of the dataset's files; ``content_sha256`` is a Relay Local extension
        filter (a server without it ignores the parameter: check ``AudioFile.content_sha256``)."""
        data = self._client._request(
            "GET", self._base(dataset_id), cancel=cancel,
            params={"page": page, "page_size": page_size,
                    "processing_status": processing_status,
                    "content_sha256": content_sha256})
        return Page.from_json(data or {}, AudioFile.from_json, page=page, page_size=page_size)

    def iter_items(self, dataset_id: str, processing_status: str | None = None,
                   page_size: int = 100, *, content_sha256: str | None = None,
                   cancel: CancelToken | None = None) -> Iterator[AudioFile]:
        return iter_items(lambda p, s: self.list(dataset_id, p, s, processing_status,
                                                 content_sha256=content_sha256,
                                                 cancel=cancel), page_size)

    def request_upload(self, dataset_id: str, filename: str, content_type: str, file_size: int,
                       *, cancel: CancelToken | None = None) -> UploadTicket:
        """Step 1: create the pending AudioFile and get a presigned POST (not retried)."""
        data = self._client._request(
            "POST", f"{self._base(dataset_id)}/upload-url", cancel=cancel,
            json={"filename": filename, "content_type": content_type, "file_size": file_size})
        return UploadTicket.from_json(data)

    def confirm(self, dataset_id: str, audio_id: str, *,
                cancel: CancelToken | None = None) -> UploadConfirmation:
        """Step 3: tell the server the bytes are in storage; processing starts."""
        data = self._client._request("POST", f"{self._base(dataset_id)}/confirm",
                                     json={"audio_id": audio_id}, cancel=cancel)
        return UploadConfirmation.from_json(data or {"audio_id": audio_id})

    def send_to_storage(self, ticket: UploadTicket, path: str | os.PathLike[str], *,
                        content_type: str | None = None, progress: Progress | None = None,
                        cancel: CancelToken | None = None) -> None:
        """Step 2 on its own: stream ``path`` to the ticket's storage URL (no API key)."""
        post_to_storage(self._client.session, ticket.upload_url, ticket.fields, path,
                        timeout=self._client.timeout, content_type=content_type,
                        progress=progress, cancel=cancel)

    def upload(self, dataset_id: str, path: str | os.PathLike[str], *,
               content_type: str | None = None, progress: Progress | None = None,
               cancel: CancelToken | None = None) -> UploadConfirmation:
        """All three steps for one file.

        If storage says the presigned policy expired (403 "expired"), nothing was
        stored, so one fresh upload-url is requested and the upload runs once more;
        the stale pending record is deleted when the server supports it. When the
        upload is cancelled or fails, the pending record is deleted the same way
        (best effort) so no half-created file lingers.
        """
        path = Path(path)
        size = path.stat().st_size
        ctype = content_type or guess_content_type(path)
        ticket = self.request_upload(dataset_id, path.name, ctype, size, cancel=cancel)
        try:
            try:
                self.send_to_storage(ticket, path, content_type=ctype, progress=progress,
                                     cancel=cancel)
            except StorageError as err:
                if not err.expired:
                    raise
                log.info("Upload policy for %s expired; requesting a fresh one", path.name)
                self._discard(dataset_id, ticket.audio_id)
                ticket = self.request_upload(dataset_id, path.name, ctype, size, cancel=cancel)
                self.send_to_storage(ticket, path, content_type=ctype, progress=progress,
                                     cancel=cancel)
        except (Cancelled, RelayError):
            self._discard(dataset_id, ticket.audio_id)
            raise
        return self.confirm(dataset_id, ticket.audio_id, cancel=cancel)

    def _discard(self, dataset_id: str, audio_id: str) -> None:
        with contextlib.suppress(RelayError):
            self.delete(dataset_id, audio_id)

    # -- Relay Local extensions ------------------------------------------------

    def get(self, dataset_id: str, audio_id: str, *,
            cancel: CancelToken | None = None) -> AudioFile:
        data = self._client._request("GET", f"{self._base(dataset_id)}/{seg(audio_id)}",
                                     cancel=cancel, extension="Getting one audio file")
        return AudioFile.from_json(data)

    def delete(self, dataset_id: str, audio_id: str, *,
               cancel: CancelToken | None = None) -> None:
        self._client._request("DELETE", f"{self._base(dataset_id)}/{seg(audio_id)}",
                              cancel=cancel, extension="Deleting an audio file")

    def download_url(self, dataset_id: str, audio_id: str, *,
                     cancel: CancelToken | None = None) -> DownloadLink:
        data = self._client._request(
            "GET", f"{self._base(dataset_id)}/{seg(audio_id)}/download-url", cancel=cancel,
            extension="Downloading audio")
        return DownloadLink.from_json(data)

    def download(self, dataset_id: str, audio_id: str, dest: str | os.PathLike[str], *,
                 progress: Progress | None = None, cancel: CancelToken | None = None) -> Path:
        """Fetch a signed URL, then stream the audio into ``dest`` (temp file + rename)."""
        link = self.download_url(dataset_id, audio_id, cancel=cancel)
        return download_to_file(self._client.session, link.download_url, dest,
                                timeout=self._client.timeout, progress=progress, cancel=cancel)
