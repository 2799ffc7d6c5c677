"""A splitter that puts its panes side by side when wide and stacks them when narrow."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QSplitter, QWidget

#: at least this wide (pixels), the panes sit side by side
SIDE_BY_SIDE_PX = 640


class AdaptiveSplitter(QSplitter):
    """Side by side in a wide dock (under the editor), stacked in a narrow one (at a side).

    Only the width decides: a panel in a scroll area may grow taller than its dock, so
    the height says nothing about the room there is. Each time the orientation flips,
    the panes get ``shares`` of the new extent.
    """

    def __init__(self, shares: Sequence[float] = (0.6, 0.4), parent: QWidget | None = None,
                 *, side_by_side_px: int = SIDE_BY_SIDE_PX) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.setChildrenCollapsible(False)
        self._shares = tuple(shares)
        self._side_by_side_px = side_by_side_px
        self._laid_out = False

    def resizeEvent(self, event: QResizeEvent) -> None:
        size = event.size()
        wide = size.width() >= self._side_by_side_px
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if orientation != self.orientation() or not self._laid_out:
            self._laid_out = True
            self.setOrientation(orientation)
            extent = size.width() if wide else size.height()
            self.setSizes([int(extent * share) for share in self._shares])
        super().resizeEvent(event)
