"""ButtonRow: push buttons side by side, or in two rows when the row is too narrow.

A dock narrower than its buttons would otherwise scroll them out of sight (the
Review dock's Next button in a 1000x700 window with both side docks open).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QPushButton, QSizePolicy, QWidget

SPACING_PX = 6


class ButtonRow(QWidget):
    """``buttons`` in one row when they fit, else in two (the first half above).

    ``fill``: the buttons share the row's width; otherwise they keep their own width,
    packed to the left.
    """

    def __init__(self, buttons: Sequence[QPushButton], parent: QWidget | None = None,
                 fill: bool = True) -> None:
        super().__init__(parent)
        self.buttons = list(buttons)
        self._fill = fill
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(SPACING_PX)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._rows = 0
        self._arrange(1)

    def rows(self) -> int:
        """How many rows the buttons take now (1 or 2)."""
        return self._rows

    def _per_row(self, rows: int) -> int:
        return math.ceil(len(self.buttons) / rows) if self.buttons else 1

    def _width_for(self, rows: int) -> int:
        """The least width that keeps every button at its own width in ``rows`` rows."""
        per_row = self._per_row(rows)
        widths = [b.minimumSizeHint().width() for b in self.buttons]
        widest = 0
        for start in range(0, len(widths), per_row):
            chunk = widths[start:start + per_row]
            widest = max(widest, sum(chunk) + SPACING_PX * (len(chunk) - 1))
        return widest

    def _height_for(self, rows: int) -> int:
        button = max((b.sizeHint().height() for b in self.buttons), default=0)
        return rows * button + (rows - 1) * SPACING_PX

    def _rows_for(self, width: int) -> int:
        return 1 if width >= self._width_for(1) else 2

    def _arrange(self, rows: int) -> None:
        if rows == self._rows:
            return
        self._rows = rows
        per_row = self._per_row(rows)
        for button in self.buttons:
            self._grid.removeWidget(button)
        for i, button in enumerate(self.buttons):
            self._grid.addWidget(button, i // per_row, i % per_row)
        for column in range(len(self.buttons) + 1):
            if self._fill:
                self._grid.setColumnStretch(column, 1 if column < per_row else 0)
            else:   # an empty last column takes the room to spare
                self._grid.setColumnStretch(column, 1 if column == per_row else 0)
        self.updateGeometry()

    # the height follows the rows the width allows (set on resize), never the other way
    def sizeHint(self) -> QSize:
        return QSize(self._width_for(1), self._height_for(self._rows))

    def minimumSizeHint(self) -> QSize:
        return QSize(self._width_for(2), self._height_for(self._rows))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange(self._rows_for(event.size().width()))
