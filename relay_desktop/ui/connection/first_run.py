"""The first-run screen: open the local workspace, or connect to a Relay server."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.services.connections import ConnectionManager
from relay_desktop.ui.connection.server_form import ServerForm


class FirstRunScreen(QWidget):
    """Two choices side by side; the server card holds the full form.

    Signals:
        local_requested(): the user chose the local workspace.
        server_connected(object): a server connection was verified and saved (its record).
    """

    local_requested = Signal()
    server_connected = Signal(object)

    def __init__(self, manager: ConnectionManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRun")
        heading = QLabel("Welcome to Relay Desktop", self)
        heading.setObjectName("heading")
        intro = QLabel("Find, label and detect artifacts in generated speech. "
                       "Where should your work live?", self)
        intro.setObjectName("subtle")
        intro.setWordWrap(True)

        local = self._card()
        local_title = QLabel("Local workspace", local)
        local_title.setObjectName("panelTitle")
        local_text = QLabel("Everything stays on this computer. Relay Local runs in the "
                            "background with a demo dataset to start from. No account needed.",
                            local)
        local_text.setWordWrap(True)
        self.local_button = QPushButton("Open local workspace", local)
        self.local_button.setObjectName("primary")
        self.local_button.clicked.connect(self.local_requested)
        self.local_status = QLabel(local)
        self.local_status.setObjectName("subtle")
        self.local_status.setWordWrap(True)
        lay = QVBoxLayout(local)
        lay.setContentsMargins(20, 18, 20, 18)
        lay.setSpacing(10)
        lay.addWidget(local_title)
        lay.addWidget(local_text)
        lay.addStretch(1)
        lay.addWidget(self.local_status)
        lay.addWidget(self.local_button)

        remote = self._card()
        remote_title = QLabel("Relay server", remote)
        remote_title.setObjectName("panelTitle")
        remote_text = QLabel("Connect to your team's Relay server or the hosted Relay API "
                             "with an API key.", remote)
        remote_text.setWordWrap(True)
        self.form = ServerForm(manager, remote)
        self.form.connected.connect(self.server_connected)
        lay = QVBoxLayout(remote)
        lay.setContentsMargins(20, 18, 20, 18)
        lay.setSpacing(10)
        lay.addWidget(remote_title)
        lay.addWidget(remote_text)
        lay.addWidget(self.form)

        cards = QHBoxLayout()
        cards.setSpacing(18)
        cards.addWidget(local, 1)
        cards.addWidget(remote, 1)
        column = QVBoxLayout()
        column.addStretch(1)
        column.addWidget(heading)
        column.addWidget(intro)
        column.addSpacing(16)
        column.addLayout(cards)
        column.addStretch(2)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(column, 6)
        outer.addStretch(1)

    def _card(self) -> QFrame:
        card = QFrame(self)
        card.setObjectName("choiceCard")
        card.setMinimumHeight(260)
        return card

    @Slot(str)
    def set_local_status(self, text: str) -> None:
        self.local_status.setText(text)

    def set_local_busy(self, busy: bool) -> None:
        self.local_button.setEnabled(not busy)

