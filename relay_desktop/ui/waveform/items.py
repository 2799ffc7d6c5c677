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


def _hline_rects(tr: QTransform, width: int, height: int, ys: list[float], x0: float,
                 x1: float) -> list[QRect] | None:
    """The device rows :func:`draw_hlines` fills for its fast path.

    None when a line reaches an edge or is shorter than a pixel (Qt may draw
    nothing for it): those are left to ``drawLine``.
    """
    xa, xb = sorted((x0 * tr.m11() + tr.dx(), x1 * tr.m11() + tr.dx()))
    rows = [y * tr.m22() + tr.dy() for y in ys]
    if not (xa >= 0 and xb < width and xb - xa >= 1.0
            and all(0 <= r < height for r in rows)):
        return None
    c0 = math.floor(xa)
    n = math.floor(xb) - c0 + 1
    return [QRect(c0, math.floor(r), n, 1) for r in rows]


def draw_hlines(painter: QPainter, ys: list[float], x0: float, x1: float, pen: QPen,
                pen_ok: bool | None = None) -> None:
    """``drawLine((x0, y), (x1, y))`` with ``pen`` for each ``y``: the same pixels, faster.

    Qt's raster engine blends a translucent 1-px cosmetic line one pixel at a time
    (~0.1 us a pixel: a full-width line cost more than a whole waveform). Without
    antialiasing such a line from device ``(xa, y)`` to ``(xb, y)`` covers row
    ``floor(y)`` from column ``floor(min)`` to ``floor(max)``, blended exactly as
    ``fillRect`` blends that colour, so that is what is drawn here. Anything else
    (antialiasing, wide or patterned pens, rotation, HiDPI, a non-raster device, a
    line reaching the device edge or shorter than a pixel) is left to ``drawLine``.
    ``pen_ok``: the result of :func:`thin_solid` for ``pen``, when the caller keeps it.
    """
    if _fast_lines_ok(painter, pen, pen_ok):
        device = painter.device()
        rects = _hline_rects(painter.transform(), device.width(), device.height(), ys, x0, x1)
        if rects is not None:
            color = pen.color()
            painter.save()
            painter.resetTransform()
            for rect in rects:
                painter.fillRect(rect, color)
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
        self._buffers: _Scratch | None = None  # the ragged rows' pixels, kept between frames

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
        if self._envelopes:
            self._paint_envelopes(painter)
        elif self._centres:
            draw_hlines(painter, self._centres, self._xspan[0], self._xspan[1],
                        _CENTRE_PEN, pen_ok=True)
        if self._lines:
            self._paint_lines(painter)

    def _paint_lines(self, painter: QPainter) -> None:
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

    def _scratch(self, width: int, height: int) -> _Scratch:
        """Buffers for the ragged rows of at least ``width`` x ``height`` pixels."""
        scratch = self._buffers
        if scratch is None or scratch.width < width or scratch.height < height:
            scratch = self._buffers = _Scratch(max(width, 64), max(height, 64))
        return scratch

    def _paint_envelopes(self, painter: QPainter) -> None:
        """The centre lines, then each lane's envelope, under one device-pixel transform.

        The same pixels as :func:`draw_hlines` and one :meth:`_blit_envelope` per lane
        (skipped when rotated: never in our plots), with one save/restore for them all.
        """
        tr = painter.transform()
        device = painter.device()
        engine = painter.paintEngine().type()
        width, height = device.width(), device.height()
        x0, x1 = self._xspan
        rects = None
        if _fast_lines_ok(painter, _CENTRE_PEN, pen_ok=True):
            rects = _hline_rects(tr, width, height, self._centres, x0, x1)
        if rects is None:
            draw_hlines(painter, self._centres, x0, x1, _CENTRE_PEN, pen_ok=True)
        if tr.m12() or tr.m21():
            return
        painter.save()
        painter.resetTransform()
        for rect in rects or ():
            painter.fillRect(rect, CENTRE_LINE)
        # QImage wraps numpy memory: a recording device (QPicture) must get its own copy
        copy = engine == QPaintEngine.Type.Picture
        for x, ys in self._envelopes:
            self._blit_envelope(painter, tr, width, height, x, ys, copy)
        painter.restore()

    @staticmethod
    def _columns(tr: QTransform, width: int, height: int, x: np.ndarray,
                 ys: np.ndarray) -> tuple[int, np.ndarray, np.ndarray] | None:
        """Per device column from ``c0``: the first and last row of its span (inclusive).

        ``ys`` holds the maxs and the mins. Buckets are floored and clipped to rows
        first (both monotonic, so per-column extremes come out the same). A column
        takes the extremes of the buckets starting in it, or else those of the
        nearest column left of it that has some: only that column's buckets are
        kept left of ``c0`` (they go to slot 0), none right of the last column.
        """
        m11, dx = tr.m11(), tr.dx()
        first = float(x[0]) * m11 + dx
        step = float(x[1]) * m11 + dx - first if len(x) > 1 else 1.0
        c0 = max(0, math.floor(first))
        c1 = min(width - 1, math.ceil(float(x[-1]) * m11 + dx + step) - 1)
        if c1 < c0:
            return None
        cols = x * m11
        cols += dx
        np.floor(cols, out=cols)
        i0, i1 = _bucket_range(cols, c0, c1)
        index = np.empty(i1 - i0, dtype=np.intp)  # slot 0: the buckets left of c0, if kept
        np.subtract(cols[i0:i1], c0 - 1, out=index, casting="unsafe")
        np.maximum(index, 0, out=index)
        rows = ys[:, i0:i1] * tr.m22()
        rows += tr.dy()
        np.floor(rows, out=rows)
        rows = rows.clip(-1, height).astype(np.int16)
        if tr.m22() > 0:  # y not flipped: the mins are on top
            rows = rows[::-1]
        n = c1 - c0 + 2
        top, bottom = np.full(n, _EMPTY, dtype=np.int16), np.full(n, -1, dtype=np.int16)
        np.minimum.at(top, index, rows[0])
        np.maximum.at(bottom, index, rows[1])
        if top[1:].max() == _EMPTY:  # columns without buckets repeat the one before
            index = np.where(top != _EMPTY, np.arange(n), 0)
            np.maximum.accumulate(index, out=index)
            top, bottom = top[index], bottom[index]
        top = top[1:]
        return c0, top, np.maximum(bottom[1:], top)

    def _blit_envelope(self, painter: QPainter, tr: QTransform, width: int, height: int,
                       x: np.ndarray, ys: np.ndarray, copy: bool) -> None:
        """One vertical span per device column, rasterised with numpy and blitted.

        Rows every column covers (the body of the waveform) are one blit of a solid
        image; only the ragged rows above and below it are masked per pixel, into
        buffers kept between frames. ``painter`` draws in device pixels.
        """
        columns = self._columns(tr, width, height, x, ys)
        if columns is None:
            return
        c0, top, bottom = columns
        r0 = max(0, int(top.min()))
        r1 = min(height - 1, int(bottom.max()))
        if r1 < r0:
            return
        color = self._premultiplied()
        n = len(top)
        core0, core1 = max(r0, int(top.max())), min(r1, int(bottom.min()))
        scratch = self._scratch(n, height)
        rows = scratch.rows
        if core0 > core1:
            # one unsigned compare per pixel: (row - top) as uint16 wraps below the top
            offsets = np.subtract(rows[r0:r1 + 1], top).view(np.uint16)
            lengths = (bottom - top).view(np.uint16)
            scratch.mask(0, r1 + 1 - r0, n, np.less_equal, offsets, lengths, color)
            scratch.blit(painter, c0, r0, 0, n, r1 + 1 - r0, copy)
            return
        painter.drawImage(QPoint(c0, core0), self._solid_image(n, core1 - core0 + 1, color),
                          QRect(0, 0, n, core1 - core0 + 1))
        above, below = core0 - r0, r1 - core1
        if above:  # row >= top (and <= bottom, as row < core0)
            scratch.mask(0, above, n, np.less_equal, top, rows[r0:core0], color)
            scratch.blit(painter, c0, r0, 0, n, above, copy)
        if below:  # below it: row <= bottom
            scratch.mask(above, below, n, np.greater_equal, bottom, rows[core1 + 1:r1 + 1], color)
            scratch.blit(painter, c0, core1 + 1, above, n, below, copy)

