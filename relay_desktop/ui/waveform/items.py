"""Fast pyqtgraph items for waveforms: a min/max envelope and raw samples with dots.

Both draw precomputed arrays with one QPainter call (a filled path, a polyline,
points); the view recomputes the arrays only when the visible range changes,
so a repaint never touches more than a few thousand points.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph import functions as fn
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPolygonF


def _polygon(x: np.ndarray, y: np.ndarray) -> QPolygonF:
    poly = fn.create_qpolygonf(len(x))
    arr = fn.ndarray_from_qpolygonf(poly)
    arr[:, 0] = x
    arr[:, 1] = y
    return poly


class WaveItem(pg.GraphicsObject):
    """Draws lanes of min/max envelopes (filled) or raw samples (line + optional dots).

    ``set_envelopes([(x_s, mins, maxs, y_offset), ...])`` or
    ``set_samples([(x_s, values, y_offset), ...], dots)``; ``clear()``.
    """

    def __init__(self, color: str = "#4fc3f7", parent: Any = None) -> None:
        super().__init__(parent)
        self._color = QColor(color)
        self._fill = QColor(color)
        self._fill.setAlpha(235)
        self._paths: list[QPainterPath] = []
        self._lines: list[QPolygonF] = []
        self._dots: list[QPolygonF] = []
        self._rect = QRectF()
        self._centres: list[float] = []
        self._xspan = (0.0, 0.0)

    def set_color(self, color: str) -> None:
        self._color = QColor(color)
        self._fill = QColor(color)
        self._fill.setAlpha(235)
        self.update()

    def clear(self) -> None:
        self.prepareGeometryChange()
        self._paths, self._lines, self._dots, self._centres = [], [], [], []
        self._rect = QRectF()
        self.update()

    def _bounds(self, x: np.ndarray, lo: float, hi: float) -> QRectF:
        if len(x) == 0:
            return QRectF()
        return QRectF(float(x[0]), lo, float(x[-1] - x[0]) or 1e-9, hi - lo)

    def set_envelopes(self, lanes: list[tuple[np.ndarray, np.ndarray, np.ndarray, float]],
                      x_span: tuple[float, float] | None = None) -> None:
        """Filled envelopes; each lane is drawn around its ``y_offset``."""
        self.prepareGeometryChange()
        self._paths, self._lines, self._dots = [], [], []
        self._centres = [lane[3] for lane in lanes]
        rect = QRectF()
        for x, mins, maxs, offset in lanes:
            if len(x) == 0:
                continue
            if len(x) == 1:
                x = np.array([x[0], x[0] + 1e-9])
                mins, maxs = np.repeat(mins, 2), np.repeat(maxs, 2)
            xs = np.concatenate([x, x[::-1]])
            ys = np.concatenate([maxs, mins[::-1]]).astype(np.float64) + offset
            path = QPainterPath()
            path.addPolygon(_polygon(xs, ys))
            path.closeSubpath()
            self._paths.append(path)
            rect = rect.united(self._bounds(x, float(mins.min()) + offset,
                                            float(maxs.max()) + offset))
        self._rect = rect
        self._xspan = x_span or (rect.left(), rect.right())
        self.update()

    def set_samples(self, lanes: list[tuple[np.ndarray, np.ndarray, float]], dots: bool,
                    x_span: tuple[float, float] | None = None) -> None:
        """Raw samples as a polyline per lane, with a dot per sample when ``dots``."""
        self.prepareGeometryChange()
        self._paths, self._lines, self._dots = [], [], []
        self._centres = [lane[2] for lane in lanes]
        rect = QRectF()
        for x, values, offset in lanes:
            if len(x) == 0:
                continue
            ys = values.astype(np.float64) + offset
            poly = _polygon(x, ys)
            self._lines.append(poly)
            if dots:
                self._dots.append(poly)
            rect = rect.united(self._bounds(x, float(ys.min()), float(ys.max())))
        self._rect = rect
        self._xspan = x_span or (rect.left(), rect.right())
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._rect

    def paint(self, painter: QPainter, *_args: Any) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        pen = QPen(self._color)
        pen.setCosmetic(True)
        pen.setWidthF(1.0)
        if self._centres:
            axis_pen = QPen(QColor(255, 255, 255, 40))
            axis_pen.setCosmetic(True)
            painter.setPen(axis_pen)
            for y in self._centres:
                painter.drawLine(QPointF(self._xspan[0], y), QPointF(self._xspan[1], y))
        if self._paths:
            painter.setPen(pen)
            painter.setBrush(QBrush(self._fill))
            for path in self._paths:
                painter.drawPath(path)
        if self._lines:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for line in self._lines:
                painter.drawPolyline(line)
            if self._dots:
                dot = QPen(self._color.lighter(130))
                dot.setCosmetic(True)
                dot.setWidthF(5.0)
                dot.setCapStyle(Qt.PenCapStyle.RoundCap)
                painter.setPen(dot)
                for pts in self._dots:
                    painter.drawPoints(pts)
