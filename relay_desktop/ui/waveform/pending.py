"""PendingBand: the not-yet-decoded part of a file, drawn as a hatched grey band.

While a file decodes, the waveform plots show what is decoded and, from the
decoded edge to the end, this band: a subtle hatch with a thin bright edge
where decoding has reached ("decoding…"). A cancelled decode leaves the band
without the edge, labelled "not decoded".
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen

HATCH = QColor(150, 160, 175, 60)
FILL = QColor(120, 128, 140, 28)
EDGE = QColor("#7fb3e0")
TEXT = QColor(200, 206, 214, 170)


class PendingBand(pg.GraphicsObject):
    """A hatched band over ``[start_s, end_s]`` in a plot's data coordinates (x: seconds).

    Signals:
        (none beyond QGraphicsObject's)
    """

    def __init__(self, y_bounds: tuple[float, float] = (-1.05, 1.05), label: bool = True,
                 parent: Any = None) -> None:
        super().__init__(parent)
        self._y = y_bounds
        self._span: tuple[float, float] | None = None
        self._decoding = True
        self._label = label
        self.setZValue(5)
        self.hide()

    def set_y_bounds(self, low: float, high: float) -> None:
        self.prepareGeometryChange()
        self._y = (low, high)
        self.update()

    def set_span(self, start_s: float, end_s: float, decoding: bool = True) -> None:
        """Mark ``[start_s, end_s]`` as not decoded (``decoding``: with the progress edge)."""
        if end_s <= start_s:
            self.clear()
            return
        if self._span != (start_s, end_s) or self._decoding != decoding or not self.isVisible():
            self.prepareGeometryChange()
            self._span = (float(start_s), float(end_s))
            self._decoding = decoding
            self.show()
            self.update()

    def clear(self) -> None:
        """Nothing is pending (the band hides)."""
        if self._span is not None:
            self.prepareGeometryChange()
            self._span = None
        self.hide()

    def span(self) -> tuple[float, float] | None:
        """The pending range in seconds, or None."""
        return self._span if self.isVisible() else None

    @property
    def decoding(self) -> bool:
        return self._decoding

    def boundingRect(self) -> QRectF:
        if self._span is None:
            return QRectF()
        a, b = self._span
        lo, hi = self._y
        return QRectF(a, lo, b - a, hi - lo)

    def paint(self, painter: QPainter, *_args: Any) -> None:
        if self._span is None:
            return
        # patterns and pens are drawn in device pixels: map the band, then paint unscaled
        device = painter.transform().mapRect(self.boundingRect())
        painter.save()
        painter.resetTransform()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.fillRect(device, FILL)
        painter.fillRect(device, QBrush(HATCH, Qt.BrushStyle.BDiagPattern))
        left = device.left()
        if self._decoding:
            painter.setPen(QPen(EDGE, 2))
            painter.drawLine(QPointF(left, device.top()), QPointF(left, device.bottom()))
        if self._label and device.width() > 90:
            painter.setPen(TEXT)
            text = "decoding…" if self._decoding else "not decoded"
            painter.drawText(QPointF(left + 6, device.top() + 14), text)
        painter.restore()


__all__ = ["PendingBand"]
