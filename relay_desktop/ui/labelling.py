"""The "Labels" dock: annotation sets of the selected dataset and the editor of the open set.

It joins the annotation editor (``ui.annotations``) to the shell and the
waveform: one :class:`SyncService` per connection (replaying, at connect time,
edits a crash or an outage left in the journal), a :class:`SetsPanel` for the
selected dataset, and for the opened set an :class:`AnnotationSession` whose
regions are drawn on the central :class:`AudioEditor`'s waveform and
spectrogram for whichever file it shows. A journal that cannot be opened (its
disk full or read-only) leaves labelling off with the reason, rather than failing.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from relay_desktop.api.models import AnnotationSet, AudioFile, Dataset
from relay_desktop.core.journal import Journal, JournalError
from relay_desktop.services.annotation_session import AnnotationSession
from relay_desktop.services.context import AppContext, ConnectionInfo
from relay_desktop.services.local_draft import (
    LOCAL_DATASET,
    NOT_PUBLISHABLE,
    LocalDraftStore,
    local_ids,
    open_local_draft,
)
from relay_desktop.services.sync import SyncService
from relay_desktop.ui.annotations import AnnotationEditor, SetsPanel

log = logging.getLogger(__name__)

NO_SET = "Open an annotation set (double-click it above) to label the file in the editor."
NO_CONNECTION = "Connect to a workspace to see its annotation sets."
NO_JOURNAL = " Labels cannot be edited until it opens: reconnect to try again."
LOCAL_JOURNAL = "local-drafts.sqlite3"


def journal_scope(connection: ConnectionInfo) -> str:
    """Which server a journal entry belongs to: stable across restarts of the local workspace.

    Relay Local listens on a new free port each launch, so the local workspace is
    identified by its connection id rather than its URL.
    """
    return connection.id if connection.is_local and connection.id else connection.base_url


class LabellingPanel(QWidget):
    """Annotation sets above, the open set's table/history/actions below.

    Signals:
        session_changed(object): the open set's AnnotationSession (None when closed) or
            its region layer changed (the Edit menu follows it).
        audio_requested(object): open this AudioFile in the waveform (a region of
            another file was activated; it is selected once the file is shown).
        notice(str): a finished export, import or publish, or an edit or journal that
            could not be saved or opened, for the status bar.
        train_requested(object): "Train model…" on this published AnnotationSet.
    """

    session_changed = Signal(object)
    audio_requested = Signal(object)
    notice = Signal(str)
    train_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context: AppContext | None = None
        self.sync: SyncService | None = None
        self.sets_panel: SetsPanel | None = None
        self.session: AnnotationSession | None = None
        self.editor: AnnotationEditor | None = None
        self.audio_editor: Any = None
        self.dataset: Dataset | None = None
        self.audio: AudioFile | None = None
        self.local_store: LocalDraftStore | None = None
        self._pending_region: str | None = None
        self.placeholder = QLabel(NO_CONNECTION)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        # a small window scrolls the panel instead of growing to fit it
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setWidget(self.splitter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.scroller, 1)
        self.scroller.hide()

    # -- connection ----------------------------------------------------------------------

    def set_context(self, context: AppContext | None) -> None:
        """Rebuild for a new connection; flush and stop syncing on disconnect."""
        if context is self.context:
            return
        self._teardown()
        self.context = context
        if context is None:
            self._show_placeholder(NO_CONNECTION)
            return
        try:
            journal = Journal(context.paths.journal)
        except JournalError as exc:
            log.error("%s", exc)
            self._show_placeholder(str(exc) + NO_JOURNAL)
            self.notice.emit(str(exc))
            return
        self.sync = SyncService(context.worker, journal,
                                base_url=journal_scope(context.connection), parent=self)
        resumed = self.sync.resume_pending()
        if resumed:
            log.info("Syncing edits left from an earlier session in %d set(s)", len(resumed))
        self.sets_panel = SetsPanel(context.worker, self.sync)
        self.sets_panel.open_requested.connect(self.open_set)
        self.sets_panel.train_requested.connect(self.train_requested)
        self.splitter.addWidget(self.sets_panel)
        self._show_hint(NO_SET)
        self.placeholder.hide()
        self.scroller.show()
        if self.dataset is not None:
            self.sets_panel.set_dataset(self.dataset.id)

    def _show_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)
        self.placeholder.show()
        self.scroller.hide()

    def _teardown(self) -> None:
        self.close_set()
        if self.local_store is not None:
            self.local_store.close()
            self.local_store.journal.close()
            self.local_store.deleteLater()
            self.local_store = None
        if self.sets_panel is not None:
            self.sets_panel.detach()
            self.sets_panel.setParent(None)
            self.sets_panel.deleteLater()
            self.sets_panel = None
        self._drop_splitter_widgets(keep=0)
        if self.sync is not None:
            self.sync.close()
            self.sync.journal.close()
            self.sync.deleteLater()
            self.sync = None

    def _drop_splitter_widgets(self, keep: int) -> None:
        """Remove (and delete) every splitter widget after the first ``keep``."""
        while self.splitter.count() > keep:
            old = self.splitter.widget(keep)
            if old is None:
                break
            old.setParent(None)  # type: ignore[call-overload]
            old.deleteLater()

    def _show_hint(self, text: str) -> None:
        hint = QLabel(text)
        hint.setObjectName("labellingHint")
        hint.setWordWrap(True)
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._replace_lower(hint)

    def _replace_lower(self, widget: QWidget) -> None:
        self._drop_splitter_widgets(keep=1)
        self.splitter.addWidget(widget)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        total = max(self.splitter.height(), 400)
        self.splitter.setSizes([total // 4, total - total // 4])  # the open set gets the room

    # -- what the rest of the window tells us ------------------------------------------------

    def set_audio_editor(self, audio_editor: Any) -> None:
        """The central editor whose waveform shows the regions (None when there is none)."""
        self.audio_editor = audio_editor
        if self.editor is not None and audio_editor is not None:
            if self.editor.layer is not None:
                with contextlib.suppress(RuntimeError):  # the old waveform may be gone
                    self.editor.layer.detach()
            self.editor.attach_waveform(audio_editor.view, audio_editor.player)
            self._show_current_file()
        self.session_changed.emit(self.session)

    @property
    def layer(self) -> Any:
        """The open set's RegionLayer on the waveform (None without a set or waveform)."""
        return self.editor.layer if self.editor is not None else None

    def set_dataset(self, dataset: Dataset | None) -> None:
        if dataset is not None and self.dataset is not None and dataset.id == self.dataset.id:
            return
        self.dataset = dataset
        self.close_set()
        if self.sets_panel is not None:
            self.sets_panel.set_dataset(dataset.id if dataset else None)

    def show_audio(self, audio: AudioFile) -> None:
        """The file now shown in the waveform."""
        if self.is_local:
            self.close_set()
        self.audio = audio
        self._show_current_file()

    def follow_editor(self, audio: AudioFile | None) -> None:
        """The editor is about to show ``audio`` (None: a file in no dataset, e.g. an
        inference upload): only that file's regions are drawn, never the previous file's."""
        if audio is not None:
            if self.audio is None or self.audio.id != audio.id:
                self.show_audio(audio)
            return
        if self.is_local:
            return  # a file on disk is labelled in its local draft (show_local_file)
        self.audio = None
        if self.editor is not None:
            self.editor.set_audio_file(None)

    def show_local_file(self, path: Path, duration_ms: int | None) -> AnnotationSession | None:
        """A file from disk (File > Open audio file…) is now shown: label it in a local draft.

        The draft lives only on this computer (see ``services.local_draft``); it offers the
        artifact types of the set that was open, else a few common ones.
        """
        if self.context is None:
            return None
        types = list(self.session.document.artifact_types) if self.session is not None else None
        if self.local_store is None:
            try:
                journal = Journal(self.context.paths.data / LOCAL_JOURNAL)
            except JournalError as exc:
                log.error("%s", exc)
                self.notice.emit(str(exc))
                return None
            self.local_store = LocalDraftStore(journal, self)
        self.close_set()
        self.audio = None
        session = open_local_draft(self.local_store, path, duration_ms, types, parent=self)
        editor = AnnotationEditor(session)
        self.session, self.editor = session, editor
        session.load_failed.connect(editor.show_message)
        editor.notice.connect(self.notice)
        if self.audio_editor is not None:
            editor.attach_waveform(self.audio_editor.view, self.audio_editor.player)
        editor.set_audio_file(local_ids(path)[1], duration_ms)
        editor.publish_button.setToolTip(NOT_PUBLISHABLE)

        def loaded() -> None:
            editor.title.setText(f"{path.name}: labels kept on this computer")
            editor.publish_button.setEnabled(False)

        session.loaded.connect(loaded)
        self._replace_lower(editor)
        self.session_changed.emit(session)
        return session

    @property
    def is_local(self) -> bool:
        """Whether the open draft is a local file's (not a dataset's)."""
        return self.session is not None and self.session.dataset_id == LOCAL_DATASET

    def _show_current_file(self) -> None:
        if self.editor is not None and self.audio is not None:
            self.editor.set_audio_file(self.audio.id, self.audio.duration_ms)
            pending, self._pending_region = self._pending_region, None
            if pending:
                self.editor.show_region(pending)

    # -- the open set ------------------------------------------------------------------

    def open_set(self, annotation_set: AnnotationSet) -> None:
        if self.sync is None or self.dataset is None:
            return
        self.close_set()
        self.session = AnnotationSession(self.sync, self.dataset.id, annotation_set.id,
                                         parent=self)
        self.editor = AnnotationEditor(self.session)
        self.session.load_failed.connect(self.editor.show_message)
        if self.audio_editor is not None:
            self.editor.attach_waveform(self.audio_editor.view, self.audio_editor.player)
        self._show_current_file()
        self._replace_lower(self.editor)
        self.editor.file_requested.connect(self._request_file)
        self.editor.notice.connect(self.notice)
        self.session.loaded.connect(self._show_live_counts)
        self.session.changed.connect(lambda _change: self._show_live_counts())
        self.session.published.connect(self._on_published)
        self.session.moved.connect(lambda _s: self._refresh_sets())
        self.session.open()
        self.session_changed.emit(self.session)

    def _refresh_sets(self) -> None:
        if self.sets_panel is not None:
            self.sets_panel.refresh()

    def _file_failed(self, exc: BaseException) -> None:
        if self.editor is not None:
            self.editor.show_message(f"The region's audio file could not be opened: {exc}")

    def _request_file(self, audio_file_id: str, local_id: str) -> None:
        """Fetch the AudioFile (off the GUI thread) and ask for it to be opened."""
        if self.context is None or self.dataset is None:
            return
        self._pending_region = local_id
        ds = self.dataset.id
        handle = self.context.worker.submit(
            lambda client, cancel, _progress: client.audio.get(ds, audio_file_id, cancel=cancel),
            description="Opening the region's audio file")
        handle.succeeded.connect(self.audio_requested)
        handle.failed.connect(self._file_failed)

    def _show_live_counts(self) -> None:
        """The open set's row in the sets table follows its edits as they happen."""
        session, panel = self.session, self.sets_panel
        if session is None or panel is None or session.read_only:
            return
        by_type = Counter(r.artifact_type for r in session.document)
        panel.show_live_counts(session.set_id, sum(by_type.values()), by_type)

    def _on_published(self, new_set: AnnotationSet) -> None:
        if self.sets_panel is not None:
            self.sets_panel.show_set(new_set)

    def close_set(self) -> None:
        if self.sets_panel is not None:
            self.sets_panel.forget_live_counts()
        if self.editor is not None and self.editor.layer is not None:
            self.editor.layer.detach()
        if self.session is not None:
            self.session.close()
            self.session.deleteLater()
            self.session = None
        if self.editor is not None:
            self.editor = None
            if self.sync is not None:
                self._show_hint(NO_SET)
            self.session_changed.emit(None)
