"""Object storage: LocalStorage (files + presigned POST emulating S3) and S3Storage.

``make_storage(settings)`` picks the backend from ``settings.storage_backend``
(``RELAY_STORAGE``: ``local`` or ``s3``). ``RELAY_UPLOAD_TTL_S`` overrides the
lifetime of presigned uploads (tests use it to see a policy expire).
"""

from __future__ import annotations

import os

from relay_server.config import ServerSettings
from relay_server.storage.base import PresignedPost, Storage
from relay_server.storage.errors import ObjectNotFound, StorageError
from relay_server.storage.local import LocalStorage

__all__ = ["LocalStorage", "ObjectNotFound", "PresignedPost", "Storage", "StorageError",
           "make_storage", "upload_ttl"]


def upload_ttl(settings: ServerSettings) -> int:
    """Lifetime of a presigned upload in seconds (``RELAY_UPLOAD_TTL_S`` wins)."""
    value = os.environ.get("RELAY_UPLOAD_TTL_S")
    return max(1, int(value)) if value else settings.upload_ttl_s


def make_storage(settings: ServerSettings) -> Storage:
    """Create the storage backend the settings ask for."""
    if settings.storage_backend == "s3":
        from relay_server.storage.s3 import S3Storage

        return S3Storage(settings.s3_bucket, upload_ttl(settings), settings.max_upload_bytes,
                         endpoint_url=settings.s3_endpoint_url)
    if settings.storage_backend != "local":
        raise ValueError(f"Unknown storage backend {settings.storage_backend!r} "
                         "(RELAY_STORAGE must be 'local' or 's3')")
    return LocalStorage(settings.storage_dir, settings.secret, upload_ttl(settings),
                        settings.max_upload_bytes)
