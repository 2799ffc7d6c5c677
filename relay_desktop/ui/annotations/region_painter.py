"""RegionPainter: every region of a file drawn by one graphics item per plot.

A plot with thousands of regions would otherwise carry thousands of
``LinearRegionItem`` objects (three graphics items each) that pyqtgraph lays out on
every zoom and Qt paints one by one. This item keeps the regions as
start-sorted arrays and paints only the slice in the visible range, in device
pixels: fills and edges as one blended row stretched over the plot
(:func:`~relay_desktop.ui.span_paint.paint_bars`, made once per frame for all
the plots of a view) and the type names (when a region is wide enough) as
cached static text. Regions that have an interactive
:class:`~relay_desktop.ui.annotations.region_item.RegionItem` (selected, under
the pointer, being dragged) are marked ``live`` and left to it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QStaticText

from relay_desktop.core.annotations.document import Region
from relay_desktop.ui.span_paint import RowCache, paint_bars, visible_slice

FILL_ALPHA = 55
EDGE_WIDTH = 1.5
LABEL_MIN_PX = 28
LABEL_COLOR = QColor("#f1f3f4")


def tint(color: str, alpha: int) -> QColor:
    """``color`` (grey when invalid) with ``alpha``."""
    c = QColor(color)
    if not c.isValid():
        c = QColor("#808080")
    c.setAlpha(alpha)
    return c


@functools.cache
def label_font(bold: bool) -> QFont:
    """The region label font (made once, after the application exists)."""
    font = QFont()
    font.setPixelSize(11)
    font.setBold(bold)
    return font


@functools.cache
def _static_label(text: str) -> QStaticText:
    static = QStaticText(text)
    static.setTextFormat(Qt.TextFormat.PlainText)
    static.prepare(font=label_font(False))
    return static


@dataclass(frozen=True)
class RegionArrays:
    """A file's regions as start-sorted arrays, shared by the painters of its plots."""

    starts: np.ndarray  # seconds
    ends: np.ndarray
    colors: np.ndarray  # index into the palettes, per region
    fills: list[QColor]
    edges: list[QColor]
    labels: list[str]  # the type name per palette index
    index: dict[str, int]  # local id -> position
    max_len: float
    extent: QRectF
    rows: RowCache = field(default_factory=RowCache, compare=False)  # shared by the plots


def region_arrays(regions: Sequence[Region], color_of: Callable[[str], str]) -> RegionArrays:
    """Sort ``regions`` (any order) into :class:`RegionArrays`."""
    n = len(regions)
    starts = np.fromiter((r.start_ms for r in regions), dtype=np.float64, count=n) / 1000.0
    ends = np.fromiter((r.start_ms + max(r.duration_ms, 1) for r in regions),
                       dtype=np.float64, count=n) / 1000.0
    types: dict[str, int] = {}
    colors = np.fromiter((types.setdefault(r.artifact_type, len(types)) for r in regions),
                         dtype=np.int32, count=n)
    order = np.argsort(starts, kind="stable")
    starts, ends, colors = starts[order], ends[order], colors[order]
    extent = QRectF()
    if n:
        lo, hi = float(starts[0]), float(ends.max())
        extent = QRectF(lo, 0.0, max(hi - lo, 1e-6), 1.0)
    return RegionArrays(
        starts, ends, colors, [tint(color_of(t), FILL_ALPHA) for t in types],
        [tint(color_of(t), 255) for t in types], list(types),
        {regions[int(i)].local_id: k for k, i in enumerate(order.tolist())},
        float((ends - starts).max()) if n else 0.0, extent)


NO_REGIONS = region_arrays([], str)


class RegionPainter(pg.GraphicsObject):
    """Paints a file's regions (fill, edges, labels) except the ``live`` ones.

    Signals:
        (none of its own)
    """

    def __init__(self) -> None:
        super().__init__()
        self._regions = NO_REGIONS
        self._live = np.zeros(0, dtype=bool)
        self.setZValue(5)

    def set_regions(self, regions: RegionArrays) -> None:
        """Draw these regions (see :func:`region_arrays`), none of them live."""
        self.prepareGeometryChange()
        self._regions = regions
        self._live = np.zeros(len(regions.starts), dtype=bool)
        self.update()

    def set_live(self, local_ids: Collection[str]) -> None:
        """Leave these regions to their own items (the others are painted here)."""
        live = np.zeros(len(self._live), dtype=bool)
        index = self._regions.index
        for local_id in local_ids:
            i = index.get(local_id)
            if i is not None:
                live[i] = True
        if not np.array_equal(live, self._live):
            self._live = live
            self.update()

    def region_count(self) -> int:
        return len(self._live)

    def painted_in(self, start_s: float, end_s: float) -> int:
        """How many regions this item paints in ``[start_s, end_s]`` (not the live ones)."""
        r = self._regions
        idx = visible_slice(r.starts, r.ends, r.max_len, start_s, end_s)
        return int((~self._live[idx]).sum())

    def boundingRect(self) -> QRectF:
        vr = self.viewRect()
        extent = self._regions.extent
        if vr is None or extent.isNull():
            return QRectF()
        return QRectF(extent.left(), vr.top(), extent.width(), vr.height())

    def paint(self, p: QPainter, *args: Any) -> None:
        vr = self.viewRect()
        r = self._regions
        if vr is None or not len(r.starts):
            return
        idx = visible_slice(r.starts, r.ends, r.max_len, vr.left(), vr.right())
        idx = idx[~self._live[idx]]
        if not len(idx):
            return
        starts, ends, colors = r.starts[idx], r.ends[idx], r.colors[idx]
        tr = p.transform()
        dev = tr.mapRect(vr)
        # regions a few pixels apart: the fills say it all, edges would be noise
        edges = r.edges if len(idx) <= dev.width() / 3 else None
        paint_bars(p, vr, starts, ends, colors, r.fills, edges, EDGE_WIDTH, r.rows,
                   self._live.tobytes())
        x0, x1 = starts * tr.m11() + tr.m31(), ends * tr.m11() + tr.m31()
        wide = np.flatnonzero(x1 - x0 >= LABEL_MIN_PX)
        if len(wide):
            top = dev.top()
            p.save()
            p.resetTransform()
            p.setPen(LABEL_COLOR)
            p.setFont(label_font(False))
            for k in wide.tolist():
                left = max(float(x0[k]), dev.left())
                static = _static_label(r.labels[int(colors[k])])
                if float(x1[k]) - left >= static.size().width() + 6:  # else it would spill
                    p.drawStaticText(QPointF(left + 4, top + 2), static)
            p.restore()
