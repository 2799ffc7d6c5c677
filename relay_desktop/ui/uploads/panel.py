"""The "Uploads" dock: the queue table, its toolbar, the scan line and the empty state."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QMetaObject,
    QObject,
    QSize,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QStyle,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.core.uploads.state import UploadRow, UploadState, UploadTotals
from relay_desktop.ui.uploads.model import UploadQueueModel

if TYPE_CHECKING:
    from relay_desktop.services.context import AppContext
    from relay_desktop.services.upload_manager import UploadManager

FEED_ROWS = 100  # rows put in the table per event-loop turn
EMPTY_TEXT = ("Nothing to upload. Drop audio files or folders onto a dataset or onto the "
              "audio list, or choose File > Add audio files.")
_RETRYABLE = (UploadState.FAILED, UploadState.CANCELLED)
_CANCELLABLE = (UploadState.SCANNING, UploadState.WAITING, UploadState.DUPLICATE,
                UploadState.UPLOADING, UploadState.CONFIRMING, UploadState.PAUSED)


class UploadQueuePanel(QWidget):
    """Shows the connected window's upload queue and drives its UploadManager.

    It is the GUI's one subscriber to the manager: other parts connect to the
    signals below, which stay valid across reconnections.

    Signals:
        files_added(): new rows arrived (the window shows this dock).
        totals_changed(object): UploadTotals, or None when there is no queue.
        dataset_changed(str): a dataset whose audio list and file count should refresh.
        file_processed(str, str, str): (target kind, target id, remote id) reached ready/failed.
    """

    files_added = Signal()
    totals_changed = Signal(object)
    dataset_changed = Signal(str)
    file_processed = Signal(str, str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("uploadsPanel")
        self.manager: UploadManager | None = None
        # rows not in the table yet: added a slice per event-loop turn, so a drop of
        # thousands of files never holds the GUI for long (changes to them land here)
        self._incoming: dict[str, UploadRow] = {}
        self._feed = QTimer(self)
        self._feed.setInterval(0)
        self._feed.timeout.connect(self._feed_rows)
        self._connections: list[QMetaObject.Connection] = []
        self.model = UploadQueueModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("uploadsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        rows = self.table.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # cheap inserts at 10,000 rows
        rows.setDefaultSectionSize(26)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate((170, 110, 70, 200)):
            header.resizeSection(col, width)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update_actions())

        self.pause_action = QAction("&Pause all", self)
        self.pause_action.setObjectName("pauseAll")
        self.pause_action.setToolTip("Pause every upload (files in flight stop and resume later)")
        self.pause_action.triggered.connect(self.toggle_pause)
        self.cancel_action = self._make("Cancel selected", "Cancel the selected files",
                                        self.cancel_selected)
        self.cancel_all_action = self._make("Cancel all", "Cancel every file not uploaded yet",
                                            self.cancel_all)
        self.retry_action = self._make("Retry failed",
                                       "Try the failed (or selected cancelled) files again",
                                       self.retry_failed)
        self.clear_action = self._make("Clear finished",
                                       "Remove uploaded, skipped and cancelled files from the list",
                                       self.clear_finished)
        self.skip_dup_action = self._make("Skip duplicates",
                                          "Do not upload the files flagged as duplicates",
                                          lambda: self.resolve_duplicates(False))
        self.upload_dup_action = self._make("Upload anyway",
                                            "Upload the files flagged as duplicates all the same",
                                            lambda: self.resolve_duplicates(True))
        self.toolbar = QToolBar(self)
        self.toolbar.setObjectName("uploadsToolbar")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toolbar.setIconSize(QSize(14, 14))
        # the overflow button is 12 px wide: the common tool-button padding would hide its arrow
        self.toolbar.setStyleSheet("QToolButton#qt_toolbar_ext_button { padding: 0px; }")
        style = self.style()
        pixmaps = QStyle.StandardPixmap
        for action, pixmap in ((self.pause_action, pixmaps.SP_MediaPause),
                               (self.cancel_action, pixmaps.SP_DialogCancelButton),
                               (self.cancel_all_action, pixmaps.SP_BrowserStop),
                               (self.retry_action, pixmaps.SP_BrowserReload),
                               (self.clear_action, pixmaps.SP_DialogResetButton)):
            action.setIcon(style.standardIcon(pixmap))
        for action in (self.pause_action, self.cancel_action, self.cancel_all_action,
                       self.retry_action, self.clear_action):
            self.toolbar.addAction(action)
        self.duplicates_separator = self.toolbar.addSeparator()
        self.toolbar.addAction(self.skip_dup_action)
        self.toolbar.addAction(self.upload_dup_action)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        for action in (self.cancel_action, self.retry_action, self.skip_dup_action,
                       self.upload_dup_action):
            self.table.addAction(action)

        self.scan_label = QLabel(self)
        self.scan_label.setObjectName("uploadScan")
        self.scan_label.setVisible(False)
        # a long line must not widen the window (the overall progress is in the status bar)
        self.scan_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.scan_label.setContentsMargins(8, 0, 8, 0)
        self.empty = QLabel(EMPTY_TEXT, self)
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.setSpacing(4)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.scan_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty, 1)
        self._refresh_view()

    def _make(self, text: str, tip: str, slot: Callable[[], Any]) -> QAction:
        action = QAction(text, self)
        action.setToolTip(tip)
        action.triggered.connect(lambda _c=False: slot())
        return action

    # -- the manager -----------------------------------------------------------------

    def set_context(self, context: AppContext | None) -> None:
        """Follow ``context``'s UploadManager (None: show nothing)."""
        self.set_manager(getattr(context, "uploads", None) if context is not None else None)

    def set_manager(self, manager: UploadManager | None) -> None:
        for connection in self._connections:
            _disconnect(connection)
        self._connections = []
        self.manager = manager
        self._incoming.clear()
        self._feed.stop()
        self.scan_label.setVisible(False)
        if manager is None:
            self.model.set_rows([])
            self.totals_changed.emit(None)
            self._refresh_view()
            return
        self._connections = [
            manager.rows_added.connect(self._on_rows_added),
            manager.rows_changed.connect(self._on_rows_changed),
            manager.rows_removed.connect(self._on_rows_removed),
            manager.totals_changed.connect(self._on_totals),
            manager.scan_progress.connect(self._on_scan),
            manager.dataset_changed.connect(self.dataset_changed),
            manager.file_processed.connect(self.file_processed),
        ]
        self.model.set_rows(manager.rows())
        self._on_totals(manager.totals())
        self._refresh_view()
        if any(not s.is_terminal for s in self.model.states()):
            self.files_added.emit()  # a queue left unfinished last time goes on: show it

    @Slot(object)
    def _on_rows_added(self, rows: list[UploadRow]) -> None:
        if not rows:
            return
        for row in rows:
            self._incoming[row.id] = row
        self._feed_rows()
        self.files_added.emit()

    def _feed_rows(self) -> None:
        """Move the next slice of incoming rows into the table."""
        ids = list(itertools.islice(self._incoming, FEED_ROWS))
        self.model.add_rows([self._incoming.pop(i) for i in ids])
        if self._incoming:
            self._feed.start()
        else:
            self._feed.stop()
        self._refresh_view()

    def flush(self) -> None:
        """Put every incoming row in the table now (tests, screenshots)."""
        while self._incoming:
            self._feed_rows()

    @Slot(object)
    def _on_rows_changed(self, rows: list[UploadRow]) -> None:
        shown = []
        for row in rows:
            if row.id in self._incoming:
                self._incoming[row.id] = row
            else:
                shown.append(row)
        self.model.change_rows(shown)
        self._update_actions()

    @Slot(object)
    def _on_rows_removed(self, row_ids: list[str]) -> None:
        for row_id in row_ids:
            self._incoming.pop(row_id, None)
        self.model.remove_rows(row_ids)
        self._refresh_view()

    @Slot(object)
    def _on_totals(self, totals: UploadTotals) -> None:
        self.pause_action.setText("&Resume all" if totals.paused else "&Pause all")
        self.pause_action.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPlay if totals.paused
            else QStyle.StandardPixmap.SP_MediaPause))
        self.pause_action.setToolTip("Resume the paused uploads" if totals.paused
                                     else "Pause every upload (files in flight resume later)")
        self._update_actions()
        self.totals_changed.emit(totals)

    @Slot(int, int, bool)
    def _on_scan(self, found: int, probed: int, done: bool) -> None:
        self.scan_label.setText(f"Scanning… {found:,} files found, {probed:,} checked")
        self.scan_label.setVisible(not done)
        self.scan_label.setToolTip(self.scan_label.text())

    # -- user actions ------------------------------------------------------------------

    def selected_rows(self) -> list[UploadRow]:
        """The selected rows in queue order (read from the selection's ranges: cheap when
        thousands are selected)."""
        picked: set[int] = set()
        ranges = self.table.selectionModel().selection()
        for n in range(ranges.count()):
            picked.update(range(ranges.at(n).top(), ranges.at(n).bottom() + 1))
        return [r for r in (self.model.row_at(p) for p in sorted(picked)) if r is not None]

    @Slot()
    def toggle_pause(self) -> None:
        if self.manager is None:
            return
        if self.manager.is_paused():
            self.manager.resume_all()
        else:
            self.manager.pause_all()

    @Slot()
    def cancel_selected(self) -> None:
        ids = [r.id for r in self.selected_rows() if r.state in _CANCELLABLE]
        if self.manager is not None and ids:
            self.manager.cancel(ids)

    @Slot()
    def cancel_all(self) -> None:
        if self.manager is not None:
            self.manager.cancel_all()

    @Slot()
    def retry_failed(self) -> None:
        """Retry the selected failed/cancelled rows, or every failed row when none is selected."""
        if self.manager is None:
            return
        chosen = [r.id for r in self.selected_rows() if r.state in _RETRYABLE]
        if not chosen:
            chosen = [r.id for r in self.model.rows() if r.state is UploadState.FAILED]
        if chosen:
            self.manager.retry(chosen)

    @Slot()
    def clear_finished(self) -> None:
        if self.manager is not None:
            self.manager.clear_finished()

    def resolve_duplicates(self, upload_anyway: bool) -> None:
        """Skip (or upload) the selected duplicates, or all of them when none is selected."""
        if self.manager is None:
            return
        chosen = [r.id for r in self.selected_rows() if r.state is UploadState.DUPLICATE]
        if not chosen:
            chosen = [r.id for r in self.model.rows() if r.state is UploadState.DUPLICATE]
        if chosen:
            self.manager.resolve_duplicates(chosen, upload_anyway)

    # -- look --------------------------------------------------------------------------

    def set_theme(self, theme: str) -> None:
        self.model.set_theme(theme)

    def _refresh_view(self) -> None:
        has_rows = self.model.rowCount() > 0
        self.table.setVisible(has_rows)
        self.empty.setVisible(not has_rows)
        self._update_actions()

    def _update_actions(self) -> None:
        live = self.manager is not None
        states = self.model.states()
        selected = self.selected_rows()
        self.pause_action.setEnabled(live)
        self.cancel_action.setEnabled(live and any(r.state in _CANCELLABLE for r in selected))
        self.cancel_all_action.setEnabled(live and any(s in _CANCELLABLE for s in states))
        self.retry_action.setEnabled(live and any(s in _RETRYABLE for s in states))
        self.clear_action.setEnabled(live and any(s.is_terminal or s.is_done for s in states))
        duplicates = UploadState.DUPLICATE in states
        for action in (self.skip_dup_action, self.upload_dup_action):
            action.setEnabled(live and duplicates)
            action.setVisible(duplicates)
        self.duplicates_separator.setVisible(duplicates)


def _disconnect(connection: QMetaObject.Connection) -> None:
    """Disconnect one connection (quietly when its sender is already gone)."""
    with contextlib.suppress(RuntimeError, TypeError):
        QObject.disconnect(connection)
