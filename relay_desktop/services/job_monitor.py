"""JobMonitor: follows things the server finishes in its own time, until they are terminal.

Audio files being processed today; training and inference jobs (a Jobs dock)
later: each kind registers a *poller* that reads the latest state of a batch
of ids in one scope (one dataset, one job) on the API thread. One GUI-thread
QTimer drives every group; a group is polled with backoff 1 -> 2 -> 5 -> 10 s
(back to 1 s when something in it finishes or is added), at most one request
per group in flight, at POLL priority so user actions go first.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from relay_desktop.api import CancelToken, RelayClient
from relay_desktop.api.errors import NotFound
from relay_desktop.services.api_worker import ApiWorker, Priority, RequestHandle

log = logging.getLogger(__name__)

#: poller(client, cancel, scope, ids) -> {id: (terminal, latest object or None if gone)}
Poller = Callable[[RelayClient, CancelToken, str, Sequence[str]], dict[str, tuple[bool, Any]]]
SCHEDULE_S = (1.0, 2.0, 5.0, 10.0)
TICK_MS = 100
BATCH = 500  # ids read per poll of one group (the rest next time, round-robin)
FEW = 3      # up to this many audio files are read one by one; more, through the list
IN_PROGRESS = ("pending", "normalizing", "embedding")   # in pipeline order


def poll_audio(client: RelayClient, cancel: CancelToken, dataset_id: str,
               ids: Sequence[str]) -> dict[str, tuple[bool, Any]]:
    """Processing state of audio files: terminal at ready/failed, or when deleted.

    Many files are read with a few list calls (the dataset's files still in progress);
    only those no longer listed are fetched one by one, for their final state.
    """
    out: dict[str, tuple[bool, Any]] = {}
    wanted = set(ids)
    if len(ids) > FEW:
        for status in IN_PROGRESS:
            for audio in client.audio.iter_items(dataset_id, processing_status=status,
                                                 cancel=cancel):
                if audio.id in wanted:
                    out[audio.id] = (False, audio)
    for audio_id in ids:
        if audio_id in out:
            continue
        try:
            audio = client.audio.get(dataset_id, audio_id, cancel=cancel)
        except NotFound:
            out[audio_id] = (True, None)
            continue
        out[audio_id] = (audio.processing_status in ("ready", "failed"), audio)
    return out


def poll_inference_files(client: RelayClient, cancel: CancelToken, job_id: str,
                         ids: Sequence[str]) -> dict[str, tuple[bool, Any]]:
    """State of inference files of one job: terminal at completed/failed/cancelled."""
    out: dict[str, tuple[bool, Any]] = {}
    for file_id in ids:
        try:
            item = client.inference_jobs.get_file(job_id, file_id, cancel=cancel)
        except NotFound:
            out[file_id] = (True, None)
            continue
        out[file_id] = (item.status in ("completed", "failed", "cancelled"), item)
    return out


@dataclass
class _Group:
    ids: dict[str, None] = field(default_factory=dict)   # ordered set
    step: int = 0
    due: float = 0.0
    handle: RequestHandle | None = None
    turn: int = 0


class JobMonitor(QObject):
    """Polls watched items, grouped by (kind, scope), with backoff, through the ApiWorker.

    Signals:
        updated(str, str, str, object): kind, scope, item id, its latest state (not terminal).
        finished(str, str, str, object): kind, scope, item id, its final state (None: gone).
    """

    updated = Signal(str, str, str, object)
    finished = Signal(str, str, str, object)

    def __init__(self, worker: ApiWorker, schedule: Sequence[float] = SCHEDULE_S,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker = worker
        self._schedule = tuple(schedule)
        self._pollers: dict[str, Poller] = {"audio": poll_audio,
                                            "inference_file": poll_inference_files}
        self._groups: dict[tuple[str, str], _Group] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._stopped = False

    def register(self, kind: str, poller: Poller) -> None:
        """Teach the monitor a new kind of thing to follow."""
        self._pollers[kind] = poller

    def watch(self, kind: str, scope: str, item_id: str) -> None:
        """Follow ``item_id`` until it is terminal; the group's backoff starts over."""
        if kind not in self._pollers:
            raise ValueError(f"no poller registered for {kind!r}")
        if self._stopped:
            return
        group = self._groups.setdefault((kind, scope), _Group())
        group.ids[item_id] = None
        group.step = 0
        group.due = min(group.due or float("inf"), time.monotonic() + self._schedule[0])
        if not self._timer.isActive():
            self._timer.start()

    def unwatch(self, kind: str, scope: str, item_id: str) -> None:
        group = self._groups.get((kind, scope))
        if group is not None:
            group.ids.pop(item_id, None)

    def watching(self, kind: str | None = None) -> int:
        """How many items are followed (of ``kind``, or of every kind)."""
        return sum(len(g.ids) for (k, _), g in self._groups.items() if kind in (None, k))

    def stop(self) -> None:
        """Stop polling and cancel requests in flight."""
        self._stopped = True
        self._timer.stop()
        for group in self._groups.values():
            if group.handle is not None:
                group.handle.cancel()
        self._groups.clear()

    def _tick(self) -> None:
        now = time.monotonic()
        for key, group in list(self._groups.items()):
            if not group.ids and group.handle is None:
                del self._groups[key]
            elif group.handle is None and now >= group.due:
                self._poll(key, group)
        if not self._groups:
            self._timer.stop()

    def _poll(self, key: tuple[str, str], group: _Group) -> None:
        kind, scope = key
        ids = list(group.ids)
        start = group.turn % len(ids)
        batch = (ids[start:] + ids[:start])[:BATCH]
        group.turn = start + len(batch)
        poller = self._pollers[kind]
        handle = self._worker.submit(
            lambda client, cancel, _progress: poller(client, cancel, scope, batch),
            priority=Priority.POLL, description=f"Checking {len(batch)} {kind} item(s)")
        group.handle = handle
        handle.succeeded.connect(lambda result: self._on_result(key, group, result))
        handle.failed.connect(lambda exc: self._on_failed(key, group, exc))
        handle.finished.connect(lambda: self._on_finished(group))

    def _on_result(self, key: tuple[str, str], group: _Group,
                   result: dict[str, tuple[bool, Any]]) -> None:
        kind, scope = key
        progressed = False
        for item_id, (terminal, payload) in result.items():
            if item_id not in group.ids:
                continue
            if terminal:
                group.ids.pop(item_id, None)
                progressed = True
                self.finished.emit(kind, scope, item_id, payload)
            else:
                self.updated.emit(kind, scope, item_id, payload)
        group.step = 0 if progressed else min(group.step + 1, len(self._schedule) - 1)

    def _on_failed(self, key: tuple[str, str], group: _Group, exc: object) -> None:
        log.info("Polling %s %s failed: %s", key[0], key[1], exc)
        group.step = min(group.step + 1, len(self._schedule) - 1)

    def _on_finished(self, group: _Group) -> None:
        group.handle = None
        group.due = time.monotonic() + self._schedule[group.step]
        if not self._stopped and group.ids and not self._timer.isActive():
            self._timer.start()
