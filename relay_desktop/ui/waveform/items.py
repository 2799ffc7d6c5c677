"""Fast pyqtgraph items for waveforms: a min/max envelope and raw samples with dots.

Envelopes are rasterised with numpy straight into an ARGB image, one vertical
span per device pixel column (as Audacity draws), and blitted with a single
``drawImage``: the cost depends on the widget size, not on the data, so a
spiky hour-long envelope costs the same as a sine. Raw samples are a polyline
(plus points at extreme zoom). The view recomputes the arrays only when the
visible range changes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph import functions as fn
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF


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

    Signals:
        (none of its own)
    """

    def __init__(self, color: str = "#4fc3f7", parent: Any = None) -> None:
        super().__init__(parent)
        self._color = QColor(color)
        self._fill = QColor(color)
        self._fill.setAlpha(235)
        self._envelopes: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._lines: list[tuple[np.ndarray, np.ndarray]] = []
        self._dots: list[tuple[np.ndarray, np.ndarray]] = []
        self._rect = QRectF()
        self._centres: list[float] = []
        self._xspan = (0.0, 0.0)
        self._fixed: QRectF | None = None

    def set_bounds(self, rect: QRectF | None) -> None:
        """Fix the bounding rect (e.g. the whole file): updates then skip geometry changes."""
        self.prepareGeometryChange()
        self._fixed = rect

    def _geometry_changing(self) -> None:
        if self._fixed is None:
            self.prepareGeometryChange()

    def set_color(self, color: str) -> None:
        self._color = QColor(color)
        self._fill = QColor(color)
        self._fill.setAlpha(235)
        self.update()

    def clear(self) -> None:
        self._geometry_changing()
        self._envelopes, self._lines, self._dots, self._centres = [], [], [], []
        self._rect = QRectF()
        self.update()

    def _bounds(self, x: np.ndarray, lo: float, hi: float) -> QRectF:
        if len(x) == 0:
            return QRectF()
        return QRectF(float(x[0]), lo, float(x[-1] - x[0]) or 1e-9, hi - lo)

    def set_envelopes(self, lanes: list[tuple[np.ndarray, np.ndarray, np.ndarray, float]],
                      x_span: tuple[float, float] | None = None) -> None:
        """Envelopes (bucket start times, mins, maxs); each lane drawn around its ``y_offset``."""
        self._geometry_changing()
        self._lines, self._dots = [], []
        self._envelopes = []
        self._centres = [lane[3] for lane in lanes]
        rect = QRectF()
        for x, mins, maxs, offset in lanes:
            if len(x) == 0:
                continue
            self._envelopes.append((np.asarray(x, dtype=np.float64),
                                    np.asarray(mins, dtype=np.float64) + offset,
                                    np.asarray(maxs, dtype=np.float64) + offset))
            end = float(x[-1]) + (float(x[-1] - x[-2]) if len(x) > 1 else 1e-9)
            rect = rect.united(QRectF(float(x[0]), float(mins.min()) + offset,
                                      end - float(x[0]), float(maxs.max() - mins.min())))
        self._rect = rect
        self._xspan = x_span or (rect.left(), rect.right())
        self.update()

    def set_samples(self, lanes: list[tuple[np.ndarray, np.ndarray, float]], dots: bool,
                    x_span: tuple[float, float] | None = None) -> None:
        """Raw samples as a polyline per lane, with a dot per sample when ``dots``."""
        self._geometry_changing()
        self._envelopes, self._lines, self._dots = [], [], []
        self._centres = [lane[2] for lane in lanes]
        rect = QRectF()
        for x, values, offset in lanes:
            if len(x) == 0:
                continue
            xs = np.asarray(x, dtype=np.float64)
            ys = values.astype(np.float64) + offset
            self._lines.append((xs, ys))
            if dots:
                self._dots.append((xs, ys))
            rect = rect.united(self._bounds(x, float(ys.min()), float(ys.max())))
        self._rect = rect
        self._xspan = x_span or (rect.left(), rect.right())
        self.update()

    def boundingRect(self) -> QRectF:
        return self._fixed if self._fixed is not None else self._rect

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
        for env in self._envelopes:
            self._paint_envelope(painter, *env)
        if self._lines:
            # map to device pixels ourselves: at deep zoom the transform's huge offset
            # makes Qt's own point/line rasterising lose precision
            tr = painter.transform()
            painter.save()
            painter.resetTransform()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for xs, ys in self._lines:
                painter.drawPolyline(_polygon(xs * tr.m11() + tr.dx(), ys * tr.m22() + tr.dy()))
            if self._dots:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(self._color.lighter(130))
                for xs, ys in self._dots:
                    for px, py in zip(xs * tr.m11() + tr.dx(), ys * tr.m22() + tr.dy(),
                                      strict=True):
                        painter.drawEllipse(QPointF(px, py), 2.5, 2.5)
            painter.restore()

    def _premultiplied(self) -> np.uint32:
        c = self._fill
        a = c.alpha()
        return np.uint32((a << 24) | ((c.red() * a // 255) << 16) | ((c.green() * a // 255) << 8)
                         | (c.blue() * a // 255))

    def _paint_envelope(self, painter: QPainter, x: np.ndarray, lo: np.ndarray,
                        hi: np.ndarray) -> None:
        """One vertical span per device column, rasterised with numpy and blitted."""
        tr = painter.transform()
        if tr.m12() or tr.m21():
            return  # never rotated in our plots
        device = painter.device()
        width, height = device.width(), device.height()
        dev_x = x * tr.m11() + tr.dx()
        y_a = hi * tr.m22() + tr.dy()
        y_b = lo * tr.m22() + tr.dy()
        top = np.minimum(y_a, y_b)
        bottom = np.maximum(y_a, y_b)
        cols = np.floor(dev_x).astype(np.int64)
        c0 = max(0, int(cols[0]))
        step = float(dev_x[1] - dev_x[0]) if len(dev_x) > 1 else 1.0
        c1 = min(width - 1, int(np.ceil(dev_x[-1] + step)) - 1)
        if c1 < c0:
            return
        starts = np.flatnonzero(np.diff(cols, prepend=cols[0] - 1))
        ucols = cols[starts]
        top_u = np.minimum.reduceat(top, starts)
        bot_u = np.maximum.reduceat(bottom, starts)
        columns = np.arange(c0, c1 + 1)
        which = np.clip(np.searchsorted(ucols, columns, side="right") - 1, 0, len(ucols) - 1)
        col_top = np.clip(np.floor(top_u[which]), -1, height).astype(np.int64)
        col_bot = np.maximum(np.clip(np.floor(bot_u[which]), -1, height).astype(np.int64),
                             col_top)
        r0 = max(0, int(col_top.min()))
        r1 = min(height - 1, int(col_bot.max()))
        if r1 < r0:
            return
        # one unsigned compare per pixel: (row - top) as uint16 wraps below top
        rows = np.arange(r0, r1 + 1, dtype=np.int16)[:, None]
        offset = (rows - col_top.astype(np.int16)[None, :]).view(np.uint16)
        mask = offset <= (col_bot - col_top).astype(np.uint16)[None, :]
        pixels = mask.astype(np.uint32)
        pixels *= self._premultiplied()
        image = QImage(pixels.data, pixels.shape[1], pixels.shape[0], pixels.shape[1] * 4,
                       QImage.Format.Format_ARGB32_Premultiplied)
        painter.save()
        painter.resetTransform()
        painter.drawImage(QPointF(c0, r0), image)
        painter.restore()
