"""TimeEntry: type a time into the transport's time display to go there.

A click on the display (a QLabel) puts a line edit over it holding the current
position; Enter accepts ``h:mm:ss.mmm``, ``mm:ss`` or plain seconds (``45:00``,
``1:02:03.5``, ``83.2``) and emits ``entered(seconds)``; Esc or leaving it
puts the label back. A time that cannot be read turns the field red and says
why in its tooltip, and the field stays open.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel, QLineEdit

from relay_desktop.core.audio.timefmt import parse_time

INVALID_STYLE = "QLineEdit { border: 1px solid #e57373; }"


class TimeEntry(QObject):
    """Makes ``label`` editable on click (see the module docstring).

    Signals:
        entered(float): a time (seconds, >= 0) was typed and accepted.
    """

    entered = Signal(float)

    def __init__(self, label: QLabel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._label = label
        self.edit = QLineEdit(label.parentWidget())
        self.edit.setObjectName("transportTimeEntry")
        self.edit.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.edit.setPlaceholderText("h:mm:ss.mmm")
        self.edit.setToolTip("Type a time (h:mm:ss.mmm, mm:ss or seconds), then Enter")
        self.edit.hide()
        self.edit.returnPressed.connect(self._accept)
        self.edit.editingFinished.connect(self._finished)
        self.edit.installEventFilter(self)
        label.installEventFilter(self)
        label.setCursor(Qt.CursorShape.IBeamCursor)
        label.setToolTip(label.toolTip() + " (click to type a time)")

    def begin(self) -> None:
        """Show the line edit over the label, holding the current position."""
        if not self._label.isEnabled():
            return
        text = self._label.text().split("/")[0].strip()
        self.edit.setGeometry(self._label.geometry())
        self.edit.setText(text)
        self.edit.setStyleSheet("")
        self.edit.show()
        self.edit.raise_()
        self.edit.setFocus(Qt.FocusReason.MouseFocusReason)
        self.edit.selectAll()

    def is_editing(self) -> bool:
        return self.edit.isVisible()

    def _accept(self) -> None:
        try:
            seconds = parse_time(self.edit.text())
        except ValueError as exc:
            self.edit.setStyleSheet(INVALID_STYLE)
            self.edit.setToolTip(str(exc))
            return
        self.edit.hide()
        self.entered.emit(float(seconds))

    def _finished(self) -> None:
        if not self.edit.hasFocus():
            self.edit.hide()  # focus left: back to the label, nothing moved

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._label and event.type() == QEvent.Type.MouseButtonPress:
            self.begin()
            return True
        if (watched is self.edit and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape):
            self.edit.hide()
            return True
        return False


__all__ = ["TimeEntry"]
