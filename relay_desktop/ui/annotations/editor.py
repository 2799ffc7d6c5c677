"""AnnotationEditor: the labelling side panel of one open set.

It holds the lock banner (published sets), the type picker, the save state,
the annotation table, the undo history and the Publish / Import / Export
actions, and puts the set's regions on a waveform view through a
:class:`RegionLayer`. The main window creates one per opened set::

    session = AnnotationSession(sync, dataset_id, set_id)
    editor = AnnotationEditor(session)
    editor.attach_waveform(waveform_view, player)   # when the waveform exists
    editor.set_audio_file(audio_id, duration_ms)    # the file shown in the waveform
    session.open()
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.core.text import plural
from relay_desktop.services.annotation_session import AnnotationSession
from relay_desktop.services.sync import SyncState
from relay_desktop.ui.annotations.history import HistoryPanel
from relay_desktop.ui.annotations.import_export import ExportDialog, ImportDialog
from relay_desktop.ui.annotations.publish_dialog import PublishDialog
from relay_desktop.ui.annotations.region_layer import RegionLayer
from relay_desktop.ui.annotations.sets_panel import LOCK
from relay_desktop.ui.annotations.sync_indicator import SyncIndicator
from relay_desktop.ui.annotations.table import RegionTable
from relay_desktop.ui.annotations.type_picker import TypePicker

log = logging.getLogger(__name__)


class AnnotationEditor(QWidget):
    """Table, history, type picker, save state and actions of one session.

    Signals:
        notice(str): something finished that the status bar should confirm
            (an export, import or publish; also written to the log), or an edit
            was not saved (the session logs that).
        file_requested(str, str): show this audio file (id) with this region
            (local id) selected: a region of another file was activated.
    """

    notice = Signal(str)
    file_requested = Signal(str, str)

    def __init__(self, session: AnnotationSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.layer: RegionLayer | None = None
        self.audio_file_id: str | None = None
        self.lock_banner = QLabel()
        self.lock_banner.setObjectName("lockBanner")
        self.lock_banner.setStyleSheet("background: #37474f; color: #eceff1; padding: 4px;")
        self.lock_banner.setWordWrap(True)  # a narrow Labels dock wraps it, never widens
        self.lock_banner.hide()
        self.title = QLabel()
        self.picker = TypePicker()
        self.indicator = SyncIndicator()
        self.table = RegionTable(session)
        self.history = HistoryPanel(session.undo_stack)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.publish_button = QPushButton("Publish…")
        self.import_button = QPushButton("Import…")
        self.export_button = QPushButton("Export…")
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.indicator)
        actions = QHBoxLayout()
        for b in (self.import_button, self.export_button, self.publish_button):
            actions.addWidget(b)
        actions.addStretch(1)
        tabs = QTabWidget()
        tabs.addTab(self.table, "Regions")
        tabs.addTab(self.history, "History")
        self.tabs = tabs
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.lock_banner)
        layout.addLayout(top)
        layout.addWidget(self.picker)
        layout.addWidget(tabs, 1)
        layout.addWidget(self.message)
        layout.addLayout(actions)

        session.loaded.connect(self._loaded)
        session.state_changed.connect(self._state)
        session.read_only_changed.connect(self._read_only)
        session.rejected_edit.connect(self.show_message)
        session.not_saved.connect(self._not_saved)
        session.moved.connect(lambda _s: self._loaded())
        self.indicator.retry_requested.connect(lambda: session.sync.retry_now(session.set_id))
        self.indicator.move_requested.connect(
            lambda: session.sync.move_to_new_draft(session.set_id))
        self.picker.type_chosen.connect(self._type_chosen)
        self.publish_button.clicked.connect(self.open_publish_dialog)
        self.import_button.clicked.connect(self.open_import_dialog)
        self.export_button.clicked.connect(self.open_export_dialog)
        self.table.region_activated.connect(self._activate)
        session.published.connect(lambda s: self._notify(
            f"Published annotation set v{getattr(s, 'version', self.session.version)} "
            f"({plural(len(self.session.document), 'region')}): it is now read-only."))
        self._loaded()

    # -- wiring ------------------------------------------------------------------------
    def attach_waveform(self, view: Any, player: Any = None) -> RegionLayer:
        """Show and edit regions on ``view`` (a WaveformView: its ``plots()``)."""
        self.layer = RegionLayer(self.session, view.plots(), view=view, player=player,
                                 parent=self)
        self.layer.current_type_changed.connect(self.picker.set_current)
        self.layer.message.connect(self.show_message)
        if self.layer.current_type:
            self.picker.set_current(self.layer.current_type)
        if self.audio_file_id:
            self.layer.set_audio_file(self.audio_file_id)
        return self.layer

    def set_audio_file(self, audio_file_id: str | None, duration_ms: int | None = None) -> None:
        self.audio_file_id = audio_file_id
        self.table.set_current_file(audio_file_id)
        if self.layer is not None:
            self.layer.set_audio_file(audio_file_id, duration_ms)

    def show_message(self, text: str) -> None:
        self.message.setText(text)

    def _type_chosen(self, name: str) -> None:
        if self.layer is not None:
            self.layer.set_current_type(name)

    def _notify(self, text: str) -> None:
        log.info("%s", text)
        self.show_message(text)
        self.notice.emit(text)

    def _not_saved(self, text: str) -> None:
        """The journal refused an edit (the session logged it and took it back)."""
        self.show_message(text)
        self.notice.emit(text)

    def _activate(self, local_id: str) -> None:
        region = self.session.document.get(local_id)
        if region is None:
            return
        if region.audio_file_id != self.audio_file_id:
            self.session.select([local_id])
            self.file_requested.emit(region.audio_file_id, local_id)
        else:
            self.show_region(local_id)

    def show_region(self, local_id: str) -> None:
        """Select a region of the file in the waveform and bring it into view."""
        region = self.session.document.get(local_id)
        if region is None:
            return
        self.session.select([local_id])
        if self.layer is not None and region.audio_file_id == self.layer.audio_file_id:
            self.layer.show_region(region)

    def _loaded(self) -> None:
        doc = self.session.document
        self.picker.set_types(doc.artifact_types)
        if self.layer is not None and self.layer.current_type:
            self.picker.set_current(self.layer.current_type)
        elif doc.artifact_types:
            self.picker.set_current(doc.artifact_types[0].name)
        self.title.setText(f"Annotation set v{self.session.version}" if self.session.version
                           else "Annotation set")
        self._read_only(self.session.read_only)
        self._state(self.session.state)

    def _read_only(self, read_only: bool) -> None:
        self.lock_banner.setText(f"{LOCK} Published v{self.session.version}: read-only. Create "
                                 "a new draft to change its labels.")
        self.lock_banner.setVisible(read_only)
        for b in (self.publish_button, self.import_button):
            b.setEnabled(not read_only)
        self.picker.setEnabled(not read_only)

    def _state(self, state: SyncState) -> None:
        self.indicator.set_state(state)

    # -- dialogs -----------------------------------------------------------------------
    def open_publish_dialog(self) -> PublishDialog:
        dialog = PublishDialog(self.session, self)
        dialog.region_chosen.connect(lambda i: self.session.select([i]))
        dialog.open()
        return dialog

    def open_import_dialog(self) -> ImportDialog:
        dialog = ImportDialog(self.session, self.audio_file_id, self)
        dialog.imported.connect(lambda n: self._notify(
            f"Imported {plural(n, 'region')} from {dialog.path_edit.text().strip()}."))
        dialog.open()
        return dialog

    def open_export_dialog(self) -> ExportDialog:
        dialog = ExportDialog(self.session, self.audio_file_id, self)
        dialog.exported.connect(lambda path: self._notify(
            f"Exported {plural(dialog.exported_count, 'region')} to {path}."))
        dialog.open()
        return dialog
