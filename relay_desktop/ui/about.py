"""Help > About (versions of the app, its libraries and the server) and Help > Report a problem."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from relay_desktop import __version__
from relay_desktop.core.paths import AppPaths
from relay_desktop.services.context import AppContext
from relay_desktop.services.diagnostics import Diagnostics, DiagnosticsData, log_folder
from relay_desktop.services.versions import NAMES
from relay_desktop.ui.fit import grow_to_fit
from relay_desktop.ui.theme import icon

GATHERING = "…"


class AboutDialog(QDialog):
    """The app's name and purpose, and the versions it runs on (the server's once it answers)."""

    def __init__(self, context: AppContext | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Relay Desktop")
        self.setObjectName("aboutDialog")
        self.setMinimumWidth(420)
        logo = QLabel(self)
        logo.setPixmap(icon("relay-desktop").pixmap(64, 64))
        title = QLabel(f"<b>Relay Desktop {__version__}</b><br>Label, train and detect "
                       "artifacts in generated speech.", self)
        title.setWordWrap(True)
        head = QHBoxLayout()
        head.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        head.addWidget(title, 1)
        self.form = QFormLayout()
        self.values: dict[str, QLabel] = {}
        for name in (*NAMES, "Server"):
            label = QLabel(GATHERING, self)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setObjectName(f"version_{name.replace(' ', '_')}")
            self.values[name] = label
            self.form.addRow(f"{name}:", label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = buttons.addButton("&Copy versions",
                                             QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addLayout(self.form)
        layout.addWidget(buttons)
        self.diagnostics = Diagnostics(context, parent=self)
        self.diagnostics.changed.connect(self._show)
        self.diagnostics.start()

    @Slot(object)
    def _show(self, data: DiagnosticsData) -> None:
        for name, value in data.versions.items():
            if name in self.values:
                self.values[name].setText(value)
        if data.server is not None:
            self.values["Server"].setText(data.server)
        grow_to_fit(self)

    def text(self) -> str:
        """The versions as ``name: value`` lines (what Copy puts on the clipboard)."""
        return "\n".join(f"{name}: {label.text()}" for name, label in self.values.items())

    @Slot()
    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())


class ReportDialog(QDialog):
    """A copyable problem report (versions, platform, last log lines; secrets redacted).

    ``log_text`` is the log view's text, used when there is no log file.
    """

    def __init__(self, context: AppContext | None, log_text: str = "",
                 paths: AppPaths | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Report a problem")
        self.setObjectName("reportDialog")
        intro = QLabel("Describe what you did and what happened, and paste this report with "
                       "it. API keys, signed URLs and your home folder are left out.", self)
        intro.setWordWrap(True)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlainText("Gathering the report…")
        self.text.setMinimumSize(640, 360)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton("&Copy report", self)
        self.copy_button.setEnabled(False)
        self.folder_button = QPushButton("Open &log folder", self)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.folder_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy)
        self.folder_button.clicked.connect(self.open_log_folder)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.paths = paths or (context.paths if context is not None else None)
        self.diagnostics = Diagnostics(context, log_text, self.paths, parent=self)
        self.diagnostics.finished.connect(self._show)
        self.diagnostics.start()

    @Slot(object)
    def _show(self, _data: DiagnosticsData) -> None:
        self.text.setPlainText(self.diagnostics.report())
        self.copy_button.setEnabled(True)

    def report(self) -> str:
        return self.text.toPlainText()

    @Slot()
    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.report())

    def log_folder(self) -> Path:
        return log_folder(self.paths)

    @Slot()
    def open_log_folder(self) -> bool:
        """Show the log folder in the file manager; False if nothing could open it."""
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.log_folder())))
