"""RegionLayer: the open set's regions on the waveform and spectrogram plots.

One :class:`RegionPainter` per plot paints the file's regions in the visible
range; interactive :class:`RegionItem` objects (pooled and reused) are given only
to the regions that need one: all visible regions while at most
``ALL_ITEMS_MAX`` are visible, else the selected ones, the one being dragged
and those under the mouse pointer (an event filter on the plot's viewport
gives them items before the scene sees a move or a press, so hovering,
clicking and dragging work on every region). A 1-hour file with thousands
of regions thus costs a few items per zoom or pan, not thousands. Editing
goes through the :class:`AnnotationSession` (undoable, journaled).

Mouse: drag on empty space draws a region of the current type; drag a body to
move, an edge to resize (snapping to other regions' edges and, on release,
to a zero crossing; hold Shift to disable snapping); click selects (Ctrl adds);
right-click opens a menu (relabel, confidence, delete).

Keys (see :mod:`relay_desktop.ui.annotations.region_keys`) are read through an
event filter on the waveform view.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any, Protocol

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QInputDialog, QMenu, QWidget

from relay_desktop.core.annotations.document import DocumentChange, Region, new_local_id
from relay_desktop.services.annotation_session import AnnotationSession
from relay_desktop.ui.annotations.region_item import RegionItem, RegionSignals
from relay_desktop.ui.annotations.region_keys import RegionKeys
from relay_desktop.ui.annotations.region_painter import RegionPainter, region_arrays

ALL_ITEMS_MAX = 4  # up to this many visible regions all get items, else only the live ones
POINTER_PX = 8  # regions this close to the pointer (in pixels) get items
POINTER_MAX = 4  # at most this many of them (the nearest)
SNAP_PX = 8
ZERO_CROSSING_WINDOW_MS = 3.0


class TimeView(Protocol):
    """What the layer uses of a WaveformView (all optional at run time)."""

    empty_drag: Any
    clicked_at: Any

    def zero_crossing_near(self, t_s: float, window_ms: float = ...) -> float: ...
    def playhead(self) -> float | None: ...
    def view_range(self) -> tuple[float, float]: ...
    def set_view_range(self, start_s: float, end_s: float) -> None: ...


class RegionLayer(RegionKeys, QObject):
    """Shows and edits the regions of one audio file of a session on some plots.

    Signals:
        current_type_changed(str): the type new regions get.
        message(str): something to tell the user (why an edit was refused, hints).
        in_point_changed(object): the pending in point in seconds (None when cleared).
        selected_edge_changed(int): 0 for start, 1 for end.
    """

    current_type_changed = Signal(str)
    message = Signal(str)
    in_point_changed = Signal(object)
    selected_edge_changed = Signal(int)

    def __init__(self, session: AnnotationSession, plots: Sequence[pg.PlotItem], *,
                 view: Any = None, player: Any = None, key_widget: QWidget | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.plots = list(plots)
        self.view = view
        self.player = player
        self.audio_file_id: str | None = None
        self.duration_ms: int | None = None
        self.signals = RegionSignals(self)
        self.signals.clicked.connect(self._on_item_clicked)
        self.signals.changing.connect(self._on_changing)
        self.signals.edited.connect(self._on_edited)
        self.signals.context_menu.connect(self._on_context_menu)
        self._items: dict[str, list[RegionItem]] = {}
        self._pools: list[list[RegionItem]] = [[] for _ in self.plots]
        self._painters = [RegionPainter() for _ in self.plots]
        for plot, painter in zip(self.plots, self._painters, strict=True):
            plot.addItem(painter, ignoreBounds=True)
        self._painted_file: str | None = None
        self._painters_stale = True
        self._pointer_s: float | None = None
        self._draft: list[RegionItem] = []
        self._edges: list[float] = []
        self._edge_owner: list[str] = []
        self._current_type = ""
        self._cursor_s: float | None = None
        self._in_point: float | None = None
        self.selected_edge = 0
        self._dragging: str | None = None
        self.summary_mode = False
        self.plots[0].getViewBox().sigXRangeChanged.connect(self.refresh)
        self._viewport = self._plot_viewport()
        if self._viewport is not None:
            self._viewport.installEventFilter(self)
        session.changed.connect(self._on_document_changed)
        session.selection_changed.connect(self._on_selection)
        session.loaded.connect(self._on_loaded)
        session.read_only_changed.connect(lambda _ro: self.refresh(force=True))
        if view is not None:
            view.empty_drag.connect(self._on_empty_drag)
            view.clicked_at.connect(self._on_empty_click)
        self.key_widget = key_widget or (view if isinstance(view, QWidget) else None)
        if self.key_widget is not None:
            self.key_widget.installEventFilter(self)
        self._on_loaded()

    def detach(self) -> None:
        """Take every item and handler off the plots and the view (the set was closed)."""
        self.plots[0].getViewBox().sigXRangeChanged.disconnect(self.refresh)
        if self.view is not None:
            self.view.empty_drag.disconnect(self._on_empty_drag)
            self.view.clicked_at.disconnect(self._on_empty_click)
        if self.key_widget is not None:
            self.key_widget.removeEventFilter(self)
        if self._viewport is not None:
            self._viewport.removeEventFilter(self)
            self._viewport = None
        self._release_all()
        for plot, item in zip(self.plots, self._draft, strict=False):
            plot.removeItem(item)
        for plot, pool, painter in zip(self.plots, self._pools, self._painters, strict=True):
            for item in pool:
                plot.removeItem(item)
            plot.removeItem(painter)
        self._pools = [[] for _ in self.plots]
        self._draft.clear()

    # -- configuration -----------------------------------------------------------------
    def set_audio_file(self, audio_file_id: str | None, duration_ms: int | None = None) -> None:
        """Show the regions of this file (``duration_ms`` overrides the dataset's value)."""
        self.audio_file_id = audio_file_id
        durations = self.session.document.durations_ms
        known = durations.get(audio_file_id or "")
        if audio_file_id and duration_ms is not None and known is None:
            durations[audio_file_id] = duration_ms  # the decoded file knows it; the server not yet
        self.duration_ms = duration_ms if duration_ms is not None else known
        self._in_point = None
        self._painters_stale = True
        self.refresh(force=True)

    @property
    def current_type(self) -> str:
        return self._current_type

    def set_current_type(self, name: str) -> None:
        if name != self._current_type and name in self.session.document.type_names():
            self._current_type = name
            self.current_type_changed.emit(name)

    def _on_loaded(self) -> None:
        durations = self.session.document.durations_ms
        if self.audio_file_id and self.duration_ms is not None \
                and durations.get(self.audio_file_id) is None:
            durations[self.audio_file_id] = self.duration_ms
        names = self.session.document.type_names()
        if names and self._current_type not in names:
            self.set_current_type(names[0])
        self._painters_stale = True  # a new document
        self.refresh(force=True)

    # -- items ------------------------------------------------------------------------
    def visible_range_s(self) -> tuple[float, float]:
        a, b = self.plots[0].getViewBox().viewRange()[0]
        return float(a), float(b)

    def item_count(self) -> int:
        """How many regions have graphics items now (per plot)."""
        return len(self._items)

    def items_for(self, local_id: str) -> list[RegionItem]:
        return list(self._items.get(local_id, []))

    def refresh(self, *_args: Any, force: bool = False) -> None:
        """Paint the file's regions and give items to the visible ones that need one."""
        doc = self.session.document
        if self.audio_file_id is None:
            self._release_all()
            self._paint_regions([])
            return
        if self._painters_stale or self._painted_file != self.audio_file_id:
            self._paint_regions(doc.regions_of_file(self.audio_file_id))
        a, b = self.visible_range_s()
        margin = (b - a) * 0.1
        visible = doc.regions_in_range(self.audio_file_id, (a - margin) * 1000,
                                       (b + margin) * 1000)
        self._index_edges(visible)
        self.summary_mode = len(visible) > ALL_ITEMS_MAX
        if self.summary_mode:
            live = set(self.session.selection) | self._near_pointer()
            if self._dragging is not None:
                live.add(self._dragging)
            visible = [r for r in visible if r.local_id in live]
        wanted = {r.local_id: r for r in visible}
        for local_id in list(self._items):
            if local_id not in wanted and local_id != self._dragging:
                self._release(local_id)
        selection = set(self.session.selection)
        editable = self.editable
        for local_id, region in wanted.items():
            if local_id == self._dragging:
                continue
            items = self._items.get(local_id)
            if items is None:
                items = [self._acquire(i) for i in range(len(self.plots))]
                self._items[local_id] = items
            elif not force and items[0].label == region.artifact_type and \
                    items[0].getRegion() == (region.start_ms / 1000.0, region.end_ms / 1000.0) \
                    and items[0].selected == (local_id in selection) \
                    and items[0].movable == editable:
                continue
            color = doc.color_of(region.artifact_type)
            for i, item in enumerate(items):
                item.show_region(region, color, local_id in selection, editable and i == 0)
        for painter in self._painters:
            painter.set_live(self._items)

    def _paint_regions(self, regions: Sequence[Region]) -> None:
        """Hand the painters the file's regions (after a change or another file)."""
        arrays = region_arrays(regions, self.session.document.color_of)
        for painter in self._painters:
            painter.set_regions(arrays)
        self._painted_file = self.audio_file_id
        self._painters_stale = False

    def painted_count(self) -> int:
        """How many regions in the visible range are painted without an item (per plot)."""
        return self._painters[0].painted_in(*self.visible_range_s()) if self._painters else 0

    # -- the pointer: items for the regions under it ------------------------------------------
    def _plot_viewport(self) -> QWidget | None:
        scene = self.plots[0].scene() if self.plots else None
        views = scene.views() if scene is not None else []
        return views[0].viewport() if views else None

    def _near_pointer(self) -> set[str]:
        """The regions within ``POINTER_PX`` of the pointer (when it is over the first plot)."""
        t = self._pointer_s
        if t is None or self.audio_file_id is None:
            return set()
        tol = POINTER_PX * self._pixel_s()
        near = self.session.document.regions_in_range(
            self.audio_file_id, (t - tol) * 1000, (t + tol) * 1000)
        if len(near) > POINTER_MAX:  # zoomed far out: the few nearest
            ms = t * 1000
            near = sorted(near, key=lambda r: min(abs(r.start_ms - ms), abs(r.end_ms - ms),
                                                  0 if r.start_ms <= ms <= r.end_ms else ms))
            near = near[:POINTER_MAX]
        return {r.local_id for r in near}

    def pointer_moved(self, pos: QPointF | None) -> None:
        """The pointer is at ``pos`` on the plots' viewport (None: it left)."""
        t = None
        if pos is not None:
            vb = self.plots[0].getViewBox()
            views = vb.scene().views() if vb.scene() is not None else []
            if views:
                scene_pos = views[0].mapToScene(pos.toPoint())
                if vb.sceneBoundingRect().contains(scene_pos):
                    t = float(vb.mapSceneToView(scene_pos).x())
        if t == self._pointer_s:
            return
        before = self._near_pointer() if self.summary_mode else set()
        self._pointer_s = t
        if self.summary_mode and self._near_pointer() != before and self._dragging is None:
            self.refresh()

    def _acquire(self, plot_index: int) -> RegionItem:
        pool = self._pools[plot_index]
        if pool:
            return pool.pop()
        item = RegionItem(self.signals, self._snap, interactive=plot_index == 0)
        self.plots[plot_index].addItem(item, ignoreBounds=True)
        return item

    def _release(self, local_id: str) -> None:
        for i, item in enumerate(self._items.pop(local_id, [])):
            item.hide()
            item.local_id = ""
            self._pools[i].append(item)

    def _release_all(self, keep: str | None = None) -> None:
        for local_id in list(self._items):
            if local_id != keep:
                self._release(local_id)

    def _index_edges(self, regions: Sequence[Region]) -> None:
        pairs = sorted([(r.start_ms / 1000.0, r.local_id) for r in regions]
                       + [(r.end_ms / 1000.0, r.local_id) for r in regions])
        self._edges = [p[0] for p in pairs]
        self._edge_owner = [p[1] for p in pairs]

    # -- snapping ----------------------------------------------------------------------
    def _pixel_s(self) -> float:
        px = self.plots[0].getViewBox().viewPixelSize()
        return float(px[0]) if px else 0.0

    def _snap(self, t: float, local_id: str, edge: str) -> float:
        """Snap to the nearest other region's edge within ``SNAP_PX`` pixels."""
        tol = SNAP_PX * self._pixel_s()
        if tol <= 0 or not self._edges:
            return t
        i = bisect.bisect_left(self._edges, t - tol)
        best, best_d = t, tol
        while i < len(self._edges) and self._edges[i] <= t + tol:
            if self._edge_owner[i] != local_id:
                d = abs(self._edges[i] - t)
                if d < best_d:
                    best, best_d = self._edges[i], d
            i += 1
        return best

    def _zero_crossing(self, t: float) -> float:
        if self.view is None or not hasattr(self.view, "zero_crossing_near"):
            return t
        return float(self.view.zero_crossing_near(t, ZERO_CROSSING_WINDOW_MS))

    def _finish_snap(self, t: float, local_id: str) -> float:
        """On release: a region edge if one is near, else the nearest zero crossing."""
        snapped = self._snap(t, local_id, "")
        return snapped if snapped != t else self._zero_crossing(t)

    @staticmethod
    def _shift_held() -> bool:
        return bool(QGuiApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier)

    # -- mouse: items ----------------------------------------------------------------------
    def _on_item_clicked(self, local_id: str, modifiers: Any, x_s: float, edge: int) -> None:
        self._cursor_s = x_s
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            sel = self.session.selection
            sel = [i for i in sel if i != local_id] if local_id in sel else [*sel, local_id]
            self.session.select(sel)
        elif local_id not in self.session.selection or len(self.session.selection) > 1:
            self.session.select([local_id])
        if edge in (0, 1):
            self._set_edge(edge)

    def _set_edge(self, edge: int) -> None:
        if edge != self.selected_edge:
            self.selected_edge = edge
            self.selected_edge_changed.emit(edge)

    def _on_changing(self, local_id: str, a: float, b: float) -> None:
        self._dragging = local_id
        for item in self._items.get(local_id, [])[1:]:
            item.blockSignals(True)
            item.setRegion((a, b))
            item.blockSignals(False)

    def _on_edited(self, local_id: str, a: float, b: float, kind: str) -> None:
        self._dragging = None
        region = self.session.document.get(local_id)
        if region is None:
            return
        items = self._items.get(local_id)
        shift = bool(items and items[0].last_modifiers & Qt.KeyboardModifier.ShiftModifier)
        if not shift and self.view is not None:
            if kind == "move":
                snapped = self._finish_snap(a, local_id)
                b, a = b + (snapped - a), snapped
            else:
                old_a, old_b = region.start_ms / 1000.0, region.end_ms / 1000.0
                if abs(a - old_a) > 1e-9:
                    a = self._finish_snap(a, local_id)
                if abs(b - old_b) > 1e-9:
                    b = self._finish_snap(b, local_id)
        start, end = self._clamp(round(a * 1000), round(b * 1000), keep_length=kind == "move")
        if kind == "resize":
            self._set_edge(0 if start != region.start_ms else 1)
        self.session.edit(local_id, kind, start_ms=start, end_ms=end)
        self.refresh(force=True)  # items follow the document (also when the edit was refused)

    def _clamp(self, start: int, end: int, keep_length: bool = False) -> tuple[int, int]:
        start, end = min(start, end), max(start, end)
        limit = self.duration_ms
        if keep_length:
            length = end - start
            if start < 0:
                start, end = 0, length
            if limit is not None and end > limit:
                start, end = max(0, limit - length), limit
            return start, end
        start = max(0, start)
        if limit is not None:
            end = min(end, limit)
        return start, end

    def _on_context_menu(self, local_id: str, pos: QPoint) -> None:
        self.session.select([local_id])
        menu = self.build_menu(local_id)
        menu.popup(pos)

    def build_menu(self, local_id: str) -> QMenu:
        """The region's context menu (relabel, confidence, delete)."""
        menu = QMenu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        relabel = menu.addMenu("Relabel")
        doc = self.session.document
        for i, name in enumerate(doc.type_names()):
            action = relabel.addAction(f"{i + 1}  {name}" if i < 9 else name)
            action.triggered.connect(lambda _c=False, n=name: self.relabel_selection(n))
        menu.addAction("Confidence…").triggered.connect(lambda: self.ask_confidence(local_id))
        menu.addAction("Delete").triggered.connect(self.delete_selection)
        menu.setEnabled(not self.session.read_only)
        return menu

    def ask_confidence(self, local_id: str) -> None:
        region = self.session.document.get(local_id)
        if region is None:
            return
        value, ok = QInputDialog.getDouble(None, "Confidence", "Confidence (0 to 1):",
                                           region.confidence, 0.0, 1.0, 2)
        if ok:
            self.session.edit(local_id, "confidence", confidence=float(value))

    # -- mouse: empty space ------------------------------------------------------------------
    def _on_empty_click(self, t_s: float) -> None:
        self._cursor_s = t_s
        self.session.select([])

    def _on_empty_drag(self, start_s: float, here_s: float, phase: str) -> None:
        if not self.editable or not self._current_type:
            if phase == "finish" and self.session.read_only:
                self.message.emit("This set is published and read-only.")
            return
        if phase == "start" or not self._draft:
            self._show_draft(start_s, here_s)
        elif phase == "move":
            for item in self._draft:
                item.setRegion((start_s, here_s))
        if phase == "finish":
            for item in self._draft:
                item.hide()
            a, b = sorted((start_s, here_s))
            if not self._shift_held():
                a, b = self._finish_snap(a, ""), self._finish_snap(b, "")
            self.draw_region(a, b)

    def _show_draft(self, a: float, b: float) -> None:
        if not self._draft:
            for plot in self.plots:
                item = RegionItem(self.signals, None, interactive=False)
                plot.addItem(item, ignoreBounds=True)
                self._draft.append(item)
        color = self.session.document.color_of(self._current_type)
        draft = Region("", self.audio_file_id or "", self._current_type,
                       round(min(a, b) * 1000), round(max(a, b) * 1000))
        for item in self._draft:
            item.show_region(draft, color, True, False)
            item.setRegion((a, b))

    def draw_region(self, a_s: float, b_s: float, artifact_type: str | None = None) -> str | None:
        """Create a region of the current type over ``[a_s, b_s]``; its id, or None."""
        if not self.editable:
            return None
        start, end = self._clamp(round(min(a_s, b_s) * 1000), round(max(a_s, b_s) * 1000))
        if end - start < 1:
            return None
        region = Region(new_local_id(), self.audio_file_id or "",
                        artifact_type or self._current_type, start, end)
        if self.session.add([region]):
            self.session.select([region.local_id])
            self._set_edge(1)
            return region.local_id
        return None

    # -- keyboard -----------------------------------------------------------------------
    def _emit_message(self, text: str) -> None:
        self.message.emit(text)

    def _emit_in_point(self, t: float | None) -> None:
        self.in_point_changed.emit(t)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if watched is self._viewport:
            if kind in (QEvent.Type.MouseMove, QEvent.Type.MouseButtonPress,
                        QEvent.Type.MouseButtonDblClick) and isinstance(event, QMouseEvent):
                if not (kind == QEvent.Type.MouseMove and event.buttons()):
                    self.pointer_moved(event.position())
            elif kind == QEvent.Type.Leave:
                self.pointer_moved(None)
            return False
        if kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            return self.handle_key(event)
        return False

    # -- document and selection ----------------------------------------------------------
    def _on_document_changed(self, change: DocumentChange) -> None:
        self._painters_stale = True
        if self.summary_mode:
            self.refresh(force=True)
            return
        for old in change.removed:
            self._release(old.local_id)
        self.refresh(force=bool(change.changed))

    def _on_selection(self, ids: list[str]) -> None:
        selected = set(ids)
        if self.summary_mode and not selected <= set(self._items):
            self.refresh()  # selected regions get items
        for local_id, items in self._items.items():
            for item in items:
                item.set_selected(local_id in selected)
