"""The audio editor's playback commands as QActions (the Playback menu shows them).

They live on the editor widget with a widget-with-children context, so Space
or L work while the waveform (or anything else in the editor) has the focus
and never steal a key from the rest of the window. Their keys come from the
keymap (``playback.*`` commands); the main window re-binds them to its own
keymap when the editor is plugged in, so rebinding applies to them too.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QWidget

from relay_desktop.ui.shortcuts import keymap_for, sequences
from relay_desktop.ui.waveform.transport import RATES

#: (command id, menu text, checkable)
COMMANDS = (
    ("playback.play_pause", "&Play / Pause", False),
    ("playback.play_selection", "Play &selection", False),
    ("playback.stop", "S&top", False),
    ("playback.loop", "&Loop", True),
    ("playback.follow", "&Follow the playhead", True),
    ("playback.faster", "F&aster", False),
    ("playback.slower", "Slo&wer", False),
    ("playback.volume_up", "Volume &up", False),
    ("playback.volume_down", "Volume &down", False),
)


class PlaybackActions(QObject):
    """One QAction per playback command, plus the checkable rate choices.

    Signals:
        (none: each action's ``triggered``/``toggled``; the editor connects them)
    """

    def __init__(self, editor: QWidget) -> None:
        super().__init__(editor)
        keymap = keymap_for(editor)
        self.by_id: dict[str, QAction] = {}
        for command_id, text, checkable in COMMANDS:
            action = QAction(text, editor)
            action.setCheckable(checkable)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setShortcuts(sequences(keymap, command_id))
            editor.addAction(action)
            self.by_id[command_id] = action
        self.rate_group = QActionGroup(self)
        self.rate_actions: list[QAction] = []
        for rate in RATES:
            action = QAction(f"{rate:g}\N{MULTIPLICATION SIGN}", editor)
            action.setCheckable(True)
            action.setData(rate)
            action.setChecked(rate == 1.0)
            self.rate_group.addAction(action)
            self.rate_actions.append(action)

    def __getitem__(self, command_id: str) -> QAction:
        return self.by_id[command_id]

    def set_rate(self, rate: float) -> None:
        """Check the rate action of ``rate`` (the transport's box changed)."""
        for action in self.rate_actions:
            if abs(float(action.data()) - rate) < 1e-9 and not action.isChecked():
                action.setChecked(True)
