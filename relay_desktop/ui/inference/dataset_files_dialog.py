""""Add from dataset…": run an inference job over ready files already in a dataset.

Pick a dataset, tick its ready files (optionally choose an annotation set to see
how many labels each file has there, and tick only the labelled ones: those are
the files an evaluation can score), then add them with the Relay Local
``files/from-dataset`` extension; nothing is uploaded again.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.api import CancelToken, RelayClient
from relay_desktop.api.models import AnnotationSet, AudioFile, Dataset, InferenceFile
from relay_desktop.core.text import plural
from relay_desktop.services.api_worker import Priority, RequestHandle
from relay_desktop.ui.audio_list.format import format_duration
from relay_desktop.ui.errors import describe_error

if TYPE_CHECKING:
    from relay_desktop.services.context import AppContext

log = logging.getLogger(__name__)

COLUMNS = ("File", "Duration", "Labels")
NAME, DURATION, LABELS = range(3)
ID_ROLE = Qt.ItemDataRole.UserRole
MAX_PER_REQUEST = 1000
"""The extension takes 1-1000 ids per request."""


class DatasetFilesDialog(QDialog):
    """Choose ready dataset files for an inference job and add them.

    Signals:
        added(object): the new InferenceFiles (tuple), once the server has queued them.
        files_loaded(object): the dataset's ready files arrived (list[AudioFile]).
        labels_loaded(object): label counts by audio id for the chosen set (dict).
    """

    added = Signal(object)
    files_loaded = Signal(object)
    labels_loaded = Signal(object)

    def __init__(self, context: AppContext, job_id: str, *, job_name: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inferenceFromDataset")
        self.setWindowTitle("Add files from a dataset")
        self.context = context
        self.job_id = job_id
        self.files: list[AudioFile] = []
        self.label_counts: dict[str, int] = {}
        self._files_handle: RequestHandle | None = None
        self._labels_handle: RequestHandle | None = None
        self.add_handle: RequestHandle | None = None
        self.dataset_combo = QComboBox()
        self.dataset_combo.setObjectName("fromDatasetDataset")
        self.set_combo = QComboBox()
        self.set_combo.setObjectName("fromDatasetSet")
        self.set_combo.setToolTip("Show how many labels each file has in this annotation set")
        self.tree = QTreeWidget()
        self.tree.setObjectName("fromDatasetFiles")
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.tree.header().setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        self.all_button = QPushButton("All")
        self.none_button = QPushButton("None")
        self.labelled_button = QPushButton("Only labelled")
        self.labelled_button.setToolTip("Tick the files with labels in the chosen set")
        self.all_button.clicked.connect(lambda: self._tick(lambda _i: True))
        self.none_button.clicked.connect(lambda: self._tick(lambda _i: False))
        self.labelled_button.clicked.connect(
            lambda: self._tick(lambda item: self.label_counts.get(item.data(NAME, ID_ROLE),
                                                                  0) > 0))
        self.status = QLabel()
        self.status.setObjectName("fromDatasetStatus")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = self.buttons.addButton("Add files",
                                                 QDialogButtonBox.ButtonRole.AcceptRole)
        self.add_button.setObjectName("fromDatasetAdd")
        self.buttons.accepted.connect(self.add_checked)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Dataset:", self.dataset_combo)
        form.addRow("Labels from:", self.set_combo)
        ticks = QHBoxLayout()
        ticks.addWidget(QLabel("Tick:"))
        for b in (self.all_button, self.none_button, self.labelled_button):
            ticks.addWidget(b)
        ticks.addStretch(1)
        layout = QVBoxLayout(self)
        if job_name:
            layout.addWidget(QLabel(f"Inference job: {job_name}"))
        layout.addLayout(form)
        layout.addWidget(self.tree, 1)
        layout.addLayout(ticks)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(560, 480)
        self.tree.itemChanged.connect(lambda *_: self._update_count())
        self.dataset_combo.currentIndexChanged.connect(lambda _i: self._dataset_changed())
        self.set_combo.currentIndexChanged.connect(lambda _i: self._set_changed())
        self._load_datasets()

    # -- loading ----------------------------------------------------------------------

    def _load_datasets(self) -> None:
        self.status.setText("Loading datasets…")
        handle = self.context.worker.submit(
            lambda client, cancel, _p: list(client.datasets.iter_items(cancel=cancel)),
            priority=Priority.USER, description="Listing datasets")
        handle.succeeded.connect(self._datasets_loaded)
        handle.failed.connect(lambda exc: self.status.setText(describe_error(exc)))

    def _datasets_loaded(self, datasets: Sequence[Dataset]) -> None:
        self.dataset_combo.blockSignals(True)
        self.dataset_combo.clear()
        for dataset in datasets:
            self.dataset_combo.addItem(dataset.name, dataset.id)
        self.dataset_combo.blockSignals(False)
        if not datasets:
            self.status.setText("There are no datasets.")
        self._dataset_changed()

    def select_dataset(self, dataset_id: str) -> bool:
        """Choose ``dataset_id`` in the picker (False when it is not listed)."""
        index = self.dataset_combo.findData(dataset_id)
        if index >= 0:
            self.dataset_combo.setCurrentIndex(index)
        return index >= 0

    def select_set(self, set_id: str | None) -> bool:
        index = self.set_combo.findData(set_id)
        if index >= 0:
            self.set_combo.setCurrentIndex(index)
        return index >= 0

    def dataset_id(self) -> str | None:
        data = self.dataset_combo.currentData()
        return str(data) if data else None

    def _dataset_changed(self) -> None:
        dataset_id = self.dataset_id()
        self.tree.clear()
        self.files = []
        self.label_counts = {}
        self.set_combo.blockSignals(True)
        self.set_combo.clear()
        self.set_combo.addItem("(don't show labels)", None)
        self.set_combo.blockSignals(False)
        self._update_count()
        if dataset_id is None:
            return
        if self._files_handle is not None:
            self._files_handle.cancel()
        self.status.setText("Loading ready files…")

        def read(client: RelayClient, cancel: CancelToken, _p: object
                 ) -> tuple[list[AudioFile], list[AnnotationSet]]:
            files = list(client.audio.iter_items(dataset_id, processing_status="ready",
                                                 cancel=cancel))
            sets = list(client.annotation_sets.iter_items(dataset_id, cancel=cancel))
            return files, sets

        handle = self.context.worker.submit(read, priority=Priority.USER,
                                            description="Listing ready files")
        self._files_handle = handle
        handle.succeeded.connect(lambda result, h=handle: self._files_loaded(h, dataset_id,
                                                                             *result))
        handle.failed.connect(lambda exc: self.status.setText(describe_error(exc)))

    def _files_loaded(self, handle: RequestHandle, dataset_id: str, files: list[AudioFile],
                      sets: list[AnnotationSet]) -> None:
        if handle is not self._files_handle or dataset_id != self.dataset_id():
            return
        self._files_handle = None
        self.files = sorted(files, key=lambda f: f.filename.lower())
        self.set_combo.blockSignals(True)
        for item in sorted(sets, key=lambda s: -s.version):
            self.set_combo.addItem(f"v{item.version} ({item.status}, "
                                   f"{plural(item.total_annotations, 'label')})", item.id)
        self.set_combo.blockSignals(False)
        self.tree.blockSignals(True)
        for audio in self.files:
            row = QTreeWidgetItem([audio.filename, format_duration(audio.duration_ms), ""])
            row.setData(NAME, ID_ROLE, audio.id)
            row.setFlags(row.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            row.setCheckState(NAME, Qt.CheckState.Checked)
            row.setTextAlignment(DURATION, Qt.AlignmentFlag.AlignRight)
            row.setTextAlignment(LABELS, Qt.AlignmentFlag.AlignRight)
            self.tree.addTopLevelItem(row)
        self.tree.blockSignals(False)
        self.tree.resizeColumnToContents(DURATION)
        self._update_count()
        self.files_loaded.emit(list(self.files))

    def _set_changed(self) -> None:
        set_id = self.set_combo.currentData()
        dataset_id = self.dataset_id()
        self.label_counts = {}
        self._show_labels()
        if not set_id or dataset_id is None:
            return
        if self._labels_handle is not None:
            self._labels_handle.cancel()

        def count(client: RelayClient, cancel: CancelToken, _p: object) -> dict[str, int]:
            detail = client.annotation_sets.get(dataset_id, str(set_id), cancel=cancel)
            return dict(Counter(a.audio_file_id for a in detail.annotations))

        handle = self.context.worker.submit(count, priority=Priority.USER,
                                            description="Counting labels")
        self._labels_handle = handle
        handle.succeeded.connect(lambda counts, h=handle: self._labels_read(h, counts))
        handle.failed.connect(lambda exc: self.status.setText(describe_error(exc)))

    def _labels_read(self, handle: RequestHandle, counts: dict[str, int]) -> None:
        if handle is not self._labels_handle:
            return
        self._labels_handle = None
        self.label_counts = counts
        self._show_labels()
        self.labels_loaded.emit(dict(counts))

    def _show_labels(self) -> None:
        with_set = bool(self.set_combo.currentData())
        self.labelled_button.setEnabled(with_set)
        for item in self._items():
            n = self.label_counts.get(item.data(NAME, ID_ROLE), 0)
            item.setText(LABELS, str(n) if with_set else "")

    # -- ticking and adding -----------------------------------------------------------

    def _items(self) -> list[QTreeWidgetItem]:
        items = (self.tree.topLevelItem(row) for row in range(self.tree.topLevelItemCount()))
        return [item for item in items if item is not None]

    def _tick(self, keep: Callable[[QTreeWidgetItem], bool]) -> None:
        self.tree.blockSignals(True)
        for item in self._items():
            on = keep(item)
            item.setCheckState(NAME, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.tree.blockSignals(False)
        self._update_count()

    def set_checked(self, audio_ids: Sequence[str]) -> None:
        """Tick exactly ``audio_ids``."""
        wanted = set(audio_ids)
        self._tick(lambda item: item.data(NAME, ID_ROLE) in wanted)

    def checked_ids(self) -> list[str]:
        out = []
        for item in self._items():
            if item.checkState(NAME) == Qt.CheckState.Checked:
                out.append(str(item.data(NAME, ID_ROLE)))
        return out

    def _update_count(self) -> None:
        n = len(self.checked_ids())
        self.add_button.setText(f"Add {plural(n, 'file')}" if n else "Add files")
        self.add_button.setEnabled(n > 0 and self.add_handle is None)
        if self._files_handle is None and self.dataset_id() is not None:
            total = len(self.files)
            self.status.setText(f"{plural(total, 'ready file')} in this dataset."
                                if total else "This dataset has no ready files.")

    def add_checked(self) -> None:
        """Add the ticked files to the job; closes once the server has queued them."""
        ids = self.checked_ids()
        if not ids or self.add_handle is not None:
            return
        job_id = self.job_id

        def add(client: RelayClient, cancel: CancelToken, _p: object
                ) -> tuple[InferenceFile, ...]:
            out: list[InferenceFile] = []
            for start in range(0, len(ids), MAX_PER_REQUEST):
                out += client.inference_jobs.add_dataset_files(
                    job_id, ids[start:start + MAX_PER_REQUEST], cancel=cancel)
            return tuple(out)

        handle = self.context.worker.submit(add, priority=Priority.USER,
                                            description=f"Adding {len(ids)} dataset files")
        self.add_handle = handle
        self.add_button.setEnabled(False)
        self.status.setText(f"Adding {plural(len(ids), 'file')}…")
        handle.succeeded.connect(self._added)
        handle.failed.connect(self._add_failed)

    def _added(self, files: tuple[InferenceFile, ...]) -> None:
        self.add_handle = None
        log.info("Added %d dataset files to inference job %s", len(files), self.job_id)
        self.added.emit(files)
        self.accept()

    def _add_failed(self, exc: BaseException) -> None:
        self.add_handle = None
        self.status.setText(f"The files were not added. {describe_error(exc)}")
        self.add_button.setEnabled(bool(self.checked_ids()))
