"""Watching the paint events a widget receives (how often a view was really painted)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget


class PaintEvents(QObject):
    """Counts ``widget``'s paint events and calls ``on_paint`` (if given) at each."""

    def __init__(self, widget: QWidget, on_paint: Callable[[], None] | None = None) -> None:
        super().__init__(widget)
        self.count = 0
        self._widget = widget
        self._on_paint = on_paint
        widget.installEventFilter(self)

    def stop(self) -> None:
        self._widget.removeEventFilter(self)

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
            if self._on_paint is not None:
                self._on_paint()
        return False
