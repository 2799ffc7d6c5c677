"""The upload engine: scan and validate on a pool, then upload on parallel lanes, resumably.

Qt-free and thread-based, shared by the CLI and the desktop's UploadManager.

* ``add_paths`` returns at once; a walker thread lists the files (folders
  recursively) and a small pool probes each one with soundfile and hashes it.
  Rejected files stay as SKIPPED rows with their reason; duplicates (same
  SHA-256 already in the dataset, or earlier in the queue) wait in DUPLICATE.
* Each lane is a thread with its own ``RelayClient`` (its own HTTP session) and
  does the whole three-step upload of one file at a time, so uploads never
  queue behind, or hold up, anyone else's API calls.
* Before the first byte goes to storage the row, its server record id and the
  presigned POST are committed to the :class:`QueueStore`. After a crash the
  record is checked: confirmed -> done; stored but unconfirmed -> confirmed now;
  not stored -> POSTed again under the same policy while it is valid, else the
  record is deleted and the file starts over. A file is never created twice.
* Connection errors, and 429/502/503/504 from the API or storage (a gateway
  or a busy server, not a refusal), put the row back and the engine waits
  (backoff 1 -> 2 -> 5 -> 10 s, probing the server) until the server answers again.

Observers poll :meth:`take_changes` (the desktop every 100 ms on a GUI timer,
the CLI for its progress bar): changes are batched by construction.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from relay_desktop.api.batch_upload.probe import MAX_FILE_BYTES, check_file
from relay_desktop.api.batch_upload.rows import (
    TotalsCounter,
    UploadRow,
    UploadState,
    UploadTarget,
    UploadTotals,
    new_row_id,
)
from relay_desktop.api.batch_upload.store import QueueStore, StoredTicket
from relay_desktop.api.cancel import CancelToken
from relay_desktop.api.client import RelayClient
from relay_desktop.api.errors import (
    ApiConnectionError,
    ApiStatusError,
    ApiTimeoutError,
    BadRequest,
    Cancelled,
    Conflict,
    NotFound,
    NotSupported,
    RelayError,
    StorageError,
)
from relay_desktop.api.models import UploadTicket
from relay_desktop.api.retry import RETRY_STATUSES
from relay_desktop.api.uploads import post_to_storage

log = logging.getLogger(__name__)

ClientFactory = Callable[[], RelayClient]
DuplicatePolicy = Literal["ask", "skip", "upload"]
OFFLINE_BACKOFF_S = (1.0, 2.0, 5.0, 10.0)
MAX_LANES = 8
PROBE_BATCH = 16   # files probed per pool task (fewer hand-offs between threads)
#: a stored policy this close to expiry is not reused
TICKET_MARGIN_S = 30.0
#: how far the server's clock may trail ours when looking for lost upload records
ORPHAN_SKEW_S = 60.0
_RESUMABLE = frozenset({UploadState.WAITING, UploadState.UPLOADING, UploadState.CONFIRMING,
                        UploadState.PAUSED})
_KEEP = object()  # "leave the stored ticket as it is"
_CANCELLABLE = frozenset({UploadState.SCANNING, UploadState.WAITING, UploadState.DUPLICATE,
                          UploadState.PAUSED})


@dataclass(frozen=True)
class ScanProgress:
    found: int
    probed: int
    done: bool


@dataclass
class Changes:
    """What happened since the last :meth:`UploadEngine.take_changes`."""

    added: list[UploadRow] = field(default_factory=list)
    changed: list[UploadRow] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    confirmed: list[UploadRow] = field(default_factory=list)
    scan: ScanProgress | None = None

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.confirmed
                    or self.scan is not None)


@dataclass(frozen=True)
class _ServerIndex:
    """A dataset's existing files for the duplicate check."""

    by_hash: dict[str, str]
    unhashed: dict[tuple[str, int], str]


def iter_files(paths: Sequence[Path]) -> Iterator[Path]:
    """Files named in ``paths`` and every file under folders (sorted, recursively)."""
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    yield Path(root, name)
        else:
            yield path


