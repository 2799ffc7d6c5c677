"""JournalWriter: the one thread that writes annotation edits to the journal, in order.

Each edit handed over gets a ticket (a number that grows with every edit). The
``relay-journal`` thread group-commits whatever is waiting (one fsync for a
burst) and reports every ticket as written or refused. When the journal
refuses a commit (disk full, read-only, I/O error: a :class:`JournalError`),
the sets in it are *held*: edits of those sets queued behind the refused ones
were made on top of them, so they are refused too without being tried, until
the GUI thread has rolled the refused edits back and calls :meth:`resume`
with the refusal's token. So nothing refused ever reaches the journal later,
not even folded into a later edit of the same region.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from relay_desktop.core.annotations.document import Region
from relay_desktop.core.journal import Journal, JournalError

log = logging.getLogger(__name__)

Changes = list[tuple[str, Region | None]]


@dataclass(frozen=True)
class Refusal:
    """Why edits of a set were not saved.

    ``token`` is set on the refusal that held the set (pass it to
    :meth:`JournalWriter.resume` once rolled back); it is None for edits refused
    only because they were queued behind held ones.
    """

    error: JournalError
    token: int | None


@dataclass(frozen=True)
class _Edit:
    ticket: int
    set_id: str
    changes: Changes


@dataclass(frozen=True)
class _Resume:
    set_id: str
    token: int


class JournalWriter(QObject):
    """Writes edits to ``journal`` on the ``relay-journal`` thread.

    Signals:
        written(str, object, object): edits of a set are durably saved or refused
            (set id, their tickets as a list, the set's pending count or a :class:`Refusal`).
    """

    written = Signal(str, object, object)
    _STOP = object()

    def __init__(self, journal: Journal, name: str = "relay-journal",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.journal = journal
        self._tickets = itertools.count(1)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._held: dict[str, Refusal] = {}  # only touched by the writer thread
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._stopped = False
        self._thread.start()

    def submit(self, set_id: str, changes: Changes) -> int:
        """Queue edits of ``set_id``; returns their ticket (``written`` follows)."""
        ticket = next(self._tickets)
        self._queue.put(_Edit(ticket, set_id, changes))
        return ticket

    def resume(self, set_id: str, token: int) -> None:
        """The refusal ``token`` of ``set_id`` is rolled back: accept its edits again."""
        self._queue.put(_Resume(set_id, token))

    def close(self, wait: bool = True) -> None:
        """Write what was handed over, then stop the thread (``wait``: until it has)."""
        if not self._stopped:
            self._stopped = True
            self._queue.put(self._STOP)
        if wait:
            self._thread.join()

    # -- the writer thread ---------------------------------------------------------
    def _loop(self) -> None:
        while True:
            items = [self._queue.get()]
            while items[-1] is not self._STOP:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write([i for i in items if i is not self._STOP])
            if items[-1] is self._STOP:
                return

    def _write(self, items: list[Any]) -> None:
        batch: list[_Edit] = []
        refused: dict[str, tuple[list[int], Refusal]] = {}
        for item in items:
            if isinstance(item, _Resume):
                held = self._held.get(item.set_id)
                if held is not None and held.token == item.token:
                    del self._held[item.set_id]
            elif item.set_id in self._held:
                behind = Refusal(self._held[item.set_id].error, None)
                refused.setdefault(item.set_id, ([], behind))[0].append(item.ticket)
            else:
                batch.append(item)
        self._report(refused)
        if not batch:
            return
        tickets: dict[str, list[int]] = {}
        for edit in batch:
            tickets.setdefault(edit.set_id, []).append(edit.ticket)
        try:
            pending = self.journal.record_batch([(e.set_id, e.changes) for e in batch])
        except Exception as exc:
            if isinstance(exc, JournalError):
                error = exc
                log.error("%s (%d edit(s) refused)", exc, len(batch))
            else:  # a bug, not the disk: refuse rather than pretend
                log.exception("Journal write failed")
                error = JournalError(f"Not saved: the journal write failed ({exc}).",
                                     path=self.journal.path)
            self._report({s: (ids, self._hold(s, error, ids[0])) for s, ids in tickets.items()})
            return
        for set_id, ids in tickets.items():
            self.written.emit(set_id, ids, pending[set_id])

    def _hold(self, set_id: str, error: JournalError, token: int) -> Refusal:
        self._held[set_id] = refusal = Refusal(error, token)
        return refusal

    def _report(self, refused: dict[str, tuple[list[int], Refusal]]) -> None:
        for set_id, (ids, refusal) in refused.items():
            self.written.emit(set_id, ids, refusal)
