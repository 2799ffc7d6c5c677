"""File > Add audio files… / Add folder…: native dialogs that send files to the chosen dataset."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QWidget

from relay_desktop.api.models import Dataset
from relay_desktop.core.uploads.state import UploadTarget
from relay_desktop.ui.theme import icon

AUDIO_FILTER = ("Audio files (*.wav *.wave *.flac *.ogg *.oga *.opus *.mp3 *.aif *.aiff "
                "*.aifc *.au *.caf *.w64 *.rf64);;All files (*)")
NO_DATASET = "Select a dataset first: the files are added to the selected dataset."


def dataset_target(dataset: Dataset) -> UploadTarget:
    return UploadTarget("dataset", dataset.id, dataset.name)


class UploadActions(QObject):
    """The two File menu actions; disabled (with a tooltip saying why) without a dataset.

    ``add_files(paths)`` and ``add_folder(path)`` skip the dialog (tests, scripts).

    Signals:
        upload_requested(object, object): (list[Path], UploadTarget) the user chose.
    """

    upload_requested = Signal(object, object)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._parent = parent
        self.dataset: Dataset | None = None
        self.dialog: QFileDialog | None = None
        self.add_files_action = QAction(icon("add"), "Add &audio files…", parent)
        self.add_folder_action = QAction("Add a &folder of audio…", parent)
        self.add_files_action.triggered.connect(lambda: self.add_files())
        self.add_folder_action.triggered.connect(lambda: self.add_folder())
        self.set_dataset(None)

    @Slot(object)
    def set_dataset(self, dataset: Dataset | None) -> None:
        self.dataset = dataset
        for action, what in ((self.add_files_action, "audio files"),
                             (self.add_folder_action, "every audio file in a folder")):
            action.setEnabled(dataset is not None)
            action.setToolTip(f"Upload {what} to “{dataset.name}”" if dataset else NO_DATASET)
            action.setStatusTip(action.toolTip())

    def add_files(self, paths: Sequence[Path] | None = None) -> QFileDialog | None:
        """Upload ``paths`` to the selected dataset, or ask for them with a native dialog."""
        if self.dataset is None:
            return None
        if paths is not None:
            self._request(list(paths))
            return None
        dialog = self._dialog("Add audio files", QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilter(AUDIO_FILTER)
        dialog.filesSelected.connect(lambda files: self._request([Path(f) for f in files]))
        dialog.open()
        return dialog

    def add_folder(self, path: Path | None = None) -> QFileDialog | None:
        """Upload every audio file under ``path`` (recursively), or ask for the folder."""
        if self.dataset is None:
            return None
        if path is not None:
            self._request([path])
            return None
        dialog = self._dialog("Add a folder of audio", QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(lambda folder: self._request([Path(folder)]))
        dialog.open()
        return dialog

    def _dialog(self, title: str, mode: QFileDialog.FileMode) -> QFileDialog:
        if self.dialog is not None:
            self.dialog.close()
        dialog = QFileDialog(self._parent, title)
        dialog.setFileMode(mode)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.destroyed.connect(lambda _o=None: setattr(self, "dialog", None))
        self.dialog = dialog
        return dialog

    def _request(self, paths: list[Path]) -> None:
        if paths and self.dataset is not None:
            self.upload_requested.emit(paths, dataset_target(self.dataset))
