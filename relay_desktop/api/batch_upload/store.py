"""The persisted upload queue: one SQLite row per file, committed (fsynced) before it starts.

Besides the row the store keeps what resuming needs: the presigned POST of an
upload in flight (URL, fields, expiry), written before the first byte goes to
storage, so after a crash the same server record is reused or cleaned up and a
file is never created twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from relay_desktop.api.batch_upload.rows import UploadRow, UploadState, UploadTarget

SCHEMA_VERSION = 1
_COLUMNS = ("id", "seq", "path", "target_kind", "target_id", "target_name", "size", "state",
            "reason", "content_type", "sha256", "remote_id", "duplicate_of", "ticket")


@dataclass(frozen=True)
class StoredTicket:
    """A presigned storage POST kept for resuming: reusable until ``expires_at`` (epoch s).

    ``requested_at`` (epoch s) is when upload-url was asked for. It is saved before
    the request, as a ticket with no URL, so that a record whose creation answer
    was lost (a crash, a dropped connection) can be found and removed.
    """

    upload_url: str
    fields: dict[str, str]
    expires_at: float
    requested_at: float = 0.0

    @property
    def usable(self) -> bool:
        return bool(self.upload_url)

    @classmethod
    def intent(cls, requested_at: float) -> StoredTicket:
        """The marker saved just before upload-url is requested."""
        return cls("", {}, 0.0, requested_at)

    def to_json(self) -> str:
        return json.dumps({"upload_url": self.upload_url, "fields": self.fields,
                           "expires_at": self.expires_at, "requested_at": self.requested_at})

    @classmethod
    def from_json(cls, text: str | None) -> StoredTicket | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(str(data["upload_url"]), {str(k): str(v) for k, v in data["fields"].items()},
                       float(data["expires_at"]), float(data.get("requested_at") or 0.0))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def upload_state_path(base_url: str) -> Path:
    """The CLI's queue file for one server: ``<data folder>/uploads/cli-<url hash>.sqlite3``.

    The data folder is the desktop's (``RELAY_DESKTOP_HOME/data`` when set, else
    platformdirs), found here because the api package cannot import core.
    """
    home = os.environ.get("RELAY_DESKTOP_HOME")
    root = Path(home) / "data" if home else Path(
        platformdirs.user_data_dir("relay-desktop", "Relay"))
    digest = hashlib.sha256(base_url.rstrip("/").encode()).hexdigest()[:16]
    return root / "uploads" / f"cli-{digest}.sqlite3"


class QueueStore:
    """SQLite file of queued uploads (thread-safe; every write is its own fsynced commit)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False,
                                   isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS uploads (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, "
            "path TEXT NOT NULL, target_kind TEXT NOT NULL, target_id TEXT NOT NULL, "
            "target_name TEXT NOT NULL, size INTEGER NOT NULL, state TEXT NOT NULL, "
            "reason TEXT NOT NULL, content_type TEXT NOT NULL, sha256 TEXT NOT NULL, "
            "remote_id TEXT NOT NULL, duplicate_of TEXT NOT NULL, ticket TEXT)")
        self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        row = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM uploads").fetchone()
        self._seq = int(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def save(self, rows: Iterable[UploadRow],
             tickets: Mapping[str, StoredTicket | None] | None = None) -> None:
        """Insert or update ``rows`` in one commit; ``tickets`` sets (or clears) their tickets."""
        tickets = tickets or {}
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for row in rows:
                    self._seq += 1
                    values: dict[str, Any] = {
                        "id": row.id, "seq": self._seq, "path": str(row.path),
                        "target_kind": row.target.kind, "target_id": row.target.id,
                        "target_name": row.target.name, "size": row.size,
                        "state": row.state.value, "reason": row.reason,
                        "content_type": row.content_type, "sha256": row.sha256,
                        "remote_id": row.remote_id, "duplicate_of": row.duplicate_of}
                    self._db.execute(
                        "INSERT INTO uploads (id, seq, path, target_kind, target_id, "
                        "target_name, size, state, reason, content_type, sha256, remote_id, "
                        "duplicate_of) VALUES (:id, :seq, :path, :target_kind, :target_id, "
                        ":target_name, :size, :state, :reason, :content_type, :sha256, "
                        ":remote_id, :duplicate_of) ON CONFLICT(id) DO UPDATE SET "
                        "state=excluded.state, reason=excluded.reason, size=excluded.size, "
                        "content_type=excluded.content_type, sha256=excluded.sha256, "
                        "remote_id=excluded.remote_id, duplicate_of=excluded.duplicate_of",
                        values)
                    if row.id in tickets:
                        ticket = tickets[row.id]
                        self._db.execute("UPDATE uploads SET ticket=? WHERE id=?",
                                         (ticket.to_json() if ticket else None, row.id))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def delete(self, row_ids: Iterable[str]) -> None:
        ids = [(i,) for i in row_ids]
        if not ids:
            return
        with self._lock:
            self._db.executemany("DELETE FROM uploads WHERE id=?", ids)

    def load(self) -> list[tuple[UploadRow, StoredTicket | None]]:
        """Every stored row in queue order, with its ticket (unknown states are skipped)."""
        with self._lock:
            records = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM uploads ORDER BY rowid").fetchall()
        out = []
        for rec in records:
            data = dict(zip(_COLUMNS, rec, strict=True))
            try:
                state = UploadState(data["state"])
                target = UploadTarget(data["target_kind"], data["target_id"],
                                      data["target_name"])
            except ValueError:
                continue
            row = UploadRow(id=data["id"], path=Path(data["path"]), target=target,
                            size=int(data["size"]), state=state, reason=data["reason"],
                            content_type=data["content_type"], sha256=data["sha256"],
                            remote_id=data["remote_id"], duplicate_of=data["duplicate_of"])
            out.append((row, StoredTicket.from_json(data["ticket"])))
        return out
