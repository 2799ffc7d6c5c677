"""Scanning: list dropped files, probe and hash them on a pool, and spot duplicates.

A valid file goes to WAITING, a rejected one to SKIPPED with its reason, and a
file whose content is already in the dataset (or earlier in the queue) to
DUPLICATE, SKIPPED or WAITING as the duplicate policy says.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from relay_desktop.api.batch_upload.book import RowBook, ScanProgress
from relay_desktop.api.batch_upload.probe import check_file
from relay_desktop.api.batch_upload.rows import UploadRow, UploadState, UploadTarget, new_row_id
from relay_desktop.api.batch_upload.transfer import ClientFactory

log = logging.getLogger(__name__)

DuplicatePolicy = Literal["ask", "skip", "upload"]
PROBE_BATCH = 16   # files probed per pool task (fewer hand-offs between threads)


@dataclass(frozen=True)
class ServerIndex:
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


def new_row(path: Path, target: UploadTarget) -> UploadRow:
    """A SCANNING row for ``path`` (size 0 when it cannot be read)."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    return UploadRow(id=new_row_id(), path=path, target=target, size=size,
                     state=UploadState.SCANNING)


def server_index(factory: ClientFactory, dataset_id: str) -> ServerIndex | None:
    """The dataset's files by content hash (and by name+size where the server has none)."""
    try:
        client = factory()
        try:
            by_hash: dict[str, str] = {}
            unhashed: dict[tuple[str, int], str] = {}
            for audio in client.audio.iter_items(dataset_id):
                if audio.content_sha256:
                    by_hash.setdefault(audio.content_sha256.lower(), audio.filename)
                else:
                    unhashed.setdefault((audio.filename, audio.file_size or 0),
                                        audio.filename)
            return ServerIndex(by_hash, unhashed)
        finally:
            client.close()
    except Exception as exc:
        log.warning("Could not list dataset %s for the duplicate check: %s", dataset_id, exc)
        return None


class Scanner:
    """Probes SCANNING rows and counts the scans running (counters guarded by the book's lock).

    :meth:`scan` and :meth:`rescan` run on the engine's walker thread; the probes
    run on ``prober`` and the dataset listing on ``helper``.
    """

    def __init__(self, book: RowBook, factory: ClientFactory, stop: threading.Event, *,
                 prober: ThreadPoolExecutor, helper: ThreadPoolExecutor,
                 max_file_bytes: int, duplicates: DuplicatePolicy) -> None:
        self._book = book
        self._factory = factory
        self._stop = stop
        self._prober = prober
        self._helper = helper
        self._max_bytes = max_file_bytes
        self._duplicates = duplicates
        self._found = 0
        self._probed = 0
        self._running = 0
        self._queued_hashes: dict[tuple[str, str, str], str] = {}

    @property
    def running(self) -> int:
        """How many scans are running."""
        return self._running

    def begin(self) -> None:
        """Count one more scan running (lock held); a new round of scanning counts from 0."""
        if self._running == 0:
            self._found = self._probed = 0
        self._running += 1

    def progress(self) -> ScanProgress:
        return ScanProgress(self._found, self._probed, self._running == 0)

    def add_rows(self, rows: list[UploadRow]) -> None:
        """Add SCANNING rows to the book and count them as found (lock held)."""
        self._book.add(rows)
        self._found += len(rows)
        self._book.note_scan(self.progress())

    def remember(self, row: UploadRow) -> None:
        """Register a restored row as its content's first copy in the queue (lock held)."""
        self._queued_hashes.setdefault((row.target.kind, row.target.id, row.sha256), row.id)

    def scan(self, paths: list[Path], target: UploadTarget,
             ready: list[UploadRow] | None) -> None:
        """Walker thread: list files, add SCANNING rows in batches, hand each to the probers."""
        try:
            index: Future[ServerIndex | None] | None = None
            if target.kind == "dataset":
                index = self._helper.submit(server_index, self._factory, target.id)
            futures: list[Future[None]] = []
            if ready is not None:
                futures = self._enqueue_probes(ready, index, add=False)
            else:
                batch: list[UploadRow] = []
                for path in iter_files(paths):
                    if self._stop.is_set():
                        break
                    batch.append(new_row(path, target))
                    if len(batch) % 50 == 0:
                        time.sleep(0.001)   # let the GUI thread have the interpreter
                    if len(batch) >= 200:
                        futures += self._enqueue_probes(batch, index)
                        batch = []
                futures += self._enqueue_probes(batch, index)
            for fut in futures:
                with contextlib.suppress(Exception):
                    fut.result()
            self._book.sync()
        except Exception:
            log.exception("Scanning %s failed", paths)
        finally:
            self._end()

    def rescan(self, row_ids: list[str]) -> None:
        """Walker thread: probe these rows again, one at a time."""
        try:
            for row_id in row_ids:
                with self._book.lock:
                    row = self._book.get(row_id)
                index = None
                if row is not None and row.target.kind == "dataset":
                    index = self._helper.submit(server_index, self._factory, row.target.id)
                self._probe_rows([row_id], index)
            self._book.sync()
        finally:
            self._end()

    def _end(self) -> None:
        with self._book.lock:
            self._running -= 1
            self._book.note_scan(self.progress())

    def _enqueue_probes(self, batch: list[UploadRow],
                        index: Future[ServerIndex | None] | None,
                        add: bool = True) -> list[Future[None]]:
        if not batch:
            return []
        if add:
            with self._book.lock:
                self.add_rows(batch)
        ids = [r.id for r in batch]
        return [self._prober.submit(self._probe_rows, ids[i:i + PROBE_BATCH], index)
                for i in range(0, len(ids), PROBE_BATCH)]

    def _probe_rows(self, row_ids: list[str],
                    index: Future[ServerIndex | None] | None) -> None:
        """Probe thread: validate and hash a batch; SCANNING -> WAITING/DUPLICATE/SKIPPED."""
        with self._book.lock:
            rows = [self._book.get(i) for i in row_ids]
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
        with self._book.lock:
            self._probed += 1
            self._book.note_scan(self.progress())

    def _finish_probe(self, row_id: str, state: UploadState, *, reason: str = "",
                      size: int | None = None, content_type: str = "", sha256: str = "",
                      server: ServerIndex | None = None) -> None:
        with self._book.lock:
            self._probed += 1
            self._book.note_scan(self.progress())
            row = self._book.get(row_id)
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
            self._book.set(row, state=state, save=True, **changes)

    def _duplicate_of(self, row: UploadRow,
                      server: ServerIndex | None) -> tuple[UploadState, str, str]:
        """(state, reason, duplicate_of) for a valid row; registers it as the queue's first copy."""
        if self._book.is_replacement(row.id):
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
        first = self._book.get(self._queued_hashes.get(key, ""))
        if not found and first is not None and first.id != row.id and first.state not in (
                UploadState.CANCELLED, UploadState.SKIPPED):
            if (first.state is UploadState.WAITING
                    and self._book.order(first.id) > self._book.order(row.id)):
                # probed out of order: the copy earlier in the queue is the one to upload
                state, reason, dup_of = self._dup_state(
                    f"Same content as {row.path.name}, queued twice.", row.id)
                self._book.set(first, state=state, reason=reason, duplicate_of=dup_of,
                               save=True)
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
