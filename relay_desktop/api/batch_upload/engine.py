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

This module is the façade: user actions, start/restore/close. The work is done
by ``scanning`` (probes, duplicates), ``lanes`` (lane threads), ``transfer`` (one
file's upload) and ``offline`` (waiting for the server), all sharing one
:class:`~relay_desktop.api.batch_upload.book.RowBook`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from relay_desktop.api.batch_upload.book import Changes, RowBook, ScanProgress
from relay_desktop.api.batch_upload.lanes import MAX_LANES, Lanes
from relay_desktop.api.batch_upload.offline import OfflineWatch
from relay_desktop.api.batch_upload.probe import MAX_FILE_BYTES
from relay_desktop.api.batch_upload.rows import UploadRow, UploadState, UploadTarget, UploadTotals
from relay_desktop.api.batch_upload.scanning import DuplicatePolicy, Scanner, iter_files, new_row
from relay_desktop.api.batch_upload.store import QueueStore
from relay_desktop.api.batch_upload.transfer import ClientFactory, discard_with_new_client

__all__ = ["MAX_LANES", "Changes", "ClientFactory", "DuplicatePolicy", "ScanProgress",
           "UploadEngine", "iter_files"]

log = logging.getLogger(__name__)

_RESUMABLE = frozenset({UploadState.WAITING, UploadState.UPLOADING, UploadState.CONFIRMING,
                        UploadState.PAUSED})
_CANCELLABLE = frozenset({UploadState.SCANNING, UploadState.WAITING, UploadState.DUPLICATE,
                          UploadState.PAUSED})


class UploadEngine:
    """A resumable upload queue with N lanes. Thread-safe; every method returns at once."""

    def __init__(self, client_factory: ClientFactory, store: QueueStore | None = None, *,
                 lanes: int = 3, scan_workers: int = 2,
                 max_file_bytes: int = MAX_FILE_BYTES,
                 duplicates: DuplicatePolicy = "ask",
                 on_confirmed: Callable[[UploadRow], None] | None = None) -> None:
        self._factory = client_factory
        self._store = store
        self._book = RowBook(store)
        self._stop = threading.Event()
        self._walker = ThreadPoolExecutor(1, thread_name_prefix="upload-scan")
        self._scan_workers = max(1, scan_workers)
        self._prober = ThreadPoolExecutor(self._scan_workers, thread_name_prefix="upload-probe")
        self._helper = ThreadPoolExecutor(1, thread_name_prefix="upload-helper")
        self._saver = ThreadPoolExecutor(1, thread_name_prefix="upload-save")
        self._scanner = Scanner(self._book, client_factory, self._stop, prober=self._prober,
                                helper=self._helper, max_file_bytes=max_file_bytes,
                                duplicates=duplicates)
        self._watch = OfflineWatch(self._book, self._stop)
        self._lanes = Lanes(self._book, client_factory, self._stop, self._watch, self._helper,
                            lanes=lanes, on_confirmed=on_confirmed)
        self._closed = False

    # -- queries ---------------------------------------------------------------------------

    def rows(self) -> list[UploadRow]:
        with self._book.lock:
            return self._book.rows()

    def row(self, row_id: str) -> UploadRow | None:
        with self._book.lock:
            return self._book.get(row_id)

    def totals(self) -> UploadTotals:
        """The queue's totals (kept up to date with every change: O(1))."""
        with self._book.lock:
            return self._book.totals()

    def is_paused(self) -> bool:
        return self._book.paused

    @property
    def offline(self) -> bool:
        return self._watch.offline

    @property
    def offline_reason(self) -> str:
        """Why the server is thought unreachable ("" while it answers)."""
        return self._watch.reason

    @property
    def lanes(self) -> int:
        return self._lanes.target

    def take_changes(self) -> Changes:
        """Rows added/changed/removed since the last call (each row at its latest state)."""
        with self._book.lock:
            return self._book.take_changes()

    def is_idle(self) -> bool:
        """True when nothing is being scanned or uploaded and nothing waits for a lane."""
        with self._book.lock:
            return (self._scanner.running == 0 and not self._lanes.any_running()
                    and not any(r.state in (UploadState.SCANNING, UploadState.WAITING)
                                for r in self._book.rows()))

    def wait_scanned(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for every scan to end; True when none is running."""
        deadline = time.monotonic() + timeout
        while self._scanner.running:
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
        with self._book.lock:
            self._scanner.begin()
            self._book.note_scan(self._scanner.progress())
        self._walker.submit(self._scanner.scan, paths, target, None)

    def add_files(self, files: Sequence[Path], target: UploadTarget,
                  replaces: str = "") -> list[str]:
        """Queue exactly these files (no folder walk); return their row ids at once."""
        rows = [new_row(Path(f), target) for f in files]
        with self._book.lock:
            self._scanner.begin()
            for row in rows:
                if replaces:
                    self._book.mark_replacement(row.id, replaces)
            self._scanner.add_rows(rows)
        self._walker.submit(self._scanner.scan, [], target, rows)
        return [r.id for r in rows]

    # -- user actions ----------------------------------------------------------------------

    def resolve_duplicates(self, row_ids: Iterable[str], upload_anyway: bool) -> None:
        book = self._book
        with book.lock:
            for row in book.pick(row_ids, {UploadState.DUPLICATE}):
                if upload_anyway:
                    book.set(row, state=UploadState.WAITING, reason="", save=True)
                else:
                    book.set(row, state=UploadState.SKIPPED,
                             reason=f"Skipped by choice. {row.reason}", save=True)
        self._sync_soon()

    def pause(self) -> None:
        """Stop starting files and interrupt the ones in flight (they resume later)."""
        book = self._book
        with book.lock:
            book.paused = True
            for row in book.rows():
                if row.state is UploadState.WAITING:
                    book.set(row, state=UploadState.PAUSED, save=True)
            self._lanes.interrupt_all(UploadState.PAUSED)
        self._sync_soon()

    def resume(self) -> None:
        book = self._book
        with book.lock:
            book.paused = False
            for row in book.rows():
                if row.state is UploadState.PAUSED:
                    book.set(row, state=UploadState.WAITING, save=True)
            book.wake.notify_all()
        self._sync_soon()

    def cancel(self, row_ids: Iterable[str]) -> None:
        """Cancel rows: a running upload stops at its next chunk and its record is deleted."""
        book = self._book
        discard: list[UploadRow] = []
        with book.lock:
            for row_id in list(row_ids):
                row = book.get(row_id)
                if row is None:
                    continue
                if self._lanes.interrupt(row_id, UploadState.CANCELLED):
                    continue
                if row.state in _CANCELLABLE:
                    if row.remote_id:
                        discard.append(row)
                    book.drop_ticket(row_id)
                    book.set(row, state=UploadState.CANCELLED, reason="Cancelled.",
                             bytes_sent=0, speed_bps=0.0, remote_id="", save=True,
                             ticket=None)
        self._sync_soon()
        for row in discard:
            self._helper.submit(discard_with_new_client, self._factory, row)

    def cancel_all(self) -> None:
        with self._book.lock:
            ids = [r.id for r in self._book.rows()
                   if r.state in _CANCELLABLE or self._lanes.is_running(r.id)]
        self.cancel(ids)

    def retry(self, row_ids: Iterable[str]) -> None:
        """FAILED/CANCELLED (and rejected) rows go again: scanned again when never valid."""
        book = self._book
        rescan: list[str] = []
        with book.lock:
            retryable = {UploadState.FAILED, UploadState.CANCELLED, UploadState.SKIPPED}
            for row in book.pick(row_ids, retryable):
                if row.state is UploadState.FAILED and row.remote_id and row.target.kind == (
                        "dataset"):
                    # processing failed on the server: upload again and replace that record
                    book.mark_replacement(row.id, row.remote_id)
                if row.content_type and row.sha256:
                    book.set(row, state=UploadState.PAUSED if book.paused
                             else UploadState.WAITING, reason="", bytes_sent=0,
                             speed_bps=0.0, remote_id="", save=True, ticket=None)
                else:
                    book.set(row, state=UploadState.SCANNING, reason="", save=True,
                             ticket=None)
                    rescan.append(row.id)
            if rescan:
                self._scanner.begin()
        self._sync_soon()
        if rescan:
            self._walker.submit(self._scanner.rescan, rescan)

    def reupload(self, dataset_id: str, audio_id: str, path: Path, name: str = "") -> str:
        """Upload ``path`` to replace the (failed) audio file ``audio_id``; return the row id."""
        target = UploadTarget("dataset", dataset_id, name)
        return self.add_files([Path(path)], target, replaces=audio_id)[0]

    def clear_finished(self) -> list[str]:
        """Forget READY, SKIPPED and CANCELLED rows; return their ids."""
        done = {UploadState.READY, UploadState.SKIPPED, UploadState.CANCELLED}
        with self._book.lock:
            gone = [r.id for r in self._book.rows() if r.state in done]
            for row_id in gone:
                self._book.forget(row_id)
            self._book.note_removed(gone)
        if self._store is not None and gone:
            self._saver.submit(self._store.delete, gone)
        return gone

    def forget(self, row_ids: Iterable[str]) -> None:
        """Drop rows that are not running (the CLI clears what it finished)."""
        with self._book.lock:
            gone = [i for i in row_ids if i in self._book and not self._lanes.is_running(i)]
            for row_id in gone:
                self._book.forget(row_id)
            self._book.note_removed(gone)
        if self._store is not None and gone:
            self._saver.submit(self._store.delete, gone)

    def mark_processed(self, row_id: str, ready: bool, reason: str = "") -> None:
        """Processing on the server ended (the desktop's JobMonitor or the CLI tells)."""
        with self._book.lock:
            row = self._book.get(row_id)
            if row is None or row.state is not UploadState.PROCESSING:
                return
            self._book.set(row, state=UploadState.READY if ready else UploadState.FAILED,
                           reason="" if ready else (reason or "Processing failed on the server."),
                           save=True)
        self._sync_soon()

    def set_lanes(self, n: int) -> None:
        """Run ``n`` (1..8) lanes; extra lanes stop after their current file."""
        with self._book.lock:
            self._lanes.set_target(n)

    # -- start, restore, close -----------------------------------------------------------------

    def start(self, restore: bool = False) -> None:
        """Start the lanes; with ``restore`` the stored queue is loaded first, off the
        caller's thread (its rows then arrive through :meth:`take_changes`)."""
        if restore:
            self._walker.submit(self._restore_and_start)
            return
        with self._book.lock:
            self._lanes.start()

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
        book = self._book
        rescan: list[str] = []
        with book.lock:
            rows: list[UploadRow] = []
            for row, ticket in loaded:
                if row.id in book:
                    continue
                if row.state in _RESUMABLE:
                    row = row.with_(state=UploadState.PAUSED if book.paused
                                    else UploadState.WAITING, bytes_sent=0, speed_bps=0.0)
                elif row.state is UploadState.SCANNING:
                    rescan.append(row.id)
                if ticket is not None:
                    book.put_ticket(row.id, ticket)
                if row.sha256 and row.state not in (UploadState.CANCELLED, UploadState.SKIPPED):
                    self._scanner.remember(row)
                rows.append(row)
                book.add([row])
            if rescan:
                self._scanner.begin()
            book.wake.notify_all()
        if rescan:
            self._walker.submit(self._scanner.rescan, rescan)
        return rows

    def close(self, timeout: float = 5.0) -> bool:
        """Stop: running uploads are interrupted and kept for the next start. True if all
        lanes stopped within ``timeout``."""
        with self._book.lock:
            if self._closed:
                return True
            self._closed = True
            self._stop.set()
            self._lanes.interrupt_all(UploadState.WAITING)
            self._book.wake.notify_all()
            lanes = self._lanes.threads()
        deadline = time.monotonic() + timeout
        for thread in lanes:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._walker.shutdown(wait=False, cancel_futures=True)
        self._prober.shutdown(wait=False, cancel_futures=True)
        self._helper.shutdown(wait=False, cancel_futures=True)
        self._saver.shutdown(wait=True)
        with contextlib.suppress(Exception):
            self._book.sync()
        stopped = not any(t.is_alive() for t in lanes)
        if self._store is not None and stopped:
            self._store.close()
        return stopped

    def _sync_soon(self) -> None:
        """Save on the saver thread (public methods are called from a GUI thread)."""
        if self._store is not None and not self._closed:
            self._saver.submit(self._book.sync)
