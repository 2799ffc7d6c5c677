"""The "Connection lost" dialog, shown only when the server stays unreachable.

The status bar says "offline" at once; the dialog waits :data:`GRACE_MS`, so a
single dropped request that the app retries by itself never interrupts the
user, and it closes itself when the server answers again.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

from relay_desktop.ui.errors import show_error

GRACE_MS = 3000


class ConnectionLostAlert(QObject):
    """Shows one "Connection lost" dialog over ``parent`` after the grace period.

    ``still_unreachable()`` is asked when the period ends (the worker's own view);
    ``retry`` is the dialog's Retry.
    """

    def __init__(self, parent: QWidget, still_unreachable: Callable[[], bool],
                 retry: Callable[[], None], grace_ms: int = GRACE_MS) -> None:
        super().__init__(parent)
        self._parent = parent
        self._still_unreachable = still_unreachable
        self._retry = retry
        self._lost: BaseException | None = None
        self._box: QMessageBox | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(grace_ms)
        self._timer.timeout.connect(self._show)

    @property
    def box(self) -> QMessageBox | None:
        """The dialog while it is open."""
        return self._box

    def unreachable(self, exc: BaseException) -> None:
        """The server did not answer: show ``exc`` unless it answers within the grace period."""
        self._lost = exc
        if self._box is None and not self._timer.isActive():
            self._timer.start()

    def reachable(self) -> None:
        """The server answers again: no dialog about it, and none left open."""
        self._timer.stop()
        if self._box is not None:
            self._box.close()

    def _show(self) -> None:
        exc, self._lost = self._lost, None
        if exc is None or self._box is not None or not self._still_unreachable():
            return
        self._box = show_error(self._parent, exc, title="Connection lost", retry=self._retry)
        self._box.finished.connect(self._closed)

    def _closed(self, _result: int) -> None:
        self._box = None
