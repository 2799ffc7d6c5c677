"""Confirm deleting a dataset, naming how many audio files and annotation sets go with it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.api.models import Dataset
from relay_desktop.services.api_worker import ApiWorker, Priority
from relay_desktop.ui.errors import describe_error
from relay_desktop.ui.fit import grow_to_fit


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def loss_sentence(name: str, audio: int, sets: int) -> str:
    """'Deleting “X” permanently removes 3 audio files and 1 annotation set…'."""
    return (f"Deleting “{name}” permanently removes {_plural(audio, 'audio file', 'audio files')} "
            f"and {_plural(sets, 'annotation set', 'annotation sets')}, with every label in "
            "them. This cannot be undone.")


class DeleteDatasetDialog(QDialog):
    """Counts what would be lost (asking the server when the list lacked counts), then deletes.

    Signals:
        deleted(str): the id of the dataset the server deleted.
    """

    deleted = Signal(str)

    def __init__(self, worker: ApiWorker, dataset: Dataset, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.dataset = dataset
        self.setObjectName("deleteDatasetDialog")
        self.setWindowTitle("Delete dataset")
        self.message = QLabel(self)
        self.message.setObjectName("deleteMessage")
        self.message.setWordWrap(True)
        self.error = QLabel(self)
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.delete_button = QPushButton("Delete dataset", self)
        self.delete_button.setObjectName("deleteButton")
        self.delete_button.setEnabled(False)
        self.buttons.addButton(self.delete_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        self.buttons.rejected.connect(self.reject)
        self.delete_button.clicked.connect(self.confirm)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(440)
        self.counts: tuple[int, int] | None = None
        if dataset.audio_count is not None and dataset.annotation_set_count is not None:
            self._show_counts((dataset.audio_count, dataset.annotation_set_count))
        else:
            self.message.setText(f"Counting what “{dataset.name}” contains…")
            dataset_id = dataset.id

            def count(client: Any, _c: Any, _p: Any) -> tuple[int, int]:
                audio = client.audio.list(dataset_id, page=1, page_size=1)
                sets = client.annotation_sets.list(dataset_id)
                return (audio.total if audio.total is not None else len(audio.items),
                        sets.total if sets.total is not None else len(sets.items))

            handle = worker.submit(count, description="Counting dataset contents")
            handle.succeeded.connect(self._show_counts)
            handle.failed.connect(self._on_failed)

    @Slot(object)
    def _show_counts(self, counts: tuple[int, int]) -> None:
        self.counts = counts
        self.message.setText(loss_sentence(self.dataset.name, *counts))
        self.delete_button.setEnabled(True)
        self._fit_text()

    def _fit_text(self) -> None:
        """Grow to show all of the (wrapped) text that replaced a shorter one."""
        grow_to_fit(self)

    @Slot()
    def confirm(self) -> None:
        dataset_id = self.dataset.id
        self.delete_button.setEnabled(False)
        handle = self.worker.submit(lambda c, _x, _p: c.datasets.delete(dataset_id),
                                    priority=Priority.USER,
                                    description=f"Deleting dataset {self.dataset.name}")
        handle.succeeded.connect(self._on_deleted)
        handle.failed.connect(self._on_failed)

    @Slot(object)
    def _on_deleted(self, _result: object) -> None:
        self.deleted.emit(self.dataset.id)
        self.accept()

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        self.error.setText(describe_error(exc))
        self.error.setVisible(True)
        self.delete_button.setEnabled(self.counts is not None)
        self._fit_text()
