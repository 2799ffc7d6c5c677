"""MessageOverlay: a sentence shown centred over the waveform view (errors, "Opening…")."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

STYLE = ("QLabel#waveformMessage { color: #e8eaed; background: rgba(20, 22, 26, 220);"
         " border: 1px solid #3c4048; border-radius: 6px; padding: 14px 18px;"
         " font-size: 13px; }")


class MessageOverlay(QLabel):
    """A word-wrapped box centred over its parent; call :meth:`place` when it resizes.

    Signals:
        (none beyond QLabel's)
    """

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("waveformMessage")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setStyleSheet(STYLE)
        self.hide()

    def show_text(self, text: str) -> None:
        self.setText(text)
        self.show()
        self.raise_()
        self.place()

    def shown_text(self) -> str:
        """The sentence shown, or "" when hidden."""
        return "" if self.isHidden() else self.text()

    def place(self) -> None:
        """Centre over the parent (at most 520 px wide)."""
        parent = self.parentWidget()
        if parent is None:
            return
        width = min(520, max(200, parent.width() - 40))
        self.setFixedWidth(width)
        self.adjustSize()
        self.move((parent.width() - width) // 2, max(0, (parent.height() - self.height()) // 2))


__all__ = ["MessageOverlay"]
