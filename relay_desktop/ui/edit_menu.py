"""The Edit menu: undo/redo of the open annotation set, and cut/copy/paste of regions.

Undo and Redo follow the open set's ``QUndoStack`` through a ``QUndoGroup``:
their text names the edit ("Undo Move region") and they are enabled only when
there is something to undo. They work anywhere in the window (a text field
keeps its own Ctrl+Z). Cut, Copy, Paste, Delete and Select all act on regions,
and their keys are live only in the areas added with :meth:`EditMenu.add_scope`
(the waveform editor, the Labels dock), so Delete in the file list still
deletes files and Ctrl+C in a table still copies its text.

Copy puts the regions on the clipboard as JSON (see
:mod:`relay_desktop.core.annotations.clipboard`); Paste puts them at the
playhead of the file shown, in the open draft, whichever set or file they came
from.
"""

from __future__ import annotations

import contextlib
from typing import Any

from PySide6.QtCore import QMimeData, QObject, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QUndoGroup, QUndoStack
from PySide6.QtWidgets import QMenu, QWidget

from relay_desktop.core.annotations.clipboard import (
    MIME_TYPE,
    regions_from_json,
    regions_to_json,
)
from relay_desktop.ui.shortcuts import ShortcutRegistry

REGION_COMMANDS = (
    ("edit.cut", "Cu&t regions"),
    ("edit.copy", "&Copy regions"),
    ("edit.paste", "&Paste regions at the playhead"),
    ("edit.delete", "&Delete regions"),
    ("edit.select_all", "Select &all regions of the file"),
)


