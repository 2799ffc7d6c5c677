"""Graphics items for annotation regions on a time plot (x in seconds).

:class:`RegionItem` is one editable region (a ``LinearRegionItem``: drag the
body to move, an edge to resize) that snaps its moving edge through a
``snapper`` callback unless Shift is held. :class:`RegionSummaryItem` paints
many regions at once, without interaction, when too many are visible for one
item each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen

from relay_desktop.core.annotations.document import Region

Snapper = Callable[[float, str, str], float]  # (seconds, local_id, edge) -> snapped seconds


def tint(color: str, alpha: int) -> QColor:
    c = QColor(color)
    if not c.isValid():
        c = QColor("#808080")
    c.setAlpha(alpha)
    return c


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

    # -- painting the label ------------------------------------------------------------
    def paint(self, p: QPainter, *args: Any) -> None:
        super().paint(p, *args)
        if not self.label:
            return
        rect = p.transform().mapRect(self.boundingRect())
        if rect.width() < 28:
            return
        p.save()
        p.resetTransform()
        p.setPen(QPen(QColor("#f1f3f4")))
        font = QFont()
        font.setPixelSize(11)
        font.setBold(self.selected)
        p.setFont(font)
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


class RegionSummaryItem(pg.GraphicsObject):
    """All regions of a file painted as coloured bars (zoomed-out view, not interactive)."""

    def __init__(self) -> None:
        super().__init__()
        self._bars: list[tuple[QColor, list[QRectF]]] = []
        self._extent = QRectF()
        self.setZValue(5)

    def set_regions(self, regions: Sequence[Region], color_of: Callable[[str], str]) -> None:
        by_type: dict[str, list[QRectF]] = {}
        for r in regions:
            by_type.setdefault(r.artifact_type, []).append(
                QRectF(r.start_ms / 1000.0, 0.0, max(r.duration_ms, 1) / 1000.0, 1.0))
        self.prepareGeometryChange()
        self._bars = [(tint(color_of(t), 120), rects) for t, rects in by_type.items()]
        if regions:
            lo = min(r.start_ms for r in regions) / 1000.0
            hi = max(r.end_ms for r in regions) / 1000.0
            self._extent = QRectF(lo, 0.0, max(hi - lo, 1e-6), 1.0)
        else:
            self._extent = QRectF()
        self.update()

    def boundingRect(self) -> QRectF:
        vr = self.viewRect()
        if vr is None or self._extent.isNull():
            return QRectF()
        return QRectF(self._extent.left(), vr.top(), self._extent.width(), vr.height())

    def paint(self, p: QPainter, *args: Any) -> None:
        vr = self.viewRect()
        if vr is None:
            return
        p.setPen(Qt.PenStyle.NoPen)
        for color, rects in self._bars:
            p.setBrush(color)
            for r in rects:
                if r.right() < vr.left() or r.left() > vr.right():
                    continue
                p.drawRect(QRectF(QPointF(r.left(), vr.top()), QPointF(r.right(), vr.bottom())))
