"""Light and dark themes: follows the OS colour scheme unless the user picks one."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from importlib import resources

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication

MODES = ("system", "light", "dark")


@dataclass(frozen=True)
class Colors:
    """The few colours everything else is derived from."""

    window: str
    panel: str
    base: str
    alt: str
    text: str
    muted: str
    border: str
    accent: str
    selection: str
    hover: str
    pressed: str
    button: str
    error: str


LIGHT = Colors(window="#f4f5f7", panel="#eceef2", base="#ffffff", alt="#f7f8fa", text="#1c2230",
               muted="#5f6b7a", border="#d9dde3", accent="#3b6ff5", selection="#dbe6ff",
               hover="#e3e7ee", pressed="#d3d9e3", button="#ffffff", error="#c62828")
DARK = Colors(window="#1b1e24", panel="#22262e", base="#262a33", alt="#2b3039", text="#e4e7ec",
              muted="#9aa4b2", border="#363c47", accent="#5b8cff", selection="#2f4577",
              hover="#313744", pressed="#3a4150", button="#2d323c", error="#ff6b6b")

STATUS_COLORS = {
    "light": {"pending": "#8a6d00", "normalizing": "#1f6fd1", "embedding": "#6b3fd1",
              "ready": "#1b8a3a", "failed": "#c62828"},
    "dark": {"pending": "#e0b84a", "normalizing": "#6aa8ff", "embedding": "#b197ff",
             "ready": "#5fd07a", "failed": "#ff6b6b"},
}


def _stylesheet(colors: Colors) -> str:
    text = (resources.files("resources") / "styles" / "common.qss").read_text(encoding="utf-8")
    for name, value in vars(colors).items():
        text = text.replace(f"@{name}@", value)
    return text


def _palette(colors: Colors) -> QPalette:
    pal = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    pal.setColor(role.Window, QColor(colors.window))
    pal.setColor(role.WindowText, QColor(colors.text))
    pal.setColor(role.Base, QColor(colors.base))
    pal.setColor(role.AlternateBase, QColor(colors.alt))
    pal.setColor(role.Text, QColor(colors.text))
    pal.setColor(role.Button, QColor(colors.button))
    pal.setColor(role.ButtonText, QColor(colors.text))
    pal.setColor(role.Highlight, QColor(colors.accent))
    pal.setColor(role.HighlightedText, QColor("#ffffff"))
    pal.setColor(role.ToolTipBase, QColor(colors.panel))
    pal.setColor(role.ToolTipText, QColor(colors.text))
    pal.setColor(role.PlaceholderText, QColor(colors.muted))
    pal.setColor(role.Link, QColor(colors.accent))
    for r in (role.Text, role.WindowText, role.ButtonText):
        pal.setColor(group.Disabled, r, QColor(colors.muted))
    return pal


class ThemeManager(QObject):
    """Applies a palette and stylesheet to the application.

    Signals:
        changed(str): the effective theme ("light" or "dark") after a change.
    """

    changed = Signal(str)

    def __init__(self, app: QApplication, mode: str = "system") -> None:
        super().__init__(app)
        self._app = app
        self._mode = mode if mode in MODES else "system"
        self.effective = ""
        app.setStyle("Fusion")
        app.styleHints().colorSchemeChanged.connect(self._on_os_scheme)

    @property
    def mode(self) -> str:
        return self._mode

    def os_scheme(self) -> str:
        scheme = QGuiApplication.styleHints().colorScheme()
        return "dark" if scheme == Qt.ColorScheme.Dark else "light"

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"theme must be one of {', '.join(MODES)}")
        self._mode = mode
        self.apply()

    def apply(self) -> str:
        effective = self.os_scheme() if self._mode == "system" else self._mode
        colors = DARK if effective == "dark" else LIGHT
        self._app.setPalette(_palette(colors))
        self._app.setStyleSheet(_stylesheet(colors))
        if effective != self.effective:
            self.effective = effective
            self.changed.emit(effective)
        return effective

    def close(self) -> None:
        """Stop following the OS (the application is shutting down)."""
        with contextlib.suppress(RuntimeError, TypeError):
            self._app.styleHints().colorSchemeChanged.disconnect(self._on_os_scheme)

    def colors(self) -> Colors:
        return DARK if self.effective == "dark" else LIGHT

    @Slot()
    def _on_os_scheme(self) -> None:
        if self._mode == "system":
            self.apply()


def status_color(status: str, theme: str) -> str:
    """The colour of an audio file's processing status in ``theme``."""
    return STATUS_COLORS.get(theme, STATUS_COLORS["light"]).get(status, "#7a7a7a")


def icon(name: str) -> QIcon:
    """One of the bundled icons in resources/icons (``add``, ``refresh``, ``edit``…)."""
    path = resources.files("resources") / "icons" / f"{name}.svg"
    return QIcon(str(path))
