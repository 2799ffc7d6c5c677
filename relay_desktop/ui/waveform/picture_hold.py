"""Keeping a widget's last picture on screen for a moment while its content is replaced.

Opening a file takes at least one turn of the event loop (its header and peaks
are read on the thread pool, even from the peak cache). The view is cleared at
once, so without a hold the turn in between paints one empty frame: a flash
between two files, on every file change in the review queue. A hold stops the
widget's repaints until the new content is set or a short time has passed,
whichever comes first; a slow open then shows its "Opening..." state as before.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

#: the longest a hold keeps the old picture (about what the eye takes as instant)
HOLD_MS = 120


class PictureHold(QObject):
    """Holds ``widget``'s repaints (children included) for at most ``HOLD_MS``.

    Signals:
        (none)
    """

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self._widget = widget
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.release)
        self._holding = False

    def hold(self, ms: int = HOLD_MS) -> None:
        """Keep what is on screen until :meth:`release` or ``ms`` from now."""
        if not self._holding and self._widget.updatesEnabled():
            self._widget.setUpdatesEnabled(False)
            self._holding = True
        if self._holding:
            self._timer.start(ms)

    def release(self) -> None:
        """Paint again (at once, with whatever the widget shows now)."""
        self._timer.stop()
        if self._holding:
            self._holding = False
            self._widget.setUpdatesEnabled(True)

    @property
    def holding(self) -> bool:
        return self._holding
