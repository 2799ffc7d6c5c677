"""Graphics items for annotation regions on a time plot (x in seconds).

:class:`RegionItem` is one editable region (a ``LinearRegionItem``: drag the
body to move, an edge to resize) that snaps its moving edge through a
``snapper`` callback unless Shift is held. Regions without one are painted by
:class:`~relay_desktop.ui.annotations.region_painter.RegionPainter`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QPainter

from relay_desktop.core.annotations.document import Region
from relay_desktop.ui.annotations.region_painter import LABEL_COLOR, label_font, tint

Snapper = Callable[[float, str, str], float]  # (seconds, local_id, edge) -> snapped seconds


class RegionSignals(QObject):
    """Signals of every :class:`RegionItem` of a layer (one emitter, many items).

    Signals:
        clicked(str, object, float, int): local id, keyboard modifiers, x in seconds,
            the edge clicked near (0 start, 1 end, -1 body).
        changing(str, float, float): local id and its live bounds while dragging.
        edited(str, float, float, str): local id, final bounds (seconds) and
            ``"move"`` or ``"resize"`` when a drag ends.
        context_menu(str, object): local id and the screen position (a QPoint).
    """

    clicked = Signal(str, object, float, int)
    changing = Signal(str, float, float)
    edited = Signal(str, float, float, str)
    context_menu = Signal(str, object)


class RegionItem(pg.LinearRegionItem):
    """One region; emits through a shared :class:`RegionSignals`."""

    EDGE_PX = 6

    def __init__(self, signals: RegionSignals, snapper: Snapper | None = None,
                 interactive: bool = True) -> None:
        super().__init__(values=(0, 1), movable=interactive, swapMode="sort")
        self.signals = signals
        self.snapper = snapper
        self.interactive = interactive
        self.local_id = ""
        self.label = ""
        self._color = "#808080"
        self.selected = False
        self._drag_kind = ""
        self._snapping = False
        self.last_modifiers = Qt.KeyboardModifier.NoModifier
        self._y_span: tuple[float, float] = (0.0, 0.0)
        # Swaps the edge lines' event handlers on the instances: pyqtgraph 0.14.0 (pinned
        # to 0.14.x in pyproject.toml) builds the lines itself, with no public way to give
        # its own line class, and its GraphicsScene calls ``item.mouseDragEvent(ev)`` /
        # ``item.mouseClickEvent(ev)``, so instance attributes win. The lines' public
        # signals will not do: sigDragged has no event and comes after the move (the
        # modifiers and the selecting click must come first), and with sigClicked the
        # line's own handler still runs. tests/unit/test_dependency_internals.py guards it.
        for i, line in enumerate(self.lines):
            line.mouseDragEvent = self._line_drag(line, line.mouseDragEvent, i)
            line.mouseClickEvent = self._line_click(i)
        self.sigRegionChanged.connect(self._on_changed)
        self.sigRegionChangeFinished.connect(self._on_finished)

    # -- state ---------------------------------------------------------------------
    def show_region(self, region: Region, color: str, selected: bool, editable: bool) -> None:
        """Point this (pooled) item at ``region``."""
        self.local_id = region.local_id
        self.label = region.artifact_type
        self._color = color
        self.selected = selected
        self.blockSignals(True)
        self.setRegion((region.start_ms / 1000.0, region.end_ms / 1000.0))
        self.blockSignals(False)
        self.setMovable(editable and self.interactive)
        self._style()
        if not self.isVisible():
            self.show()

    def set_selected(self, selected: bool) -> None:
        if selected != self.selected:
            self.selected = selected
            self._style()

    def _style(self) -> None:
        fill = tint(self._color, 110 if self.selected else 55)
        self.setBrush(fill)
        self.setHoverBrush(tint(self._color, 140))
        pen = pg.mkPen(tint(self._color, 255), width=3 if self.selected else 1.5)
        hover = pg.mkPen("#ffffff", width=3)
        for line in self.lines:
            line.setPen(pen)
            line.setHoverPen(hover)
        self.setZValue(20 if self.selected else 10)
        self.update()

    # -- geometry and painting --------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        """The region's span over the view's height.

        pyqtgraph's own maps the whole view rect into the item on every call and
        announces a geometry change whenever the result moves by a rounding error,
        which during a paint makes Qt paint the whole scene once more. Here x is the
        region's (whose moves already announce themselves) and y the view's range,
        which only a lane layout change moves.
        """
        vb = self.getViewBox()
        if vb is None:
            return QRectF()
        y0, y1 = vb.viewRange()[1]
        a, b = self.getRegion()
        if (y0, y1) != self._y_span:
            self._y_span = (y0, y1)
            self.prepareGeometryChange()
        return QRectF(float(a), float(y0), float(b) - float(a), float(y1) - float(y0))

    def paint(self, p: QPainter, *args: Any) -> None:
        """The body filled in device pixels, then the label at its top left.

        LinearRegionItem's own fills the rect through the view's scaling, which the
        raster engine rasterises as a transformed shape: filling the same rect mapped
        to whole device pixels costs a third less per region in a zoomed-in frame.
        """
        rect = p.transform().mapRect(self.boundingRect())
        p.save()
        p.resetTransform()
        p.fillRect(rect.toAlignedRect(), self.currentBrush)
        if self.label and rect.width() >= 28:
            p.setPen(LABEL_COLOR)
            p.setFont(label_font(self.selected))
            p.drawText(rect.adjusted(4, 2, -2, 0),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, self.label)
        p.restore()

    # -- interaction -------------------------------------------------------------------
    def _line_drag(self, line: pg.InfiniteLine, original: Callable[[Any], None],
                   index: int) -> Callable[[Any], None]:
        def drag(ev: Any) -> None:
            if not self.movable:
                ev.ignore()
                return
            self.last_modifiers = ev.modifiers()
            if ev.isStart():
                self._drag_kind = "resize"
                self.signals.clicked.emit(self.local_id, ev.modifiers(),
                                          float(line.value()), index)
            original(ev)
        return drag

    def _line_click(self, index: int) -> Callable[[Any], None]:
        def click(ev: Any) -> None:
            if ev.button() == Qt.MouseButton.LeftButton:
                ev.accept()
                self.signals.clicked.emit(self.local_id, ev.modifiers(),
                                          float(self.lines[index].value()), index)
            else:
                self.mouseClickEvent(ev)
        return click

    def mouseDragEvent(self, ev: Any) -> None:
        if not self.movable or ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        self.last_modifiers = ev.modifiers()
        if ev.isStart():
            self._drag_kind = "move"
            x = float(ev.buttonDownPos().x())
            self.signals.clicked.emit(self.local_id, ev.modifiers(), x, -1)
        super().mouseDragEvent(ev)

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            x = float(ev.pos().x())
            self.signals.clicked.emit(self.local_id, ev.modifiers(), x, self._edge_at(x))
        elif ev.button() == Qt.MouseButton.RightButton and not self.moving:
            ev.accept()
            self.signals.context_menu.emit(self.local_id, ev.screenPos().toPoint())
        else:
            super().mouseClickEvent(ev)

    def _edge_at(self, x: float) -> int:
        a, b = self.getRegion()
        px = self._px_width()
        tol = self.EDGE_PX * px
        if abs(x - a) <= tol:
            return 0
        if abs(x - b) <= tol:
            return 1
        return -1

    def _on_changed(self) -> None:
        if self._snapping or not self._drag_kind:
            return
        a, b = (float(v) for v in self.getRegion())
        shift = bool(self.last_modifiers & Qt.KeyboardModifier.ShiftModifier)
        if self.snapper is not None and not shift:
            self._snapping = True
            try:
                if self._drag_kind == "move":
                    sa = self.snapper(a, self.local_id, "start")
                    sb = self.snapper(b, self.local_id, "end")
                    offset = sa - a if abs(sa - a) <= abs(sb - b) and sa != a else (
                        sb - b if sb != b else 0.0)
                    if offset:
                        self.setRegion((a + offset, b + offset))
                        a, b = a + offset, b + offset
                else:
                    lines = [float(line.value()) for line in self.lines]
                    moving = 0 if self.lines[0].moving else 1
                    snapped = self.snapper(lines[moving], self.local_id,
                                           "start" if lines[moving] <= lines[1 - moving]
                                           else "end")
                    if snapped != lines[moving]:
                        self.lines[moving].setValue(snapped)
                        a, b = (float(v) for v in self.getRegion())
            finally:
                self._snapping = False
        self.signals.changing.emit(self.local_id, a, b)

    def _on_finished(self) -> None:
        if not self._drag_kind:
            return
        kind, self._drag_kind = self._drag_kind, ""
        a, b = (float(v) for v in self.getRegion())
        self.signals.edited.emit(self.local_id, a, b, kind)

    def _px_width(self) -> float:
        vb = self.getViewBox()
        if vb is None:
            return 0.0
        px = vb.viewPixelSize()
        return float(px[0]) if px else 0.0
