"""The overview strip: the whole file, small, with the visible window as a draggable box."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGraphicsItem, QWidget

from relay_desktop.core.audio.peaks import PeakPyramid
from relay_desktop.ui.waveform.items import WaveItem

OVERVIEW_HEIGHT = 54


class _StaticViewBox(pg.ViewBox):
    """A view box that never pans or zooms; a click asks to centre the view there."""

    def __init__(self, strip: OverviewStrip) -> None:
        super().__init__(enableMenu=False)
        self._strip = strip
        self.setMouseEnabled(x=False, y=False)

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self._strip.centre_requested.emit(float(self.mapToView(ev.pos()).x()))
        else:
            ev.ignore()

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        ev.ignore()

    def wheelEvent(self, ev: Any, axis: Any = None) -> None:
        ev.ignore()


class OverviewStrip(pg.PlotWidget):
    """Whole-file envelope with the visible window shown as a box.

    Signals:
        window_dragged(float, float): the user moved or resized the box (seconds).
        centre_requested(float): the user clicked outside the box (seconds).
    """

    window_dragged = Signal(float, float)
    centre_requested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        self._vb = _StaticViewBox(self)
        super().__init__(parent, viewBox=self._vb, background="#15181d")
        self.setObjectName("waveformOverview")
        self.setFixedHeight(OVERVIEW_HEIGHT)
        plot = self.getPlotItem()
        plot.hideAxis("left")
        plot.hideAxis("bottom")
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.layout.setContentsMargins(0, 2, 0, 2)
        self._wave = WaveItem("#5f7f95")
        # the strip's waveform only changes on resize: cache it, so moving the box is a blit
        self._wave.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.addItem(self._wave)
        self._region = pg.LinearRegionItem(values=(0, 1), brush=pg.mkBrush(255, 255, 255, 40),
                                           pen=pg.mkPen("#e0e0e0", width=1),
                                           hoverBrush=pg.mkBrush(255, 255, 255, 60))
        self._region.setZValue(10)
        self._region.sigRegionChanged.connect(self._region_moved)
        self.addItem(self._region)
        self.playhead = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#ffca28", width=1))
        self.playhead.setZValue(20)
        self.playhead.hide()
        self.addItem(self.playhead)
        self._pyramid: PeakPyramid | None = None
        self._lane = 0
        self._duration = 1.0
        self._setting = False
        self._vb.setRange(xRange=(0, 1), yRange=(-1.05, 1.05), padding=0)
        self._region.hide()

    def set_pyramid(self, pyramid: PeakPyramid | None, lane: int = 0) -> None:
        """Show ``pyramid`` (None clears the strip)."""
        self._pyramid = pyramid
        self._lane = lane
        if pyramid is None:
            self._wave.clear()
            self._region.hide()
            return
        self._duration = max(pyramid.duration_s, 1e-6)
        self._region.setBounds((0, self._duration))
        self._region.show()
        self._vb.setRange(xRange=(0, self._duration), yRange=(-1.05, 1.05), padding=0)
        self._redraw()

    def _redraw(self) -> None:
        pyr = self._pyramid
        if pyr is None:
            return
        px = max(64, int(self.width()))
        env = pyr.envelope(0, pyr.frames, self._lane, px)
        if env is None:  # a very short file: the finest level is still fine here
            level = pyr.levels[0][:, self._lane]
            starts = np.arange(len(level), dtype=np.float64) * pyr.base
            env = (starts, np.asarray(level[:, 0]), np.asarray(level[:, 1]))
        starts, mins, maxs = env
        self._wave.set_envelopes([(starts / pyr.sample_rate, mins, maxs, 0.0)],
                                 (0.0, self._duration))

    def set_window(self, start_s: float, end_s: float) -> None:
        """Move the box to the detail view's range (does not emit ``window_dragged``)."""
        self._setting = True
        try:
            self._region.setRegion((start_s, end_s))
        finally:
            self._setting = False

    def window(self) -> tuple[float, float]:
        a, b = self._region.getRegion()
        return float(a), float(b)

    def _region_moved(self) -> None:
        if not self._setting:
            a, b = self._region.getRegion()
            self.window_dragged.emit(float(a), float(b))

    def resizeEvent(self, ev: Any) -> None:
        super().resizeEvent(ev)
        if getattr(self, "_pyramid", None) is not None:
            self._redraw()
