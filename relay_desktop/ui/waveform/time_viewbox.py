"""Navigating the waveform view in time: its plot area's gestures and its keys.

Gestures (:class:`TimeViewBox`) call the view's public API: the wheel zooms
around the cursor (Shift+wheel pans), middle-drag or Alt+left-drag pans,
Shift+left-drag selects, a plain left-drag emits ``empty_drag`` and a click
``clicked_at``. :func:`detail_plot` builds the plot around such a box, and
:func:`navigation_keys` maps the keymap's ``waveform.*``
commands to the view's moves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem

from relay_desktop.ui.waveform.axis import TimeAxisItem

if TYPE_CHECKING:
    from relay_desktop.ui.waveform.view import WaveformView

ZOOM_STEP = 0.8


def detail_plot(view_box: TimeViewBox, axis_width: int) -> pg.PlotItem:
    """The detail waveform's plot: a time axis on top, the lane axis on the left."""
    plot = pg.PlotItem(viewBox=view_box, axisItems={"top": TimeAxisItem("top")})
    plot.showAxis("top")
    plot.hideAxis("bottom")
    plot.hideButtons()
    plot.setMenuEnabled(False)
    plot.getAxis("left").setWidth(axis_width)
    # the lane axis only changes with the lanes: a zoom blits it instead of replaying
    # its recorded labels (as much as a tenth of a frame)
    plot.getAxis("left").setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    plot.getAxis("top").setHeight(24)
    # hidden, but still linked to the range: without this it re-lays out its (unused)
    # label as HTML on every zoom or pan
    plot.getAxis("bottom").enableAutoSIPrefix(False)
    return plot


class TimeViewBox(pg.ViewBox):
    """A ViewBox that zooms and pans only in time and routes gestures to its view.

    Signals:
        (pyqtgraph's ViewBox signals only; gestures call back into the WaveformView)
    """

    def __init__(self, view: WaveformView) -> None:
        super().__init__(enableMenu=False)
        self._view = view
        self.setMouseEnabled(x=True, y=False)

    def wheelEvent(self, ev: Any, axis: Any = None) -> None:
        steps = ev.delta() / 120.0
        x = float(self.mapToView(ev.pos()).x())
        if ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            a, b = self._view.view_range()
            self._view.pan_by(-steps * 0.1 * (b - a))
        else:
            self._view.zoom_by(ZOOM_STEP**steps, x)
        ev.accept()

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        button, mods = ev.button(), ev.modifiers()
        start = float(self.mapToView(ev.buttonDownPos()).x())
        here = float(self.mapToView(ev.pos()).x())
        if button == Qt.MouseButton.MiddleButton or (
                button == Qt.MouseButton.LeftButton and mods & Qt.KeyboardModifier.AltModifier):
            ev.accept()
            last = float(self.mapToView(ev.lastPos()).x())
            self._view.pan_by(last - here)
        elif button == Qt.MouseButton.LeftButton and mods & Qt.KeyboardModifier.ShiftModifier:
            ev.accept()
            self._view.set_selection(start, here)
        elif button == Qt.MouseButton.LeftButton:
            ev.accept()
            phase = "start" if ev.isStart() else "finish" if ev.isFinish() else "move"
            self._view.empty_drag.emit(start, here, phase)
        else:
            ev.ignore()

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            x = float(self.mapToView(ev.pos()).x())
            self._view.setFocus()
            if not ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self._view.clear_selection()
            self._view.clicked_at.emit(min(max(0.0, x), self._view.duration_s))
        else:
            ev.ignore()


def navigation_keys(view: WaveformView) -> dict[str, Any]:
    """The ``waveform.*`` key commands of ``view``, as callables."""
    a, b = view.view_range()
    step = 0.1 * (b - a)
    return {
        "waveform.pan_left": lambda: view.pan_by(-step),
        "waveform.pan_right": lambda: view.pan_by(step),
        "waveform.page_left": lambda: view.pan_by(-5 * step),
        "waveform.page_right": lambda: view.pan_by(5 * step),
        "waveform.zoom_in": view.zoom_in,
        "waveform.zoom_out": view.zoom_out,
        "waveform.start": lambda: view.set_view_range(0, b - a),
        "waveform.end": lambda: view.set_view_range(view.duration_s - (b - a),
                                                    view.duration_s),
        "waveform.zoom_fit": view.zoom_fit,
        "waveform.zoom_selection": view.zoom_to_selection,
        "waveform.clear_selection": view.clear_selection,
    }