class UploadEngine:
    """A resumable upload queue with N lanes. Thread-safe; every method returns at once."""

    def __init__(self, client_factory: ClientFactory, store: QueueStore | None = None, *,
                 lanes: int = 3, scan_workers: int = 2,
                 max_file_bytes: int = MAX_FILE_BYTES,
                 duplicates: DuplicatePolicy = "ask",
                 on_confirmed: Callable[[UploadRow], None] | None = None) -> None:
        self._factory = client_factory
        self._store = store
        self._max_bytes = max_file_bytes
        self._duplicates = duplicates
        self._on_confirmed = on_confirmed
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._rows: dict[str, UploadRow] = {}
        self._totals = TotalsCounter()
        self._tickets: dict[str, StoredTicket] = {}
        self._replaces: dict[str, str] = {}   # row id -> failed audio id it re-uploads
        self._queue: list[tuple[int, str]] = []   # heap of WAITING rows in drop order
        self._tokens: dict[str, CancelToken] = {}
        self._intent: dict[str, UploadState] = {}
        self._started_at: dict[str, float] = {}
        self._unsaved: dict[str, UploadRow] = {}
        self._unsaved_tickets: dict[str, StoredTicket | None] = {}
        self._save_lock = threading.Lock()
        self._queued_hashes: dict[tuple[str, str, str], str] = {}
        self._order: dict[str, int] = {}   # row id -> position in the queue
        self._counter = itertools.count()
        self._changes = Changes()
        self._changed_ids: set[str] = set()
        self._paused = False
        self._offline = False
        self._probing = False
        self.offline_reason = ""
        self._scan_found = 0
        self._scan_probed = 0
        self._scans_running = 0
        self._lane_target = max(1, min(MAX_LANES, int(lanes)))
        self._lanes: dict[int, threading.Thread] = {}
        self._walker = ThreadPoolExecutor(1, thread_name_prefix="upload-scan")
        self._scan_workers = max(1, scan_workers)
        self._prober = ThreadPoolExecutor(self._scan_workers, thread_name_prefix="upload-probe")
        self._helper = ThreadPoolExecutor(1, thread_name_prefix="upload-helper")
        self._saver = ThreadPoolExecutor(1, thread_name_prefix="upload-save")
        self._closed = False

    # -- queries ---------------------------------------------------------------------------

    def rows(self) -> list[UploadRow]:
        with self._lock:
            return list(self._rows.values())

    def row(self, row_id: str) -> UploadRow | None:
        with self._lock:
            return self._rows.get(row_id)

    def totals(self) -> UploadTotals:
        """The queue's totals (kept up to date with every change: O(1))."""
        with self._lock:
            return self._totals.totals(self._paused)

    def is_paused(self) -> bool:
        return self._paused

    @property
    def offline(self) -> bool:
        return self._offline

    @property
    def lanes(self) -> int:
        return self._lane_target

    def take_changes(self) -> Changes:
        """Rows added/changed/removed since the last call (each row at its latest state)."""
        with self._lock:
            out = self._changes
            added = {r.id for r in out.added}
            out.added = [self._rows[i] for i in dict.fromkeys(r.id for r in out.added)
                         if i in self._rows]
            out.changed = [self._rows[i] for i in self._changed_ids
                           if i in self._rows and i not in added]
            self._changes = Changes()
            self._changed_ids = set()
        return out

    def is_idle(self) -> bool:
        """True when nothing is being scanned or uploaded and nothing waits for a lane."""
        with self._lock:
            return (self._scans_running == 0 and not self._tokens
                    and not any(r.state in (UploadState.SCANNING, UploadState.WAITING)
                                for r in self._rows.values()))

    def wait_scanned(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for every scan to end; True when none is running."""
        deadline = time.monotonic() + timeout
        while self._scans_running:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def wait_idle(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_idle():
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    # -- adding ----------------------------------------------------------------------------

    def add_paths(self, paths: Sequence[Path], target: UploadTarget) -> None:
        """Walk, probe, hash and queue ``paths`` (files and folders) in the background."""
        paths = [Path(p) for p in paths]
        with self._lock:
            self._begin_scan()
            self._changes.scan = self._scan_progress()
        self._walker.submit(self._scan, paths, target, None)

    def add_files(self, files: Sequence[Path], target: UploadTarget,
                  replaces: str = "") -> list[str]:
        """Queue exactly these files (no folder walk); return their row ids at once."""
        rows = [self._new_row(Path(f), target) for f in files]
        with self._lock:
            self._begin_scan()
            for row in rows:
                if replaces:
                    self._replaces[row.id] = replaces
            self._add_rows(rows)
        self._walker.submit(self._scan, [], target, rows)
        return [r.id for r in rows]

    def _new_row(self, path: Path, target: UploadTarget) -> UploadRow:
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        return UploadRow(id=new_row_id(), path=path, target=target, size=size,
                         state=UploadState.SCANNING)

    def _add_rows(self, rows: list[UploadRow]) -> None:
        for row in rows:
            self._rows[row.id] = row
            self._totals.add(row, +1)
            self._order[row.id] = next(self._counter)
        self._changes.added.extend(rows)
        self._scan_found += len(rows)
        self._changes.scan = self._scan_progress()

    def _scan(self, paths: list[Path], target: UploadTarget,
              ready: list[UploadRow] | None) -> None:
        """Walker thread: list files, add SCANNING rows in batches, hand each to the probers."""
        try:
            index: Future[_ServerIndex | None] | None = None
            if target.kind == "dataset":
                index = self._helper.submit(self._server_index, target.id)
            futures: list[Future[None]] = []
            if ready is not None:
                futures = self._enqueue_probes(ready, index, add=False)
            else:
                batch: list[UploadRow] = []
                for path in iter_files(paths):
                    if self._stop.is_set():
                        break
                    batch.append(self._new_row(path, target))
                    if len(batch) % 50 == 0:
                        time.sleep(0.001)   # let the GUI thread have the interpreter
                    if len(batch) >= 200:
                        futures += self._enqueue_probes(batch, index)
                        batch = []
                futures += self._enqueue_probes(batch, index)
            for fut in futures:
                with contextlib.suppress(Exception):
                    fut.result()
            self._sync()
        except Exception:
            log.exception("Scanning %s failed", paths)
        finally:
            with self._lock:
                self._scans_running -= 1
                self._changes.scan = self._scan_progress()

    def _enqueue_probes(self, batch: list[UploadRow],
                        index: Future[_ServerIndex | None] | None,
                        add: bool = True) -> list[Future[None]]:
        if not batch:
            return []
        if add:
            with self._lock:
                self._add_rows(batch)
        ids = [r.id for r in batch]
        return [self._prober.submit(self._probe_rows, ids[i:i + PROBE_BATCH], index)
                for i in range(0, len(ids), PROBE_BATCH)]

    def _begin_scan(self) -> None:
        """Count one more scan running (lock held); a new round of scanning counts from 0."""
        if self._scans_running == 0:
            self._scan_found = self._scan_probed = 0
        self._scans_running += 1

    def _scan_progress(self) -> ScanProgress:
        return ScanProgress(self._scan_found, self._scan_probed, self._scans_running == 0)

    def _server_index(self, dataset_id: str) -> _ServerIndex | None:
        """The dataset's files by content hash (and by name+size where the server has none)."""
        try:
            client = self._factory()
            try:
                by_hash: dict[str, str] = {}
                unhashed: dict[tuple[str, int], str] = {}
                for audio in client.audio.iter_items(dataset_id):
                    if audio.content_sha256:
                        by_hash.setdefault(audio.content_sha256.lower(), audio.filename)
                    else:
                        unhashed.setdefault((audio.filename, audio.file_size or 0),
                                            audio.filename)
                return _ServerIndex(by_hash, unhashed)
            finally:
                client.close()
        except Exception as exc:
            log.warning("Could not list dataset %s for the duplicate check: %s", dataset_id, exc)
            return None

    def _probe_rows(self, row_ids: list[str],
                    index: Future[_ServerIndex | None] | None) -> None:
        """Probe thread: validate and hash a batch; SCANNING -> WAITING/DUPLICATE/SKIPPED."""
        with self._lock:
            rows = [self._rows.get(i) for i in row_ids]
        todo = [r for r in rows if r is not None and r.state is UploadState.SCANNING]
        for _ in range(len(rows) - len(todo)):
            self._count_probed()
        if not todo:
            return
        results = []
        for row in todo:
            results.append(check_file(str(row.path), self._max_bytes))
            time.sleep(0)   # hand the interpreter to a waiting GUI thread between files
        server = index.result() if index is not None else None
        for row, (info, digest, reason) in zip(todo, results, strict=True):
            if info is None:
                self._finish_probe(row.id, UploadState.SKIPPED, reason=reason)
            else:
                self._finish_probe(row.id, UploadState.WAITING, size=info.size,
                                   content_type=info.content_type, sha256=digest,
                                   server=server)

    def _count_probed(self) -> None:
        with self._lock:
            self._scan_probed += 1
            self._changes.scan = self._scan_progress()

    def _finish_probe(self, row_id: str, state: UploadState, *, reason: str = "",
                      size: int | None = None, content_type: str = "", sha256: str = "",
                      server: _ServerIndex | None = None) -> None:
        with self._lock:
            self._scan_probed += 1
            self._changes.scan = self._scan_progress()
            row = self._rows.get(row_id)
            if row is None or row.state is not UploadState.SCANNING:
                return
            changes: dict[str, object] = {"reason": reason, "content_type": content_type,
                                          "sha256": sha256}
            if size is not None:
                changes["size"] = size
            if state is UploadState.WAITING:
                candidate = row.with_(**changes)
                state, changes["reason"], changes["duplicate_of"] = self._duplicate_of(
                    candidate, server)
            self._set(row, state=state, save=True, **changes)

    def _duplicate_of(self, row: UploadRow,
                      server: _ServerIndex | None) -> tuple[UploadState, str, str]:
        """(state, reason, duplicate_of) for a valid row; registers it as the queue's first copy."""
        if row.id in self._replaces:
            return UploadState.WAITING, "", ""
        found = ""
        if server is not None:
            name = server.by_hash.get(row.sha256)
            if name is not None:
                found = f"already in the dataset as {name}"
            else:
                name = server.unhashed.get((row.path.name, row.size))
                if name is not None:
                    found = (f"already in the dataset as {name} (same name and size; the "
                             "server has no content hash for that file)")
        key = (row.target.kind, row.target.id, row.sha256)
        first = self._rows.get(self._queued_hashes.get(key, ""))
        if not found and first is not None and first.id != row.id and first.state not in (
                UploadState.CANCELLED, UploadState.SKIPPED):
            if first.state is UploadState.WAITING and self._order[first.id] > self._order[row.id]:
                # probed out of order: the copy earlier in the queue is the one to upload
                state, reason, dup_of = self._dup_state(
                    f"Same content as {row.path.name}, queued twice.", row.id)
                self._set(first, state=state, reason=reason, duplicate_of=dup_of, save=True)
                self._queued_hashes[key] = row.id
                return UploadState.WAITING, "", ""
            return self._dup_state(f"Same content as {first.path.name}, queued twice.",
                                   first.id)
        if not found:
            self._queued_hashes[key] = row.id
            return UploadState.WAITING, "", ""
        return self._dup_state(f"Duplicate: {found}.", found)

    def _dup_state(self, reason: str, dup_of: str) -> tuple[UploadState, str, str]:
        if self._duplicates == "upload":
            return UploadState.WAITING, "", dup_of
        if self._duplicates == "skip":
            return UploadState.SKIPPED, reason, dup_of
        return UploadState.DUPLICATE, reason, dup_of

    # -- user actions ----------------------------------------------------------------------

    def resolve_duplicates(self, row_ids: Iterable[str], upload_anyway: bool) -> None:
        with self._lock:
            for row in self._pick(row_ids, {UploadState.DUPLICATE}):
                if upload_anyway:
                    self._set(row, state=UploadState.WAITING, reason="", save=True)
                else:
                    self._set(row, state=UploadState.SKIPPED,
                              reason=f"Skipped by choice. {row.reason}", save=True)
        self._sync_soon()

    def pause(self) -> None:
        """Stop starting files and interrupt the ones in flight (they resume later)."""
        with self._lock:
            self._paused = True
            for row in list(self._rows.values()):
                if row.state is UploadState.WAITING:
                    self._set(row, state=UploadState.PAUSED, save=True)
            for row_id, token in self._tokens.items():
                self._intent[row_id] = UploadState.PAUSED
                token.cancel()
        self._sync_soon()

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            for row in list(self._rows.values()):
                if row.state is UploadState.PAUSED:
                    self._set(row, state=UploadState.WAITING, save=True)
            self._wake.notify_all()
        self._sync_soon()

    def cancel(self, row_ids: Iterable[str]) -> None:
        """Cancel rows: a running upload stops at its next chunk and its record is deleted."""
        discard: list[UploadRow] = []
        with self._lock:
            for row_id in list(row_ids):
                row = self._rows.get(row_id)
                if row is None:
                    continue
                token = self._tokens.get(row_id)
                if token is not None:
                    self._intent[row_id] = UploadState.CANCELLED
                    token.cancel()
                elif row.state in _CANCELLABLE:
                    if row.remote_id:
                        discard.append(row)
                    self._tickets.pop(row_id, None)
                    self._set(row, state=UploadState.CANCELLED, reason="Cancelled.",
                              bytes_sent=0, speed_bps=0.0, remote_id="", save=True,
                              ticket=None)
        self._sync_soon()
        for row in discard:
            self._helper.submit(self._discard_with_new_client, row)

    def cancel_all(self) -> None:
        with self._lock:
            ids = [r.id for r in self._rows.values()
                   if r.state in _CANCELLABLE or r.id in self._tokens]
        self.cancel(ids)

    def retry(self, row_ids: Iterable[str]) -> None:
        """FAILED/CANCELLED (and rejected) rows go again: scanned again when never valid."""
        rescan: list[str] = []
        with self._lock:
            retryable = {UploadState.FAILED, UploadState.CANCELLED, UploadState.SKIPPED}
            for row in self._pick(row_ids, retryable):
                if row.state is UploadState.FAILED and row.remote_id and row.target.kind == (
                        "dataset"):
                    # processing failed on the server: upload again and replace that record
                    self._replaces[row.id] = row.remote_id
                if row.content_type and row.sha256:
                    self._set(row, state=UploadState.PAUSED if self._paused
                              else UploadState.WAITING, reason="", bytes_sent=0,
                              speed_bps=0.0, remote_id="", save=True, ticket=None)
                else:
                    self._set(row, state=UploadState.SCANNING, reason="", save=True,
                              ticket=None)
                    rescan.append(row.id)
            if rescan:
                self._begin_scan()
        self._sync_soon()
        if rescan:
            self._walker.submit(self._rescan, rescan)

    def _rescan(self, row_ids: list[str]) -> None:
        try:
            for row_id in row_ids:
                with self._lock:
                    row = self._rows.get(row_id)
                index = None
                if row is not None and row.target.kind == "dataset":
                    index = self._helper.submit(self._server_index, row.target.id)
                self._probe_rows([row_id], index)
            self._sync()
        finally:
            with self._lock:
                self._scans_running -= 1
                self._changes.scan = self._scan_progress()

    def reupload(self, dataset_id: str, audio_id: str, path: Path, name: str = "") -> str:
        """Upload ``path`` to replace the (failed) audio file ``audio_id``; return the row id."""
        target = UploadTarget("dataset", dataset_id, name)
        return self.add_files([Path(path)], target, replaces=audio_id)[0]

    def clear_finished(self) -> list[str]:
        """Forget READY, SKIPPED and CANCELLED rows; return their ids."""
        done = {UploadState.READY, UploadState.SKIPPED, UploadState.CANCELLED}
        with self._lock:
            gone = [r.id for r in self._rows.values() if r.state in done]
            for row_id in gone:
                self._forget(row_id)
            self._changes.removed.extend(gone)
        if self._store is not None and gone:
            self._saver.submit(self._store.delete, gone)
        return gone

    def forget(self, row_ids: Iterable[str]) -> None:
        """Drop rows that are not running (the CLI clears what it finished)."""
        with self._lock:
            gone = [i for i in row_ids if i in self._rows and i not in self._tokens]
            for row_id in gone:
                self._forget(row_id)
            self._changes.removed.extend(gone)
        if self._store is not None and gone:
            self._saver.submit(self._store.delete, gone)

    def _forget(self, row_id: str) -> None:
        row = self._rows.pop(row_id, None)
        if row is not None:
            self._totals.add(row, -1)
        self._order.pop(row_id, None)
        self._tickets.pop(row_id, None)
        self._unsaved.pop(row_id, None)
        self._replaces.pop(row_id, None)
        self._changed_ids.discard(row_id)

    def mark_processed(self, row_id: str, ready: bool, reason: str = "") -> None:
        """Processing on the server ended (the desktop's JobMonitor or the CLI tells)."""
        with self._lock:
            row = self._rows.get(row_id)
            if row is None or row.state is not UploadState.PROCESSING:
                return
            self._set(row, state=UploadState.READY if ready else UploadState.FAILED,
                      reason="" if ready else (reason or "Processing failed on the server."),
                      save=True)
        self._sync_soon()

    def set_lanes(self, n: int) -> None:
        """Run ``n`` (1..8) lanes; extra lanes stop after their current file."""
        with self._lock:
            self._lane_target = max(1, min(MAX_LANES, int(n)))
            self._wake.notify_all()
            if self._started:
                self._spawn_lanes()

    # -- start, restore, close -----------------------------------------------------------------

    _started = False

    def start(self, restore: bool = False) -> None:
        """Start the lanes; with ``restore`` the stored queue is loaded first, off the
        caller's thread (its rows then arrive through :meth:`take_changes`)."""
        if restore:
            self._walker.submit(self._restore_and_start)
            return
        with self._lock:
            self._started = True
            self._spawn_lanes()

    def _restore_and_start(self) -> None:
        try:
            self.restore()
        except Exception:
            log.exception("Could not restore the upload queue")
        self.start()

    def restore(self, accept: Callable[[UploadRow], bool] | None = None) -> list[UploadRow]:
        """Load the stored queue: unfinished uploads go back to WAITING (their server record
        is checked before anything is sent again), unprobed files are probed again."""
        if self._store is None:
            return []
        loaded = [(r, t) for r, t in self._store.load() if accept is None or accept(r)]
        rescan: list[str] = []
        with self._lock:
            rows: list[UploadRow] = []
            for row, ticket in loaded:
                if row.id in self._rows:
                    continue
                if row.state in _RESUMABLE:
                    row = row.with_(state=UploadState.PAUSED if self._paused
                                    else UploadState.WAITING, bytes_sent=0, speed_bps=0.0)
                elif row.state is UploadState.SCANNING:
                    rescan.append(row.id)
                if ticket is not None:
                    self._tickets[row.id] = ticket
                if row.sha256 and row.state not in (UploadState.CANCELLED, UploadState.SKIPPED):
                    self._queued_hashes.setdefault(
                        (row.target.kind, row.target.id, row.sha256), row.id)
                rows.append(row)
                self._rows[row.id] = row
                self._totals.add(row, +1)
                self._order[row.id] = next(self._counter)
                if row.state is UploadState.WAITING:
                    heapq.heappush(self._queue, (self._order[row.id], row.id))
            self._changes.added.extend(rows)
            if rescan:
                self._begin_scan()
            self._wake.notify_all()
        if rescan:
            self._walker.submit(self._rescan, rescan)
        return rows

    def close(self, timeout: float = 5.0) -> bool:
        """Stop: running uploads are interrupted and kept for the next start. True if all
        lanes stopped within ``timeout``."""
        with self._lock:
            if self._closed:
                return True
            self._closed = True
            self._stop.set()
            for row_id, token in self._tokens.items():
                self._intent[row_id] = UploadState.WAITING
                token.cancel()
            self._wake.notify_all()
            lanes = list(self._lanes.values())
        deadline = time.monotonic() + timeout
        for thread in lanes:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._walker.shutdown(wait=False, cancel_futures=True)
        self._prober.shutdown(wait=False, cancel_futures=True)
        self._helper.shutdown(wait=False, cancel_futures=True)
        self._saver.shutdown(wait=True)
        with contextlib.suppress(Exception):
            self._sync()
        stopped = not any(t.is_alive() for t in lanes)
        if self._store is not None and stopped:
            self._store.close()
        return stopped

    # -- lanes ---------------------------------------------------------------------------------

    def _spawn_lanes(self) -> None:
        for index in range(self._lane_target):
            thread = self._lanes.get(index)
            if thread is None or not thread.is_alive():
                thread = threading.Thread(target=self._lane_main, args=(index,),
                                          name=f"upload-lane-{index + 1}", daemon=True)
                self._lanes[index] = thread
                thread.start()

    def _claim(self, index: int) -> UploadRow | None:
        """Block until a row is ready for this lane; None when the lane should end."""
        with self._lock:
            while True:
                if self._stop.is_set() or index >= self._lane_target:
                    return None
                if not self._paused and not self._offline:
                    while self._queue:
                        row = self._rows.get(heapq.heappop(self._queue)[1])
                        if row is not None and row.state is UploadState.WAITING:
                            token = CancelToken()
                            self._tokens[row.id] = token
                            self._started_at[row.id] = time.monotonic()
                            return self._set(row, state=UploadState.UPLOADING, reason="",
                                             bytes_sent=0, speed_bps=0.0)
                self._wake.wait(0.5)

    def _lane_main(self, index: int) -> None:
        client: RelayClient | None = None
        try:
            while True:
                row = self._claim(index)
                if row is None:
                    return
                if client is None:
                    try:
                        client = self._factory()
                    except Exception as exc:
                        self._end(row, UploadState.FAILED, f"Could not start: {exc}")
                        continue
                self._run(client, row)
        finally:
            if client is not None:
                client.close()

    def _run(self, client: RelayClient, row: UploadRow) -> None:
        token = self._tokens[row.id]
        confirmed = False
        try:
            self._upload(client, row, token)
            confirmed = True
        except Cancelled:
            self._interrupted(client, row.id)
        except (ApiConnectionError, ApiTimeoutError) as exc:
            if token.cancelled:
                self._interrupted(client, row.id)
            else:
                self._went_offline(client, row.id, exc)
        except (ApiStatusError, StorageError) as exc:
            if token.cancelled:
                self._interrupted(client, row.id)
            elif exc.status_code in RETRY_STATUSES:  # a gateway or a busy server: wait
                self._went_offline(client, row.id, exc)
            else:
                self._failed(client, row.id, str(exc))
        except (RelayError, OSError) as exc:
            if token.cancelled:    # the cancelled POST may surface as a broken upload
                self._interrupted(client, row.id)
            else:
                reason = str(exc) if isinstance(exc, RelayError) else (
                    f"Could not read the file: {exc.strerror or exc}.")
                self._failed(client, row.id, reason)
        except Exception as exc:  # a bug must not kill the lane
            log.exception("Upload of %s failed unexpectedly", row.path)
            self._failed(client, row.id, f"Unexpected error: {exc}")
        finally:
            with self._lock:
                self._tokens.pop(row.id, None)
                self._intent.pop(row.id, None)
                self._started_at.pop(row.id, None)
                self._wake.notify_all()
            if not confirmed:
                # a confirmed row is saved with the next commit: if that never comes, the
                # restart finds the record confirmed on the server, which is as good
                self._sync()

    def _upload(self, client: RelayClient, row: UploadRow, token: CancelToken) -> None:
        """The three steps for one row (dataset audio or inference file), resuming if it can."""
        try:
            size = row.path.stat().st_size
        except FileNotFoundError:
            raise RelayError("The file is gone from the disk (moved or deleted since it "
                             "was queued).") from None
        if size != row.size:
            raise RelayError(f"The file changed since it was scanned ({row.size:,} -> "
                             f"{size:,} bytes); retry to scan it again.")
        ticket = self._tickets.get(row.id)
        if row.remote_id:
            outcome = self._check_existing(client, row, ticket, token)
            if outcome == "confirmed":
                self._confirmed(row.id)
                return
            if outcome == "fresh":
                with self._lock:
                    row = self._set(self._rows.get(row.id, row), remote_id="", save=True,
                                    ticket=None)
                ticket = None
        elif ticket is not None and ticket.requested_at:
            self._remove_orphans(client, row, ticket.requested_at, token)
        if ticket is None or not ticket.usable or not row.remote_id:
            row, ticket = self._new_ticket(client, row, token)
        try:
            self._post(client, row, ticket, token)
        except StorageError as err:
            if not err.expired:
                raise
            log.info("Upload policy for %s expired; asking for a fresh one", row.path.name)
            if row.target.kind != "dataset":
                raise RelayError("The upload policy expired before the file was sent; the "
                                 "job's pending file cannot be removed, so it was not "
                                 "requested again.") from err
            self._discard(client, row)
            row, ticket = self._new_ticket(client, row, token)
            self._post(client, row, ticket, token)
        with self._lock:
            self._set(self._rows.get(row.id, row), state=UploadState.CONFIRMING,
                      bytes_sent=row.size)
        try:
            if row.target.kind == "dataset":
                client.audio.confirm(row.target.id, row.remote_id, cancel=token)
            else:
                client.inference_jobs.confirm_file(row.target.id, row.remote_id, cancel=token)
        except Conflict:
            pass  # confirmed by an earlier attempt whose answer was lost
        token.raise_if_cancelled()
        self._confirmed(row.id)

    def _check_existing(self, client: RelayClient, row: UploadRow,
                        ticket: StoredTicket | None, token: CancelToken) -> str:
        """What became of an interrupted upload's record: 'confirmed', 'post' or 'fresh'."""
        dataset = row.target.kind == "dataset"
        status = ""
        try:
            if dataset:
                status = client.audio.get(row.target.id, row.remote_id,
                                          cancel=token).processing_status
            else:
                status = client.inference_jobs.get_file(row.target.id, row.remote_id,
                                                        cancel=token).status
        except NotFound:
            return "fresh"
        except NotSupported:
            status = "pending"
        if status not in ("pending", ""):
            return "confirmed"
        try:  # the bytes may have arrived before the interruption: confirming tells
            if dataset:
                client.audio.confirm(row.target.id, row.remote_id, cancel=token)
            else:
                client.inference_jobs.confirm_file(row.target.id, row.remote_id, cancel=token)
            return "confirmed"
        except Conflict:
            return "confirmed"
        except (BadRequest, NotFound):
            pass
        if ticket is not None and ticket.usable and (
                ticket.expires_at - time.time() > TICKET_MARGIN_S):
            return "post"
        if not dataset:
            raise RelayError("The upload was interrupted and its policy expired; the job's "
                             "pending file cannot be removed, so it was not requested again.")
        self._discard(client, row)
        return "fresh"

    def _remove_orphans(self, client: RelayClient, row: UploadRow, requested_at: float,
                        token: CancelToken) -> None:
        """Delete pending records an unanswered upload-url of this row may have made: same
        name and size, created since the request (a minute's clock skew allowed), and not
        a record any row of this queue knows."""
        if row.target.kind != "dataset":
            return
        since = datetime.fromtimestamp(requested_at - ORPHAN_SKEW_S, UTC)
        with self._lock:
            known = {r.remote_id for r in self._rows.values() if r.remote_id}
        for audio in client.audio.iter_items(row.target.id, processing_status="pending",
                                             cancel=token):
            if (audio.filename == row.path.name and audio.file_size == row.size
                    and audio.id not in known
                    and (audio.created_at is None or audio.created_at >= since)):
                log.info("Removing %s: an upload record of %s whose answer was lost",
                         audio.id, row.path.name)
                self._discard(client, row.with_(remote_id=audio.id))

    def _new_ticket(self, client: RelayClient, row: UploadRow,
                    token: CancelToken) -> tuple[UploadRow, StoredTicket]:
        """Create the server record and commit it (with its policy) before any byte is sent.

        The time of the request is committed first: if its answer is lost, the record it
        made is found by name, size and time on the next attempt and removed."""
        ticket: UploadTicket
        requested_at = time.time()
        intent = StoredTicket.intent(requested_at)
        with self._lock:
            # kept in memory too: a lost answer (dropped connection) is then cleaned up
            # on the next attempt of this run, not only after a restart
            self._tickets[row.id] = intent
            self._set(self._rows.get(row.id, row), save=True, ticket=intent)
        self._sync()
        if row.target.kind == "dataset":
            ticket = client.audio.request_upload(row.target.id, row.path.name,
                                                 row.content_type, row.size, cancel=token)
        else:
            ticket = client.inference_jobs.request_file_upload(
                row.target.id, row.path.name, row.size, row.content_type, cancel=token)
        stored = StoredTicket(ticket.upload_url, dict(ticket.fields),
                              time.time() + float(ticket.expires_in or 3600), requested_at)
        with self._lock:
            self._tickets[row.id] = stored
            row = self._set(self._rows.get(row.id, row), remote_id=ticket.object_id,
                            save=True, ticket=stored)
        self._sync()  # committed before the first byte goes to storage
        if token.cancelled:
            raise Cancelled()
        return row, stored

    def _post(self, client: RelayClient, row: UploadRow, ticket: StoredTicket,
              token: CancelToken) -> None:
        started = time.monotonic()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if done < total and now - last[0] < 0.05:
                return
            last[0] = now
            with self._lock:
                current = self._rows.get(row.id)
                if current is not None and current.state is UploadState.UPLOADING:
                    self._set(current, bytes_sent=done,
                              speed_bps=done / max(now - started, 1e-3))

        post_to_storage(client.session, ticket.upload_url, ticket.fields, row.path,
                        timeout=client.timeout, content_type=row.content_type,
                        progress=progress, cancel=token)

    def _confirmed(self, row_id: str) -> None:
        with self._lock:
            row = self._rows[row_id]
            self._tickets.pop(row_id, None)
            row = self._set(row, state=UploadState.PROCESSING, bytes_sent=row.size,
                            speed_bps=0.0, reason="", save=True, ticket=None)
            self._changes.confirmed.append(row)
            replaced = self._replaces.pop(row_id, "")
        if replaced:
            self._helper.submit(self._discard_with_new_client,
                                row.with_(remote_id=replaced))
        if self._on_confirmed is not None:
            try:
                self._on_confirmed(row)
            except Exception:
                log.exception("on_confirmed hook failed for %s", row.path)

    def _interrupted(self, client: RelayClient, row_id: str) -> None:
        """The row's token was cancelled: cancel (delete its record), pause or shut down."""
        with self._lock:
            intent = self._intent.get(row_id, UploadState.CANCELLED)
            row = self._rows.get(row_id)
        if row is None:
            return
        if intent is UploadState.CANCELLED:
            if row.remote_id:
                self._discard(client, row)
            with self._lock:
                self._tickets.pop(row_id, None)
                self._set(self._rows[row_id], state=UploadState.CANCELLED, reason="Cancelled.",
                          bytes_sent=0, speed_bps=0.0, remote_id="", save=True,
                          ticket=None)
            return
        with self._lock:  # pause or shutdown: keep the record and policy for resuming
            state = intent if intent is UploadState.PAUSED else UploadState.WAITING
            if state is UploadState.WAITING and self._paused:
                state = UploadState.PAUSED
            self._set(self._rows[row_id], state=state, bytes_sent=0, speed_bps=0.0,
                      save=True)

    def _went_offline(self, client: RelayClient, row_id: str, exc: RelayError) -> None:
        with self._lock:
            row = self._rows.get(row_id)
            if row is None:
                return
            # the policy may point at a storage host that moved (a restarted server): the
            # record is checked when the row comes back, and a fresh policy asked for; the
            # request time stays, in case upload-url made a record whose answer was lost
            old = self._tickets.pop(row_id, None)
            intent = StoredTicket.intent(old.requested_at) if old is not None else None
            if intent is not None:
                self._tickets[row_id] = intent
            self._set(row, state=UploadState.PAUSED if self._paused else UploadState.WAITING,
                      bytes_sent=0, speed_bps=0.0,
                      reason=f"Waiting for the server: {exc}", save=True, ticket=intent)
            self._offline = True
            self.offline_reason = str(exc)
            if self._probing:
                return
            self._probing = True
        self._sync()
        log.info("Uploads wait for the server: %s", exc)
        try:
            self._wait_for_server(client)
        finally:
            with self._lock:
                self._probing = False
                self._offline = False
                self.offline_reason = ""
                self._wake.notify_all()

    def _wait_for_server(self, client: RelayClient) -> None:
        attempt = 0
        while not self._stop.is_set():
            delay = OFFLINE_BACKOFF_S[min(attempt, len(OFFLINE_BACKOFF_S) - 1)]
            attempt += 1
            if self._stop.wait(delay):
                return
            try:
                client.datasets.list(page=1, page_size=1)
            except (ApiConnectionError, ApiTimeoutError):
                continue
            except ApiStatusError as exc:
                if exc.status_code in RETRY_STATUSES:
                    continue  # still busy or behind a failing gateway
            except RelayError:
                pass  # it answered
            log.info("The server answers again; uploads resume")
            return

    def _failed(self, client: RelayClient, row_id: str, reason: str) -> None:
        with self._lock:
            row = self._rows.get(row_id)
        if row is None:
            return
        if row.remote_id and row.state is not UploadState.PROCESSING:
            self._discard(client, row)
        with self._lock:
            self._tickets.pop(row_id, None)
            self._set(self._rows[row_id], state=UploadState.FAILED, reason=reason,
                      speed_bps=0.0, remote_id="", save=True, ticket=None)

    def _end(self, row: UploadRow, state: UploadState, reason: str) -> None:
        with self._lock:
            self._tokens.pop(row.id, None)
            self._set(self._rows[row.id], state=state, reason=reason, save=True)

    def _discard(self, client: RelayClient, row: UploadRow) -> None:
        """Delete the pending server record of a dataset upload (best effort)."""
        if row.target.kind != "dataset" or not row.remote_id:
            return
        try:
            client.audio.delete(row.target.id, row.remote_id)
        except NotFound:
            pass
        except RelayError as exc:
            log.warning("Could not delete the pending record %s: %s", row.remote_id, exc)

    def _discard_with_new_client(self, row: UploadRow) -> None:
        try:
            client = self._factory()
        except Exception:
            log.exception("Could not delete the pending record %s", row.remote_id)
            return
        try:
            self._discard(client, row)
        finally:
            client.close()

    # -- state ---------------------------------------------------------------------------------

    def _set(self, row: UploadRow, *, save: bool = False, ticket: object = _KEEP,
             **changes: object) -> UploadRow:
        """Replace a row (lock held) and note the change; ``save`` marks it for :meth:`_sync`."""
        new = row.with_(**changes) if changes else row
        if new.state is UploadState.WAITING and self._paused:
            new = new.with_(state=UploadState.PAUSED)
        old = self._rows.get(row.id)
        if old is not None:
            self._totals.add(old, -1)
        self._totals.add(new, +1)
        self._rows[row.id] = new
        self._changed_ids.add(row.id)
        if new.state is UploadState.WAITING and (old is None or old.state
                                                 is not UploadState.WAITING):
            heapq.heappush(self._queue, (self._order.get(row.id, 0), row.id))
            self._wake.notify()
        if save and self._store is not None:
            self._unsaved[row.id] = new
            if ticket is not _KEEP:
                self._unsaved_tickets[row.id] = (ticket if isinstance(ticket, StoredTicket)
                                                 else None)
        return new

    def _sync_soon(self) -> None:
        """Save on the saver thread (public methods are called from a GUI thread)."""
        if self._store is not None and not self._closed:
            self._saver.submit(self._sync)

    def _sync(self) -> None:
        """Commit the rows marked for saving. Never called with the engine lock held, so
        no one waits on the lock for an fsync; the save lock keeps commits in order."""
        if self._store is None:
            return
        with self._save_lock:
            with self._lock:
                rows = list(self._unsaved.values())
                tickets = dict(self._unsaved_tickets)
                self._unsaved.clear()
                self._unsaved_tickets.clear()
            if not rows:
                return
            try:
                self._store.save(rows, tickets)
            except Exception:
                log.exception("Could not save the upload queue")

    def _pick(self, row_ids: Iterable[str], states: set[UploadState]) -> list[UploadRow]:
        return [r for r in (self._rows.get(i) for i in row_ids)
                if r is not None and r.state in states]
