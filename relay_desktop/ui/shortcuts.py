"""Every action's keyboard shortcut in one place, and the Help > Keyboard shortcuts list."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


class ShortcutRegistry:
    """Remembers the actions that carry shortcuts, grouped (File, View, Datasets…)."""

    def __init__(self) -> None:
        self._entries: list[tuple[str, QAction]] = []

    def register(self, group: str, action: QAction,
                 shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None
                 ) -> QAction:
        """Give ``action`` its shortcut (if any) and list it under ``group``."""
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        self._entries.append((group, action))
        return action

    def entries(self) -> list[tuple[str, str, str]]:
        """(group, action text, shortcut text) for every registered action."""
        rows = []
        for group, action in self._entries:
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            rows.append((group, action.text().replace("&", ""), keys))
        return rows

    def conflicts(self) -> list[str]:
        """Shortcuts used by more than one action (should be empty)."""
        seen: dict[str, str] = {}
        clashes = []
        for _group, text, keys in self.entries():
            if not keys:
                continue
            if keys in seen:
                clashes.append(f"{keys}: {seen[keys]} / {text}")
            seen[keys] = text
        return clashes


class ShortcutsDialog(QDialog):
    """A read-only table of the registered shortcuts."""

    def __init__(self, registry: ShortcutRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("shortcutsDialog")
        rows = registry.entries()
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Area", "Action", "Shortcut"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        for row, values in enumerate(rows):
            for col, value in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(value))
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(520, 460)
