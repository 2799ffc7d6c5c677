"""Axes for the waveform plots: time as ``h:mm:ss.mmm`` and frequency in Hz.

Both draw exactly what :class:`pyqtgraph.AxisItem` draws (same ticks, labels,
pens and layout) but faster: pyqtgraph rebuilds a QPicture on every range change
through per-tick Python objects, text layout per label and a replay; a zoom or pan
redraws the time axis every frame, which cost more than the waveform itself.
Here ticks are found with numpy, label sizes are cached per string, tick lines go
out in one ``drawLines`` per level and the result is painted directly (and kept
for repaints that do not change the range).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPicture, QStaticText, QTransform

from relay_desktop.core.audio.timefmt import format_time, tick_decimals
from relay_desktop.ui.waveform.items import draw_hlines, thin_solid

_CENTRE = Qt.AlignmentFlag.AlignCenter
_MEASURE_BOX = QRectF(0, 0, 100, 100)
_TEXT_CACHE_LIMIT = 4096
_FLAGS = {
    "left": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
    "right": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
    "top": Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
    "bottom": Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
}


#: bounds, axis line ends, tick start and stop, tick direction, 0 (vertical) / 1 (horizontal)
_Layout = tuple[QRectF, tuple[QPointF, QPointF], float, float, int, int]


@dataclass
class _Frame:
    """What one axis paint draws: the axis line, tick lines per pen, and labels."""

    axis_pen: QPen
    axis_pen_ok: bool  # thin_solid(axis_pen)
    axis_line: QLineF
    ticks: list[tuple[QPen, list[QLineF]]]
    font: QFont
    text_pen: QPen
    clip: QRectF
    texts: list[tuple[QRectF, int, str, tuple[QStaticText, QPointF] | None]]


class FastAxisItem(pg.AxisItem):
    """A :class:`pyqtgraph.AxisItem` with the same picture and a much cheaper redraw.

    Signals:
        (pyqtgraph's AxisItem signals only)
    """

    picture: Any  # pyqtgraph's: None when the axis must be redrawn
    _DRAWN = QPicture()  # marks ``self.picture`` as valid; never played
    _bounds: tuple[tuple[Any, Any], QRectF] | None = None  # (style key, rect); None: stale
    _layout: _Layout | None = None  # see _measure_layout; None: stale
    _text_sizes: dict[str, dict[str, tuple[float, float, float]]] = {}
    _static: dict[tuple[str, str], QStaticText] = {}

    def __init__(self, orientation: str = "bottom", **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self._frame: _Frame | None = None
        self._pen_key: tuple[Any, ...] | None = None
        self._pen_cache = (QPen(), QPen())
        self._tick_pens: dict[int, QPen] = {}

    # -- geometry ---------------------------------------------------------------------------

    def boundingRect(self) -> QRectF:
        """AxisItem.boundingRect, kept until a resize or style change (Qt asks often)."""
        if self.grid is not False:  # then it follows the linked view's size
            return QRectF(super().boundingRect())
        key = (self.style["hideOverlappingLabels"], self.style["tickLength"])
        cached = self._bounds
        if cached is None or cached[0] != key:
            cached = self._bounds = (key, QRectF(super().boundingRect()))
        return QRectF(cached[1])

    def resizeEvent(self, ev: Any = None) -> None:
        self._bounds = None
        self._layout = None
        super().resizeEvent(ev)

    # -- ticks ------------------------------------------------------------------------------

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[Any]:
        """As AxisItem.tickValues, with the duplicate test done in one numpy pass per level."""
        if self.logMode:
            return list(super().tickValues(minVal, maxVal, size))
        lo, hi = sorted((minVal, maxVal))
        lo *= self.scale
        hi *= self.scale
        ticks = []
        seen = np.empty(0)
        for spacing, offset in self.tickSpacing(lo, hi, size):
            start = (math.ceil((lo - offset) / spacing) * spacing) + offset
            num = int((hi - start) / spacing) + 1
            values = (np.arange(num) * spacing + start) / self.scale
            if len(seen) and len(values):
                atol = spacing / self.scale * 0.01
                close = (np.abs(seen[None, :] - values[:, None]) <= atol).any(axis=1)
                values = values[~close]
            seen = np.concatenate([seen, values])
            ticks.append((spacing / self.scale, values.tolist()))
        return ticks

    def _sizes_for(self, font: QFont) -> dict[str, tuple[float, float, float]]:
        key = font.key()
        sizes = self._text_sizes.get(key)
        if sizes is None or len(sizes) > _TEXT_CACHE_LIMIT:
            sizes = self._text_sizes[key] = {}
        return sizes

    @staticmethod
    def _text_size(painter: QPainter, sizes: dict[str, tuple[float, float, float]],
                   text: str) -> tuple[float, float, float]:
        """Width, trimmed height (as pyqtgraph: x0.8) and height of a label (cached)."""
        size = sizes.get(text)
        if size is None:
            rect = painter.boundingRect(_MEASURE_BOX, _CENTRE, text)
            size = sizes[text] = (rect.width(), rect.height() * 0.8, rect.height())
        return size

    def _static_text(self, font: QFont, font_key: str, text: str,
                     box: tuple[float, float, float, float],
                     width: float, height: float) -> tuple[QStaticText, QPointF] | None:
        """The label as a QStaticText and where ``drawText(box, flags)`` would put it.

        Laid out once per font and text instead of on every frame. drawText places a
        line ``width`` x ``height`` inside ``box`` by its alignment; only alignments
        and labels for which that is plain arithmetic are done here (else None:
        drawText it is).
        """
        key = (font_key, text)
        static = self._static.get(key)
        if static is None:
            if len(self._static) > _TEXT_CACHE_LIMIT:
                type(self)._static = {}
            static = QStaticText(text)
            static.setTextFormat(Qt.TextFormat.PlainText)
            static.prepare(QTransform(), font)
            self._static[key] = static
        if "\n" in text or static.size().width() != width:
            return None
        x, y, w, h = box
        orient = self.orientation
        xoff = (w - width) / 2 if orient in ("top", "bottom") else (
            w - width if orient == "left" else 0.0)
        yoff = (h - height) / 2 if orient in ("left", "right") else (
            h - height if orient == "top" else 0.0)
        return static, QPointF(x + xoff, y + yoff)

    def _pens(self) -> tuple[QPen, QPen]:
        """The axis and text pens (pyqtgraph builds them anew on every redraw)."""
        key = (self._pen, self._textPen, self._tickPen, pg.getConfigOption("foreground"))
        if self._pen_key is None or any(a is not b and a != b
                                        for a, b in zip(key, self._pen_key, strict=True)):
            self._pen_cache = (QPen(self.pen()), QPen(self.textPen()))
            self._tick_pens = {}
            self._pen_key = key
        return self._pen_cache

    # -- painting ---------------------------------------------------------------------------

    def paint(self, p: QPainter, opt: Any, widget: Any) -> None:
        if self.picture is None or self._frame is None:
            p.save()
            try:
                self._frame = self._build(p)
            finally:
                p.restore()
            self.picture = self._DRAWN
        frame = self._frame
        if frame is None:
            return
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        line = frame.axis_line
        if line.y1() == line.y2():  # a time axis: the line spans the plot, fillRect it
            draw_hlines(p, [line.y1()], line.x1(), line.x2(), frame.axis_pen, frame.axis_pen_ok)
        else:
            p.setPen(frame.axis_pen)
            p.drawLine(line)
        for pen, lines in frame.ticks:  # short lines: Qt's own drawing is cheap here
            p.setPen(pen)
            p.drawLines(lines)
        if frame.texts:
            p.setFont(frame.font)
            p.setPen(frame.text_pen)
            p.setClipRect(frame.clip, Qt.ClipOperation.IntersectClip)
            for rect, flags, text, static in frame.texts:
                if static is None:
                    p.drawText(rect, flags, text)
                else:
                    p.drawStaticText(static[1], static[0])
        p.restore()

    def _build(self, p: QPainter) -> _Frame | None:
        """AxisItem.generateDrawSpecs, step for step, without its per-tick overhead."""
        font = self.style["tickFont"] or QFont()
        p.setFont(font)
        orient = self.orientation
        layout = self._layout if self.grid is False else None
        if layout is None:
            layout = self._layout = self._measure_layout()
        bounds, span, tick_start, tick_stop, tick_dir, axis = layout
        d0, d1 = self.mapToDevice(span[0]), self.mapToDevice(span[1])
        if d0 is None or d1 is None:
            return None
        length = math.hypot(d1.x() - d0.x(), d1.y() - d0.y())
        if length == 0:
            return None

        if self._tickLevels is None:
            levels = self.tickValues(self.range[0], self.range[1], length)
            given: list[list[str]] | None = None
        else:
            levels = [(None, [v for v, _s in level]) for level in self._tickLevels]
            given = [[s for _v, s in level] for level in self._tickLevels]

        dif = self.range[1] - self.range[0]
        if dif == 0:
            scale, offset = 1.0, 0.0
        elif axis == 0:
            scale = -bounds.height() / dif
            offset = self.range[0] * scale - bounds.height()
        else:
            scale = bounds.width() / dif
            offset = self.range[0] * scale
        ends = [x * scale - offset for x in self.range]
        x_min, x_max = min(ends), max(ends)

        self._pens()  # picks up pen changes (and drops the cached tick pens)
        positions: list[list[float | None]] = []
        ticks: list[tuple[QPen, list[QLineF]]] = []
        for i, (_spacing, values) in enumerate(levels):
            tick_len = self.style["tickLength"] / ((i * 0.5) + 1.0)
            pen = self._level_pen(i, len(values), length)
            xs = np.asarray(values, dtype=np.float64) * scale - offset
            inside = (xs >= x_min) & (xs <= x_max)
            positions.append([float(x) if ok else None
                              for x, ok in zip(xs.tolist(), inside.tolist(), strict=True)])
            stop = tick_stop + tick_len * tick_dir if self.grid is False else tick_stop
            if inside.any():
                if axis == 0:
                    lines = [QLineF(tick_start, x, stop, x) for x in xs[inside].tolist()]
                else:
                    lines = [QLineF(x, tick_start, x, stop) for x in xs[inside].tolist()]
                ticks.append((pen, lines))

        a, b = QPointF(span[0]), QPointF(span[1])
        if self.style["stopAxisAtTick"][0] is True:
            lo = min(min(x for x in level if x is not None) for level in positions)
            if axis == 0:
                a.setY(max(a.y(), lo))
            else:
                a.setX(max(a.x(), lo))
        if self.style["stopAxisAtTick"][1] is True:
            hi = max(max(x for x in level if x is not None) for level in positions)
            if axis == 0:
                b.setY(min(b.y(), hi))
            else:
                b.setX(min(b.x(), hi))

        br = self.boundingRect()
        axis_pen, text_pen = self._pen_cache  # refreshed by _pens() before the tick loop
        frame = _Frame(axis_pen, thin_solid(axis_pen), QLineF(a, b), ticks, font, text_pen,
                       QRectF(br.toAlignedRect()), [])
        if not self.style["showValues"]:
            return frame

        text_offset = self.style["tickTextOffset"][axis]
        shift = max(0, self.style["tickLength"]) + text_offset
        edges = (br.left(), br.top(), br.right(), br.bottom())
        sizes = self._sizes_for(font)
        font_key = font.key()
        last_size2 = 0.0
        along: list[float] = []  # text extent along the axis, every level so far
        across: list[float] = []
        flags = int(_FLAGS[orient] | Qt.TextFlag.TextDontClip)
        for i in range(min(len(levels), self.style["maxTextLevel"] + 1)):
            if i > 0 and self._crowded(float(np.sum(along)) if along else 0.0, length,
                                       len(frame.texts)):
                break  # more labels only add to the fill: no need to format them
            if given is None:
                spacing, values = levels[i]
                strings: list[str] = list(
                    self.tickStrings(values, self.autoSIPrefixScale * self.scale, spacing))
            else:
                strings = list(given[i])
            if not strings:
                continue
            shown = [(x, text, self._text_size(p, sizes, text))
                     for x, text in zip(positions[i], strings, strict=False) if x is not None]
            for _x, _text, (w, h, _full) in shown:
                along.append(h if axis == 0 else w)
                across.append(w if axis == 0 else h)
            size = float(np.sum(along)) if along else 0.0
            size2 = float(np.max(across)) if across else 0.0
            if i > 0 and self._crowded(size, length, len(frame.texts)):
                break  # pyqtgraph's limits: stop adding text levels
            last_size2 = size2
            for x, text, (w, h, full) in shown:
                if orient == "left":
                    box = (tick_stop - shift - w, x - h / 2, w, h)
                elif orient == "right":
                    box = (tick_stop + shift, x - h / 2, w, h)
                elif orient == "top":
                    box = (x - w / 2.0, tick_stop - shift - h, w, h)
                else:
                    box = (x - w / 2.0, tick_stop + shift, w, h)
                if _inside(box, edges, br):
                    frame.texts.append((QRectF(*box), flags, text,
                                        self._static_text(font, font_key, text, box, w, full)))
        self._updateMaxTextSize(last_size2)
        return frame

    def _crowded(self, size: float, length: float, count: int) -> bool:
        fill = size / length
        return any(count >= n and fill >= limit for n, limit in self.style["textFillLimits"])

    def _measure_layout(self) -> _Layout:
        """Where the axis line and ticks go in item coordinates (kept until a resize)."""
        bounds = self.mapRectFromParent(self.geometry())
        linked = self.linkedView()
        if linked is None or self.grid is False:
            tick_bounds = bounds
        else:
            tick_bounds = linked.mapRectToItem(self, linked.boundingRect())
        orient = self.orientation
        if orient == "left":
            span = (bounds.topRight() + QPointF(-1, -1), bounds.bottomRight() + QPointF(-1, 1))
            return bounds, span, tick_bounds.right(), bounds.right(), -1, 0
        if orient == "right":
            span = (bounds.topLeft() + QPointF(1, -1), bounds.bottomLeft() + QPointF(1, 1))
            return bounds, span, tick_bounds.left(), bounds.left(), 1, 0
        if orient == "top":
            span = (bounds.bottomLeft() + QPointF(-1, -1), bounds.bottomRight() + QPointF(1, -1))
            return bounds, span, tick_bounds.bottom(), bounds.bottom(), -1, 1
        span = (bounds.topLeft() + QPointF(-1, 1), bounds.topRight() + QPointF(1, 1))
        return bounds, span, tick_bounds.top(), bounds.top(), 1, 1

    def _level_pen(self, level: int, count: int, length: float) -> QPen:
        """The tick pen of one level: the tick pen with pyqtgraph's per-level alpha."""
        alpha = self.style["tickAlpha"]
        if alpha is None:
            alpha = 255 / (level + 1)
            if self.grid is not False:
                alpha *= self.grid / 255.0 * min(max(0.05 * length / (count + 1), 0.0), 1.0)
        elif isinstance(alpha, float):
            alpha = min(255, max(0, round(alpha * 255)))
        pen = self._tick_pens.get(int(alpha))
        if pen is None:
            pen = QPen(self.tickPen())
            if pen.brush().style() == Qt.BrushStyle.SolidPattern:
                color = QColor(pen.color())
                color.setAlpha(int(alpha))
                pen.setColor(color)
            self._tick_pens[int(alpha)] = pen
        return pen


def _inside(box: tuple[float, float, float, float], edges: tuple[float, float, float, float],
            bounds: QRectF) -> bool:
    """``bounds & box == box`` (Qt's fuzzy compare), without building QRectFs when clear-cut."""
    x, y, w, h = box
    margin = min(x - edges[0], y - edges[1], edges[2] - (x + w), edges[3] - (y + h))
    if margin > 1e-6:
        return True
    if margin < -1e-3:
        return False
    rect = QRectF(x, y, w, h)
    return bool(bounds & rect == rect)


class TimeAxisItem(FastAxisItem):
    """A time axis in seconds that prints ``h:mm:ss.mmm`` (hours shown when needed).

    Signals:
        (pyqtgraph's AxisItem signals only)
    """

    def __init__(self, orientation: str = "bottom", **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    _labels: dict[tuple[float, int], str] = {}

    def tickStrings(self, values: list[float], scale: float,
                    spacing: float) -> list[str]:
        decimals = tick_decimals(spacing * scale)
        cache = self._labels
        if len(cache) > _TEXT_CACHE_LIMIT:
            cache.clear()
        out = []
        for v in values:
            key = (v * scale, decimals)
            text = cache.get(key)
            if text is None:
                text = cache[key] = label(*key)
            out.append(text)
        return out


def label(seconds: float, decimals: int) -> str:
    """``h:mm:ss.d`` for ticks: the hour is dropped when zero (``mm:ss.ddd``)."""
    text = format_time(seconds, decimals)
    if text.startswith("0:"):
        return text[2:]
    if text.startswith("-0:"):
        return "-" + text[3:]
    return text


class FrequencyAxisItem(FastAxisItem):
    """Hz on a spectrogram's y axis, printed as ``500`` / ``2k`` / ``12.5k``.

    Signals:
        (pyqtgraph's AxisItem signals only)
    """

    def __init__(self, orientation: str = "left", **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float,
                    spacing: float) -> list[str]:
        out = []
        for v in values:
            hz = v * scale
            out.append(f"{hz / 1000:g}k" if abs(hz) >= 1000 else f"{hz:g}")
        return out
