"""The status bar: connection state (with Retry when the server is down), activity, uploads."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStatusBar,
    QToolButton,
    QWidget,
)

from relay_desktop.core.uploads.state import UploadTotals
from relay_desktop.ui.uploads.format import totals_text

STATES = {
    "connecting": ("#d9a400", "Connecting"),
    "online": ("#2ea043", "Connected"),
    "offline": ("#e5534b", "Server unreachable"),
    "disconnected": ("#8b949e", "Not connected"),
}


class StatusBar(QStatusBar):
    """Connection indicator on the right, background activity on the left, uploads between.

    Signals:
        retry_requested(): the user pressed Retry while the server was unreachable.
        uploads_requested(): the user clicked the upload progress (show the queue).
    """

    retry_requested = Signal()
    uploads_requested = Signal()

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
        self.uploads = QToolButton(self)
        self.uploads.setObjectName("uploadProgress")
        self.uploads.setAutoRaise(True)
        self.uploads.setCursor(Qt.CursorShape.PointingHandCursor)
        self.uploads.setToolTip("Show the upload queue")
        self.uploads.setVisible(False)
        self.uploads.setMinimumWidth(120)  # shrinks (clipped) rather than widen the window
        self.uploads.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.uploads.clicked.connect(self.uploads_requested)
        self.upload_bar = QProgressBar(self)
        self.upload_bar.setObjectName("uploadBar")
        self.upload_bar.setRange(0, 1000)
        self.upload_bar.setFixedWidth(90)
        self.upload_bar.setTextVisible(False)
        self.upload_bar.setVisible(False)
        self.addWidget(self.spinner)
        self.addWidget(self.activity, 1)
        self.addPermanentWidget(self.upload_bar)
        self.addPermanentWidget(self.uploads)
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

    @Slot(object)
    def set_upload_totals(self, totals: UploadTotals | None) -> None:
        """Show the overall upload progress ('Uploading 37/200 · …'); hidden with no queue."""
        text = totals_text(totals) if totals is not None else ""
        self.uploads.setText(text)
        self.uploads.setVisible(bool(text))
        busy = totals is not None and bool(text) and (
            totals.files_done + totals.files_failed < totals.files_total)
        self.upload_bar.setVisible(busy)
        if totals is not None:
            self.upload_bar.setValue(int(totals.fraction * 1000))
