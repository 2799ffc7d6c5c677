"""Per-type precision/recall/F1 with counts, and an overall (micro-averaged) row."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from relay_desktop.core.evaluation import Scores

COLUMNS = ("Type", "Precision", "Recall", "F1", "TP", "FP", "FN", "Support")
OVERALL = "Overall"


def cells(name: str, s: Scores) -> list[str]:
    """The row's texts (ratios with three decimals)."""
    return [name, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(s.tp), str(s.fp),
            str(s.fn), str(s.support)]


class MetricsTable(QTableWidget):
    """One row per artifact type and a bold overall row at the bottom."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("evaluationMetrics")
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)

    def set_scores(self, overall: Scores | None, per_type: Mapping[str, Scores]) -> None:
        rows = [cells(t, s) for t, s in per_type.items()]
        if overall is not None:
            rows.append(cells(OVERALL, overall))
        self.setRowCount(len(rows))
        bold = QFont(self.font())
        bold.setBold(True)
        for r, texts in enumerate(rows):
            last = overall is not None and r == len(rows) - 1
            for c, text in enumerate(texts):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if last:
                    item.setFont(bold)
                self.setItem(r, c, item)

    def row_texts(self, name: str) -> list[str] | None:
        """The texts of the row named ``name`` (a type or "Overall"), or None."""
        for r in range(self.rowCount()):
            item = self.item(r, 0)
            if item is not None and item.text() == name:
                return [cell.text() if (cell := self.item(r, c)) is not None else ""
                        for c in range(self.columnCount())]
        return None
