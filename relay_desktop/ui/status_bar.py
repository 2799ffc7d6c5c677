"""The status bar: connection state (with Retry when the server is down) and activity."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar, QWidget

STATES = {
    "connecting": ("#d9a400", "Connecting"),
    "online": ("#2ea043", "Connected"),
    "offline": ("#e5534b", "Server unreachable"),
    "disconnected": ("#8b949e", "Not connected"),
}


class StatusBar(QStatusBar):
    """Connection indicator on the right, background activity on the left.

    Signals:
        retry_requested(): the user pressed Retry while the server was unreachable.
    """

    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusBar")
        self.activity = QLabel(self)
        self.activity.setObjectName("activityLabel")
        self.spinner = QProgressBar(self)
        self.spinner.setRange(0, 0)
        self.spinner.setFixedWidth(80)
        self.spinner.setTextVisible(False)
        self.spinner.setVisible(False)
        self.connection = QLabel(self)
        self.connection.setObjectName("connectionLabel")
        self.retry = QPushButton("Retry", self)
        self.retry.setObjectName("retryButton")
        self.retry.setVisible(False)
        self.retry.clicked.connect(self.retry_requested)
        self.addWidget(self.spinner)
        self.addWidget(self.activity, 1)
        self.addPermanentWidget(self.retry)
        self.addPermanentWidget(self.connection)
        self.state = ""
        self.server_name = ""
        self.set_state("disconnected")

    def set_server(self, name: str) -> None:
        self.server_name = name
        self.set_state(self.state)

    def set_state(self, state: str, detail: str = "") -> None:
        """``connecting``, ``online``, ``offline`` or ``disconnected``."""
        color, words = STATES[state]
        self.state = state
        where = f" · {self.server_name}" if self.server_name and state != "disconnected" else ""
        self.connection.setText(f"<span style='color:{color}'>●</span> {words}{where}")
        self.connection.setToolTip(detail or words)
        self.retry.setVisible(state == "offline")

    def state_text(self) -> str:
        return self.connection.text()

    @Slot(str)
    def set_activity(self, text: str) -> None:
        self.activity.setText(text)
        self.spinner.setVisible(bool(text))
