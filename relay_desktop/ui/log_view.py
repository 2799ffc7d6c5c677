"""The log dock: Python logging routed into a text view, with API keys redacted."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPlainTextEdit, QVBoxLayout, QWidget

from relay_desktop.api.redact import redact

LEVELS = {"Debug": logging.DEBUG, "Info": logging.INFO, "Warning": logging.WARNING,
          "Error": logging.ERROR}


class _Emitter(QObject):
    """Carries formatted records from any thread to the GUI thread.

    Signals:
        record(str, int): (formatted line, level).
    """

    record = Signal(str, int)


class QtLogHandler(logging.Handler):
    """A logging handler that forwards redacted lines to a Qt signal (thread-safe)."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.emitter = _Emitter()
        self.setFormatter(logging.Formatter("%(asctime)s  %(levelname)-7s %(name)s: %(message)s",
                                            "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = redact(self.format(record))
            self.emitter.record.emit(line, record.levelno)
        except RuntimeError:  # the emitter is gone (application shutting down)
            pass
        except Exception:
            self.handleError(record)


class LogView(QWidget):
    """Shows log lines at or above the chosen level; keeps the last 5,000."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("logView")
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(5000)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.level = QComboBox(self)
        self.level.addItems(list(LEVELS))
        self.level.setCurrentText("Info")
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        bar.addStretch(1)
        bar.addWidget(self.level)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.text)
        self.handler = QtLogHandler(logging.DEBUG)
        self.handler.emitter.record.connect(self.append, Qt.ConnectionType.QueuedConnection)
        self._attached_to: logging.Logger | None = None

    def attach(self, logger: logging.Logger | None = None) -> None:
        """Start receiving records of ``logger`` (the root logger by default)."""
        self._attached_to = logger or logging.getLogger()
        self._attached_to.addHandler(self.handler)

    def detach(self) -> None:
        if self._attached_to is not None:
            self._attached_to.removeHandler(self.handler)
            self._attached_to = None

    @Slot(str, int)
    def append(self, line: str, level: int) -> None:
        if level >= LEVELS.get(self.level.currentText(), logging.INFO):
            self.text.appendPlainText(line)

    def contents(self) -> str:
        return self.text.toPlainText()
