"""The main window: docks around the audio editor."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow

from relay_desktop import __version__


class MainWindow(QMainWindow):
    """Top-level window of Relay Desktop."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(f"Relay Desktop {__version__}")
        self.setCentralWidget(QLabel("Relay Desktop"))
