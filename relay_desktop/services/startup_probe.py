"""Start-up timing for ``benchmarks/startup.py`` (only when ``RELAY_STARTUP_PROBE`` is set).

Prints ``relay-startup first-paint <unix time>`` when the main window is first
painted and ``relay-startup connected <unix time>`` when a workspace is connected,
then quits the app after the event named by the variable (``first-paint`` or
``connected``), so a benchmark can launch the real app and time it from outside.
"""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

ENV = "RELAY_STARTUP_PROBE"
EVENTS = ("first-paint", "connected")


def _say(event: str) -> None:
    print(f"relay-startup {event} {time.time():.6f}", flush=True)


class StartupProbe(QObject):
    """Watches for the main window's first paint and the first connection, then quits."""

    def __init__(self, qapp: QApplication, quit_after: str) -> None:
        super().__init__(qapp)
        self.qapp = qapp
        self.quit_after = quit_after
        self.painted = False
        qapp.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (not self.painted and event.type() == QEvent.Type.Paint
                and isinstance(watched, QMainWindow)):
            self.painted = True
            self.qapp.removeEventFilter(self)
            _say("first-paint")
            self._follow_connection()
            if self.quit_after == "first-paint":
                QTimer.singleShot(0, self.qapp.quit)
        return False

    def _follow_connection(self) -> None:
        for child in self.qapp.children():
            signal = getattr(child, "connection_failed", None)
            connected = getattr(child, "connected", None)
            if connected is not None and signal is not None:
                connected.connect(self._on_connected)
                signal.connect(lambda _m: self._on_connected(None, failed=True))
                return

    def _on_connected(self, _context: object, failed: bool = False) -> None:
        _say("connection-failed" if failed else "connected")
        if self.quit_after == "connected":
            QTimer.singleShot(0, self.qapp.quit)


def install_from_environment() -> StartupProbe | None:
    """Create the QApplication early and watch it when ``RELAY_STARTUP_PROBE`` is set."""
    quit_after = os.environ.get(ENV, "")
    if quit_after not in EVENTS:
        return None
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qapp, QApplication)
    return StartupProbe(qapp, quit_after)
