"""What every storage backend offers the rest of the server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol


@dataclass(frozen=True)
class PresignedPost:
    """A presigned form upload: POST ``fields`` plus the file part to ``url``."""

    url: str
    fields: dict[str, str]
    key: str
    expires_in: int


class Storage(Protocol):
    """An object store addressed by keys such as ``tenants/T/datasets/D/audio/A/x.wav``.

    Implementations: :class:`relay_server.storage.local.LocalStorage` (files
    under the data folder, served at ``/storage/``) and
    :class:`relay_server.storage.s3.S3Storage` (an S3 or S3-compatible bucket).
    """

    name: str
    bucket: str
    upload_ttl_s: int
    max_upload_bytes: int

    def presign_upload(self, key: str, content_type: str, file_size: int,
                       base_url: str) -> PresignedPost:
        """Sign a POST that may store exactly ``file_size`` bytes at ``key``."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int:
        """Stored size in bytes; raises ObjectNotFound."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A binary reader of the object; raises ObjectNotFound."""
        ...

    def local_copy(self, key: str) -> AbstractContextManager[Path]:
        """A local file holding the object for as long as the context lasts."""
        ...

    def put_file(self, key: str, source: Path, content_type: str | None = None) -> None:
        """Store a local file at ``key`` (atomically replacing what was there)."""
        ...

    def put_bytes(self, key: str, data: bytes) -> None: ...

    def delete(self, key: str) -> None:
        """Remove one object; a missing object is not an error."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with ``prefix``; return how many."""
        ...

    def list_keys(self, prefix: str) -> Iterator[str]: ...

    def download_url(self, key: str, expires_in: int, base_url: str) -> str:
        """A signed GET URL for ``key`` that needs no API key and expires."""
        ...
