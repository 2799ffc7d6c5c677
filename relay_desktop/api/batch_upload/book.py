"""The upload queue's shared state: rows, drop order, tickets and the change log, under one lock.

The engine and its collaborators (scanner, lanes, transfer, offline watch) all
read and change rows through one :class:`RowBook`. Its methods expect
:attr:`RowBook.lock` to be held, except :meth:`RowBook.sync`, which must be
called without it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from relay_desktop.api.batch_upload.rows import (
    TotalsCounter,
    UploadRow,
    UploadState,
    UploadTotals,
)
from relay_desktop.api.batch_upload.store import QueueStore, StoredTicket

log = logging.getLogger(__name__)

_KEEP = object()  # "leave the stored ticket as it is"


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


class RowBook:
    """Every row of the queue, the heap of WAITING rows, stored tickets and unsaved changes.

    ``lock`` guards all of it; ``wake`` (on that lock) is notified when a row starts
    waiting. ``paused`` turns every row that would wait into PAUSED.
    """

    def __init__(self, store: QueueStore | None) -> None:
        self.store = store
        self.lock = threading.RLock()
        self.wake = threading.Condition(self.lock)
        self.paused = False
        self._rows: dict[str, UploadRow] = {}
        self._totals = TotalsCounter()
        self._tickets: dict[str, StoredTicket] = {}
        self._replaces: dict[str, str] = {}   # row id -> failed audio id it re-uploads
        self._queue: list[tuple[int, str]] = []   # heap of WAITING rows in drop order
        self._unsaved: dict[str, UploadRow] = {}
        self._unsaved_tickets: dict[str, StoredTicket | None] = {}
        self._save_lock = threading.Lock()
        self._order: dict[str, int] = {}   # row id -> position in the queue
        self._counter = itertools.count()
        self._changes = Changes()
        self._changed_ids: set[str] = set()

    # -- rows ----------------------------------------------------------------------------------

    def __contains__(self, row_id: object) -> bool:
        return row_id in self._rows

    def __getitem__(self, row_id: str) -> UploadRow:
        return self._rows[row_id]

    def get(self, row_id: str) -> UploadRow | None:
        return self._rows.get(row_id)

    def current(self, row: UploadRow) -> UploadRow:
        """The latest version of ``row``, or ``row`` itself when it is gone."""
        return self._rows.get(row.id, row)

    def rows(self) -> list[UploadRow]:
        return list(self._rows.values())

    def pick(self, row_ids: Iterable[str], states: set[UploadState]) -> list[UploadRow]:
        return [r for r in (self._rows.get(i) for i in row_ids)
                if r is not None and r.state in states]

    def order(self, row_id: str) -> int:
        """The row's position in drop order."""
        return self._order[row_id]

    def totals(self) -> UploadTotals:
        return self._totals.totals(self.paused)

    def add(self, rows: list[UploadRow]) -> None:
        """Add new rows at the end of the queue (a WAITING one is queued for a lane)."""
        for row in rows:
            self._rows[row.id] = row
            self._totals.add(row, +1)
            self._order[row.id] = next(self._counter)
            if row.state is UploadState.WAITING:
                heapq.heappush(self._queue, (self._order[row.id], row.id))
        self._changes.added.extend(rows)

    def set(self, row: UploadRow, *, save: bool = False, ticket: object = _KEEP,
            **changes: object) -> UploadRow:
        """Replace a row and note the change; ``save`` marks it for :meth:`sync`."""
        new = row.with_(**changes) if changes else row
        if new.state is UploadState.WAITING and self.paused:
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
            self.wake.notify()
        if save and self.store is not None:
            self._unsaved[row.id] = new
            if ticket is not _KEEP:
                self._unsaved_tickets[row.id] = (ticket if isinstance(ticket, StoredTicket)
                                                 else None)
        return new

    def next_waiting(self) -> UploadRow | None:
        """Take the earliest WAITING row off the queue (None when none waits)."""
        while self._queue:
            row = self._rows.get(heapq.heappop(self._queue)[1])
            if row is not None and row.state is UploadState.WAITING:
                return row
        return None

    def forget(self, row_id: str) -> None:
        """Drop a row and everything kept for it (the caller notes the removal)."""
        row = self._rows.pop(row_id, None)
        if row is not None:
            self._totals.add(row, -1)
        self._order.pop(row_id, None)
        self._tickets.pop(row_id, None)
        self._unsaved.pop(row_id, None)
        self._replaces.pop(row_id, None)
        self._changed_ids.discard(row_id)

    # -- tickets and replacements ----------------------------------------------------------

    def ticket(self, row_id: str) -> StoredTicket | None:
        return self._tickets.get(row_id)

    def put_ticket(self, row_id: str, ticket: StoredTicket) -> None:
        self._tickets[row_id] = ticket

    def drop_ticket(self, row_id: str) -> StoredTicket | None:
        return self._tickets.pop(row_id, None)

    def mark_replacement(self, row_id: str, audio_id: str) -> None:
        """The row re-uploads the (failed) audio file ``audio_id``, deleted once confirmed."""
        self._replaces[row_id] = audio_id

    def is_replacement(self, row_id: str) -> bool:
        return row_id in self._replaces

    def pop_replacement(self, row_id: str) -> str:
        return self._replaces.pop(row_id, "")

    # -- change log ------------------------------------------------------------------------

    def note_scan(self, progress: ScanProgress) -> None:
        self._changes.scan = progress

    def note_removed(self, row_ids: list[str]) -> None:
        self._changes.removed.extend(row_ids)

    def note_confirmed(self, row: UploadRow) -> None:
        self._changes.confirmed.append(row)

    def take_changes(self) -> Changes:
        """Rows added/changed/removed since the last call (each row at its latest state)."""
        out = self._changes
        added = {r.id for r in out.added}
        out.added = [self._rows[i] for i in dict.fromkeys(r.id for r in out.added)
                     if i in self._rows]
        out.changed = [self._rows[i] for i in self._changed_ids
                       if i in self._rows and i not in added]
        self._changes = Changes()
        self._changed_ids = set()
        return out

    # -- saving ----------------------------------------------------------------------------

    def sync(self) -> None:
        """Commit the rows marked for saving. Never called with :attr:`lock` held, so no
        one waits on the lock for an fsync; the save lock keeps commits in order."""
        if self.store is None:
            return
        with self._save_lock:
            with self.lock:
                rows = list(self._unsaved.values())
                tickets = dict(self._unsaved_tickets)
                self._unsaved.clear()
                self._unsaved_tickets.clear()
            if not rows:
                return
            try:
                self.store.save(rows, tickets)
            except Exception:
                log.exception("Could not save the upload queue")
