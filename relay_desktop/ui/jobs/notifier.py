"""Desktop notifications for jobs that end while the app is in the background."""

from __future__ import annotations

import contextlib
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QSystemTrayIcon

from relay_desktop.ui.theme import icon

HIDE_AFTER_MS = 15_000


def job_message(kind: str, job: Any, what: str = "") -> tuple[str, str]:
    """(title, text) for a job that ended."""
    name = "Training" if kind == "training" else "Inference"
    about = f" ({what})" if what else ""
    if job.status == "completed":
        text = (f"{name} job{about} finished" + (
            "; the model is ready." if kind == "training" else
            f" with {getattr(job, 'total_detections', 0)} detections."))
        return f"{name} finished", text
    if job.status == "failed":
        return f"{name} failed", f"{name} job{about} failed: {job.error_message or 'no reason'}"
    return f"{name} {job.status}", f"{name} job{about} was {job.status}."


class JobNotifier(QObject):
    """Shows a tray message when a job finishes or fails while the app is not active.

    Nothing is shown while the app is the active one, for a cancelled job (the user
    did it), or where no system tray exists.

    Signals:
        notified(str, str): a message was shown (title, text).
    """

    notified = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tray: QSystemTrayIcon | None = None
        self._hide = QTimer(self)
        self._hide.setSingleShot(True)
        self._hide.setInterval(HIDE_AFTER_MS)
        self._hide.timeout.connect(self._hide_tray)
        self.describe: Any = None   # optional (kind, job) -> "what" text

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    @staticmethod
    def in_background() -> bool:
        return QGuiApplication.applicationState() != Qt.ApplicationState.ApplicationActive

    def job_finished(self, kind: str, job: Any) -> bool:
        """Notify about a finished job if the app is in the background; True if shown."""
        if job is None or job.status == "cancelled" or not self.in_background():
            return False
        what = self.describe(kind, job) if self.describe is not None else ""
        title, text = job_message(kind, job, what)
        return self.show(title, text, failed=job.status == "failed")

    def show(self, title: str, text: str, *, failed: bool = False) -> bool:
        """A tray message now (no tray: nothing, False)."""
        if not self.available():
            return False
        if self._tray is None:
            self._tray = QSystemTrayIcon(icon("relay-desktop"), self)
            self._tray.setToolTip("Relay Desktop")
        self._tray.show()
        kind = (QSystemTrayIcon.MessageIcon.Warning if failed
                else QSystemTrayIcon.MessageIcon.Information)
        self._tray.showMessage(title, text, kind, 10_000)
        self._hide.start()
        self.notified.emit(title, text)
        return True

    def _hide_tray(self) -> None:
        if self._tray is not None:
            self._tray.hide()

    def close(self) -> None:
        self._hide.stop()
        if self._tray is not None:
            with contextlib.suppress(RuntimeError):
                self._tray.hide()
            self._tray.deleteLater()
            self._tray = None
