"""SyncService: journals annotation edits off the GUI thread and pushes them to the server.

Edits go to a single ``relay-journal`` thread (:class:`JournalWriter`) that
writes them to the SQLite journal (fsynced) and only then reports them saved;
an edit the journal cannot store (disk full, read-only) is refused, and the
session showing it rolls it back (``refused``). A per-set timer coalesces
rapid edits into one pass of :func:`relay_desktop.core.annotations.push.push_set`
on the API thread. Failures are retried with capped exponential backoff and
jitter; nothing is dropped, and a create whose answer was lost is reconciled
by reading the set back before anything is re-sent. A set published elsewhere
stops syncing with an explanation; its edits stay in the journal until the
user moves them into a new draft (:meth:`SyncService.move_to_new_draft`).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from relay_desktop.api import errors
from relay_desktop.core.annotations.document import Region
from relay_desktop.core.annotations.push import PushResult, SetLocked, push_set
from relay_desktop.core.journal import Journal
from relay_desktop.core.text import plural
from relay_desktop.services.api_worker import ApiWorker, Priority
from relay_desktop.services.journal_writer import JournalWriter, Refusal

log = logging.getLogger(__name__)

COALESCE_MS = 400
BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class SyncState:
    """The visible save state of one set.

    ``kind``: ``saving`` (journal write pending), ``saved`` (on the server),
    ``unsynced`` (journaled, waiting to sync), ``syncing``, ``offline`` (server
    unreachable, will retry), ``error`` (server refused, will retry),
    ``conflict`` (published/deleted elsewhere; edits kept), ``read_only``,
    ``not_saved`` (the journal refused the last edit; ``message`` says why).
    """

    kind: str
    pending: int = 0
    message: str = ""
    retry_in_s: float | None = None
    rejected: dict[str, str] = field(default_factory=dict)

    def label(self) -> str:
        if self.kind == "saving":
            return "Saving…"
        if self.kind == "saved":
            return "Saved"
        if self.kind == "syncing":
            return f"Syncing {self.pending}…" if self.pending else "Syncing…"
        if self.kind == "unsynced":
            return f"{self.pending} unsynced"
        if self.kind == "offline":
            return f"Offline: {self.pending} unsynced"
        if self.kind == "error":
            return f"Sync error: {self.pending} unsynced"
        if self.kind == "conflict":
            return f"Published elsewhere: {plural(self.pending, 'local edit')} kept"
        if self.kind == "read_only":
            return "Read-only (published)"
        if self.kind == "not_saved":
            return "Not saved"
        return self.kind


@dataclass(frozen=True)
class _PassOutcome:
    """A finished pass and the journal's state right after it, read on the API thread."""

    result: PushResult
    pending: int
    rejected: dict[str, str]


@dataclass
class _SetSync:
    set_id: str
    dataset_id: str
    timer: QTimer
    writes_pending: int = 0
    in_flight: bool = False
    again: bool = False
    failures: int = 0
    pending: int = 0
    state: SyncState = field(default_factory=lambda: SyncState("saved"))
    conflict: str | None = None
    refusal: str | None = None
    rejected: dict[str, str] | None = None   # as of the last pass (None: not read yet)
    flush_waiters: list[Callable[[bool, str], None]] = field(default_factory=list)


