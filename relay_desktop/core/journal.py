"""The local annotation journal: every edit on disk before the UI calls it saved.

SQLite in WAL mode with ``synchronous=FULL``: a commit returns only after the
write-ahead log is fsynced, so an edit the journal has acknowledged survives a
killed process or a power cut. Per set the journal keeps

* ``regions``: the latest local state of each region (``NULL`` once deleted)
  and a revision that grows with every edit,
* ``remote``: what the server holds (server id, fields, the revision last
  synced, whether a create is in flight, a rejection reason),
* ``reviewed``: files marked "reviewed, no artifacts" (kept locally: the API
  has no file-level labels).

The pending operations of a set are the diff of the two tables
(:mod:`relay_desktop.core.annotations.diff`), so replay after a crash or a lost
connection is simply: open the journal and push the plan again. The journal is
thread-safe (one connection behind a lock).

A write it cannot store durably (disk full, read-only, I/O error) raises
:class:`JournalError` with a sentence for the user, and leaves nothing of itself behind.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relay_desktop.core.annotations.diff import (
    CLIENT_ID_KEY,
    EXTRA_KEY,
    NOTE_KEY,
    LocalEntry,
    Plan,
    RemoteEntry,
    diff,
    fields_of,
)
from relay_desktop.core.annotations.document import Region
from relay_desktop.core.journal_faults import (
    NOT_OPENED,
    NOT_SAVED,
    NOT_UPDATED,
    READ_ONLY,
    JournalError,
    disk_state,
    journal_error,
)

__all__ = ["Journal", "JournalError", "PendingSet", "ServerAnnotation"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS sets (
    set_id TEXT PRIMARY KEY,
    dataset_id TEXT NOT NULL,
    base_url TEXT NOT NULL DEFAULT '',
    conflict TEXT,
    moved_to TEXT,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS regions (
    set_id TEXT NOT NULL,
    local_id TEXT NOT NULL,
    state TEXT,
    rev INTEGER NOT NULL,
    PRIMARY KEY (set_id, local_id)
);
CREATE TABLE IF NOT EXISTS remote (
    set_id TEXT NOT NULL,
    local_id TEXT NOT NULL,
    server_id TEXT,
    state TEXT,
    synced_rev INTEGER NOT NULL DEFAULT -1,
    inflight_rev INTEGER,
    rejected_rev INTEGER NOT NULL DEFAULT -1,
    error TEXT,
    PRIMARY KEY (set_id, local_id)
);
CREATE TABLE IF NOT EXISTS reviewed (
    set_id TEXT NOT NULL,
    audio_file_id TEXT NOT NULL,
    PRIMARY KEY (set_id, audio_file_id)
);
"""


@dataclass(frozen=True)
class ServerAnnotation:
    """An annotation as read back from the server."""

    server_id: str
    client_id: str | None
    fields: dict[str, Any]

    @classmethod
    def from_api(cls, ann: Any) -> ServerAnnotation:
        """From an ``api.models.Annotation`` or its JSON mapping."""
        def get(key: str) -> Any:
            return ann.get(key) if isinstance(ann, Mapping) else getattr(ann, key, None)

        extra = get("extra_data") or {}
        client_id = extra.get(CLIENT_ID_KEY) if isinstance(extra, Mapping) else None
        fields = {k: get(k) for k in ("audio_file_id", "artifact_type", "start_ms", "end_ms",
                                       "confidence")}
        fields["audio_file_id"] = str(fields["audio_file_id"])
        fields["start_ms"] = int(fields["start_ms"])
        fields["end_ms"] = int(fields["end_ms"])
        fields["confidence"] = float(fields["confidence"] if fields["confidence"] is not None
                                     else 1.0)
        note = extra.get("note") if isinstance(extra, Mapping) else None
        fields["note"] = note if isinstance(note, str) else ""
        others = ({k: v for k, v in extra.items() if k not in (CLIENT_ID_KEY, NOTE_KEY)}
                  if isinstance(extra, Mapping) else {})
        if others:
            fields[EXTRA_KEY] = others
        return cls(str(get("id")), str(client_id) if client_id else None, fields)


