"""The storage half of a presigned upload: a multipart POST streamed from disk.

The body is built here, not by ``requests``: the policy ``fields`` verbatim
first, the file part named ``file`` last, read in chunks (never whole), with
``Content-Length`` known up front, progress after every chunk and the cancel
token checked between chunks. No ``X-API-Key`` ever goes to storage.
"""

from __future__ import annotations

import mimetypes
import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import requests

from relay_desktop.api.cancel import CancelToken
from relay_desktop.api.errors import ApiConnectionError, ApiTimeoutError, StorageError

Progress = Callable[[int, int], None]
CHUNK_SIZE = 1024 * 1024

AUDIO_CONTENT_TYPES: dict[str, str] = {
    ".wav": "audio/wav", ".mp3": "audio/mpeg", ".mp4": "audio/mp4", ".m4a": "audio/mp4",
    ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg", ".flac": "audio/flac",
    ".webm": "audio/webm", ".aac": "audio/aac",
}
AUDIO_EXTENSIONS = frozenset(AUDIO_CONTENT_TYPES)


def guess_content_type(path: str | os.PathLike[str]) -> str:
    """The MIME type for ``path`` from its extension (the documented audio types first)."""
    ext = Path(path).suffix.lower()
    if ext in AUDIO_CONTENT_TYPES:
        return AUDIO_CONTENT_TYPES[ext]
    guessed, _ = mimetypes.guess_type(str(path))
    return guessed or "application/octet-stream"


def _quote(value: str) -> str:
    """Escape a multipart name/filename the way browsers do (HTML5 form encoding)."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace(
        "\n", "%0A")


class MultipartFileBody:
    """An iterable request body with a known length: ``fields`` then the file part.

    ``requests`` sends it with ``Content-Length: len(body)``; iterating it again
    starts over, so one instance can be sent twice.
    """

    def __init__(self, fields: Mapping[str, str], path: str | os.PathLike[str], *,
                 filename: str | None = None, content_type: str | None = None,
                 chunk_size: int = CHUNK_SIZE, progress: Progress | None = None,
                 cancel: CancelToken | None = None) -> None:
        self.path = Path(path)
        self.file_size = self.path.stat().st_size
        self.boundary = "relay-" + uuid.uuid4().hex
        self.chunk_size = chunk_size
        self.progress = progress
        self.cancel = cancel
        name = filename or self.path.name
        parts = []
        for key, value in fields.items():
            parts.append(f'--{self.boundary}\r\nContent-Disposition: form-data; '
                         f'name="{_quote(str(key))}"\r\n\r\n{value}\r\n')
        parts.append(f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; '
                     f'filename="{_quote(name)}"\r\nContent-Type: '
                     f'{content_type or guess_content_type(name)}\r\n\r\n')
        self._head = "".join(parts).encode("utf-8")
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return len(self._head) + self.file_size + len(self._tail)

    def __iter__(self) -> Iterator[bytes]:
        done = 0
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()
        if self.progress is not None:
            self.progress(0, self.file_size)
        yield self._head
        with open(self.path, "rb") as fh:
            while done < self.file_size:
                if self.cancel is not None:
                    self.cancel.raise_if_cancelled()
                chunk = fh.read(min(self.chunk_size, self.file_size - done))
                if not chunk:
                    raise StorageError(f"{self.path.name} shrank while it was being uploaded.",
                                       status_code=0, code="FileChanged")
                done += len(chunk)
                yield chunk
                if self.progress is not None:
                    self.progress(done, self.file_size)
        yield self._tail


_XML_TAG = re.compile(r"<(Code|Message)>(.*?)</\1>", re.S)


def storage_error(resp: requests.Response) -> StorageError:
    """A ``StorageError`` from an S3-style XML error (or any other) response."""
    text = resp.text[:4000] if resp.content else ""
    found = {m.group(1): " ".join(m.group(2).split()) for m in _XML_TAG.finditer(text)}
    code = found.get("Code", "")
    message = found.get("Message", "")
    if code or message:
        human = f"Storage refused the upload ({code or resp.status_code}): {message or code}"
    else:
        snippet = " ".join(text.split())[:200]
        human = f"Storage refused the upload (HTTP {resp.status_code})" + (
            f": {snippet}" if snippet else "")
    if not human.endswith("."):
        human += "."
    return StorageError(human, status_code=resp.status_code, code=code, storage_message=message)


def post_to_storage(session: requests.Session, upload_url: str, fields: Mapping[str, str],
                    path: str | os.PathLike[str], *, timeout: tuple[float, float],
                    filename: str | None = None, content_type: str | None = None,
                    progress: Progress | None = None, cancel: CancelToken | None = None,
                    chunk_size: int = CHUNK_SIZE) -> requests.Response:
    """POST the form to storage; any 2xx is success, anything else a ``StorageError``.

    Never retried here: the caller decides (a presigned policy may be single-use).
    Redirects are not followed (they would need the body again).
    """
    body = MultipartFileBody(fields, path, filename=filename, content_type=content_type,
                             chunk_size=chunk_size, progress=progress, cancel=cancel)
    headers = {"Content-Type": body.content_type, "Content-Length": str(len(body))}
    try:
        resp = session.post(upload_url, data=body, headers=headers, timeout=timeout,
                            allow_redirects=False)
    except requests.ReadTimeout as exc:
        raise ApiTimeoutError("Storage did not answer the upload in time.") from exc
    except requests.ConnectionError as exc:
        raise ApiConnectionError(f"The upload to storage broke off: {type(exc).__name__}.") from exc
    if 200 <= resp.status_code < 300:
        return resp
    raise storage_error(resp)
