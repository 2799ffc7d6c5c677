"""Keyboard and navigation of the region layer (a mixin of :class:`RegionLayer`).

Keys (the defaults of the ``regions.*`` commands of :mod:`relay_desktop.core.keymap`;
the window's keymap decides): 1-9 choose the type (and relabel the selection,
saying so in a message); I marks the in point at the playhead and O closes the
region there; Tab / Shift+Tab cycle through the stack of regions under the
cursor; N / P select, show and play the next / previous region; , and . nudge
the selected edge by 1 ms (with Shift 10 ms) and replay around it; E switches
the edge. Delete is the Edit menu's (``edit.delete``), also handled here for a
layer outside the main window.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QWidget

from relay_desktop.core.annotations.commands import relabel_many
from relay_desktop.core.annotations.document import Region
from relay_desktop.core.keymap import EDITOR
from relay_desktop.ui.shortcuts import command_for, keymap_for

if TYPE_CHECKING:
    from relay_desktop.services.annotation_session import AnnotationSession

EXCERPT_MS = 300


class RegionKeys:
    """Key handling and region navigation; needs the attributes declared below."""

    session: AnnotationSession
    view: Any
    player: Any
    key_widget: Any
    audio_file_id: str | None
    duration_ms: int | None
    selected_edge: int
    _cursor_s: float | None
    _in_point: float | None
    _current_type: str

    plots: list[Any]

    # provided by RegionLayer
    def set_current_type(self, name: str) -> None:
        raise NotImplementedError

    def draw_region(self, a_s: float, b_s: float,
                    artifact_type: str | None = None) -> str | None:
        raise NotImplementedError

    def visible_range_s(self) -> tuple[float, float]:
        raise NotImplementedError

    def _set_edge(self, edge: int) -> None:
        raise NotImplementedError

    def _emit_message(self, text: str) -> None:
        raise NotImplementedError

    def _emit_in_point(self, t: float | None) -> None:
        raise NotImplementedError

    @property
    def editable(self) -> bool:
        return not self.session.read_only and self.audio_file_id is not None

    def handle_key(self, event: QKeyEvent) -> bool:
        """Handle one of the layer's keys; False when the key is not ours.

        The key is looked up in the window's keymap (``regions.*`` commands), so a
        rebinding applies here and a modified key (Ctrl+Z) never passes for a plain one.
        """
        widget = self.key_widget if isinstance(self.key_widget, QWidget) else None
        command = command_for(widget, event, (EDITOR,))
        if command is None:
            return False
        if command == "edit.delete":
            self.delete_selection()
            return True
        if command.startswith("regions.type_"):
            self.choose_type(int(command.rsplit("_", 1)[1]) - 1)
            return True
        handlers = {
            "regions.mark_in": self.mark_in,
            "regions.mark_out": self.mark_out,
            "regions.cycle": lambda: self.cycle_stack(1),
            "regions.cycle_back": lambda: self.cycle_stack(-1),
            "regions.next": lambda: self.go_to_neighbour(1),
            "regions.previous": lambda: self.go_to_neighbour(-1),
            "regions.nudge_left": lambda: self.nudge(-1),
            "regions.nudge_right": lambda: self.nudge(1),
            "regions.nudge_left_10": lambda: self.nudge(-10),
            "regions.nudge_right_10": lambda: self.nudge(10),
            "regions.switch_edge": lambda: self._set_edge(1 - self.selected_edge),
        }
        handler = handlers.get(command)
        if handler is None:
            return False
        handler()
        return True

    def choose_type(self, index: int) -> None:
        """Make type ``index`` current; relabel the selected regions to it (and say so)."""
        names = self.session.document.type_names()
        if not 0 <= index < len(names):
            return
        name = names[index]
        self.set_current_type(name)
        ids = [i for i in self.session.selection if i in self.session.document]
        if not ids or not self.editable:
            return
        if all(self.session.document.region(i).artifact_type == name for i in ids):
            return
        self.relabel_selection(name)
        undo = QKeySequence(keymap_for(self.key_widget if isinstance(self.key_widget, QWidget)
                                       else None).first_key("edit.undo"))
        hint = f"; {undo.toString(QKeySequence.SequenceFormat.NativeText)} to undo" \
            if not undo.isEmpty() else ""
        what = "Relabelled" if len(ids) == 1 else f"Relabelled {len(ids)} regions"
        self._emit_message(f"{what} to {name}{hint}")

    def relabel_selection(self, artifact_type: str) -> None:
        ids = [i for i in self.session.selection if i in self.session.document]
        if ids and self.editable:
            self.session.push(relabel_many(self.session.document, ids, artifact_type))

    def delete_selection(self) -> None:
        if self.session.selection and self.editable:
            self.session.delete(self.session.selection)

    def playhead_s(self) -> float | None:
        if self.player is not None and getattr(self.player, "info", None) is not None:
            return float(self.player.position_ms) / 1000.0
        if self.view is not None and hasattr(self.view, "playhead"):
            t = self.view.playhead()
            if t is not None:
                return float(t)
        return self._cursor_s

    def mark_in(self) -> None:
        t = self.playhead_s()
        if t is None:
            self._emit_message("Play or click somewhere first: I marks the in point there.")
            return
        self._in_point = t
        self._emit_in_point(t)

    def mark_out(self) -> None:
        t = self.playhead_s()
        if self._in_point is None or t is None:
            self._emit_message("Press I at the start of the artifact first, then O at its end.")
            return
        a, self._in_point = self._in_point, None
        self._emit_in_point(None)
        if self.draw_region(a, t) is None and self.editable:
            self._emit_message("The in and out points are the same: no region was made.")

    def cycle_stack(self, step: int = 1) -> str | None:
        """Select the next region of the stack under the cursor (overlaps)."""
        if self.audio_file_id is None:
            return None
        t = self._cursor_s
        if t is None:
            sel = self.session.selection
            region = self.session.document.get(sel[0]) if sel else None
            t = (region.start_ms + region.end_ms) / 2000.0 if region else None
        if t is None:
            return None
        stack = self.session.document.regions_at(self.audio_file_id, t * 1000)
        if not stack:
            return None
        ids = [r.local_id for r in stack]
        sel = self.session.selection
        current = ids.index(sel[0]) if sel and sel[0] in ids else -1
        chosen = ids[(current + step) % len(ids)] if current >= 0 else ids[0]
        self.session.select([chosen])
        return chosen

    def go_to_neighbour(self, step: int) -> str | None:
        """Select, show and play the next (1) or previous (-1) region."""
        if self.audio_file_id is None:
            return None
        regions = self.session.document.regions_of_file(self.audio_file_id)
        if not regions:
            return None
        sel = self.session.selection
        ids = [r.local_id for r in regions]
        if sel and sel[0] in ids:
            i = ids.index(sel[0]) + step
        else:
            t = (self.playhead_s() or 0.0) * 1000
            starts = [r.start_ms for r in regions]
            i = bisect.bisect_right(starts, t) if step > 0 else bisect.bisect_left(starts, t) - 1
        if not 0 <= i < len(regions):
            self._emit_message("No more regions in this direction.")
            return None
        region = regions[i]
        self.session.select([region.local_id])
        self.show_region(region)
        if self.player is not None:
            self.player.play_range(region.start_ms, region.end_ms)
        return region.local_id

    def show_region(self, region: Region) -> None:
        """Scroll (keeping the zoom) so the region is in view."""
        a, b = self.visible_range_s()
        span = b - a
        ra, rb = region.start_ms / 1000.0, region.end_ms / 1000.0
        if ra >= a and rb <= b:
            return
        if rb - ra > span * 0.8:
            span = (rb - ra) * 1.25
        centre = (ra + rb) / 2
        if self.view is not None and hasattr(self.view, "set_view_range"):
            self.view.set_view_range(centre - span / 2, centre + span / 2)
        else:
            self.plots[0].getViewBox().setXRange(centre - span / 2, centre + span / 2, padding=0)

    def nudge(self, delta_ms: int) -> None:
        """Move the selected edge of the selected region and replay around it."""
        sel = self.session.selection
        region = self.session.document.get(sel[0]) if sel else None
        if region is None or not self.editable:
            return
        start, end = region.start_ms, region.end_ms
        if self.selected_edge == 0:
            start = min(max(0, start + delta_ms), end - 1)
        else:
            end = max(end + delta_ms, start + 1)
            if self.duration_ms is not None:
                end = min(end, self.duration_ms)
        if (start, end) == (region.start_ms, region.end_ms):
            return
        if self.session.edit(region.local_id, "nudge", start_ms=start, end_ms=end):
            edge = start if self.selected_edge == 0 else end
            if self.player is not None:
                self.player.play_range(max(0, edge - EXCERPT_MS), edge + EXCERPT_MS)

