"""The audio file list panel: status filter, counts, refresh and the lazily filled table."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.api.models import AudioFile, Dataset
from relay_desktop.services.api_worker import ApiWorker
from relay_desktop.ui.audio_list.model import AUDIO_ROLE, STATUSES, AudioListModel
from relay_desktop.ui.errors import describe_error
from relay_desktop.ui.theme import icon


class AudioListView(QWidget):
    """Lists the selected dataset's audio files.

    Signals:
        audio_file_activated(object): the AudioFile the user opened (double-click / Enter).
        audio_file_selected(object): the AudioFile under the cursor, or None.
    """

    audio_file_activated = Signal(object)
    audio_file_selected = Signal(object)

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
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # cheap inserts at 10,000 rows
        rows.setDefaultSectionSize(26)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
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
