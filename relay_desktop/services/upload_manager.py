"""UploadManager: the connected window's upload queue, as Qt signals on the GUI thread.

A thin owner of the Qt-free :class:`UploadEngine` (scan pool, upload lanes,
persisted queue). A 100 ms GUI timer collects the engine's changes and emits
them batched; confirmed files are followed through the :class:`JobMonitor`
until processing ends, and remembered in the audio cache so they open without
downloading.

Lanes do the whole three-step upload on their own ``RelayClient`` (its own HTTP
session) rather than sending upload-url and confirm through the ApiWorker: a
drop of hundreds of files then never queues the user's own API calls behind
its own, and a slow storage POST never holds a call that is needed to start
the next file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from relay_desktop.api.batch_upload.engine import UploadEngine
from relay_desktop.core.audio.cache import AudioCache
from relay_desktop.core.uploads.state import UploadRow, UploadState, UploadTarget, UploadTotals
from relay_desktop.core.uploads.store import QueueStore, queue_path
from relay_desktop.services.context import AppContext
from relay_desktop.services.job_monitor import JobMonitor

log = logging.getLogger(__name__)

LANES_KEY = "uploads/lanes"
DEFAULT_LANES = 3
PUMP_MS = 100
_MONITOR_KIND = {"dataset": "audio", "inference_job": "inference_file"}


class UploadManager(QObject):
    """The upload queue of one connection.

    Signals:
        rows_added(object): list[UploadRow] newly in the queue.
        rows_changed(object): list[UploadRow] at their latest state (batched, <= 10/s).
        rows_removed(object): list[str] row ids no longer in the queue.
        totals_changed(object): UploadTotals.
        scan_progress(int, int, bool): files found, files probed, scanning done.
        file_processed(str, str, str): target kind, target id, remote id: ready or failed.
        dataset_changed(str): a dataset whose audio list and file count should refresh.
    """

    rows_added = Signal(object)
    rows_changed = Signal(object)
    rows_removed = Signal(object)
    totals_changed = Signal(object)
    scan_progress = Signal(int, int, bool)
    file_processed = Signal(str, str, str)
    dataset_changed = Signal(str)

    def __init__(self, context: AppContext, store_path: Path | None = None,
                 parent: QObject | None = None, *, monitor: JobMonitor | None = None) -> None:
        super().__init__(parent)
        self._context = context
        path = store_path or queue_path(context.paths, context.connection.id,
                                        context.connection.base_url)
        self._cache = AudioCache(context.paths.audio_cache)
        lanes = context.settings.get(LANES_KEY, DEFAULT_LANES)
        self._engine = UploadEngine(context.worker.new_client, QueueStore(path),
                                    lanes=lanes if isinstance(lanes, int) else DEFAULT_LANES,
                                    on_confirmed=self._remember_local)
        self._monitor = monitor or JobMonitor(context.worker, parent=self)
        self._monitor.finished.connect(self._on_processed)
        self._watched: dict[tuple[str, str], str] = {}   # (scope, remote id) -> row id
        self._last_totals: UploadTotals | None = None
        self._closed = False
        self._timer = QTimer(self)
        self._timer.setInterval(PUMP_MS)
        self._timer.timeout.connect(self._pump)
        self._timer.start()
        self._engine.start(restore=True)

    # -- queries ---------------------------------------------------------------------------

    @property
    def engine(self) -> UploadEngine:
        return self._engine

    @property
    def monitor(self) -> JobMonitor:
        return self._monitor

    def rows(self) -> list[UploadRow]:
        return self._engine.rows()

    def totals(self) -> UploadTotals:
        return self._engine.totals()

    def is_paused(self) -> bool:
        return self._engine.is_paused()

    # -- actions (all return at once) ----------------------------------------------------------

    def add_paths(self, paths: Sequence[Path], target: UploadTarget) -> None:
        """Scan files and folders (recursively) on the pool and queue them for ``target``."""
        self._engine.add_paths([Path(p) for p in paths], target)

    def pause_all(self) -> None:
        self._engine.pause()

    def resume_all(self) -> None:
        self._engine.resume()

    def cancel(self, row_ids: Iterable[str]) -> None:
        self._engine.cancel(list(row_ids))

    def cancel_all(self) -> None:
        self._engine.cancel_all()

    def retry(self, row_ids: Iterable[str]) -> None:
        self._engine.retry(list(row_ids))

    def resolve_duplicates(self, row_ids: Iterable[str], upload_anyway: bool) -> None:
        self._engine.resolve_duplicates(list(row_ids), upload_anyway)

    def reupload(self, dataset_id: str, audio_id: str, path: Path) -> None:
        """Upload ``path`` again for the failed file ``audio_id``; the failed record is
        deleted once the new one is confirmed."""
        self._engine.reupload(dataset_id, audio_id, Path(path))

    def clear_finished(self) -> None:
        self._engine.clear_finished()

    def set_lanes(self, n: int) -> None:
        """Run ``n`` (1..8) parallel lanes from now on."""
        self._engine.set_lanes(n)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop the timers and the lanes; files in flight resume on the next start."""
        if self._closed:
            return True
        self._closed = True
        self._timer.stop()
        self._monitor.stop()
        return self._engine.close(timeout_ms / 1000)

    # -- plumbing ------------------------------------------------------------------------------

    def _remember_local(self, row: UploadRow) -> None:
        """Lane thread: the confirmed file opens from disk, never downloaded back."""
        if row.target.kind == "dataset":
            try:
                self._cache.remember_local(row.target.id, row.remote_id, row.path)
            except OSError as exc:
                log.warning("Could not record the local copy of %s: %s", row.path, exc)

    def _pump(self) -> None:
        changes = self._engine.take_changes()
        if not changes and self._last_totals is not None and (
                self._last_totals.paused == self._engine.is_paused()):
            return
        if changes.added:
            self.rows_added.emit(changes.added)
        if changes.changed:
            self.rows_changed.emit(changes.changed)
        if changes.removed:
            self.rows_removed.emit(changes.removed)
        if changes.scan is not None:
            scan = changes.scan
            self.scan_progress.emit(scan.found, scan.probed, scan.done)
        touched: set[str] = set()
        for row in [*changes.added, *changes.confirmed]:
            if row.state is UploadState.PROCESSING and row.remote_id:
                self._follow(row)
                if row.target.kind == "dataset":
                    touched.add(row.target.id)
        for dataset_id in sorted(touched):
            self.dataset_changed.emit(dataset_id)
        totals = self._engine.totals()
        if totals != self._last_totals:
            self._last_totals = totals
            self.totals_changed.emit(totals)

    def _follow(self, row: UploadRow) -> None:
        key = (row.target.id, row.remote_id)
        if key in self._watched:
            return
        self._watched[key] = row.id
        self._monitor.watch(_MONITOR_KIND[row.target.kind], row.target.id, row.remote_id)

    def _on_processed(self, kind: str, scope: str, item_id: str, payload: Any) -> None:
        row_id = self._watched.pop((scope, item_id), None)
        if row_id is None:
            return
        if payload is None:
            ready, reason = False, "The file was deleted on the server."
        elif kind == "audio":
            ready = payload.processing_status == "ready"
            reason = payload.error_message or ""
        else:
            ready = payload.status == "completed"
            reason = payload.error_message or ""
        self._engine.mark_processed(row_id, ready, reason)
        target_kind = "dataset" if kind == "audio" else "inference_job"
        self.file_processed.emit(target_kind, scope, item_id)
        if target_kind == "dataset":
            self.dataset_changed.emit(scope)
