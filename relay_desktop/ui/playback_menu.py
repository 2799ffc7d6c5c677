"""The Playback menu: the audio editor's play commands, rate and volume.

The actions belong to the editor (:class:`~relay_desktop.ui.waveform.playback_actions.
PlaybackActions`); this menu shows them, binds them to the window's keymap and
is rebuilt when another editor is plugged in. Without an editor it says so.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from relay_desktop.ui.shortcuts import ShortcutRegistry

LAYOUT = (("playback.play_pause", "playback.play_selection", "playback.stop"),
          ("playback.loop", "playback.follow"),
          ("playback.faster", "playback.slower", "rate"),
          ("playback.volume_up", "playback.volume_down"))


class PlaybackMenu(QMenu):
    """Play / Pause, Play selection, Stop, Loop, Follow, rate and volume of the editor.

    Signals:
        (QMenu's own only; the actions are the editor's)
    """

    def __init__(self, registry: ShortcutRegistry, parent: QWidget | None = None) -> None:
        super().__init__("&Playback", parent)
        self.setObjectName("playbackMenu")
        self._registry = registry
        self._bound: list[QAction] = []
        self.editor: Any = None
        self.set_editor(None)

    def set_editor(self, editor: Any) -> None:
        """Show the playback actions of ``editor`` (one with a ``playback`` attribute)."""
        for action in self._bound:
            self._registry.release_action(action)
        self._bound.clear()
        self.clear()
        playback = getattr(editor, "playback", None)
        self.editor = editor if playback is not None else None
        if playback is None:
            none = self.addAction("No audio editor: open a file first")
            none.setEnabled(False)
            return
        for section in LAYOUT:
            if self.actions():
                self.addSeparator()
            for command_id in section:
                if command_id == "rate":
                    rate_menu = self.addMenu("Playback &rate")
                    rate_menu.addActions(playback.rate_actions)
                    continue
                action = playback[command_id]
                self._registry.bind_action(command_id, action)
                self._bound.append(action)
                self.addAction(action)
