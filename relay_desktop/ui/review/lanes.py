"""SpanLane: many coloured spans drawn as a thin band at the top of time plots.

One :class:`LaneItem` per plot paints only the spans in the visible time range
(a start-sorted array and ``searchsorted``, with spans narrower than a pixel
merged per pixel column and colour), so thousands of spans cost no more than
the pixels they cover. Lanes are distinct from annotation regions, which fill
the whole plot height: a lane is a band ``BAND_PX`` high, ``row`` bands below
the top, so several lanes stack.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

from relay_desktop.ui.span_paint import RowCache, paint_bars

BAND_PX = 12
GAP_PX = 2
LANE_Z = 30


@dataclass(frozen=True)
class LaneSpan:
    """One span of a lane: seconds, a colour (alpha carries opacity), hover text, a key."""

    start_s: float
    end_s: float
    color: QColor
    tooltip: str = ""
    key: object = None


class LaneItem(pg.GraphicsObject):
    """The lane's band on one plot (painted from the lane's shared arrays)."""

    def __init__(self, lane: SpanLane) -> None:
        super().__init__()
        self.lane = lane
        self.setZValue(LANE_Z)
        self.setAcceptHoverEvents(True)
        self._hover_index: int | None = None
        self._band: QRectF | None = None   # kept until the view's transform changes

    # -- geometry ------------------------------------------------------------------
    def band(self) -> QRectF:
        """The band in view coordinates (empty before the item is in a view).

        Kept until the view's transform changes: Qt asks for the bounding rect
        several times per frame, and mapping the view rect is most of its cost.
        """
        if self._band is None:
            self._band = self._measure_band()
        return self._band

    def _measure_band(self) -> QRectF:
        vr = self.viewRect()
        vb = self.getViewBox()
        ph = self.pixelHeight() if vr is not None else 0.0
        if vr is None or vb is None or not ph:
            return QRectF()
        top_px = GAP_PX + self.lane.row * (BAND_PX + GAP_PX)
        h = BAND_PX * ph
        # row 0 sits at the top of the plot, whichever way its y axis points
        y0 = vr.top() + top_px * ph if vb.yInverted() else vr.bottom() - top_px * ph - h
        return QRectF(vr.left(), y0, vr.width(), h)

    def boundingRect(self) -> QRectF:
        band = self.band()
        lo, hi = self.lane.extent()
        if band.isNull() or hi <= lo:
            return QRectF()
        left, right = max(band.left(), lo), min(band.right(), hi)
        if right <= left:
            return QRectF()
        return QRectF(left, band.top(), right - left, band.height())

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self.boundingRect())
        return path

    def viewTransformChanged(self) -> None:
        super().viewTransformChanged()
        self._band = None
        self.prepareGeometryChange()

    def refresh(self) -> None:
        self._band = None
        self.prepareGeometryChange()
        self.update()

    # -- painting --------------------------------------------------------------------
    def paint(self, p: QPainter, *args: Any) -> None:
        lane = self.lane
        band = self.band()
        vr = self.viewRect()
        if band.isNull() or vr is None or not len(lane.starts):
            return
        idx = lane.visible_indices(vr.left(), vr.right())
        if not len(idx):
            return
        paint_bars(p, band, lane.starts[idx], lane.ends[idx], lane.color_index[idx],
                   lane.palette, cache=lane.bar_rows, key=lane.version)
        hl = lane.highlight_index()
        if hl is not None and lane.starts[hl] <= vr.right() and lane.ends[hl] >= vr.left():
            tr = p.transform()
            dev = tr.mapRect(band)
            a = lane.starts[hl] * tr.m11() + tr.m31()
            b = max(lane.ends[hl] * tr.m11() + tr.m31(), a + 1)
            p.save()
            p.resetTransform()
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(QColor("#ffffff"), 2))
            p.drawRect(QRectF(a, dev.top(), b - a, dev.height()))
            p.restore()

    # -- interaction (pyqtgraph's hover and click events) ----------------------------
    def hoverEvent(self, ev: Any) -> None:
        if ev.isExit():
            self._set_hover(None)
            return
        pos = ev.pos()
        index = self.lane.index_at(float(pos.x()), self.pixelWidth()) if self.boundingRect(
            ).contains(pos) else None
        if index is not None:
            ev.acceptClicks(Qt.MouseButton.LeftButton)
        self._set_hover(index)

    def _set_hover(self, index: int | None) -> None:
        if index == self._hover_index:
            return
        self._hover_index = index
        self.setToolTip(self.lane.tooltips[index] if index is not None else "")
        self.lane.hover_index(index)

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        pos: QPointF = ev.pos()
        index = self.lane.index_at(float(pos.x()), self.pixelWidth())
        if index is None or not self.boundingRect().contains(pos):
            ev.ignore()
            return
        ev.accept()
        self.lane.click_index(index)


class SpanLane(QObject):
    """A horizontal strip of coloured spans drawn in a band of every plot of a WaveformView
    (waveform channels and spectrogram), distinct from annotation regions (which fill the
    full height). ``row``/``rows`` place the band (row 0 = top band) so several lanes stack.

    Signals:
        hovered(object): the key of the span under the mouse, or None when it left.
        clicked(object): the key of a clicked span.
    """

    hovered = Signal(object)
    clicked = Signal(object)

    def __init__(self, plots: Sequence[pg.PlotItem], *, name: str, row: int = 0,
                 rows: int = 1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.row = max(0, int(row))
        self.rows = max(1, int(rows), self.row + 1)
        self.starts = np.zeros(0)
        self.ends = np.zeros(0)
        self.color_index = np.zeros(0, dtype=np.int32)
        self.palette: list[QColor] = []
        self.tooltips: list[str] = []
        self.keys: list[object] = []
        self._key_index: dict[object, int] = {}
        self._max_len = 0.0
        self._extent = (0.0, 0.0)   # first start, last end (seconds)
        self._highlight: object = None
        self._hover: int | None = None
        self.bar_rows = RowCache()  # the band's pixels, the same on every plot
        self.version = 0  # counts the span sets
        self._plots = list(plots)
        self.items = [LaneItem(self) for _ in self._plots]
        for plot, item in zip(self._plots, self.items, strict=True):
            plot.addItem(item, ignoreBounds=True)

    # -- public API -------------------------------------------------------------------
    def set_spans(self, spans: Sequence[LaneSpan]) -> None:
        """Replace the spans (sorted here; cheap for thousands)."""
        n = len(spans)
        starts = np.fromiter((s.start_s for s in spans), dtype=np.float64, count=n)
        ends = np.fromiter((max(s.end_s, s.start_s) for s in spans), dtype=np.float64, count=n)
        order = np.argsort(starts, kind="stable")
        palette: dict[int, int] = {}
        colors: list[QColor] = []
        index = np.empty(n, dtype=np.int32)
        for i, s in enumerate(spans):
            rgba = s.color.rgba()
            c = palette.get(rgba)
            if c is None:
                c = palette[rgba] = len(colors)
                colors.append(QColor(s.color))
            index[i] = c
        self.starts, self.ends = starts[order], ends[order]
        self.color_index = index[order]
        self.palette = colors
        ordered = [spans[int(i)] for i in order]
        self.tooltips = [s.tooltip for s in ordered]
        self.keys = [s.key for s in ordered]
        self._key_index = {}
        for i, k in enumerate(self.keys):
            with contextlib.suppress(TypeError):  # an unhashable key cannot be highlighted
                self._key_index.setdefault(k, i)
        self._max_len = float((self.ends - self.starts).max()) if n else 0.0
        self._extent = (float(self.starts[0]), float(self.ends.max())) if n else (0.0, 0.0)
        self._hover = None
        self.version += 1
        for item in self.items:
            item.refresh()

    def spans_count(self) -> int:
        return len(self.starts)

    def set_visible(self, visible: bool) -> None:
        for item in self.items:
            item.setVisible(visible)

    def is_visible(self) -> bool:
        return bool(self.items) and self.items[0].isVisible()

    def set_highlight(self, key: object) -> None:
        """Outline the span with this key (None: none)."""
        if key != self._highlight:
            self._highlight = key
            for item in self.items:
                item.update()

    def detach(self) -> None:
        """Remove its items from the plots."""
        for plot, item in zip(self._plots, self.items, strict=True):
            plot.removeItem(item)
        self._plots = []
        self.items = []

    def key_at(self, t_s: float, tolerance_s: float = 0.0) -> object:
        """The key of the (shortest) span at ``t_s`` seconds, or None."""
        i = self.index_at(t_s, tolerance_s)
        return None if i is None else self.keys[i]

    def tooltip_for(self, key: object) -> str:
        try:
            i = self._key_index.get(key)
        except TypeError:
            i = None
        return "" if i is None else self.tooltips[i]

    # -- helpers used by the items ---------------------------------------------------
    def extent(self) -> tuple[float, float]:
        return self._extent

    def visible_indices(self, a: float, b: float) -> np.ndarray:
        lo = int(np.searchsorted(self.starts, a - self._max_len, side="left"))
        hi = int(np.searchsorted(self.starts, b, side="right"))
        idx = np.arange(lo, hi)
        return idx[self.ends[lo:hi] >= a]

    def index_at(self, t_s: float, tolerance_s: float = 0.0) -> int | None:
        """The shortest span under ``t_s``; else the shortest within ``tolerance_s``."""
        for tol in (0.0, tolerance_s) if tolerance_s > 0 else (0.0,):
            idx = self.visible_indices(t_s - tol, t_s + tol)
            if len(idx):
                lengths = self.ends[idx] - self.starts[idx]
                return int(idx[int(np.argmin(lengths))])
        return None

    def highlight_index(self) -> int | None:
        if self._highlight is None:
            return None
        try:
            return self._key_index.get(self._highlight)
        except TypeError:
            return None

    def hover_index(self, index: int | None) -> None:
        if index != self._hover:
            self._hover = index
            self.hovered.emit(None if index is None else self.keys[index])

    def click_index(self, index: int) -> None:
        self.clicked.emit(self.keys[index])
