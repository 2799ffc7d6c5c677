"""Creates the QApplication and the main window."""

from __future__ import annotations

import argparse
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from relay_desktop import __version__
from relay_desktop.ui.main_window import MainWindow


def parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def run(args: argparse.Namespace) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Relay Desktop")
    app.setOrganizationName("Relay")
    app.setApplicationVersion(__version__)
    window = MainWindow()
    if args.screenshot:
        window.resize(*parse_size(args.size))
        window.show()

        def grab() -> None:
            window.grab().save(args.screenshot, "PNG")
            app.quit()

        QTimer.singleShot(300, grab)
        return int(app.exec())
    window.show()
    return int(app.exec())