_EMPTY = np.iinfo(np.int16).max  # a column no bucket starts in (rows are clipped to the device)


def _bucket_range(cols: np.ndarray, c0: int, c1: int) -> tuple[int, int]:
    """The buckets (sorted floored columns ``cols``) that columns ``c0``..``c1`` take.

    Those starting in them and, when none starts in ``c0``, all of those starting in
    the last column left of it.
    """
    i1 = int(np.searchsorted(cols, c1, side="right"))
    i0 = int(np.searchsorted(cols, c0, side="left"))
    if i0 and (i0 == i1 or cols[i0] > c0):
        i0 = int(np.searchsorted(cols, cols[i0 - 1], side="left"))
    return i0, i1


class _Scratch:
    """A pixel buffer for the ragged rows, an image wrapping it, and row numbers."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = np.empty((height, width), dtype=np.uint32)
        self.rows = np.arange(height, dtype=np.int16)[:, None]
        self.image = QImage(self.pixels.data, width, height, width * 4,
                            QImage.Format.Format_ARGB32_Premultiplied)

    def mask(self, at: int, k: int, n: int, compare: np.ufunc, a: np.ndarray, b: np.ndarray,
             color: np.uint32) -> None:
        """Buffer rows ``at`` to ``at + k``: ``color`` where ``compare(a, b)`` (broadcast to
        ``k`` x ``n``), transparent elsewhere."""
        pixels = self.pixels[at:at + k, :n]
        compare(a, b, out=pixels, casting="unsafe")  # 0 or 1
        np.multiply(pixels, color, out=pixels)

    def blit(self, painter: QPainter, x: int, y: int, row: int, n: int, k: int,
             copy: bool) -> None:
        """Draw the buffer's ``n`` x ``k`` pixels from ``(0, row)`` at device ``(x, y)``."""
        source = QRect(0, row, n, k)
        if copy:
            painter.drawImage(QPoint(x, y), self.image.copy(source))
        else:
            painter.drawImage(QPoint(x, y), self.image, source)
