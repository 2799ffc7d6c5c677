"""ReviewQueueModel: a ReviewQueue as a table (file, type, confidence, start, end, decision).

Rows are read from the queue on demand, so 5,000 detections cost only the rows shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from relay_desktop.core.audio.timefmt import format_time
from relay_desktop.core.review.queue import ACCEPTED, REJECTED, Key, ReviewQueue

COLUMNS = ("File", "Type", "Confidence", "Start", "End", "Decision")
DECISION_COLORS = {ACCEPTED: "#81c784", REJECTED: "#e57373"}
Index = QModelIndex | QPersistentModelIndex


class ReviewQueueModel(QAbstractTableModel):
    """The visible items of a queue, in its order.

    Signals:
        (QAbstractTableModel's only)
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.queue: ReviewQueue | None = None
        self.filenames: dict[str, str] = {}

    def set_queue(self, queue: ReviewQueue | None, filenames: Mapping[str, str]) -> None:
        self.beginResetModel()
        self.queue = queue
        self.filenames = dict(filenames)
        self.endResetModel()

    def reset(self) -> None:
        """The queue's order or filter changed."""
        self.beginResetModel()
        self.endResetModel()

    def item_changed(self, key: Key) -> None:
        row = self.queue.row_of(key) if self.queue is not None else None
        if row is not None:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() or self.queue is None else len(self.queue)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if self.queue is None or not index.isValid():
            return None
        item = self.queue.at(index.row())
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return self.filenames.get(item.file_id, item.file_id)
            if col == 1:
                changed = item.artifact_type != item.detection.artifact_type
                return f"{item.artifact_type}*" if changed else item.artifact_type
            if col == 2:
                return f"{item.confidence:.2f}"
            if col == 3:
                return format_time(item.start_ms / 1000)
            if col == 4:
                return format_time(item.end_ms / 1000)
            return item.decision
        if role == Qt.ItemDataRole.ForegroundRole and col == 5:
            color = DECISION_COLORS.get(item.decision)
            return QColor(color) if color else None
        if role == Qt.ItemDataRole.ToolTipRole and col == 1 and (
                item.artifact_type != item.detection.artifact_type):
            return f"Relabelled from {item.detection.artifact_type}"
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (2, 3, 4):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
