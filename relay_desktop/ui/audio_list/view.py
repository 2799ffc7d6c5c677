"""The audio file list panel: status filter, counts, refresh and the lazily filled table.

Files and folders dropped on the list are uploaded to the dataset it shows;
the list follows uploads and processing live, and deletes or re-uploads files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.api import errors
from relay_desktop.api.models import AudioFile, Dataset
from relay_desktop.core.uploads.state import UploadTarget
from relay_desktop.services.api_worker import ApiWorker, Priority
from relay_desktop.ui.audio_list.delete_dialog import DeleteAudioDialog
from relay_desktop.ui.audio_list.model import AUDIO_ROLE, STATUSES, AudioListModel
from relay_desktop.ui.errors import describe_error
from relay_desktop.ui.theme import icon
from relay_desktop.ui.uploads.actions import AUDIO_FILTER
from relay_desktop.ui.uploads.drop import DropSpot, FileDropTarget

#: uploads and processing changes are gathered for this long before the list asks the server
LIVE_REFRESH_MS = 400


def _fetch_files(client: Any, dataset_id: str, audio_ids: list[str]
                 ) -> tuple[list[AudioFile], list[str]]:
    """The current state of ``audio_ids`` (API thread): (files found, ids no longer there)."""
    found: list[AudioFile] = []
    gone: list[str] = []
    for audio_id in audio_ids:
        try:
            found.append(client.audio.get(dataset_id, audio_id))
        except errors.NotFound:
            gone.append(audio_id)
    return found, gone


#: the Name column's starting width: most file names fit, elided in the middle beyond
NAME_WIDTH = 240


class AudioListView(QWidget):
    """Lists the selected dataset's audio files.

    Signals:
        audio_file_activated(object): the AudioFile the user opened (double-click / Enter).
        audio_file_selected(object): the AudioFile under the cursor, or None.
        files_dropped(object, object): (list[Path], UploadTarget) dropped on the list.
        reupload_requested(str, str, object): (dataset id, audio id, Path) for a failed file.
        files_deleted(str, object): (dataset id, list of audio ids) deleted on the server.
    """

    audio_file_activated = Signal(object)
    audio_file_selected = Signal(object)
    files_dropped = Signal(object, object)
    reupload_requested = Signal(str, str, object)
    files_deleted = Signal(str, object)

    def __init__(self, parent: QWidget | None = None, page_size: int = 100) -> None:
        super().__init__(parent)
        self.setObjectName("audioList")
        self.dataset: Dataset | None = None
        self.worker: ApiWorker | None = None
        self.model = AudioListModel(self, page_size=page_size)
        self.title = QLabel("No dataset selected", self)
        self.title.setObjectName("panelTitle")
        self.count = QLabel(self)
        self.count.setObjectName("subtle")
        self.status_filter = QComboBox(self)
        self.status_filter.setObjectName("statusFilter")
        self.status_filter.addItem("All statuses", None)
        for status in STATUSES:
            self.status_filter.addItem(status.capitalize(), status)
        self.status_filter.currentIndexChanged.connect(self._on_filter)
        self.refresh_action = QAction(icon("refresh"), "Refresh &audio files", self)
        self.refresh_action.triggered.connect(self.refresh)
        self.filter_action = QAction("Filter audio by &status", self)
        self.filter_action.triggered.connect(self._focus_filter)
        refresh_button = QToolButton(self)
        refresh_button.setDefaultAction(self.refresh_action)
        refresh_button.setAutoRaise(True)
        refresh_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.table = QTableView(self)
        self.table.setObjectName("audioTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # keeps "…take-12.wav"
        self.table.verticalHeader().setVisible(False)
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # cheap inserts at 10,000 rows
        rows.setDefaultSectionSize(26)
        header = self.table.horizontalHeader()
        # names keep a readable width (the other columns scroll); the last column fills
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, NAME_WIDTH)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for col, width in ((1, 110), (2, 104), (3, 88), (4, 86), (5, 110), (6, 140)):
            header.resizeSection(col, width)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.activated.connect(self._on_activated)
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        self.banner = QLabel(self)
        self.banner.setObjectName("formError")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.retry_button = QPushButton("Retry", self)
        self.retry_button.setVisible(False)
        self.retry_button.clicked.connect(self._retry)
        self.model.total_changed.connect(lambda _t: self._update_count())
        self.model.page_loaded.connect(lambda _p, _n: self._update_count())
        self.model.modelReset.connect(self._update_count)
        self.model.load_failed.connect(self._on_failed)
        self.delete_dialog: DeleteAudioDialog | None = None
        self.open_action = QAction("&Open", self)
        self.open_action.triggered.connect(self._open_current)
        self.delete_action = QAction(icon("delete"), "&Delete…", self)
        self.delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.delete_action.triggered.connect(self.delete_selected)
        self.reupload_action = QAction("&Re-upload…", self)
        self.reupload_action.setToolTip("Upload a new copy of this failed file in its place")
        self.reupload_action.triggered.connect(lambda: self.reupload_current())
        for action in (self.open_action, self.delete_action, self.reupload_action):
            self.table.addAction(action)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update_actions())
        self.drop_target = FileDropTarget(self.table.viewport(), self._drop_spot, self)
        self.drop_target.files_dropped.connect(self.files_dropped)
        self.live_refresh = QTimer(self)
        self.live_refresh.setSingleShot(True)
        self.live_refresh.setInterval(LIVE_REFRESH_MS)
        self.live_refresh.timeout.connect(self._fetch_new)
        self._pending_updates: set[str] = set()
        self._replaced: set[str] = set()  # failed files being re-uploaded (deleted once done)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.title)
        bar.addSpacing(8)
        bar.addWidget(self.count)
        bar.addStretch(1)
        bar.addWidget(self.status_filter)
        bar.addWidget(refresh_button)
        errors_row = QHBoxLayout()
        errors_row.addWidget(self.banner, 1)
        errors_row.addWidget(self.retry_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(bar)
        layout.addLayout(errors_row)
        layout.addWidget(self.table, 1)
        self._update_actions()

    def set_worker(self, worker: ApiWorker | None) -> None:
        self.worker = worker
        self.set_dataset(None)

    @Slot(object)
    def set_dataset(self, dataset: Dataset | None) -> None:
        """Show ``dataset``'s files (None clears the list)."""
        same = (dataset is not None and self.dataset is not None
                and dataset.id == self.dataset.id)
        self.dataset = dataset
        self.title.setText(dataset.name if dataset else "No dataset selected")
        self._hide_error()
        if not same:
            self.model.set_source(self.worker if dataset else None,
                                  dataset.id if dataset else None,
                                  self.status_filter.currentData())
            self._fetch_if_needed()
        self._update_actions()

    def _fetch_if_needed(self) -> None:
        if self.model.canFetchMore(QModelIndex()):
            self.model.fetchMore(QModelIndex())

    @Slot()
    def refresh(self) -> None:
        self._hide_error()
        self.model.reload()
        self._fetch_if_needed()

    @Slot()
    def _retry(self) -> None:
        self._hide_error()
        self.model.retry()

    def _hide_error(self) -> None:
        self.banner.setVisible(False)
        self.retry_button.setVisible(False)

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        self.banner.setText(f"Could not load the audio files. {describe_error(exc)}")
        self.banner.setVisible(True)
        self.retry_button.setVisible(True)

    @Slot(int)
    def _on_filter(self, _index: int) -> None:
        if self.dataset is not None:
            self._hide_error()
            self.model.set_status_filter(self.status_filter.currentData())
            self._fetch_if_needed()

    @Slot()
    def _focus_filter(self) -> None:
        self.status_filter.setFocus()
        self.status_filter.showPopup()

    def _update_count(self) -> None:
        loaded, total = self.model.rowCount(), self.model.total
        if self.dataset is None:
            self.count.setText("")
        elif total is None:
            self.count.setText("Loading…" if self.model.loading else f"{loaded:,} files")
        elif loaded < total:
            self.count.setText(f"{loaded:,} of {total:,} files loaded")
        else:
            self.count.setText(f"{total:,} file{'s' if total != 1 else ''}")

    def _update_actions(self) -> None:
        enabled = self.dataset is not None and self.worker is not None
        self.refresh_action.setEnabled(enabled)
        self.status_filter.setEnabled(enabled)
        selected = self.selected_files() if enabled else []
        self.open_action.setEnabled(len(selected) == 1)
        self.delete_action.setEnabled(bool(selected))
        self.delete_action.setText("&Delete…" if len(selected) < 2
                                   else f"&Delete {len(selected):,} files…")
        failed = len(selected) == 1 and selected[0].processing_status == "failed"
        self.reupload_action.setEnabled(failed)
        self.reupload_action.setVisible(failed)

    def selected_files(self) -> list[AudioFile]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [f for f in (self.model.file_at(r) for r in rows) if f is not None]

    # -- uploads: drops, live updates, re-upload -----------------------------------------

    def _drop_spot(self, _pos: QPoint) -> DropSpot:
        if self.worker is None:
            return DropSpot(None, reason="Connect to a server before uploading files.")
        if self.dataset is None:
            return DropSpot(None, reason="Select a dataset first: dropped files go into "
                                         "the dataset this list shows.")
        return DropSpot(UploadTarget("dataset", self.dataset.id, self.dataset.name))

    @Slot(str)
    def on_dataset_changed(self, dataset_id: str) -> None:
        """Files were added to (or changed in) ``dataset_id``: show them (batched)."""
        if self.dataset is not None and dataset_id == self.dataset.id:
            self.live_refresh.start()

    @Slot(str, str, str)
    def on_file_processed(self, kind: str, target_id: str, audio_id: str) -> None:
        """An uploaded file reached ready/failed: fetch its new state (batched)."""
        if kind == "dataset" and self.dataset is not None and target_id == self.dataset.id:
            self._pending_updates.add(audio_id)
            self.live_refresh.start()

    def _fetch_new(self) -> None:
        if self.model.loading:  # a page is on its way: look again once it is in
            self.live_refresh.start()
            return
        self.model.fetch_new()
        ids, self._pending_updates = self._pending_updates, set()
        loaded = [i for i in ids | self._replaced if self.model.row_of(i) >= 0]
        if self.worker is None or self.dataset is None or not loaded:
            return
        dataset_id = self.dataset.id
        handle = self.worker.submit(
            lambda client, _c, _p: _fetch_files(client, dataset_id, loaded),
            priority=Priority.BACKGROUND, description="Refreshing processed audio files")
        handle.succeeded.connect(lambda result: self._on_files_fetched(dataset_id, *result))

    def _on_files_fetched(self, dataset_id: str, files: list[AudioFile],
                          gone: list[str]) -> None:
        if self.dataset is None or self.dataset.id != dataset_id:
            return
        for audio in files:
            self.model.update_file(audio)
        self.model.remove_files(gone)  # e.g. a failed file replaced by its re-upload
        self._replaced -= set(gone)
        self._update_actions()

    def reupload_current(self, path: Path | None = None) -> QFileDialog | None:
        """Replace the selected failed file with ``path`` (asked for with a native dialog)."""
        selected = self.selected_files()
        if self.dataset is None or len(selected) != 1 \
                or selected[0].processing_status != "failed":
            return None
        dataset_id, audio = self.dataset.id, selected[0]
        if path is not None:
            self._ask_reupload(dataset_id, audio.id, path)
            return None
        dialog = QFileDialog(self, f"Re-upload “{audio.filename}”")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilter(AUDIO_FILTER)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.fileSelected.connect(
            lambda chosen: self._ask_reupload(dataset_id, audio.id, Path(chosen)))
        dialog.open()
        return dialog

    def _ask_reupload(self, dataset_id: str, audio_id: str, path: Path) -> None:
        self._replaced.add(audio_id)
        self.reupload_requested.emit(dataset_id, audio_id, path)

    # -- deleting ----------------------------------------------------------------------

    @Slot()
    def delete_selected(self) -> DeleteAudioDialog | None:
        """Ask to delete the selected files (saying which annotations go with them)."""
        files = self.selected_files()
        if self.worker is None or self.dataset is None or not files:
            return None
        if self.delete_dialog is not None:
            self.delete_dialog.close()
        dialog = DeleteAudioDialog(self.worker, self.dataset, files, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dataset_id = self.dataset.id
        dialog.deleted.connect(lambda ids: self._on_deleted(dataset_id, ids))
        dialog.finished.connect(lambda _r: setattr(self, "delete_dialog", None))
        self.delete_dialog = dialog
        dialog.open()
        return dialog

    def _on_deleted(self, dataset_id: str, audio_ids: list[str]) -> None:
        if self.dataset is not None and self.dataset.id == dataset_id:
            self.model.remove_files(audio_ids)
        self._update_actions()
        self.files_deleted.emit(dataset_id, audio_ids)

    @Slot()
    def _open_current(self) -> None:
        audio = self.current_file()
        if audio is not None:
            self.audio_file_activated.emit(audio)

    def current_file(self) -> AudioFile | None:
        index = self.table.currentIndex()
        audio = index.data(AUDIO_ROLE) if index.isValid() else None
        return audio if isinstance(audio, AudioFile) else None

    @Slot(QModelIndex)
    def _on_activated(self, index: QModelIndex) -> None:
        audio = index.data(AUDIO_ROLE)
        if isinstance(audio, AudioFile):
            self.audio_file_activated.emit(audio)

    @Slot(QModelIndex, QModelIndex)
    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        audio = current.data(AUDIO_ROLE) if current.isValid() else None
        self.audio_file_selected.emit(audio if isinstance(audio, AudioFile) else None)
