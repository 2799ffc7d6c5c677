"""The dataset browser dock: search, list, the create / edit / delete actions, and drops.

Files and folders dropped onto a dataset row are uploaded to that dataset.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QItemSelection, QPoint, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.api.models import Dataset
from relay_desktop.core.uploads.state import UploadTarget
from relay_desktop.services.api_worker import ApiWorker, Priority, RequestHandle
from relay_desktop.ui.datasets.delete_dialog import DeleteDatasetDialog
from relay_desktop.ui.datasets.dialog import DatasetDialog
from relay_desktop.ui.datasets.model import DATASET_ROLE, DatasetFilterModel, DatasetListModel
from relay_desktop.ui.errors import describe_error
from relay_desktop.ui.theme import icon
from relay_desktop.ui.uploads.drop import DropSpot, FileDropTarget

#: file-count refreshes during uploads are gathered for this long
COUNT_REFRESH_MS = 800


class DatasetBrowser(QWidget):
    """Lists the datasets of the connected server and edits them through dialogs.

    Signals:
        dataset_selected(object): the selected Dataset, or None.
        datasets_loaded(object): the list of Datasets after a (re)load.
        load_failed(object): loading failed (the exception).
        files_dropped(object, object): (list[Path], UploadTarget) dropped onto a dataset row.
    """

    dataset_selected = Signal(object)
    datasets_loaded = Signal(object)
    load_failed = Signal(object)
    files_dropped = Signal(object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("datasetBrowser")
        self.worker: ApiWorker | None = None
        self.active_dialog: QDialog | None = None
        self._pending_select: str | None = None
        self._load: RequestHandle | None = None

        self.model = DatasetListModel(self)
        self.proxy = DatasetFilterModel(self)
        self.proxy.setSourceModel(self.model)
        self.search = QLineEdit(self)
        self.search.setObjectName("datasetSearch")
        self.search.setPlaceholderText("Search datasets")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.set_search)
        self.view = QListView(self)
        self.view.setObjectName("datasetList")
        self.view.setModel(self.proxy)
        self.view.setUniformItemSizes(True)
        self.view.setSpacing(1)
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        self.view.doubleClicked.connect(lambda _i: self.edit_selected())
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.empty = QLabel("No datasets yet. Create one with “New dataset”.", self)
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setVisible(False)
        self.banner = QLabel(self)
        self.banner.setObjectName("formError")
        self.banner.setWordWrap(True)
        self.retry_button = QPushButton("Retry", self)
        self.retry_button.clicked.connect(self.refresh)
        self.banner.setVisible(False)
        self.retry_button.setVisible(False)

        self.new_action = QAction(icon("add"), "&New dataset…", self)
        self.edit_action = QAction(icon("edit"), "&Edit dataset…", self)
        self.delete_action = QAction(icon("delete"), "&Delete dataset…", self)
        self.refresh_action = QAction(icon("refresh"), "&Refresh datasets", self)
        self.new_action.triggered.connect(self.new_dataset)
        self.edit_action.triggered.connect(self.edit_selected)
        self.delete_action.triggered.connect(self.delete_selected)
        self.refresh_action.triggered.connect(self.refresh)
        for action in (self.new_action, self.edit_action, self.delete_action,
                       self.refresh_action):
            self.view.addAction(action)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.search, 1)
        for action in (self.new_action, self.refresh_action):
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setAutoRaise(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty, 1)
        self.no_match = QLabel(self)
        self.no_match.setObjectName("noMatch")
        self.no_match.setWordWrap(True)
        self.no_match.setVisible(False)
        layout.addWidget(self.no_match)
        self.search.textChanged.connect(self._show_no_match)
        self.model.modelReset.connect(lambda: self._show_no_match(self.search.text()))
        self.drop_target = FileDropTarget(self.view.viewport(), self._drop_spot, self)
        self.drop_target.files_dropped.connect(self.files_dropped)
        self._stale_counts: set[str] = set()
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(COUNT_REFRESH_MS)
        self._count_timer.timeout.connect(self._refresh_counts)
        self._update_actions()

    def _drop_spot(self, pos: QPoint) -> DropSpot:
        """The dataset row under ``pos``, or why the files cannot be dropped there."""
        if self.worker is None:
            return DropSpot(None, reason="Connect to a server before uploading files.")
        index = self.view.indexAt(pos)
        dataset = index.data(DATASET_ROLE) if index.isValid() else None
        if not isinstance(dataset, Dataset):
            reason = ("Drop the files onto a dataset in the list." if self.model.rowCount()
                      else "Create a dataset first, then drop the files onto it.")
            return DropSpot(None, reason=reason)
        return DropSpot(UploadTarget("dataset", dataset.id, dataset.name),
                        self.view.visualRect(index))

    @Slot(str)
    def refresh_counts(self, dataset_id: str) -> None:
        """Files were added to or removed from ``dataset_id``: update its file count (batched)."""
        if self.model.row_of(dataset_id) >= 0:
            self._stale_counts.add(dataset_id)
            self._count_timer.start()

    def _refresh_counts(self) -> None:
        ids, self._stale_counts = sorted(self._stale_counts), set()
        if self.worker is None or not ids:
            return

        def count(client: Any, _c: Any, _p: Any) -> dict[str, int | None]:
            return {i: client.audio.list(i, page=1, page_size=1).total for i in ids}

        handle = self.worker.submit(count, priority=Priority.BACKGROUND,
                                    description="Counting audio files")
        handle.succeeded.connect(self._on_counts)

    @Slot(object)
    def _on_counts(self, counts: dict[str, int | None]) -> None:
        for dataset in self.model.datasets():
            total = counts.get(dataset.id)
            if total is not None and total != dataset.audio_count:
                self.model.upsert(replace(dataset, audio_count=total))

    def set_worker(self, worker: ApiWorker | None) -> None:
        """Use ``worker`` (a new connection) and reload; None clears the list."""
        self.worker = worker
        self.model.set_datasets([])
        self.dataset_selected.emit(None)
        if worker is not None:
            self.refresh()
        self._update_actions()

    def selected(self) -> Dataset | None:
        indexes = self.view.selectionModel().selectedIndexes()
        if not indexes:
            return None
        ds = indexes[0].data(DATASET_ROLE)
        return ds if isinstance(ds, Dataset) else None

    def select_dataset(self, dataset_id: str) -> bool:
        """Select the dataset with ``dataset_id`` (after the next load if not loaded yet)."""
        row = self.model.row_of(dataset_id)
        if row < 0:
            self._pending_select = dataset_id
            return False
        index = self.proxy.mapFromSource(self.model.index(row))
        if not index.isValid():
            self.search.clear()
            index = self.proxy.mapFromSource(self.model.index(row))
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)
        return True

    @Slot()
    def refresh(self) -> None:
        if self.worker is None:
            return
        if self._load is not None and not self._load.done:
            self._load.cancel()
        current = self.selected()
        if current is not None and self._pending_select is None:
            self._pending_select = current.id
        self.banner.setVisible(False)
        self.retry_button.setVisible(False)
        self._load = self.worker.submit(
            lambda client, _c, _p: list(client.datasets.iter_items(page_size=100)),
            priority=Priority.USER, description="Loading datasets")
        self._load.succeeded.connect(self._on_loaded)
        self._load.failed.connect(self._on_load_failed)

    @Slot(object)
    def _on_loaded(self, datasets: list[Dataset]) -> None:
        self.model.set_datasets(datasets)
        self.empty.setVisible(not datasets)
        self.view.setVisible(bool(datasets))
        self.datasets_loaded.emit(datasets)
        wanted, self._pending_select = self._pending_select, None
        if wanted and not self.select_dataset(wanted):
            self._pending_select = None
            self.dataset_selected.emit(None)
        self._update_actions()

    @Slot(object)
    def _on_load_failed(self, exc: BaseException) -> None:
        self.banner.setText(f"Could not load the datasets. {describe_error(exc)}")
        self.banner.setVisible(True)
        self.retry_button.setVisible(True)
        self.load_failed.emit(exc)

    @Slot(QItemSelection, QItemSelection)
    def _on_selection(self, *_args: Any) -> None:
        self._update_actions()
        self.dataset_selected.emit(self.selected())

    def _update_actions(self) -> None:
        connected = self.worker is not None
        has = self.selected() is not None
        self.new_action.setEnabled(connected)
        self.refresh_action.setEnabled(connected)
        self.edit_action.setEnabled(connected and has)
        self.delete_action.setEnabled(connected and has)

    def _open(self, dialog: QDialog) -> QDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.active_dialog = dialog
        dialog.finished.connect(lambda _r: self._dialog_closed(dialog))
        dialog.open()
        return dialog

    def _dialog_closed(self, dialog: QDialog) -> None:
        if self.active_dialog is dialog:
            self.active_dialog = None

    def _show_no_match(self, text: str) -> None:
        """"No datasets match …" while a search hides every dataset."""
        self.no_match.setText(f"No datasets match “{text.strip()}”.")
        self.no_match.setVisible(bool(text.strip()) and self.model.rowCount() > 0
                                 and self.proxy.rowCount() == 0)

    @Slot()
    def new_dataset(self) -> DatasetDialog | None:
        if self.worker is None:
            return None
        dialog = DatasetDialog(self.worker, None, self)
        dialog.set_taken_names(d.name for d in self.model.datasets())
        dialog.saved.connect(self._on_saved)
        self._open(dialog)
        return dialog

    @Slot()
    def edit_selected(self) -> DatasetDialog | None:
        dataset = self.selected()
        if self.worker is None or dataset is None:
            return None
        dialog = DatasetDialog(self.worker, dataset, self)
        dialog.set_taken_names(d.name for d in self.model.datasets())
        dialog.saved.connect(self._on_saved)
        self._open(dialog)
        return dialog

    @Slot()
    def delete_selected(self) -> DeleteDatasetDialog | None:
        dataset = self.selected()
        if self.worker is None or dataset is None:
            return None
        dialog = DeleteDatasetDialog(self.worker, dataset, self)
        dialog.deleted.connect(self._on_deleted)
        self._open(dialog)
        return dialog

    @Slot(object)
    def _on_saved(self, dataset: Dataset) -> None:
        old = next((d for d in self.model.datasets() if d.id == dataset.id), None)
        if old is not None and dataset.audio_count is None:
            dataset = replace(dataset, audio_count=old.audio_count,
                              annotation_set_count=old.annotation_set_count)
        self.model.upsert(dataset)
        self.empty.setVisible(False)
        self.view.setVisible(True)
        self.select_dataset(dataset.id)
        self.dataset_selected.emit(dataset)

    @Slot(str)
    def _on_deleted(self, dataset_id: str) -> None:
        self.model.remove(dataset_id)
        if not self.model.rowCount():
            self.empty.setVisible(True)
            self.view.setVisible(False)
        self._on_selection()