class EditMenu(QObject):
    """The Edit menu and its actions, bound to the open session and its region layer.

    Signals:
        message(str): a sentence for the status bar (what was done, or why not).
    """

    message = Signal(str)

    def __init__(self, window: QWidget, registry: ShortcutRegistry) -> None:
        super().__init__(window)
        self.menu = QMenu("&Edit", window)
        self.session: Any = None
        self.layer: Any = None
        self.group = QUndoGroup(self)
        self._stack: QUndoStack | None = None
        # Qt's own texts: "&Undo Move click…", "&Redo …" (translated, with mnemonics)
        self.undo_action = self.group.createUndoAction(self.menu)
        self.redo_action = self.group.createRedoAction(self.menu)
        for command_id, action in (("edit.undo", self.undo_action),
                                   ("edit.redo", self.redo_action)):
            action.setObjectName(command_id)
            registry.bind_action(command_id, action)
            window.addAction(action)
            self.menu.addAction(action)
        self.menu.addSeparator()
        self.actions: dict[str, QAction] = {}
        for command_id, text in REGION_COMMANDS:
            action = QAction(text, self.menu)
            action.setObjectName(command_id)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            registry.bind_action(command_id, action)
            self.menu.addAction(action)
            self.actions[command_id] = action
            if command_id == "edit.delete":
                self.menu.addSeparator()
        self.actions["edit.cut"].triggered.connect(self.cut)
        self.actions["edit.copy"].triggered.connect(self.copy)
        self.actions["edit.paste"].triggered.connect(self.paste)
        self.actions["edit.delete"].triggered.connect(self.delete)
        self.actions["edit.select_all"].triggered.connect(self.select_all)
        self._paste_ready = False
        self.menu.aboutToShow.connect(self.update_actions)
        QGuiApplication.clipboard().dataChanged.connect(self._clipboard_changed)
        self._clipboard_changed()

    def _clipboard_changed(self) -> None:
        # looked at once per change (asking the clipboard may wait on another program),
        # not on every selection change; Paste reads (and checks) the text itself
        data = QGuiApplication.clipboard().mimeData()
        self._paste_ready = data is not None and (data.hasFormat(MIME_TYPE) or data.hasText())
        self.update_actions()

    def add_scope(self, widget: QWidget) -> None:
        """Make the region keys (Ctrl+C, Delete...) live while ``widget`` has the focus."""
        for action in self.actions.values():
            if action not in widget.actions():
                widget.addAction(action)

    def follow(self, panel: Any) -> None:
        """Follow the Labels panel's open set (its ``session_changed`` signal)."""
        self.add_scope(panel)
        panel.session_changed.connect(lambda _s: self.set_session(panel.session, panel.layer))
        self.set_session(panel.session, panel.layer)

    # -- the open set ----------------------------------------------------------------

    def set_session(self, session: Any, layer: Any) -> None:
        """Edit ``session`` (None: no set open); ``layer`` is its region layer on the waveform."""
        if self._stack is not None:
            self.group.removeStack(self._stack)
            self._stack = None
        if self.session is not None:
            self.session.selection_changed.disconnect(self.update_actions)
            self.session.changed.disconnect(self.update_actions)
        if self.layer is not None:
            with contextlib.suppress(RuntimeError):  # the layer's C++ side may be gone
                self.layer.message.disconnect(self.message)
        self.session, self.layer = session, layer
        if session is not None:
            self._stack = session.undo_stack
            self.group.addStack(session.undo_stack)
            self.group.setActiveStack(session.undo_stack)
            session.selection_changed.connect(self.update_actions)
            session.changed.connect(self.update_actions)
        if layer is not None:
            layer.message.connect(self.message)
        self.update_actions()

    def _selected(self) -> list[Any]:
        if self.session is None:
            return []
        doc = self.session.document
        return [r for i in self.session.selection if (r := doc.get(i)) is not None]

    def _file_id(self) -> str | None:
        return getattr(self.layer, "audio_file_id", None)

    def _editable(self) -> bool:
        return self.session is not None and self.layer is not None and \
            not self.session.read_only and self._file_id() is not None

    def update_actions(self, *_args: Any) -> None:
        selected = bool(self._selected())
        editable = self._editable()
        file_id = self._file_id()
        has_regions = bool(self.session is not None and file_id is not None
                           and self.session.document.regions_of_file(file_id))
        self.actions["edit.copy"].setEnabled(selected)
        self.actions["edit.cut"].setEnabled(selected and editable)
        self.actions["edit.delete"].setEnabled(selected and editable)
        self.actions["edit.paste"].setEnabled(editable and self._paste_ready)
        self.actions["edit.select_all"].setEnabled(has_regions)

    # -- commands --------------------------------------------------------------------

    def copy(self) -> bool:
        regions = self._selected()
        if not regions:
            self.message.emit("Select regions to copy first.")
            return False
        text = regions_to_json(regions)
        data = QMimeData()
        data.setData(MIME_TYPE, text.encode("utf-8"))
        data.setText(text)
        QGuiApplication.clipboard().setMimeData(data)
        self.message.emit(f"Copied {_count(len(regions))}.")
        return True

    def cut(self) -> bool:
        regions = self._selected()
        if not (regions and self._editable() and self.copy()):
            return False
        if self.session.delete([r.local_id for r in regions]):
            self.message.emit(f"Cut {_count(len(regions))}.")
            return True
        return False

    def delete(self) -> bool:
        regions = self._selected()
        if not (regions and self._editable()):
            return False
        return bool(self.session.delete([r.local_id for r in regions]))

    def paste(self) -> bool:
        """Paste the clipboard's regions at the playhead of the file shown."""
        file_id = self._file_id()
        text = _clipboard_text()
        if not self._editable() or file_id is None:
            self.message.emit("Open a draft annotation set and a file to paste regions into.")
            return False
        if text is None:
            self.message.emit("The clipboard holds no copied regions.")
            return False
        at = self.layer.playhead_s() or 0.0
        try:
            regions = regions_from_json(text, file_id, round(at * 1000),
                                        getattr(self.layer, "duration_ms", None))
        except ValueError as exc:
            self.message.emit(str(exc))
            return False
        if not self.session.add(regions, label=f"Paste {_count(len(regions))}"):
            return False
        self.session.select([r.local_id for r in regions])
        self.message.emit(f"Pasted {_count(len(regions))}.")
        return True

    def select_all(self) -> int:
        file_id = self._file_id()
        if self.session is None or file_id is None:
            return 0
        ids = [r.local_id for r in self.session.document.regions_of_file(file_id)]
        self.session.select(ids)
        return len(ids)


def _count(n: int) -> str:
    return "1 region" if n == 1 else f"{n} regions"


def _clipboard_text() -> str | None:
    """The clipboard's copied regions (JSON), or None when it holds none."""
    data = QGuiApplication.clipboard().mimeData()
    if data is None:
        return None
    if data.hasFormat(MIME_TYPE):
        return bytes(data.data(MIME_TYPE).data()).decode("utf-8", "replace")
    text = data.text() if data.hasText() else ""
    return text if '"relay_regions"' in text else None
