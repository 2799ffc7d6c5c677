"""ReviewStore: a review's progress as one JSON file per (connection scope, job id).

Files live in ``<data folder>/review/``; writes are atomic (a temporary file
renamed over the old one), so a crash leaves the previous state, never half a
file. Callers run :meth:`load`/:meth:`save` off the GUI thread.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FOLDER = "review"


class ReviewStore:
    """Reads and writes review state under ``folder`` (created on first save)."""

    def __init__(self, data_folder: Path) -> None:
        self.folder = Path(data_folder) / FOLDER

    def path(self, scope: str, job_id: str) -> Path:
        """The file of a job's review on one connection (``scope``: the server's identity)."""
        digest = hashlib.sha1(scope.encode()).hexdigest()[:12]
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", job_id)[:80]
        return self.folder / f"{digest}-{safe}.json"

    def load(self, scope: str, job_id: str) -> dict[str, Any] | None:
        """The saved state, or None when there is none (or it cannot be read)."""
        try:
            data = json.loads(self.path(scope, job_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def save(self, scope: str, job_id: str, state: Mapping[str, Any]) -> Path:
        """Write ``state`` atomically; the file's path."""
        target = self.path(scope, job_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        payload = dict(state, scope=scope, job_id=job_id)
        fd, tmp = tempfile.mkstemp(prefix=".review-", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(payload, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def delete(self, scope: str, job_id: str) -> None:
        self.path(scope, job_id).unlink(missing_ok=True)