@dataclass(frozen=True)
class PendingSet:
    set_id: str
    dataset_id: str
    base_url: str
    pending: int
    conflict: str | None


class Journal:
    """The SQLite journal at ``path`` (created on first use)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._db = self._connect()
        # on a read-only disk SQLite opens the file read-only (if it can open it at all):
        # once the disk is writable again the connection is replaced (see _tx)
        self._read_only = disk_state(self.path.parent) == READ_ONLY

    def _connect(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None,
                                 check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA busy_timeout=10000")
            db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            if db is not None:
                db.close()
            raise journal_error(exc, self.path, NOT_OPENED) from exc
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self, action: str = NOT_UPDATED) -> Iterator[sqlite3.Connection]:
        """One write transaction; nothing of it stays if any part (or the commit) fails.

        SQLite and OS errors become a :class:`JournalError` that starts with ``action``.
        """
        with self._lock:
            if self._read_only and disk_state(self.path.parent) is None:
                # the disk is writable again: so is a new connection (the old one goes
                # first, or the new one would share its read-only view of the WAL index)
                self._db.close()
                self._db = self._connect()
                self._read_only = False
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    # a failed COMMIT (disk full) may leave the transaction open, or SQLite
                    # may have rolled it back already: either way none of it is kept
                    if self._db.in_transaction:
                        with suppress(sqlite3.Error):
                            self._db.execute("ROLLBACK")
                    raise
            except (sqlite3.Error, OSError) as exc:
                error = journal_error(exc, self.path, action)
                self._read_only = self._read_only or error.kind == READ_ONLY
                raise error from exc

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return list(self._db.execute(sql, args).fetchall())
            except sqlite3.Error as exc:
                raise JournalError(f"The annotation journal could not be read ({self.path}): "
                                   f"{exc}.", path=self.path) from exc

    # -- sets ----------------------------------------------------------------
    def ensure_set(self, set_id: str, dataset_id: str, base_url: str = "") -> None:
        """Register a set; writes nothing when it is known (so a read-only journal opens)."""
        if self.dataset_of(set_id) is not None:
            return
        with self._tx() as db:
            db.execute("INSERT INTO sets(set_id, dataset_id, base_url, updated_at) "
                       "VALUES (?,?,?,?) ON CONFLICT(set_id) DO NOTHING",
                       (set_id, dataset_id, base_url, time.time()))

    def dataset_of(self, set_id: str) -> str | None:
        rows = self._rows("SELECT dataset_id FROM sets WHERE set_id=?", (set_id,))
        return rows[0][0] if rows else None

    def pending_sets(self) -> list[PendingSet]:
        """Sets with unsynced edits (what to replay after a restart)."""
        out = []
        for set_id, dataset_id, base_url, conflict in self._rows(
                "SELECT set_id, dataset_id, base_url, conflict FROM sets WHERE moved_to IS NULL"):
            n = self.pending_count(set_id)
            if n:
                out.append(PendingSet(set_id, dataset_id, base_url, n, conflict))
        return out

    def set_conflict(self, set_id: str, message: str | None) -> None:
        with self._tx() as db:
            db.execute("UPDATE sets SET conflict=?, updated_at=? WHERE set_id=?",
                       (message, time.time(), set_id))

    def conflict(self, set_id: str) -> str | None:
        rows = self._rows("SELECT conflict FROM sets WHERE set_id=?", (set_id,))
        return rows[0][0] if rows else None

    def forget_set(self, set_id: str) -> None:
        with self._tx() as db:
            for table in ("regions", "remote", "reviewed", "sets"):
                db.execute(f"DELETE FROM {table} WHERE set_id=?", (set_id,))

    # -- edits ---------------------------------------------------------------
    def record(self, set_id: str, changes: Iterable[tuple[str, Region | None]]) -> int:
        """Write edits (a region's new state, or None for deleted) durably; returns pending."""
        return self.record_batch([(set_id, list(changes))])[set_id]

    def record_batch(self, batches: Sequence[tuple[str, Sequence[tuple[str, Region | None]]]]
                     ) -> dict[str, int]:
        """Several edits (of one or more sets) in one transaction: one fsync for a burst.

        Returns the pending count of every set touched. Raises :class:`JournalError`
        ("Not saved: ...") when they cannot be stored durably; then none of them is kept.
        """
        now = time.time()
        with self._tx(NOT_SAVED) as db:
            for set_id, changes in batches:
                for local_id, region in changes:
                    state = json.dumps(region.to_json()) if region is not None else None
                    db.execute(
                        "INSERT INTO regions(set_id, local_id, state, rev) VALUES (?,?,?,1) "
                        "ON CONFLICT(set_id, local_id) DO UPDATE SET state=excluded.state, "
                        "rev=regions.rev+1", (set_id, local_id, state))
                db.execute("UPDATE sets SET updated_at=? WHERE set_id=?", (now, set_id))
        return {set_id: self.pending_count(set_id) for set_id in {b[0] for b in batches}}

    def local_regions(self, set_id: str) -> list[Region]:
        return [Region.from_json(json.loads(state)) for (state,) in self._rows(
            "SELECT state FROM regions WHERE set_id=? AND state IS NOT NULL ORDER BY rowid",
            (set_id,))]

    def _local(self, set_id: str) -> list[LocalEntry]:
        return [LocalEntry(lid, Region.from_json(json.loads(s)) if s else None, rev)
                for lid, s, rev in self._rows(
                    "SELECT local_id, state, rev FROM regions WHERE set_id=?", (set_id,))]

    def _remote(self, set_id: str) -> dict[str, RemoteEntry]:
        return {lid: RemoteEntry(lid, sid, json.loads(s) if s else None, synced, rejected)
                for lid, sid, s, synced, rejected in self._rows(
                    "SELECT local_id, server_id, state, synced_rev, rejected_rev FROM remote "
                    "WHERE set_id=?", (set_id,))}

    def plan(self, set_id: str) -> Plan:
        """The operations that would bring the server up to date."""
        with self._lock:
            return diff(self._local(set_id), self._remote(set_id))

    def pending_count(self, set_id: str) -> int:
        """Regions with edits the server has not seen (rejected ones included)."""
        rows = self._rows(
            "SELECT COUNT(*) FROM regions r LEFT JOIN remote m "
            "ON m.set_id=r.set_id AND m.local_id=r.local_id "
            "WHERE r.set_id=? AND r.rev > COALESCE(m.synced_rev, -1)", (set_id,))
        return int(rows[0][0])

    def server_id_of(self, set_id: str, local_id: str) -> str | None:
        rows = self._rows("SELECT server_id FROM remote WHERE set_id=? AND local_id=?",
                          (set_id, local_id))
        return rows[0][0] if rows else None

    # -- loading the server's state --------------------------------------------
    def merge_server(self, set_id: str, dataset_id: str, annotations: Iterable[ServerAnnotation],
                     base_url: str = "") -> list[Region]:
        """Merge the set as read from the server with the journal; returns the local view.

        Server annotations the journal does not know become clean local regions
        (local id = their ``client_id`` or ``srv-<id>``). In-flight creates are
        reconciled. Clean regions the server no longer has are dropped; regions
        with unsynced local edits always win.
        """
        self.ensure_set(set_id, dataset_id, base_url)
        self.reconcile_inflight(set_id, annotations := list(annotations))
        with self._tx() as db:
            known = {sid: lid for lid, sid in db.execute(
                "SELECT local_id, server_id FROM remote WHERE set_id=? AND server_id IS NOT NULL",
                (set_id,))}
            seen = set()
            for ann in annotations:
                seen.add(ann.server_id)
                lid = known.get(ann.server_id)
                state_fields = json.dumps(ann.fields)
                if lid is None:
                    lid = ann.client_id or f"srv-{ann.server_id}"
                    region = Region.from_json({"local_id": lid, **ann.fields})
                    db.execute("INSERT INTO regions(set_id, local_id, state, rev) VALUES "
                               "(?,?,?,0) ON CONFLICT(set_id, local_id) DO NOTHING",
                               (set_id, lid, json.dumps(region.to_json())))
                    db.execute("INSERT INTO remote(set_id, local_id, server_id, state, "
                               "synced_rev) VALUES (?,?,?,?,0) ON CONFLICT(set_id, local_id) "
                               "DO UPDATE SET server_id=excluded.server_id, "
                               "state=excluded.state", (set_id, lid, ann.server_id,
                                                        state_fields))
                else:
                    db.execute("UPDATE remote SET state=? WHERE set_id=? AND local_id=?",
                               (state_fields, set_id, lid))
                    # a clean region takes the server's current fields
                    db.execute(
                        "UPDATE regions SET state=? WHERE set_id=? AND local_id=? AND rev <= "
                        "(SELECT synced_rev FROM remote WHERE set_id=? AND local_id=?)",
                        (json.dumps(Region.from_json({"local_id": lid, **ann.fields}).to_json()),
                         set_id, lid, set_id, lid))
            for sid, lid in known.items():
                if sid in seen:
                    continue
                # gone from the server: forget it unless the user edited it since
                row = db.execute("SELECT r.rev, m.synced_rev FROM regions r JOIN remote m "
                                 "USING(set_id, local_id) WHERE set_id=? AND local_id=?",
                                 (set_id, lid)).fetchone()
                if row is None or row[0] <= row[1]:
                    db.execute("DELETE FROM regions WHERE set_id=? AND local_id=?", (set_id, lid))
                    db.execute("DELETE FROM remote WHERE set_id=? AND local_id=?", (set_id, lid))
                else:
                    db.execute("UPDATE remote SET server_id=NULL, state=NULL WHERE set_id=? "
                               "AND local_id=?", (set_id, lid))
        return self.local_regions(set_id)

    # -- the sync's bookkeeping -------------------------------------------------
    def has_inflight(self, set_id: str) -> bool:
        return bool(self._rows("SELECT 1 FROM remote WHERE set_id=? AND inflight_rev IS NOT NULL "
                               "LIMIT 1", (set_id,)))

    def mark_inflight(self, set_id: str, ops: Iterable[tuple[str, int]]) -> None:
        """Before sending creates: remember them so a lost response is reconciled, not resent."""
        with self._tx() as db:
            for local_id, rev in ops:
                db.execute("INSERT INTO remote(set_id, local_id, inflight_rev) VALUES (?,?,?) "
                           "ON CONFLICT(set_id, local_id) DO UPDATE SET "
                           "inflight_rev=excluded.inflight_rev", (set_id, local_id, rev))

    def reconcile_inflight(self, set_id: str, annotations: Iterable[ServerAnnotation]) -> int:
        """Resolve in-flight creates against the set as read back; returns how many existed."""
        by_client = {a.client_id: a for a in annotations if a.client_id}
        found = 0
        with self._tx() as db:
            rows = db.execute("SELECT local_id, inflight_rev FROM remote WHERE set_id=? AND "
                              "inflight_rev IS NOT NULL", (set_id,)).fetchall()
            for local_id, rev in rows:
                ann = by_client.get(local_id)
                if ann is not None:
                    found += 1
                    db.execute("UPDATE remote SET server_id=?, state=?, synced_rev=?, "
                               "inflight_rev=NULL WHERE set_id=? AND local_id=?",
                               (ann.server_id, json.dumps(ann.fields), rev, set_id, local_id))
                else:
                    db.execute("UPDATE remote SET inflight_rev=NULL WHERE set_id=? AND "
                               "local_id=?", (set_id, local_id))
        return found

    def record_created(self, set_id: str, created: Iterable[tuple[str, int, ServerAnnotation]]
                       ) -> None:
        with self._tx() as db:
            for local_id, rev, ann in created:
                db.execute("INSERT INTO remote(set_id, local_id, server_id, state, synced_rev) "
                           "VALUES (?,?,?,?,?) ON CONFLICT(set_id, local_id) DO UPDATE SET "
                           "server_id=excluded.server_id, state=excluded.state, "
                           "synced_rev=excluded.synced_rev, inflight_rev=NULL, error=NULL",
                           (set_id, local_id, ann.server_id, json.dumps(ann.fields), rev))

    def record_updated(self, set_id: str, local_id: str, rev: int, fields: Mapping[str, Any]
                       ) -> None:
        with self._tx() as db:
            db.execute("UPDATE remote SET state=?, synced_rev=?, error=NULL WHERE set_id=? "
                       "AND local_id=?", (json.dumps(fields_of(fields)), rev, set_id, local_id))

    def record_deleted(self, set_id: str, local_id: str, rev: int) -> None:
        """The server no longer has the region (or never had it)."""
        with self._tx() as db:
            db.execute("INSERT INTO remote(set_id, local_id, server_id, state, synced_rev) "
                       "VALUES (?,?,NULL,NULL,?) ON CONFLICT(set_id, local_id) DO UPDATE SET "
                       "server_id=NULL, state=NULL, synced_rev=excluded.synced_rev, "
                       "error=NULL", (set_id, local_id, rev))

    def record_lost(self, set_id: str, local_id: str) -> None:
        """The server lost a region we still have: the next pass creates it again."""
        with self._tx() as db:
            db.execute("UPDATE remote SET server_id=NULL, state=NULL, synced_rev=-1, "
                       "inflight_rev=NULL WHERE set_id=? AND local_id=?", (set_id, local_id))

    def record_rejected(self, set_id: str, local_id: str, rev: int, reason: str) -> None:
        """The server refused this revision; it stays pending but is not retried until edited."""
        with self._tx() as db:
            db.execute("INSERT INTO remote(set_id, local_id, rejected_rev, error) VALUES "
                       "(?,?,?,?) ON CONFLICT(set_id, local_id) DO UPDATE SET "
                       "rejected_rev=excluded.rejected_rev, error=excluded.error",
                       (set_id, local_id, rev, reason))

    def rejected(self, set_id: str) -> dict[str, str]:
        """Regions whose current revision the server refused, with the reason."""
        return {lid: err for lid, err in self._rows(
            "SELECT m.local_id, m.error FROM remote m JOIN regions r USING(set_id, local_id) "
            "WHERE set_id=? AND m.rejected_rev = r.rev AND m.error IS NOT NULL", (set_id,))}

    # -- moving edits to a new draft --------------------------------------------
    def move_to_set(self, old_set_id: str, new_set_id: str, dataset_id: str) -> int:
        """Copy the local regions of ``old_set_id`` into a new (empty) draft as pending creates.

        Used when the old set was published elsewhere: nothing typed is lost.
        Returns the number of regions moved.
        """
        regions = self.local_regions(old_set_id)
        base = self._rows("SELECT base_url FROM sets WHERE set_id=?", (old_set_id,))
        self.ensure_set(new_set_id, dataset_id, base[0][0] if base else "")
        self.record(new_set_id, ((r.local_id, r) for r in regions))
        reviewed = self.reviewed(old_set_id)
        with self._tx() as db:
            for audio_id in reviewed:
                db.execute("INSERT OR IGNORE INTO reviewed VALUES (?,?)", (new_set_id, audio_id))
            db.execute("UPDATE sets SET moved_to=?, updated_at=? WHERE set_id=?",
                       (new_set_id, time.time(), old_set_id))
            db.execute("DELETE FROM regions WHERE set_id=?", (old_set_id,))
            db.execute("DELETE FROM remote WHERE set_id=?", (old_set_id,))
        return len(regions)

    # -- "reviewed, no artifacts" --------------------------------------------------
    def set_reviewed(self, set_id: str, audio_file_id: str, reviewed: bool = True) -> None:
        with self._tx() as db:
            if reviewed:
                db.execute("INSERT OR IGNORE INTO reviewed VALUES (?,?)", (set_id, audio_file_id))
            else:
                db.execute("DELETE FROM reviewed WHERE set_id=? AND audio_file_id=?",
                           (set_id, audio_file_id))

    def reviewed(self, set_id: str) -> set[str]:
        return {a for (a,) in self._rows("SELECT audio_file_id FROM reviewed WHERE set_id=?",
                                         (set_id,))}
