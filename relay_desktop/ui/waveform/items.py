"""Fast pyqtgraph items for waveforms: a min/max envelope and raw samples with dots.

Envelopes are rasterised with numpy straight into ARGB images, one vertical
span per device pixel column (as Audacity draws): the rows every column covers
are one blit of a cached solid image, only the ragged rows above and below are
masked per pixel. The cost depends on the widget size, not on the data, so a
spiky hour-long envelope costs the same as a sine. Raw samples are a polyline
(plus points at extreme zoom). The view recomputes the arrays only when the
visible range changes.

Every shortcut here draws the very pixels Qt's own calls would (checked against
them pixel for pixel); anything outside what they cover falls back to those calls.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph import functions as fn
from PySide6.QtCore import QLineF, QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QImage,
    QPaintEngine,
    QPainter,
    QPen,
    QPolygonF,
    QTransform,
)


def _polygon(x: np.ndarray, y: np.ndarray) -> QPolygonF:
    poly = fn.create_qpolygonf(len(x))
    arr = fn.ndarray_from_qpolygonf(poly)
    arr[:, 0] = x
    arr[:, 1] = y
    return poly


CENTRE_LINE = QColor(255, 255, 255, 40)
_CENTRE_PEN = QPen(CENTRE_LINE)
_CENTRE_PEN.setCosmetic(True)


def premultiplied(color: QColor) -> np.uint32:
    """``color`` as one ARGB32-premultiplied pixel (channels rounded down)."""
    a = color.alpha()
    return np.uint32((a << 24) | ((color.red() * a // 255) << 16)
                     | ((color.green() * a // 255) << 8) | (color.blue() * a // 255))


_AXIS_ALIGNED = (QTransform.TransformationType.TxNone, QTransform.TransformationType.TxTranslate,
                 QTransform.TransformationType.TxScale)


def thin_solid(pen: QPen) -> bool:
    """Whether ``pen`` is a plain cosmetic pen at most 1 px wide (see :func:`draw_hlines`)."""
    return bool(pen.isCosmetic() and pen.widthF() <= 1.0
                and pen.style() == Qt.PenStyle.SolidLine
                and pen.brush().style() == Qt.BrushStyle.SolidPattern)


def _fast_lines_ok(painter: QPainter, pen: QPen, pen_ok: bool | None) -> bool:
    device = painter.device()
    return bool(
        device is not None and device.devicePixelRatioF() == 1.0
        and (thin_solid(pen) if pen_ok is None else pen_ok)
        and not painter.testRenderHint(QPainter.RenderHint.Antialiasing)
        and painter.compositionMode() == QPainter.CompositionMode.CompositionMode_SourceOver
        and painter.transform().type() in _AXIS_ALIGNED
        and painter.paintEngine().type() == QPaintEngine.Type.Raster)


def draw_hlines(painter: QPainter, ys: list[float], x0: float, x1: float, pen: QPen,
                pen_ok: bool | None = None) -> None:
    """``drawLine((x0, y), (x1, y))`` with ``pen`` for each ``y``: the same pixels, faster.

    Qt's raster engine blends a translucent 1-px cosmetic line one pixel at a time
    (~0.1 us a pixel: a full-width line cost more than a whole waveform). Without
    antialiasing such a line from device ``(xa, y)`` to ``(xb, y)`` covers row
    ``floor(y)`` from column ``floor(min)`` to ``floor(max)``, blended exactly as
    ``fillRect`` blends that colour, so that is what is drawn here. Anything else
    (antialiasing, wide or patterned pens, rotation, HiDPI, a non-raster device, a
    line reaching the device edge) is left to ``drawLine``. ``pen_ok``: the result of
    :func:`thin_solid` for ``pen``, when the caller keeps it.
    """
    if _fast_lines_ok(painter, pen, pen_ok):
        tr = painter.transform()
        device = painter.device()
        xa, xb = sorted((x0 * tr.m11() + tr.dx(), x1 * tr.m11() + tr.dx()))
        rows = [y * tr.m22() + tr.dy() for y in ys]
        if xa >= 0 and xb < device.width() and all(0 <= r < device.height() for r in rows):
            c0 = math.floor(xa)
            n = math.floor(xb) - c0 + 1
            color = pen.color()
            painter.save()
            painter.resetTransform()
            for r in rows:
                painter.fillRect(QRect(c0, math.floor(r), n, 1), color)
            painter.restore()
            return
    painter.setPen(pen)
    for y in ys:
        painter.drawLine(QLineF(x0, y, x1, y))


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
        self._envelopes: list[tuple[np.ndarray, np.ndarray]] = []  # x, [maxs, mins]
        self._lines: list[tuple[np.ndarray, np.ndarray]] = []
        self._dots: list[tuple[np.ndarray, np.ndarray]] = []
        self._rect = QRectF()
        self._centres: list[float] = []
        self._xspan = (0.0, 0.0)
        self._fixed: QRectF | None = None
        self._solid: QImage | None = None
        self._solid_color = np.uint32(0)
        self._solid_size = (0, 0)
        self._fill_pixel: np.uint32 | None = None
        self._pixels = np.empty(0, dtype=np.uint32)  # _blit_mask's buffer

    def set_bounds(self, rect: QRectF | None) -> None:
        """Fix the bounding rect (e.g. the whole file): updates then skip geometry changes."""
        self.prepareGeometryChange()
        self._fixed = rect
        if rect is None and self._envelopes:
            self._rect = self._envelope_rect()

    def _geometry_changing(self) -> None:
        if self._fixed is None:
            self.prepareGeometryChange()

    def set_color(self, color: str) -> None:
        self._color = QColor(color)
        self._fill = QColor(color)
        self._fill.setAlpha(235)
        self._fill_pixel = None
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
        for x, mins, maxs, offset in lanes:
            if len(x) == 0:
                continue
            ys = np.empty((2, len(x)), dtype=np.float64)
            ys[0] = maxs
            ys[1] = mins
            if offset:
                ys += offset
            self._envelopes.append((np.asarray(x, dtype=np.float64), ys))
        # with fixed bounds and a given span (every zoom of the view) the extent is unused
        need_rect = self._fixed is None or x_span is None
        self._rect = self._envelope_rect() if need_rect else QRectF()
        self._xspan = x_span or (self._rect.left(), self._rect.right())
        self.update()

    def _envelope_rect(self) -> QRectF:
        rect = QRectF()
        for x, ys in self._envelopes:
            end = float(x[-1]) + (float(x[-1] - x[-2]) if len(x) > 1 else 1e-9)
            low = float(ys[1].min())
            rect = rect.united(QRectF(float(x[0]), low, end - float(x[0]),
                                      float(ys[0].max()) - low))
        return rect

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
        if self._centres:
            draw_hlines(painter, self._centres, self._xspan[0], self._xspan[1],
                        _CENTRE_PEN, pen_ok=True)
        for env in self._envelopes:
            self._paint_envelope(painter, *env)
        if self._lines:
            pen = QPen(self._color)
            pen.setCosmetic(True)
            pen.setWidthF(1.0)
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
        if self._fill_pixel is None:
            self._fill_pixel = premultiplied(self._fill)
        return self._fill_pixel

    def _solid_image(self, width: int, height: int, color: np.uint32) -> QImage:
        """A reusable image of at least ``width`` x ``height`` filled with ``color``."""
        img = self._solid
        have_w, have_h = self._solid_size
        if img is None or have_w < width or have_h < height or self._solid_color != color:
            have_w, have_h = max(width, 64), max(height, 64)
            img = QImage(have_w, have_h, QImage.Format.Format_ARGB32_Premultiplied)
            img.fill(int(color))
            self._solid, self._solid_color, self._solid_size = img, color, (have_w, have_h)
        return img

    @staticmethod
    def _columns(tr: QTransform, width: int, height: int, x: np.ndarray,
                 ys: np.ndarray) -> tuple[int, np.ndarray, np.ndarray] | None:
        """Per device column from ``c0``: the first and last row of its span (inclusive).

        ``ys`` holds the maxs and the mins. Buckets are floored and clipped to rows
        first (both monotonic, so per-column extremes come out the same), and the
        per-column reduction and gap filling are skipped when not needed.
        """
        dev_x = x * tr.m11() + tr.dx()
        rows = ys * tr.m22()
        rows += tr.dy()
        np.floor(rows, out=rows)
        if tr.m22() > 0:  # y not flipped: the mins are on top
            rows = rows[::-1]
        rows = rows.clip(-1, height).astype(np.int16)
        cols = np.floor(dev_x).astype(np.int64)
        c0 = max(0, int(cols[0]))
        step = float(dev_x[1] - dev_x[0]) if len(dev_x) > 1 else 1.0
        c1 = min(width - 1, int(np.ceil(dev_x[-1] + step)) - 1)
        if c1 < c0:
            return None
        top, bottom = rows[0], rows[1]
        starts = np.flatnonzero(np.diff(cols, prepend=cols[0] - 1))
        if len(starts) < len(cols):
            cols = cols[starts]
            top = np.minimum.reduceat(top, starts)
            bottom = np.maximum.reduceat(bottom, starts)
        if not (len(cols) == c1 - c0 + 1 and cols[0] == c0 and cols[-1] == c1):
            columns = np.arange(c0, c1 + 1)
            which = np.clip(np.searchsorted(cols, columns, side="right") - 1, 0, len(cols) - 1)
            top, bottom = top[which], bottom[which]
        return c0, top, np.maximum(bottom, top)

    def _paint_envelope(self, painter: QPainter, x: np.ndarray, ys: np.ndarray) -> None:
        """One vertical span per device column, rasterised with numpy and blitted.

        Rows every column covers (the body of the waveform) are one blit of a solid
        image; only the ragged rows above and below it are masked per pixel.
        """
        tr = painter.transform()
        if tr.m12() or tr.m21():
            return  # never rotated in our plots
        device = painter.device()
        width, height = device.width(), device.height()
        spans = self._columns(tr, width, height, x, ys)
        if spans is None:
            return
        c0, col_top, col_bot = spans
        r0 = max(0, int(col_top.min()))
        r1 = min(height - 1, int(col_bot.max()))
        if r1 < r0:
            return
        color = self._premultiplied()
        n = len(col_top)
        core0 = max(r0, int(col_top.max()))
        core1 = min(r1, int(col_bot.min()))
        # QImage wraps numpy memory: a recording device (QPicture) must get its own copy
        copy = painter.paintEngine().type() == QPaintEngine.Type.Picture
        painter.save()
        painter.resetTransform()
        if core0 <= core1:
            painter.drawImage(QPoint(c0, core0), self._solid_image(n, core1 - core0 + 1, color),
                              QRect(0, 0, n, core1 - core0 + 1))
            if r0 < core0:  # above the body: row >= top (and <= bottom, as row < core0)
                rows = np.arange(r0, core0, dtype=np.int16)[:, None]
                self._blit_mask(painter, c0, r0, np.less_equal(col_top[None, :], rows),
                                color, copy)
            if core1 < r1:  # below it
                rows = np.arange(core1 + 1, r1 + 1, dtype=np.int16)[:, None]
                self._blit_mask(painter, c0, core1 + 1,
                                np.greater_equal(col_bot[None, :], rows), color, copy)
        else:
            # one unsigned compare per pixel: (row - top) as uint16 wraps below top
            rows = np.arange(r0, r1 + 1, dtype=np.int16)[:, None]
            offset = (rows - col_top[None, :]).view(np.uint16)
            mask = offset <= (col_bot - col_top).view(np.uint16)[None, :]
            self._blit_mask(painter, c0, r0, mask, color, copy)
        painter.restore()

    def _blit_mask(self, painter: QPainter, x: int, y: int, mask: np.ndarray,
                   color: np.uint32, copy: bool) -> None:
        """Blend ``color`` where ``mask`` is set, at device ``(x, y)``.

        The pixels go into a buffer kept between frames (a fresh megabyte each time
        costs page faults); drawImage is done with it before this returns.
        """
        rows, cols = mask.shape
        if self._pixels.size < rows * cols:
            self._pixels = np.empty(max(rows * cols, 1 << 16), dtype=np.uint32)
        pixels = self._pixels[: rows * cols].reshape(rows, cols)
        np.multiply(mask, color, out=pixels)
        image = QImage(pixels.data, cols, rows, cols * 4,
                       QImage.Format.Format_ARGB32_Premultiplied)
        painter.drawImage(QPoint(x, y), image.copy() if copy else image)
