"""AnnotationSession: one open annotation set, with undo, journal and sync wired together.

Every edit is a :mod:`relay_desktop.core.annotations.commands` command wrapped
in a ``QUndoCommand`` on the session's ``QUndoStack``; applying or undoing it
changes the document at once (the views update) and hands the changed regions
to the :class:`SyncService`, which journals them on its own thread and then
syncs them. An edit the journal refuses (disk full, read-only) is rolled back
out of the document and the undo stack (:mod:`.unsaved_edits`) and
``not_saved`` says why. The session also keeps the shared selection.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from relay_desktop.core.annotations.commands import AddRegions, Batch, Command, DeleteRegions
from relay_desktop.core.annotations.document import (
    AnnotationDocument,
    DocumentChange,
    Region,
)
from relay_desktop.core.annotations.sets import LoadedSet, load_set
from relay_desktop.core.annotations.validation import Problem, validate_region
from relay_desktop.core.prepublish import FileInfo, PrepublishReport, check
from relay_desktop.services.api_worker import Priority, RequestHandle
from relay_desktop.services.sync import SyncService, SyncState
from relay_desktop.services.unsaved_edits import PUSH, REDO, UNDO, UnsavedEdits

log = logging.getLogger(__name__)

_MERGE_IDS: dict[tuple[Any, ...], int] = {}


def _merge_id(key: tuple[Any, ...] | None) -> int:
    if key is None:
        return -1
    return _MERGE_IDS.setdefault(key, 1000 + len(_MERGE_IDS))


class EditCommand(QUndoCommand):
    """A core command on the undo stack."""

    def __init__(self, session: AnnotationSession, command: Command) -> None:
        super().__init__(command.text)
        self._session = weakref.ref(session)  # no cycle through the C++-owned stack
        self.command = command
        self._pushed = False

    def redo(self) -> None:
        session = self._session()
        if session is not None:
            session._apply(self.command, self, REDO if self._pushed else PUSH)
        self._pushed = True

    def undo(self) -> None:
        session = self._session()
        if session is not None:
            session._apply(self.command.inverted(), self, UNDO)

    def id(self) -> int:
        return _merge_id(self.command.merge_key)

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, EditCommand):
            return False
        merged = self.command.merged_with(other.command)
        if merged is None:
            return False
        session = self._session()
        if session is not None:
            session._unsaved.merged(other, self, self.command)
        self.command = merged
        self.setText(merged.text)
        return True


class _FileTask(QRunnable):
    """Runs a file read/parse or write on the thread pool and reports back."""

    def __init__(self, session: AnnotationSession, fn: Callable[[], Any],
                 done: Callable[[Any, BaseException | None], None]) -> None:
        super().__init__()
        self._bridge = session._task_done
        self._fn = fn
        self._done = done

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # delivered to the GUI thread as the error
            self._bridge.emit(self._done, None, exc)
            return
        self._bridge.emit(self._done, result, None)


class AnnotationSession(QObject):
    """One open set: document + undo stack + selection + save state.

    Signals:
        loaded(): the set is open and the document filled.
        load_failed(str): the set could not be opened (a sentence for the user).
        changed(object): the document changed (a ``DocumentChange``).
        selection_changed(object): the selected local ids (a list) changed.
        state_changed(object): the set's ``SyncState`` changed.
        read_only_changed(bool): the set became read-only (published) or editable.
        _task_done(object, object, object): internal (callback, result, error) from the pool.
        rejected_edit(str): an edit was refused before it was applied (why).
        not_saved(str): the journal could not store an edit, so it was rolled back (why).
        published(object): the set was published (the new AnnotationSet).
        publish_failed(str): publishing failed (why).
        moved(object): the local edits now live in a new draft (the new AnnotationSet).
    """

    loaded = Signal()
    load_failed = Signal(str)
    changed = Signal(object)
    selection_changed = Signal(object)
    state_changed = Signal(object)
    read_only_changed = Signal(bool)
    rejected_edit = Signal(str)
    not_saved = Signal(str)
    published = Signal(object)
    publish_failed = Signal(str)
    moved = Signal(object)
    _task_done = Signal(object, object, object)

    def __init__(self, sync: SyncService, dataset_id: str, set_id: str, *,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sync = sync
        self.dataset_id = dataset_id
        self.set_id = set_id
        self.version = 0
        self.status = "draft"
        self.files: list[FileInfo] = []
        self.document = AnnotationDocument(dataset_id, set_id)
        self.document.subscribe(self._on_document_changed)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(0)  # unlimited
        self._selection: list[str] = []
        self._handle: RequestHandle | None = None
        self._unsaved = UnsavedEdits()
        self._rolling_back = False
        sync.state_changed.connect(self._on_sync_state)
        sync.moved.connect(self._on_moved)
        sync.refused.connect(self._on_refused)
        sync.writer.written.connect(self._on_written)
        self._task_done.connect(self._on_task_done)
        self.pool = QThreadPool.globalInstance()

    # -- opening -------------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        return self.document.read_only

    def open(self) -> RequestHandle:
        """Load the set (server + journal) on the API thread; ``loaded`` follows."""
        journal, ds, sid, base = self.sync.journal, self.dataset_id, self.set_id, self.sync.base_url

        def job(client: Any, cancel: Any, progress: Any) -> LoadedSet:
            return load_set(client, journal, ds, sid, cancel=cancel, base_url=base)

        handle = self.sync.worker.submit(job, priority=Priority.USER,
                                         description="Opening annotation set")
        handle.succeeded.connect(self.load)
        handle.failed.connect(lambda exc: self.load_failed.emit(
            f"The annotation set could not be opened: {exc}"))
        self._handle = handle
        return handle

    def load(self, loaded: LoadedSet) -> None:
        """Fill the session from a :class:`LoadedSet` (also usable without a server)."""
        self.version, self.status, self.files = loaded.version, loaded.status, loaded.files
        doc = self.document
        doc.artifact_types = list(loaded.artifact_types)
        doc.durations_ms = {f.audio_file_id: f.duration_ms for f in loaded.files}
        doc.filenames = {f.audio_file_id: f.filename for f in loaded.files}
        doc.read_only = loaded.read_only
        doc.load(loaded.regions)
        self._clear_history()
        if not loaded.read_only or self.sync.journal.pending_count(self.set_id):
            # a set published elsewhere with local edits pending: the sync explains the
            # conflict and offers to move them into a new draft
            self.sync.watch(self.set_id, self.dataset_id)
        self.read_only_changed.emit(doc.read_only)
        self.state_changed.emit(self.state)
        self.loaded.emit()

    @property
    def state(self) -> SyncState:
        state = self.sync.state(self.set_id)
        if self.read_only and state.kind != "conflict":
            return SyncState("read_only")
        return state

    # -- editing -------------------------------------------------------------------
    def push(self, command: Command) -> bool:
        """Apply ``command`` as an undoable, journaled edit; False (and a message) if refused."""
        if self.read_only:
            self.rejected_edit.emit("This annotation set is published and read-only. Create a "
                                    "new draft to change its labels.")
            return False
        problem = self._precheck(command)
        if problem:
            self.rejected_edit.emit(problem)
            return False
        self.undo_stack.push(EditCommand(self, command))
        return True

    def _precheck(self, command: Command) -> str:
        """Why ``command`` cannot apply to the document as it is ("" when it can)."""
        from relay_desktop.core.annotations.commands import UpdateRegion

        present = set()
        for cmd in (command.commands if isinstance(command, Batch) else (command,)):
            if isinstance(cmd, AddRegions):
                for r in cmd.regions:
                    if r.local_id in self.document or r.local_id in present:
                        return f"A region with id {r.local_id} already exists."
                    present.add(r.local_id)
            elif isinstance(cmd, (DeleteRegions, UpdateRegion)):
                ids = ([r.local_id for r in cmd.regions] if isinstance(cmd, DeleteRegions)
                       else [cmd.before.local_id])
                for i in ids:
                    if i not in self.document and i not in present:
                        return "That region no longer exists."
        return ""

    def problems(self, region: Region) -> list[Problem]:
        doc = self.document
        return validate_region(region, doc.type_names(), doc.durations_ms.get(region.audio_file_id))

    def push_checked(self, command: Command, regions: Iterable[Region]) -> bool:
        """Like :meth:`push`, but refuses (with the reasons) if a region would be invalid."""
        for region in regions:
            problems = self.problems(region)
            if problems:
                self.rejected_edit.emit(" ".join(str(p) for p in problems))
                return False
        return self.push(command)

    def add(self, regions: Iterable[Region], label: str = "") -> bool:
        regions = tuple(regions)
        return self.push_checked(AddRegions(regions, label), regions)

    def delete(self, local_ids: Iterable[str]) -> bool:
        regions = tuple(r for i in local_ids if (r := self.document.get(i)) is not None)
        if not regions:
            return False
        ok = self.push(DeleteRegions(regions))
        if ok:
            self.select([i for i in self._selection if i not in self.document])
        return ok

    def edit(self, local_id: str, kind: str = "edit", **changes: Any) -> bool:
        from relay_desktop.core.annotations.commands import UpdateRegion

        before = self.document.region(local_id)
        after = before.with_fields(**changes)
        if after == before:
            return True
        return self.push_checked(UpdateRegion(before, after, kind), [after])

    def batch(self, commands: Iterable[Command], label: str) -> bool:
        commands = tuple(commands)
        return bool(commands) and self.push(Batch(commands, label))

    def _apply(self, command: Command, entry: EditCommand, op: str) -> None:
        if self._rolling_back:
            return  # the stack is being put back; the document already is
        changes = command.apply(self.document)
        journal: list[tuple[str, Region | None]] = []
        for change in changes:
            for old in change.removed:
                journal.append((old.local_id, None))
            for local_id in change.added:
                journal.append((local_id, self.document.get(local_id)))
            for _, new in change.changed:
                journal.append((new.local_id, new))
        if journal:
            self._unsaved.add(self.sync.record(self.set_id, journal), command, entry, op)

    def _clear_history(self) -> None:
        self.undo_stack.clear()
        self._unsaved.clear()

    def _on_written(self, set_id: str, tickets: list[int], outcome: object) -> None:
        if set_id == self.set_id and isinstance(outcome, int):
            self._unsaved.saved(tickets)

    def _on_refused(self, set_id: str, tickets: list[int], message: str) -> None:
        """Take the refused edits (and any made on top of them) back out; say why."""
        if set_id != self.set_id:
            return
        self._rolling_back = True
        try:
            undone = self._unsaved.roll_back(min(tickets), self.document, self.undo_stack)
        finally:
            self._rolling_back = False
        log.warning("%s (%d edit(s) taken back)", message, undone)
        self.select(self._selection)
        self.not_saved.emit(message)

    def _on_document_changed(self, change: DocumentChange) -> None:
        self.changed.emit(change)

    # -- selection -------------------------------------------------------------------
    @property
    def selection(self) -> list[str]:
        return list(self._selection)

    def select(self, local_ids: Iterable[str]) -> None:
        ids = [i for i in dict.fromkeys(local_ids) if i in self.document]
        if ids != self._selection:
            self._selection = ids
            self.selection_changed.emit(list(ids))

    # -- reviewed files, publish -------------------------------------------------------
    def set_reviewed(self, audio_file_id: str, reviewed: bool = True) -> None:
        """Mark a file "reviewed, no artifacts" (kept in the local journal)."""
        self.sync.journal.set_reviewed(self.set_id, audio_file_id, reviewed)

    def reviewed(self) -> set[str]:
        return self.sync.journal.reviewed(self.set_id)

    def prepublish(self) -> PrepublishReport:
        state = self.state
        unsynced = state.pending if state.kind not in ("saved", "read_only") else 0
        return check(self.document, self.document.type_names(), self.files,
                     reviewed=self.reviewed(), unsynced=unsynced,
                     durations_ms=self.document.durations_ms)

    def publish(self) -> None:
        """Sync what is pending, then publish; ``published`` or ``publish_failed`` follows."""
        if self.read_only:
            self.publish_failed.emit("This set is already published.")
            return

        def synced(ok: bool, message: str) -> None:
            if not ok:
                self.publish_failed.emit("Not published: the edits could not be synced first. "
                                         + message)
                return
            ds, sid = self.dataset_id, self.set_id
            handle = self.sync.worker.submit(
                lambda client, cancel, progress: client.annotation_sets.publish(
                    ds, sid, cancel=cancel), description="Publishing annotation set")
            handle.succeeded.connect(self._on_published)
            handle.failed.connect(lambda exc: self.publish_failed.emit(
                f"The set could not be published: {exc}"))

        self.sync.flush(self.set_id, synced)

    def _on_published(self, new_set: Any) -> None:
        self.status = "published"
        self.document.read_only = True
        self._clear_history()
        self.read_only_changed.emit(True)
        self.state_changed.emit(self.state)
        self.published.emit(new_set)

    def close(self) -> None:
        """Stop listening to the sync service (the journal keeps everything)."""
        for signal, slot in ((self.sync.state_changed, self._on_sync_state),
                             (self.sync.moved, self._on_moved),
                             (self.sync.refused, self._on_refused),
                             (self.sync.writer.written, self._on_written)):
            with contextlib.suppress(RuntimeError, TypeError):
                signal.disconnect(slot)
        self._clear_history()

    # -- file work off the GUI thread ------------------------------------------------------
    def run_file_task(self, fn: Callable[[], Any],
                      done: Callable[[Any, BaseException | None], None]) -> None:
        """Run ``fn`` (file reading/parsing/writing) on the thread pool; ``done(result, error)``
        is called on the GUI thread."""
        self.pool.start(_FileTask(self, fn, done))

    @staticmethod
    def _on_task_done(done: Callable[[Any, BaseException | None], None], result: Any,
                      error: object) -> None:
        done(result, error if isinstance(error, BaseException) else None)

    # -- sync plumbing ---------------------------------------------------------------
    def _on_sync_state(self, set_id: str, state: SyncState) -> None:
        if set_id == self.set_id:
            self.state_changed.emit(state)

    def _on_moved(self, old_set_id: str, new_set: Any) -> None:
        if old_set_id != self.set_id:
            return
        self.set_id = new_set.id
        self.document.set_id = new_set.id
        self.version = getattr(new_set, "version", self.version)
        self._clear_history()
        self.moved.emit(new_set)
        self.open()  # the new draft: the moved regions come back from the journal