class SyncService(QObject):
    """Journal writes and background sync of annotation sets.

    Signals:
        state_changed(str, object): a set's :class:`SyncState` changed (set id, state).
        journaled(str, int): edits of a set are durably saved, one or more per commit
            (set id, pending count).
        pushed(str, object): a sync pass finished (set id, :class:`PushResult`).
        conflict(str, str): a set refuses edits (set id, explanation); edits are kept.
        moved(str, object): local edits of a set moved into a new draft (old id, new AnnotationSet).
        failed(str, str): an operation the user asked for failed (set id, message).
        refused(str, object, str): the journal could not store edits, which must be rolled
            back (set id, their tickets from :meth:`record` as a list, why in words).
    """

    state_changed = Signal(str, object)
    journaled = Signal(str, int)
    pushed = Signal(str, object)
    conflict = Signal(str, str)
    moved = Signal(str, object)
    failed = Signal(str, str)
    refused = Signal(str, object, str)

    def __init__(self, worker: ApiWorker, journal: Journal, *, base_url: str = "",
                 coalesce_ms: int = COALESCE_MS, backoff_s: Iterable[float] = BACKOFF_S,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.journal = journal
        self.base_url = base_url or getattr(worker, "base_url", "")
        self.coalesce_ms = coalesce_ms
        self.backoff_s = tuple(backoff_s)
        self._sets: dict[str, _SetSync] = {}
        self.writer = JournalWriter(journal, parent=self)
        self.writer.written.connect(self._on_written)
        self._closed = False

    # -- set registry ------------------------------------------------------------
    def watch(self, set_id: str, dataset_id: str) -> None:
        """Track a set (idempotent); schedules a pass if the journal has edits for it."""
        if set_id in self._sets:
            entry = self._sets[set_id]
            if not entry.in_flight and not entry.conflict:
                entry.pending = self.journal.pending_count(set_id)
                if entry.pending:
                    self.schedule(set_id, 0)
            return
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.timeout.connect(lambda s=set_id: self._start_pass(s))
        entry = _SetSync(set_id, dataset_id, timer)
        self._sets[set_id] = entry
        self.journal.ensure_set(set_id, dataset_id, self.base_url)
        entry.conflict = self.journal.conflict(set_id)
        entry.pending = self.journal.pending_count(set_id)
        if entry.conflict:
            self._set_state(entry, SyncState("conflict", entry.pending, entry.conflict))
        elif entry.pending:
            self._set_state(entry, SyncState("unsynced", entry.pending))
            self.schedule(set_id, 0)
        else:
            self._set_state(entry, SyncState("saved"))

    def resume_pending(self) -> list[str]:
        """Replay the journal after a restart: watch every set with unsynced edits."""
        started = []
        for pending in self.journal.pending_sets():
            if pending.base_url and self.base_url and pending.base_url != self.base_url:
                continue
            self.watch(pending.set_id, pending.dataset_id)
            started.append(pending.set_id)
        return started

    def writes_pending(self, set_id: str) -> int:
        """Edits handed to the journal thread and not yet on disk."""
        entry = self._sets.get(set_id)
        return entry.writes_pending if entry else 0

    def state(self, set_id: str) -> SyncState:
        entry = self._sets.get(set_id)
        return entry.state if entry else SyncState("saved")

    # -- journaling ----------------------------------------------------------------
    def record(self, set_id: str, changes: list[tuple[str, Region | None]]) -> int:
        """Journal edits on the journal thread; returns their ticket.

        ``journaled`` follows once they are on disk, or ``refused`` (with this ticket)
        if the journal cannot store them.
        """
        entry = self._sets[set_id]
        entry.writes_pending += 1
        self._set_state(entry, SyncState("saving", entry.pending))
        return self.writer.submit(set_id, changes)

    def _on_written(self, set_id: str, tickets: list[int], outcome: object) -> None:
        entry = self._sets.get(set_id)
        if isinstance(outcome, Refusal):
            if entry is not None and not self._closed:
                entry.writes_pending -= len(tickets)
                if outcome.token is not None:
                    entry.refusal = str(outcome.error)
                    self.refused.emit(set_id, tickets, entry.refusal)  # rolled back here
                self._refresh(entry)
            if outcome.token is not None:
                self.writer.resume(set_id, outcome.token)
            return
        if entry is None or self._closed:
            return
        entry.writes_pending -= len(tickets)
        entry.refusal = None
        entry.pending = int(outcome)  # type: ignore[call-overload]
        self.journaled.emit(set_id, entry.pending)
        if entry.writes_pending == 0:
            self._refresh(entry)
        if not entry.conflict:
            self.schedule(set_id)

    # -- sync passes ---------------------------------------------------------------
    def schedule(self, set_id: str, delay_ms: int | None = None) -> None:
        """Start a pass after ``delay_ms`` (default: the coalescing delay).

        A pass already due sooner keeps its time: the window runs from the first
        edit of a batch, so a person editing every few hundred milliseconds sees
        each edit reach the server within one window instead of never (a timer
        restarted on every edit would wait for a pause).
        """
        entry = self._sets.get(set_id)
        if entry is None or entry.conflict or self._closed:
            return
        if entry.in_flight:
            entry.again = True
            return
        delay = self.coalesce_ms if delay_ms is None else delay_ms
        if entry.timer.isActive() and 0 <= entry.timer.remainingTime() <= delay:
            return
        entry.timer.start(delay)

    def flush(self, set_id: str, done: Callable[[bool, str], None] | None = None) -> None:
        """Sync now; ``done(ok, message)`` once nothing is pending (or it failed)."""
        entry = self._sets[set_id]
        if done is not None:
            entry.flush_waiters.append(done)
        if entry.conflict:
            self._finish_waiters(entry, False, entry.conflict)
            return
        if entry.writes_pending == 0 and not entry.in_flight and entry.pending == 0:
            self._finish_waiters(entry, True, "")
            return
        self.schedule(set_id, 0)

    def retry_now(self, set_id: str) -> None:
        entry = self._sets.get(set_id)
        if entry is not None:
            entry.failures = 0
            self.schedule(set_id, 0)

    def _start_pass(self, set_id: str) -> None:
        entry = self._sets.get(set_id)
        if entry is None or entry.in_flight or entry.conflict or self._closed:
            return
        if entry.writes_pending:
            entry.timer.start(50)  # let the journal catch up first
            return
        entry.in_flight = True
        entry.again = False
        self._set_state(entry, SyncState("syncing", entry.pending))
        journal, dataset_id = self.journal, entry.dataset_id

        def job(client: Any, cancel: Any, progress: Any) -> _PassOutcome:
            result = push_set(client, journal, dataset_id, set_id, cancel=cancel)
            # read here, not on the GUI thread (where it would wait for the journal lock)
            return _PassOutcome(result, journal.pending_count(set_id), journal.rejected(set_id))

        handle = self.worker.submit(job, priority=Priority.BACKGROUND,
                                    description="Syncing annotations")
        handle.succeeded.connect(lambda outcome, s=set_id: self._on_pushed(s, outcome))
        handle.failed.connect(lambda exc, s=set_id: self._on_push_failed(s, exc))
        handle.cancelled.connect(lambda s=set_id: self._on_push_cancelled(s))

    def _on_pushed(self, set_id: str, outcome: _PassOutcome) -> None:
        entry = self._sets.get(set_id)
        if entry is None or self._closed:
            return
        entry.in_flight = False
        entry.failures = 0
        entry.pending = outcome.pending
        entry.rejected = rejected = outcome.rejected
        self.pushed.emit(set_id, outcome.result)
        if entry.pending > len(rejected) or entry.again:
            self._refresh(entry)
            self.schedule(set_id, 0 if entry.pending > len(rejected) else None)
            return
        self._refresh(entry)
        self._finish_waiters(entry, not rejected,
                             "" if not rejected else
                             f"{plural(len(rejected), 'region')} refused by the server.")

    def _on_push_failed(self, set_id: str, exc: object) -> None:
        entry = self._sets.get(set_id)
        if entry is None or self._closed:
            return
        entry.in_flight = False
        entry.pending = self.journal.pending_count(set_id)
        if isinstance(exc, SetLocked):
            entry.conflict = str(exc)
            self.journal.set_conflict(set_id, entry.conflict)
            self._set_state(entry, SyncState("conflict", entry.pending, entry.conflict))
            self.conflict.emit(set_id, entry.conflict)
            self._finish_waiters(entry, False, entry.conflict)
            return
        delay = self.backoff_s[min(entry.failures, len(self.backoff_s) - 1)]
        delay *= random.uniform(0.8, 1.2)
        entry.failures += 1
        offline = isinstance(exc, (errors.ApiConnectionError, errors.ApiTimeoutError,
                                   errors.ServerError))
        kind = "offline" if offline else "error"
        wait = f"{delay:.0f} s" if delay >= 1.5 else "a moment"
        why = str(exc).rstrip(".")
        message = (f"Cannot reach the server; retrying in {wait}. Your edits are saved "
                   f"on this computer." if offline else f"Sync failed: {why}. Retrying in "
                   f"{wait}; your edits are saved on this computer.")
        self._set_state(entry, SyncState(kind, entry.pending, message, delay))
        self._finish_waiters(entry, False, message)
        if not isinstance(exc, errors.Unauthorized):
            entry.timer.start(int(delay * 1000))

    def _on_push_cancelled(self, set_id: str) -> None:
        entry = self._sets.get(set_id)
        if entry is not None and not self._closed:
            entry.in_flight = False
            self._refresh(entry)

    def _refresh(self, entry: _SetSync) -> None:
        if entry.conflict:
            self._set_state(entry, SyncState("conflict", entry.pending, entry.conflict))
        elif entry.writes_pending:
            self._set_state(entry, SyncState("saving", entry.pending))
        elif entry.refusal:
            self._set_state(entry, SyncState("not_saved", entry.pending, entry.refusal))
        elif entry.in_flight:
            self._set_state(entry, SyncState("syncing", entry.pending))
        elif entry.pending:
            rejected = self._rejected(entry)
            if rejected and len(rejected) >= entry.pending:
                msg = "; ".join(sorted(set(rejected.values())))
                self._set_state(entry, SyncState("error", entry.pending,
                                                 f"The server refused "
                                                 f"{plural(len(rejected), 'region')}: "
                                                 f"{msg}", rejected=rejected))
            else:
                self._set_state(entry, SyncState("unsynced", entry.pending))
        else:
            self._set_state(entry, SyncState("saved"))

    def _rejected(self, entry: _SetSync) -> dict[str, str]:
        """Regions whose current revision the server refused.

        Only a pass records refusals, and an edit only ever clears one, so none
        found by the last pass means none now: the journal is read (on this thread)
        only when the last pass left some, or before the first pass.
        """
        if entry.rejected is None or entry.rejected:
            entry.rejected = self.journal.rejected(entry.set_id)
        return entry.rejected

    def _set_state(self, entry: _SetSync, state: SyncState) -> None:
        if state != entry.state:
            entry.state = state
            self.state_changed.emit(entry.set_id, state)

    def _finish_waiters(self, entry: _SetSync, ok: bool, message: str) -> None:
        waiters, entry.flush_waiters = entry.flush_waiters, []
        for done in waiters:
            done(ok, message)

    # -- conflicts -----------------------------------------------------------------
    def move_to_new_draft(self, set_id: str) -> None:
        """Create a new draft on the server and move this set's local regions into it."""
        entry = self._sets[set_id]
        dataset_id = entry.dataset_id

        def job(client: Any, cancel: Any, progress: Any) -> Any:
            return client.annotation_sets.create(dataset_id, cancel=cancel)

        handle = self.worker.submit(job, priority=Priority.USER,
                                    description="Creating a new draft")

        def created(new_set: Any) -> None:
            entry.timer.stop()
            self.journal.move_to_set(set_id, new_set.id, dataset_id)
            self._sets.pop(set_id, None)
            self.watch(new_set.id, dataset_id)
            self.moved.emit(set_id, new_set)

        handle.succeeded.connect(created)
        handle.failed.connect(lambda exc: self.failed.emit(
            set_id, f"Could not create a new draft: {exc}"))

    # -- shutdown ------------------------------------------------------------------
    def close(self) -> None:
        """Stop timers and wait for the journal thread to finish its writes."""
        if self._closed:
            return
        self._closed = True
        for entry in self._sets.values():
            entry.timer.stop()
        self.writer.close()
