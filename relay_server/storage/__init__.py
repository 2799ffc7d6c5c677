"""Object storage backends (to be implemented: LocalStorage, S3Storage)."""

from __future__ import annotations

from typing import Any

from relay_server.config import ServerSettings


def make_storage(settings: ServerSettings) -> Any:
    """Create the storage backend the settings ask for."""
    settings.storage_dir.mkdir(parents=True, exist_ok=True)
    return None
