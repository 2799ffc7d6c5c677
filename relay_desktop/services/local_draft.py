"""Local-only drafts: label an audio file from disk without a dataset or a server.

File > Open audio file… shows any file in the waveform editor; its regions go in
a draft that lives only on this computer: an :class:`AnnotationSession` whose
edits are journaled (one writer thread, in order, in a journal of its own, so
the server sync never sees them) and never sent anywhere. An edit that journal
cannot store (disk full, read-only) is refused and rolled back, as for a set. Undo, the table,
import and export work as for any draft; publishing does not (the file is in
no dataset).

The draft of a file is found again by the file's resolved path, so reopening
the file brings its regions back, across restarts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from relay_desktop.core.annotations.document import ArtifactTypeInfo, Region
from relay_desktop.core.annotations.sets import LoadedSet
from relay_desktop.core.journal import Journal
from relay_desktop.core.prepublish import FileInfo
from relay_desktop.services.annotation_session import AnnotationSession
from relay_desktop.services.journal_writer import JournalWriter, Refusal
from relay_desktop.services.sync import SyncState

LOCAL_DATASET = "local-files"
LOCAL_SCOPE = "local-files:"
NOT_PUBLISHABLE = ("This draft belongs to a file on this computer, not to a dataset: add the "
                   "file to a dataset (File > Add audio files…) to publish labels for it, or "
                   "export them.")
#: the types a local draft offers when no dataset's types are at hand
DEFAULT_TYPES = (ArtifactTypeInfo("click", "#e53935"), ArtifactTypeInfo("glitch", "#fb8c00"),
                 ArtifactTypeInfo("noise", "#8e24aa"), ArtifactTypeInfo("long_pause", "#1e88e5"))


def local_ids(path: Path) -> tuple[str, str]:
    """(set id, audio file id) of the local draft of ``path`` (stable for the same file)."""
    digest = hashlib.sha256(str(path.resolve()).encode("utf-8")).hexdigest()[:24]
    return f"local-{digest}", f"file-{digest}"


class LocalDraftStore(QObject):
    """Journals the edits of local drafts in order on one thread; nothing is synced.

    It answers what an :class:`AnnotationSession` asks of its sync service.

    Signals:
        state_changed(str, object): a draft's :class:`SyncState` (set id, state).
        moved(str, object): never emitted (a local draft never moves to a server set).
        refused(str, object, str): the journal could not store edits, which must be rolled
            back (set id, their tickets from :meth:`record` as a list, why in words).
    """

    state_changed = Signal(str, object)
    moved = Signal(str, object)
    refused = Signal(str, object, str)

    def __init__(self, journal: Journal, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.journal = journal
        self.base_url = LOCAL_SCOPE
        self.worker: Any = None  # no server
        self.writer = JournalWriter(journal, name="relay-local-draft", parent=self)
        self.writer.written.connect(self._on_written)
        self._waiting: dict[str, int] = {}
        self._states: dict[str, SyncState] = {}
        self._refusals: dict[str, str] = {}

    def state(self, set_id: str) -> SyncState:
        return self._states.get(set_id, SyncState("saved", message="Kept on this computer"))

    def record(self, set_id: str, changes: list[tuple[str, Region | None]]) -> int:
        """Journal the edits (in the order given) off the GUI thread; returns their ticket."""
        self._waiting[set_id] = self._waiting.get(set_id, 0) + 1
        self._set_state(set_id, SyncState("saving"))
        return self.writer.submit(set_id, changes)

    def _on_written(self, set_id: str, tickets: list[int], outcome: object) -> None:
        self._waiting[set_id] = self._waiting.get(set_id, len(tickets)) - len(tickets)
        if not isinstance(outcome, Refusal):
            self._refusals.pop(set_id, None)
        elif outcome.token is not None:
            self._refusals[set_id] = str(outcome.error)
            self.refused.emit(set_id, tickets, str(outcome.error))  # rolled back here
            self.writer.resume(set_id, outcome.token)
        if self._waiting[set_id] == 0:
            refusal = self._refusals.get(set_id)
            self._set_state(set_id, SyncState("not_saved", message=refusal) if refusal
                            else SyncState("saved", message="Kept on this computer"))

    def _set_state(self, set_id: str, state: SyncState) -> None:
        if self._states.get(set_id) != state:
            self._states[set_id] = state
            self.state_changed.emit(set_id, state)

    def watch(self, set_id: str, dataset_id: str) -> None:
        """Nothing to sync; the state is already the journal's."""

    def flush(self, set_id: str, done: Callable[[bool, str], None] | None = None) -> None:
        """A local draft cannot be published: ``done`` says why."""
        if done is not None:
            done(False, NOT_PUBLISHABLE)

    def retry_now(self, set_id: str) -> None:
        """Nothing to retry."""

    def move_to_new_draft(self, set_id: str) -> None:
        """A local draft has no server set to move from."""

    def close(self, wait: bool = True) -> None:
        """Finish the writes handed over, then stop the writer thread."""
        self.writer.close(wait)


def read_draft(journal: Journal, path: Path, duration_ms: int | None,
               types: list[ArtifactTypeInfo]) -> LoadedSet:
    """The local draft of ``path`` as a :class:`LoadedSet` (runs on a worker thread)."""
    set_id, audio_id = local_ids(path)
    journal.ensure_set(set_id, LOCAL_DATASET, LOCAL_SCOPE)
    regions = journal.local_regions(set_id)
    known = {t.name for t in types}
    extra = [ArtifactTypeInfo(name, "#9e9e9e") for name in
             dict.fromkeys(r.artifact_type for r in regions) if name not in known]
    return LoadedSet(LOCAL_DATASET, set_id, 0, "draft", [*types, *extra],
                     [FileInfo(audio_id, path.name, duration_ms)], regions)


def open_local_draft(store: LocalDraftStore, path: Path, duration_ms: int | None,
                     types: list[ArtifactTypeInfo] | None = None,
                     parent: QObject | None = None) -> AnnotationSession:
    """A session on the local draft of ``path``; its ``loaded`` (or ``load_failed``) follows."""
    set_id, _audio_id = local_ids(path)
    session = AnnotationSession(store, LOCAL_DATASET, set_id, parent=parent)  # type: ignore[arg-type]
    chosen = list(types) if types else list(DEFAULT_TYPES)

    def done(result: Any, error: BaseException | None) -> None:
        if error is not None:
            session.load_failed.emit(f"The local labels of {path.name} could not be read: "
                                     f"{error}")
        else:
            session.load(result)

    session.run_file_task(lambda: read_draft(store.journal, path, duration_ms, chosen), done)
    return session
