"""Where a connection's upload queue is kept: one SQLite file per connection in the data folder.

The queue format itself (:class:`QueueStore`) lives beside the engine in
``relay_desktop.api.batch_upload.store``, because the CLI shares it; this
module only decides the file, so a queue is never resumed against another server.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from relay_desktop.api.batch_upload.store import QueueStore, StoredTicket
from relay_desktop.core.paths import AppPaths

__all__ = ["QueueStore", "StoredTicket", "open_queue", "queue_path"]


def queue_path(paths: AppPaths, connection_id: str, base_url: str = "") -> Path:
    """``data/uploads/<connection>.sqlite3``; connections without an id are keyed by URL."""
    key = connection_id or "url-" + hashlib.sha256(base_url.encode()).hexdigest()[:16]
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", key)[:80] or "default"
    return paths.data / "uploads" / f"{safe}.sqlite3"


def open_queue(paths: AppPaths, connection_id: str, base_url: str = "") -> QueueStore:
    """The connection's queue store (created empty when missing)."""
    return QueueStore(queue_path(paths, connection_id, base_url))
