"""The files of one inference job as a table: name, status, duration, detections, error."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from relay_desktop.api.models import InferenceFile
from relay_desktop.ui.audio_list.format import format_duration

COLUMNS = ("File", "Status", "Duration", "Detections", "Error")
NAME, STATUS, DURATION, DETECTIONS, ERROR = range(5)
FILE_ROLE = Qt.ItemDataRole.UserRole
STATUS_TEXT = {"pending": "waiting for upload", "queued": "queued",
               "processing": "processing…", "completed": "done", "failed": "failed",
               "cancelled": "cancelled"}
_STATUS_COLORS = {"failed": QColor("#d9534f"), "cancelled": QColor("#8a8f98"),
                  "completed": QColor("#4caf50")}

_Index = QModelIndex | QPersistentModelIndex


def source_text(file: InferenceFile) -> str:
    """Where a file came from, for its tooltip."""
    if file.source_audio_id:
        return f"From dataset audio {file.source_audio_id}"
    return "Uploaded"


class InferenceFilesModel(QAbstractTableModel):
    """Rows are InferenceFiles in the job's order; :meth:`set_files` updates in place."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.files: list[InferenceFile] = []
        self._rows: dict[str, int] = {}

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.files)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        file = self.files[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(file, col)
        if role == FILE_ROLE:
            return file
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == ERROR and file.error_message:
                return file.error_message
            if col == NAME:
                return f"{file.original_filename}\n{source_text(file)}"
            return None
        if role == Qt.ItemDataRole.ForegroundRole and col == STATUS:
            return _STATUS_COLORS.get(file.status)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (DURATION, DETECTIONS):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _text(file: InferenceFile, col: int) -> str:
        if col == NAME:
            return file.original_filename
        if col == STATUS:
            return STATUS_TEXT.get(file.status, file.status)
        if col == DURATION:
            return format_duration(file.duration_ms)
        if col == DETECTIONS:
            return str(file.detection_count) if file.status == "completed" else ""
        if col == ERROR:
            return " ".join((file.error_message or "").split())
        return ""

    def set_files(self, files: Sequence[InferenceFile]) -> None:
        """Take the job's latest files: changed rows update, new ones are appended, and a
        different set of files resets the table."""
        ids = [f.id for f in files]
        if ids[: len(self.files)] != [f.id for f in self.files]:
            self.beginResetModel()
            self.files = list(files)
            self._rows = {f.id: i for i, f in enumerate(self.files)}
            self.endResetModel()
            return
        for row, file in enumerate(files[: len(self.files)]):
            if file != self.files[row]:
                self.files[row] = file
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        extra = list(files[len(self.files):])
        if extra:
            first = len(self.files)
            self.beginInsertRows(QModelIndex(), first, first + len(extra) - 1)
            self.files.extend(extra)
            self._rows.update({f.id: first + i for i, f in enumerate(extra)})
            self.endInsertRows()

    def update_file(self, file: InferenceFile) -> None:
        """One file's newer state (a file not in the table is appended)."""
        row = self._rows.get(file.id)
        if row is None:
            self.set_files([*self.files, file])
            return
        if self.files[row] != file:
            self.files[row] = file
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def file_at(self, row: int) -> InferenceFile | None:
        return self.files[row] if 0 <= row < len(self.files) else None

    def row_of(self, file_id: str) -> int:
        return self._rows.get(file_id, -1)
