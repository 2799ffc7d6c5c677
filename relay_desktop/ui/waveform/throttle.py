"""Throttle: run a callback at once, then at most once per interval while pokes keep coming."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer


class Throttle(QObject):
    """Leading-edge throttle on the GUI thread (e.g. redraws while a file decodes).

    The first :meth:`poke` calls ``callback`` at once; pokes within ``interval_ms``
    after a call are folded into one call at the end of the interval.

    Signals:
        (none)
    """

    def __init__(self, interval_ms: int, callback: Callable[[], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._callback = callback
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def poke(self) -> None:
        if self._timer.isActive():
            self._dirty = True
            return
        self._callback()
        self._timer.start()

    def stop(self) -> None:
        """Forget a pending call."""
        self._dirty = False
        self._timer.stop()

    def _tick(self) -> None:
        if self._dirty:
            self._dirty = False
            self._callback()
            self._timer.start()


__all__ = ["Throttle"]
