"""The overview strip: the whole file, small, with the visible window as a draggable box.

It is a PlotItem placed in the same GraphicsLayoutWidget as the detail plot, so
a zoom or pan repaints one scene once (two views updated in one pass make Qt
paint the detail view twice). While the file decodes (a growing pyramid) the
part not decoded yet is a :class:`PendingBand`; :meth:`OverviewStrip.refresh`
redraws what has arrived.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem

from relay_desktop.core.audio.peaks import PeakPyramid
from relay_desktop.ui.waveform.items import WaveItem
from relay_desktop.ui.waveform.pending import PendingBand

OVERVIEW_HEIGHT = 54


class _StaticViewBox(pg.ViewBox):
    """A view box that never pans or zooms itself; clicks and drags steer the detail view.

    Signals:
        (pyqtgraph's ViewBox signals only; gestures go to the OverviewStrip's signals)
    """

    def __init__(self, strip: OverviewStrip) -> None:
        super().__init__(enableMenu=False)
        self._strip = strip
        self.setMouseEnabled(x=False, y=False)
        self.setBackgroundColor("#15181d")

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self._strip.centre_requested.emit(float(self.mapToView(ev.pos()).x()))
        else:
            ev.ignore()

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        """Dragging moves the window box (like a scrollbar thumb)."""
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        here = float(self.mapToView(ev.pos()).x())
        last = float(self.mapToView(ev.lastPos()).x())
        a, b = self._strip.window()
        if ev.isStart() and not a <= float(self.mapToView(ev.buttonDownPos()).x()) <= b:
            half = (b - a) / 2
            a, b = here - half, here + half
        else:
            a, b = a + here - last, b + here - last
        self._strip.drag_to(a, b)

    def wheelEvent(self, ev: Any, axis: Any = None) -> None:
        ev.ignore()


class OverviewStrip(QObject):
    """Whole-file envelope with the visible window shown as a box (``plot`` is its PlotItem).

    Signals:
        window_dragged(float, float): the user moved or resized the box (seconds).
        centre_requested(float): the user clicked outside the box (seconds).
    """

    window_dragged = Signal(float, float)
    centre_requested = Signal(float)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._vb = _StaticViewBox(self)
        self.plot = pg.PlotItem(viewBox=self._vb)
        plot = self.plot
        plot.setObjectName("waveformOverview")
        plot.setFixedHeight(OVERVIEW_HEIGHT)
        plot.hideAxis("bottom")
        plot.getAxis("left").setWidth(52)
        plot.getAxis("left").setStyle(showValues=False)
        plot.getAxis("left").setPen(pg.mkPen(None))
        # it only reserves the detail plot's axis width: no need to call its paint()
        plot.getAxis("left").setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.layout.setContentsMargins(0, 2, 0, 4)
        self._wave = WaveItem("#5f7f95")
        # the strip's waveform only changes on resize: cache it, so moving the box is a blit
        self._wave.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        plot.addItem(self._wave, ignoreBounds=True)
        self.pending = PendingBand((-1.05, 1.05), label=False)
        plot.addItem(self.pending, ignoreBounds=True)
        self._decoding = True
        # a plain rect (a LinearRegionItem here made Qt repaint the scene twice per zoom)
        self._region = QGraphicsRectItem(0.0, -1.05, 1.0, 2.1)
        self._region.setBrush(pg.mkBrush(255, 255, 255, 40))
        pen = pg.mkPen("#e0e0e0", width=1)
        pen.setCosmetic(True)
        self._region.setPen(pen)
        self._region.setZValue(10)
        plot.addItem(self._region, ignoreBounds=True)
        self._window = (0.0, 1.0)
        self.playhead = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#ffca28", width=1))
        self.playhead.setZValue(20)
        self.playhead.hide()
        plot.addItem(self.playhead, ignoreBounds=True)
        self._pyramid: PeakPyramid | None = None
        self._lane = 0
        self._duration = 1.0
        self._vb.setRange(xRange=(0, 1), yRange=(-1.05, 1.05), padding=0)
        self._vb.sigResized.connect(self._redraw)
        self._region.hide()

    def set_pyramid(self, pyramid: PeakPyramid | None, lane: int = 0) -> None:
        """Show ``pyramid`` (None clears the strip); a growing one shows what has arrived."""
        self._pyramid = pyramid
        self._lane = lane
        self._decoding = True
        if pyramid is None:
            self._wave.clear()
            self.pending.clear()
            self._region.hide()
            return
        self._duration = max(pyramid.duration_s, 1e-6)
        self._region.show()
        self._vb.setRange(xRange=(0, self._duration), yRange=(-1.05, 1.05), padding=0)
        self._redraw()

    def refresh(self, decoding: bool = True) -> None:
        """Redraw after more of the file decoded (``decoding`` False: it stopped early)."""
        self._decoding = decoding
        pyr = self._pyramid
        if pyr is not None and abs(pyr.duration_s - self._duration) > 1e-9:
            self.set_pyramid(pyr, self._lane)  # the file ended early: its duration shrank
            self._decoding = decoding
        self._redraw()

    def _redraw(self, *_args: object) -> None:
        pyr = self._pyramid
        if pyr is None:
            return
        px = max(64, int(self._vb.width()))
        env = pyr.envelope(0, pyr.frames, self._lane, px)
        if env is None:  # a very short file: the finest level is still fine here
            level = pyr.levels[0][: pyr.available_buckets(0), self._lane]
            starts = np.arange(len(level), dtype=np.float64) * pyr.base
            env = (starts, np.asarray(level[:, 0]), np.asarray(level[:, 1]))
        starts, mins, maxs = env
        self._wave.set_envelopes([(starts / pyr.sample_rate, mins, maxs, 0.0)],
                                 (0.0, self._duration))
        if pyr.is_complete():
            self.pending.clear()
        else:
            self.pending.set_span(pyr.decoded_until() / pyr.sample_rate, self._duration,
                                  self._decoding)

    def set_window(self, start_s: float, end_s: float) -> None:
        """Move the box to the detail view's range (does not emit ``window_dragged``)."""
        self._window = (float(start_s), float(end_s))
        self._region.setRect(QRectF(start_s, -1.05, max(end_s - start_s, 0.0), 2.1))

    def window(self) -> tuple[float, float]:
        return self._window

    def drag_to(self, start_s: float, end_s: float) -> None:
        """The user dragged the box: clamp it to the file and say so."""
        span = end_s - start_s
        start_s = min(max(0.0, start_s), max(0.0, self._duration - span))
        self.window_dragged.emit(start_s, start_s + span)

    def setVisible(self, visible: bool) -> None:
        self.plot.setVisible(visible)

    def show(self) -> None:
        self.plot.show()

    def hide(self) -> None:
        self.plot.hide()
