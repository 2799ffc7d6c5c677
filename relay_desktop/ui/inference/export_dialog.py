""""Export detections…": an inference job's detections as JSON, CSV, Audacity labels or
Raven selection tables (relay_desktop.core.detections_export, through the formats package).

The job is read again with its detections and the files are written on the API
thread; the dialog closes when they are on disk and says where.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from relay_desktop import formats
from relay_desktop.api import CancelToken, RelayClient
from relay_desktop.core.detections_export import (
    EXPORT_FORMATS,
    ExportResult,
    export_detections,
    must_split,
)
from relay_desktop.services.api_worker import Priority, RequestHandle
from relay_desktop.ui.errors import describe_error
from relay_desktop.ui.fit import grow_to_fit

if TYPE_CHECKING:
    from relay_desktop.services.context import AppContext

log = logging.getLogger(__name__)

CHOOSE = "Choose where to save first."
SPLIT_HINT = {
    "audacity": "An Audacity label track holds one audio file: one file per audio, "
                "named after it, in the folder you choose.",
    "raven": "One selection table for every file (with a Begin File column), or one per audio.",
    "json": "One file for every audio file (each detection names its file).",
    "csv": "One file for every audio file (each row names its file).",
}


class ExportDetectionsDialog(QDialog):
    """Choose format, scope and destination; write the detections.

    Signals:
        exported(object, str): the ExportResult and the format, once written.
    """

    exported = Signal(object, str)

    def __init__(self, context: AppContext, job_id: str, *,
                 selected_file_ids: Sequence[str] = (), default_name: str = "detections",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exportDetections")
        self.setWindowTitle("Export detections")
        self.context = context
        self.job_id = job_id
        self.selected_file_ids = list(selected_file_ids)
        self.default_name = default_name
        self.handle: RequestHandle | None = None
        self.export_result: ExportResult | None = None
        self.format_combo = QComboBox()
        self.format_combo.setObjectName("exportFormat")
        for fmt in EXPORT_FORMATS:
            self.format_combo.addItem(formats.LABELS[fmt], fmt)
        self.per_file = QCheckBox("One file per audio file")
        self.per_file.setObjectName("exportPerFile")
        self.split_hint = QLabel()
        self.split_hint.setObjectName("subtle")
        self.split_hint.setWordWrap(True)
        self.all_files = QRadioButton("Every completed file")
        self.only_selected = QRadioButton(
            f"Only the selected files ({len(self.selected_file_ids)})")
        self.only_selected.setEnabled(bool(self.selected_file_ids))
        self.all_files.setChecked(True)
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("exportPath")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        self.status = QLabel()
        self.status.setObjectName("exportStatus")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        self.path_label = QLabel("File:")
        form = QFormLayout()
        form.addRow("Format:", self.format_combo)
        form.addRow("", self.per_file)
        form.addRow("", self.split_hint)
        form.addRow("Detections of:", self.all_files)
        form.addRow("", self.only_selected)
        form.addRow(self.path_label, path_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(520, 0)
        self.format_combo.currentIndexChanged.connect(lambda _i: self._format_changed())
        self.per_file.toggled.connect(lambda _on: self._format_changed())
        self._format_changed()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        grow_to_fit(self)   # the wrapped hint needs its height

    def fmt(self) -> str:
        return str(self.format_combo.currentData())

    def set_format(self, fmt: str, *, per_file: bool | None = None) -> None:
        self.format_combo.setCurrentIndex(self.format_combo.findData(fmt))
        if per_file is not None and self.per_file.isEnabled():
            self.per_file.setChecked(per_file)

    def splits(self) -> bool:
        """True when the export goes one file per audio into a folder."""
        return must_split(self.fmt()) or (self.fmt() == "raven" and self.per_file.isChecked())

    def _format_changed(self) -> None:
        fmt = self.fmt()
        forced = must_split(fmt)
        self.per_file.blockSignals(True)
        if forced:
            self.per_file.setChecked(True)
        elif fmt != "raven":
            self.per_file.setChecked(False)
        self.per_file.setEnabled(fmt == "raven")
        self.per_file.blockSignals(False)
        self.split_hint.setText(SPLIT_HINT[fmt])
        if self.isVisible():
            grow_to_fit(self)
        self.path_label.setText("Folder:" if self.splits() else "File:")
        path = self.path_edit.text().strip()
        if path and not self.splits():
            self.path_edit.setText(_with_extension(path, fmt))

    def _browse(self) -> None:
        if self.splits():
            folder = QFileDialog.getExistingDirectory(self, "Export detections into a folder",
                                                      self.path_edit.text().strip())
            if folder:
                self.path_edit.setText(folder)
            return
        ext = formats.EXTENSIONS[self.fmt()]
        suggested = self.path_edit.text().strip() or f"{self.default_name}{ext}"
        path, _ = QFileDialog.getSaveFileName(
            self, "Export detections", suggested,
            f"{formats.LABELS[self.fmt()]} (*{ext});;All files (*)")
        if path:
            self.path_edit.setText(_with_extension(path, self.fmt()))

    def export(self) -> None:
        """Read the job's detections and write them (API thread); close when written."""
        dest = self.path_edit.text().strip()
        if not dest:
            self.status.setText(CHOOSE)
            return
        if self.handle is not None:
            return
        fmt, per_file, job_id = self.fmt(), self.splits(), self.job_id
        if not per_file:
            dest = _with_extension(dest, fmt)
        ids = list(self.selected_file_ids) if self.only_selected.isChecked() else None

        def run(client: RelayClient, cancel: CancelToken, _p: object) -> ExportResult:
            job = client.inference_jobs.get(job_id, cancel=cancel)
            return export_detections(job, fmt, dest, per_file=per_file, file_ids=ids)

        self.handle = self.context.worker.submit(run, priority=Priority.USER,
                                                 description="Exporting detections")
        self.buttons.setEnabled(False)
        self.status.setText("Writing…")
        self.handle.succeeded.connect(lambda result: self._written(result, fmt))
        self.handle.failed.connect(self._failed)

    def _written(self, result: ExportResult, fmt: str) -> None:
        self.handle = None
        self.buttons.setEnabled(True)
        self.export_result = result
        text = result.summary(fmt)
        log.info("%s", text)
        self.status.setText(text)
        self.exported.emit(result, fmt)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.handle = None
        self.buttons.setEnabled(True)
        reason = (f"the file could not be written ({exc})" if isinstance(exc, OSError)
                  else describe_error(exc))
        self.status.setText(f"Not exported: {reason}")
        grow_to_fit(self)


def _with_extension(path: str, fmt: str) -> str:
    """``path`` with its known format extension replaced by ``fmt``'s."""
    known = sorted(set(formats.EXTENSIONS.values()), key=len, reverse=True)
    lowered = path.lower()
    stem = next((path[: -len(ext)] for ext in known if lowered.endswith(ext.lower())), path)
    return stem + formats.EXTENSIONS[fmt]

