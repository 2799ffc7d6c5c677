"""The "Labels" dock: annotation sets of the selected dataset and the editor of the open set.

It joins the annotation editor (``ui.annotations``) to the shell and the
waveform: one :class:`SyncService` per connection (replaying, at connect time,
edits a crash or an outage left in the journal), a :class:`SetsPanel` for the
selected dataset, and for the opened set an :class:`AnnotationSession` whose
regions are drawn on the central :class:`AudioEditor`'s waveform and
spectrogram for whichever file it shows.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from relay_desktop.api.models import AnnotationSet, AudioFile, Dataset
from relay_desktop.core.journal import Journal
from relay_desktop.services.annotation_session import AnnotationSession
from relay_desktop.services.context import AppContext, ConnectionInfo
from relay_desktop.services.sync import SyncService
from relay_desktop.ui.annotations import AnnotationEditor, SetsPanel

log = logging.getLogger(__name__)

NO_SET = "Open an annotation set (double-click it above) to label the file in the editor."


def journal_scope(connection: ConnectionInfo) -> str:
    """Which server a journal entry belongs to: stable across restarts of the local workspace.

    Relay Local listens on a new free port each launch, so the local workspace is
    identified by its connection id rather than its URL.
    """
    return connection.id if connection.is_local and connection.id else connection.base_url


class LabellingPanel(QWidget):
    """Annotation sets above, the open set's table/history/actions below."""

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
        self.placeholder = QLabel("Connect to a workspace to see its annotation sets.")
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
            self.placeholder.show()
            self.scroller.hide()
            return
        self.sync = SyncService(context.worker, Journal(context.paths.journal),
                                base_url=journal_scope(context.connection), parent=self)
        resumed = self.sync.resume_pending()
        if resumed:
            log.info("Syncing edits left from an earlier session in %d set(s)", len(resumed))
        self.sets_panel = SetsPanel(context.worker, self.sync)
        self.sets_panel.open_requested.connect(self.open_set)
        self.splitter.addWidget(self.sets_panel)
        self._show_hint(NO_SET)
        self.placeholder.hide()
        self.scroller.show()
        if self.dataset is not None:
            self.sets_panel.set_dataset(self.dataset.id)

    def _teardown(self) -> None:
        self.close_set()
        if self.sets_panel is not None:
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
            self.editor.attach_waveform(audio_editor.view, audio_editor.player)
            self._show_current_file()

    def set_dataset(self, dataset: Dataset | None) -> None:
        if dataset is not None and self.dataset is not None and dataset.id == self.dataset.id:
            return
        self.dataset = dataset
        self.close_set()
        if self.sets_panel is not None:
            self.sets_panel.set_dataset(dataset.id if dataset else None)

    def show_audio(self, audio: AudioFile) -> None:
        """The file now shown in the waveform."""
        self.audio = audio
        self._show_current_file()

    def _show_current_file(self) -> None:
        if self.editor is not None and self.audio is not None:
            self.editor.set_audio_file(self.audio.id, self.audio.duration_ms)

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
        self.session.open()

    def close_set(self) -> None:
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
