"""The per-set save state: saved / saving / syncing / N unsynced / offline / conflict /
not saved."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from relay_desktop.services.sync import SyncState

COLORS = {"saved": "#81c784", "saving": "#ffd54f", "syncing": "#4fc3f7",
          "unsynced": "#ffd54f", "offline": "#ff8a65", "error": "#e57373",
          "conflict": "#e57373", "read_only": "#b0bec5", "not_saved": "#e57373"}


class SyncIndicator(QWidget):
    """A coloured dot and a word or two; the tooltip says the whole story.

    Signals:
        retry_requested(): the user asked to sync now (shown when offline or failing).
        move_requested(): the user asked to move local edits into a new draft (conflict).
    """

    retry_requested = Signal()
    move_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dot = QLabel("●")
        self.label = QLabel("Saved")
        self.label.setObjectName("syncState")
        self.retry = QPushButton("Retry now")
        self.move_button = QPushButton("Move edits to a new draft")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.dot)
        layout.addWidget(self.label)
        layout.addWidget(self.retry)
        layout.addWidget(self.move_button)
        layout.addStretch(1)
        self.retry.clicked.connect(self.retry_requested)
        self.move_button.clicked.connect(self.move_requested)
        self.state = SyncState("saved")
        self.set_state(self.state)

    def set_state(self, state: SyncState) -> None:
        self.state = state
        self.label.setText(state.label())
        self.dot.setStyleSheet(f"color: {COLORS.get(state.kind, '#b0bec5')};")
        tip = state.message or {
            "saved": "Every edit is on the server.",
            "saving": "Writing the edit to the local journal…",
            "unsynced": "Saved on this computer; syncing to the server shortly.",
            "syncing": "Sending edits to the server…",
            "read_only": "This set is published: it cannot be changed.",
        }.get(state.kind, "")
        self.setToolTip(tip)
        self.label.setToolTip(tip)
        self.retry.setVisible(state.kind in ("offline", "error"))
        self.move_button.setVisible(state.kind == "conflict")
