"""Axes for the waveform plots: time as ``h:mm:ss.mmm`` and frequency in Hz.

Both draw exactly what :class:`pyqtgraph.AxisItem` draws (same ticks, labels,
pens and layout) but faster: pyqtgraph rebuilds a QPicture on every range change
through per-tick Python objects, numpy calls on a handful of values, text layout
per label and a replay; a zoom or pan redraws the time axis every frame. Here
ticks are found in plain Python, everything that depends only on the geometry,
style, pens or font is kept until one of them changes, labels are measured and
laid out once per font and string, tick lines go out in one ``drawLines`` per
level and the result is painted directly (and kept for repaints that do not
change the range).

Relies on pyqtgraph internals, tested with pyqtgraph 0.14.0 (pinned to 0.14.x in
pyproject.toml; tests/unit/test_dependency_internals.py fails when they move):
``AxisItem`` marks itself stale by setting ``self.picture = None``, its
``_updateMaxTextSize`` keeps the text space, and ``_build`` / ``tickValues`` /
``boundingRect`` / ``_updateMaxTextSize`` below redo ``generateDrawSpecs``,
``drawPicture``, ``tickValues``, ``boundingRect`` and ``_updateMaxTextSize`` step
for step, reading ``style``, ``grid``, ``range``, ``scale``, ``textWidth`` and the
like. Pens and explicit ticks come through the public setters (overridden below).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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
    orient: int(align | Qt.TextFlag.TextDontClip)
    for orient, align in {
        "left": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
        "right": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        "top": Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
        "bottom": Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
    }.items()
}


#: bounds, axis line ends, tick start and stop, tick direction, 0 (vertical) / 1 (horizontal)
_Layout = tuple[QRectF, tuple[QPointF, QPointF], float, float, int, int]
#: a label's width, trimmed height (x0.8, as pyqtgraph), full height, the laid-out text
#: when drawText would put it where plain arithmetic says (else None: drawText it is), and
#: whether the width is a multiple of 1/64 (Qt's fixed point): then sums of widths are exact
_Label = tuple[float, float, float, QStaticText | None, bool]
#: a placed label: its box (x, y, w, h), text, and the static text with its position
_Placed = tuple[tuple[float, float, float, float], str, QStaticText | None, QPointF | None]
_Box = tuple[float, float, float, float]


@dataclass
class _Place:
    """What the text and axis line need from the geometry and style (kept until either changes)."""

    key: tuple[Any, ...]  # the style values it was made from
    bounds: QRectF  # boundingRect()
    edges: _Box  # its left, top, right, bottom
    clip: QRectF  # its aligned rect: the labels' clip
    shift: float  # label distance from the tick stop
    line: QLineF  # the axis line when not stopped at ticks


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
    flags: int
    texts: list[_Placed]


class FastAxisItem(pg.AxisItem):
    """A :class:`pyqtgraph.AxisItem` with the same picture and a much cheaper redraw.

    Signals:
        (pyqtgraph's AxisItem signals only)
    """

    # pyqtgraph 0.14's (not public): every change that needs a redraw sets it to None
    picture: Any
    _DRAWN = QPicture()  # marks ``self.picture`` as valid; never played
    _given_ticks: Any = None  # what setTicks was last given (None: ticks of our own)
    _pens_stale = True  # a pen setter ran since the pens were last copied
    _bounds: tuple[tuple[Any, Any], QRectF] | None = None  # (style key, rect); None: stale
    _layout: _Layout | None = None  # see _measure_layout; None: stale
    _place: _Place | None = None  # see _placement; None: stale
    _text_cache: dict[str, dict[str, _Label]] = {}  # font key -> text -> label

    def __init__(self, orientation: str = "bottom", **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self._frame: _Frame | None = None
        self._pen_fg: Any = None  # the foreground config option the pens were made with
        self._pen_cache = (QPen(), QPen())
        self._axis_pen_ok = True
        self._tick_pens: dict[int, QPen] = {}
        self._line_pool: list[list[QLineF]] = []  # per level: the current frame's tick lines
        self._font: tuple[QFont, dict[str, _Label]] | None = None  # see _labels_for

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
        self._place = None
        super().resizeEvent(ev)

    # -- public setters we follow -----------------------------------------------------------

    def setPen(self, *args: Any, **kwargs: Any) -> None:
        """AxisItem.setPen; the cached pens are copied again on the next redraw."""
        super().setPen(*args, **kwargs)
        self._pens_stale = True

    def setTextPen(self, *args: Any, **kwargs: Any) -> None:
        """AxisItem.setTextPen; the cached pens are copied again on the next redraw."""
        super().setTextPen(*args, **kwargs)
        self._pens_stale = True

    def setTickPen(self, *args: Any, **kwargs: Any) -> None:
        """AxisItem.setTickPen; the cached pens are copied again on the next redraw."""
        super().setTickPen(*args, **kwargs)
        self._pens_stale = True

    def setTicks(self, ticks: Any) -> None:
        """AxisItem.setTicks, remembered here for the redraw (pyqtgraph keeps them privately)."""
        self._given_ticks = ticks
        super().setTicks(ticks)

    # -- ticks ------------------------------------------------------------------------------

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[Any]:
        """As AxisItem.tickValues (the same floats), in plain Python: a level has 5-100 ticks."""
        if self.logMode:
            return list(super().tickValues(minVal, maxVal, size))
        lo, hi = sorted((minVal, maxVal))
        scale = self.scale
        lo *= scale
        hi *= scale
        ticks: list[Any] = []
        seen: list[float] = []  # every level's values so far
        for spacing, offset in self.tickSpacing(lo, hi, size):
            start = (math.ceil((lo - offset) / spacing) * spacing) + offset
            num = int((hi - start) / spacing) + 1
            values = [(k * spacing + start) / scale for k in range(num)]
            if seen:
                _drop_close(values, seen, spacing / scale)
            seen += values
            ticks.append((spacing / scale, values))
        return ticks

    # -- cached state -----------------------------------------------------------------------

    def _labels_for(self) -> tuple[QFont, dict[str, _Label]]:
        """The tick font and its label cache (kept while the font compares equal)."""
        font = self.style["tickFont"] or QFont()
        cached = self._font
        if cached is None or cached[0] != font:
            cached = self._font = (QFont(font), self._text_cache.setdefault(font.key(), {}))
        if len(cached[1]) > _TEXT_CACHE_LIMIT:
            cached[1].clear()
        return cached

    def _label(self, p: QPainter, font: QFont, labels: dict[str, _Label], text: str) -> _Label:
        """Size and layout of one label (measured as pyqtgraph does, then cached)."""
        label = labels.get(text)
        if label is None:
            p.save()
            p.setFont(font)
            rect = p.boundingRect(_MEASURE_BOX, _CENTRE, text)
            p.restore()
            width, height = rect.width(), rect.height()
            static = QStaticText(text)
            static.setTextFormat(Qt.TextFormat.PlainText)
            static.prepare(QTransform(), font)
            plain = "\n" not in text and static.size().width() == width
            label = labels[text] = (width, height * 0.8, height, static if plain else None,
                                    (width * 64).is_integer())
        return label

    def _pens(self) -> tuple[QPen, QPen]:
        """The axis and text pens (pyqtgraph builds them anew on every redraw).

        Copied again after a pen setter or a change of the foreground config option
        (which ``pen()`` and ``textPen()`` fall back on)."""
        fg = pg.getConfigOption("foreground")
        if self._pens_stale or fg is not self._pen_fg:  # (setting attributes on Qt items costs)
            if self._pens_stale or fg != self._pen_fg:
                self._pen_cache = (QPen(self.pen()), QPen(self.textPen()))
                self._axis_pen_ok = thin_solid(self._pen_cache[0])
                self._tick_pens = {}
                self._pens_stale = False
            self._pen_fg = fg
        return self._pen_cache

    def _placement(self, layout: _Layout) -> _Place:
        """Bounds, clip and axis line for this geometry and style (rebuilt when either changes)."""
        axis = layout[5]
        style = self.style
        key = (style["hideOverlappingLabels"], style["tickLength"],
               style["tickTextOffset"][axis])
        place = self._place
        if place is None or place.key != key or self.grid is not False:
            br = self.boundingRect()
            shift = max(0, style["tickLength"]) + style["tickTextOffset"][axis]
            place = _Place(key, br, (br.left(), br.top(), br.right(), br.bottom()),
                           QRectF(br.toAlignedRect()), shift,
                           QLineF(layout[1][0], layout[1][1]))
            self._place = place if self.grid is False else None
        return place

    # -- painting ---------------------------------------------------------------------------

    def paint(self, p: QPainter, opt: Any, widget: Any) -> None:
        # pyqtgraph 0.14 sets ``picture`` to None whenever the axis needs a redraw
        if self.picture is None or self._frame is None:
            self._frame = self._build(p)
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
            for box, text, static, pos in frame.texts:
                if static is None or pos is None:
                    p.drawText(QRectF(*box), frame.flags, text)
                else:
                    p.drawStaticText(pos, static)
        p.restore()

    def _build(self, p: QPainter) -> _Frame | None:
        """AxisItem.generateDrawSpecs, step for step, without its per-tick overhead."""
        layout = self._layout if self.grid is False else None
        if layout is None:  # a grid's ticks follow the linked view: measured every time
            layout = self._measure_layout()
            self._layout = layout if self.grid is False else None
        length = self._pixel_length(layout[1])
        if not length:
            return None
        given_ticks = self._given_ticks
        if given_ticks is None:
            levels = self.tickValues(self.range[0], self.range[1], length)
            given: list[list[str]] | None = None
        else:
            levels = [(None, [v for v, _s in level]) for level in given_ticks]
            given = [[s for _v, s in level] for level in given_ticks]
        axis_pen, text_pen = self._pens()  # first: a pen change drops the cached tick pens
        positions, ticks = self._ticks(layout, levels, length)
        place = self._placement(layout)
        font, labels = self._labels_for()
        frame = _Frame(axis_pen, self._axis_pen_ok, self._axis_line(place, layout, positions),
                       ticks, font, text_pen, place.clip, _FLAGS[self.orientation], [])
        if self.style["showValues"]:
            self._texts(p, frame, labels, layout, place, levels, given, positions, length)
        return frame

    def _pixel_length(self, span: tuple[QPointF, QPointF]) -> float | None:
        """The axis length in device pixels (None: not on screen)."""
        dt = self.deviceTransform_()
        if dt is None:
            return None
        d0, d1 = dt.map(span[0]), dt.map(span[1])
        return math.hypot(d1.x() - d0.x(), d1.y() - d0.y())

    def _ticks(self, layout: _Layout, levels: list[Any], length: float
               ) -> tuple[list[Sequence[float | None]], list[tuple[QPen, list[QLineF]]]]:
        """Each level's tick positions (None: off the axis) and tick lines with their pens."""
        bounds, _span, tick_start, tick_stop, tick_dir, axis = layout
        lo, hi = self.range
        dif = hi - lo
        if dif == 0:
            scale, offset = 1.0, 0.0
        elif axis == 0:
            scale = -bounds.height() / dif
            offset = lo * scale - bounds.height()
        else:
            scale = bounds.width() / dif
            offset = lo * scale
        x_lo, x_hi = lo * scale - offset, hi * scale - offset
        x_min, x_max = min(x_lo, x_hi), max(x_lo, x_hi)
        positions: list[Sequence[float | None]] = []
        ticks: list[tuple[QPen, list[QLineF]]] = []
        for i, (_spacing, values) in enumerate(levels):
            xs = [v * scale - offset for v in values]
            if not xs or (min(xs) >= x_min and max(xs) <= x_max):  # the usual case
                positions.append(xs)
                shown = xs
            else:
                positions.append([None if x < x_min or x > x_max else x for x in xs])
                shown = [x for x in xs if not (x < x_min or x > x_max)]
            if shown:
                stop = tick_stop
                if self.grid is False:
                    stop += self.style["tickLength"] / ((i * 0.5) + 1.0) * tick_dir
                pen = self._level_pen(i, len(values), length)
                ticks.append((pen, self._tick_lines(i, axis, shown, tick_start, stop)))
        return positions, ticks

    def _tick_lines(self, level: int, axis: int, xs: list[float], start: float,
                    stop: float) -> list[QLineF]:
        """Tick lines at ``xs``, reusing this level's QLineFs of the previous frame."""
        pool = self._line_pool
        while len(pool) <= level:
            pool.append([])
        lines = pool[level]
        lines.extend(QLineF() for _ in range(len(xs) - len(lines)))
        used = lines[:len(xs)]
        if axis == 0:
            for line, x in zip(used, xs, strict=True):
                line.setLine(start, x, stop, x)
        else:
            for line, x in zip(used, xs, strict=True):
                line.setLine(x, start, x, stop)
        return used

    def _axis_line(self, place: _Place, layout: _Layout,
                   positions: list[Sequence[float | None]]) -> QLineF:
        """The axis line, shortened to the outer ticks where stopAxisAtTick asks for it."""
        stop_lo, stop_hi = self.style["stopAxisAtTick"]
        if stop_lo is not True and stop_hi is not True:
            return place.line
        span, axis = layout[1], layout[5]
        a, b = QPointF(span[0]), QPointF(span[1])
        if stop_lo is True:
            lo = min(min(x for x in level if x is not None) for level in positions)
            if axis == 0:
                a.setY(max(a.y(), lo))
            else:
                a.setX(max(a.x(), lo))
        if stop_hi is True:
            hi = max(max(x for x in level if x is not None) for level in positions)
            if axis == 0:
                b.setY(min(b.y(), hi))
            else:
                b.setX(min(b.x(), hi))
        return QLineF(a, b)

    def _texts(self, p: QPainter, frame: _Frame, labels: dict[str, _Label], layout: _Layout,
               place: _Place, levels: list[Any], given: list[list[str]] | None,
               positions: list[Sequence[float | None]], length: float) -> None:
        """Label levels while pyqtgraph's fill limits allow, placed as it places them."""
        axis = layout[5]
        along: list[float] = []  # text extent along the axis, every level so far
        exact = axis == 1  # whether a plain sum of ``along`` is exact (so equals numpy's)
        size = size2 = last_size2 = 0.0
        for i in range(min(len(levels), self.style["maxTextLevel"] + 1)):
            if i > 0 and self._crowded(size, length, len(frame.texts)):
                break  # more labels only add to the fill: no need to format them
            if given is None:
                spacing, values = levels[i]
                strings: list[str] = list(
                    self.tickStrings(values, self.autoSIPrefixScale * self.scale, spacing))
            else:
                strings = list(given[i])
            if not strings:
                continue
            shown = [(x, text, labels.get(text) or self._label(p, frame.font, labels, text))
                     for x, text in zip(positions[i], strings, strict=False) if x is not None]
            for _x, _text, (w, h, _full, _static, w_exact) in shown:
                along.append(h if axis == 0 else w)
                size2 = max(size2, w if axis == 0 else h)
                exact = exact and w_exact
            # pyqtgraph sums with numpy (pairwise): the same as a plain sum only when exact
            size = float(sum(along)) if exact else float(np.sum(along))
            if i > 0 and self._crowded(size, length, len(frame.texts)):
                break  # pyqtgraph's limits: stop adding text levels
            last_size2 = size2
            self._place_labels(frame, layout, place, shown)
        self._updateMaxTextSize(last_size2)

    def _place_labels(self, frame: _Frame, layout: _Layout, place: _Place,
                      shown: list[tuple[float, str, _Label]]) -> None:
        """Append the labels whose box lies within the bounds, as AxisItem places them."""
        tick_stop, orient = layout[3], self.orientation
        shift, edges, bounds = place.shift, place.edges, place.bounds
        texts = frame.texts
        for x, text, (w, h, full, static, _exact) in shown:
            if orient == "left":
                box = (tick_stop - shift - w, x - h / 2, w, h)
            elif orient == "right":
                box = (tick_stop + shift, x - h / 2, w, h)
            elif orient == "top":
                box = (x - w / 2.0, tick_stop - shift - h, w, h)
            else:
                box = (x - w / 2.0, tick_stop + shift, w, h)
            if _inside(box, edges, bounds):
                texts.append((box, text, static,
                              None if static is None else _static_pos(orient, box, full)))

    def _updateMaxTextSize(self, x: float) -> None:
        """AxisItem's, without re-applying a fixed size that is already in place.

        Overrides and calls a private method of pyqtgraph 0.14.0's AxisItem (no public
        way to keep its text space); only our own ``_texts`` calls it."""
        if self.orientation in ("left", "right"):
            fixed, current = self.fixedWidth, (self.minimumWidth(), self.maximumWidth())
        else:
            fixed, current = self.fixedHeight, (self.minimumHeight(), self.maximumHeight())
        if (fixed is None or not self.style["autoExpandTextSpace"]
                or current != (fixed, fixed) or not self.isVisible()):
            super()._updateMaxTextSize(x)
            return
        # pyqtgraph's bookkeeping of the text size; re-applying ``fixed`` would be a no-op
        attr = "textWidth" if self.orientation in ("left", "right") else "textHeight"
        old = getattr(self, attr)
        if not self.style["autoReduceTextSpace"]:
            x = max(old, x)
        if x > old or x < old - 10:
            setattr(self, attr, x)

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


def _drop_close(values: list[float], seen: list[float], step: float) -> None:
    """Remove from ``values`` (``values[0] + k * step``, k = 0, 1...) those close to a
    ``seen`` value as pyqtgraph's ``np.isclose(seen, value, rtol=0, atol=step / 100)``
    decides: ``|s - v| <= atol`` or ``s == v`` (values are finite).

    Only the value nearest to each seen one can be that close: its index is found
    by division, then checked with that very test; with values beyond 2**40 steps
    from zero the index may be off, and every pair is compared instead.
    """
    if not values:
        return
    atol = step * 0.01
    first, n = values[0], len(values)
    drop: set[int] = set()
    if max(abs(first), abs(values[-1])) < abs(step) * 2.0**40:
        for s in seen:
            k = round((s - first) / step)
            if 0 <= k < n and (abs(s - values[k]) <= atol or s == values[k]):
                drop.add(k)
    else:
        drop = {k for k, v in enumerate(values)
                if any(abs(s - v) <= atol or s == v for s in seen)}
    for k in sorted(drop, reverse=True):
        del values[k]


def _static_pos(orient: str, box: _Box, height: float) -> QPointF:
    """Where ``drawText(box, flags)`` puts a line as wide as ``box`` and ``height`` high
    (the alignment flags by ``orient``)."""
    x, y, _w, h = box
    if orient == "top":
        return QPointF(x, y + (h - height))
    if orient == "bottom":
        return QPointF(x, y)
    return QPointF(x, y + (h - height) / 2)


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


def clear_of_top(levels: list[Any], min_val: float, max_val: float, size: float,
                 clearance_px: float) -> list[Any]:
    """``levels`` (spacing, values) without the values within ``clearance_px`` of the top."""
    top, span = max(min_val, max_val), abs(max_val - min_val)
    if span <= 0 or size <= 0:
        return levels
    margin = span * min(0.5, clearance_px / size)
    return [(spacing, [v for v in values if top - v > margin]) for spacing, values in levels]


class FrequencyAxisItem(FastAxisItem):
    """Hz on a spectrogram's y axis, printed as ``500`` / ``2k`` / ``12.5k``.

    Signals:
        (pyqtgraph's AxisItem signals only)
    """

    #: no label this close (pixels) to the top edge, where the waveform's "-1.0" sits above
    TOP_CLEARANCE_PX = 14

    def __init__(self, orientation: str = "left", **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[Any]:
        """The usual ticks, less any within TOP_CLEARANCE_PX of the top of the axis."""
        return clear_of_top(super().tickValues(minVal, maxVal, size), minVal, maxVal, size,
                            self.TOP_CLEARANCE_PX)

    def tickStrings(self, values: list[float], scale: float,
                    spacing: float) -> list[str]:
        out = []
        for v in values:
            hz = v * scale
            out.append(f"{hz / 1000:g}k" if abs(hz) >= 1000 else f"{hz:g}")
        return out
