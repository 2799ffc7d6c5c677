"""The artifact-type picker: one button per type, coloured, with its 1-9 key."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QPushButton, QWidget

from relay_desktop.core.annotations.document import ArtifactTypeInfo


class TypePicker(QWidget):
    """Choose the type new regions get (the region layer's keys 1-9 do the same).

    Signals:
        type_chosen(str): the user picked a type.
    """

    type_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(QLabel("Type:"))
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self._buttons: dict[str, QPushButton] = {}
        self._layout.addStretch(1)
        self._group.idClicked.connect(self._clicked)
        self._names: list[str] = []

    def set_types(self, types: list[ArtifactTypeInfo]) -> None:
        for button in self._buttons.values():
            self._group.removeButton(button)
            button.deleteLater()
        self._buttons.clear()
        self._names = [t.name for t in types]
        for i, t in enumerate(types):
            key = f"{i + 1} " if i < 9 else ""
            button = QPushButton(f"{key}{t.name}")
            button.setCheckable(True)
            button.setToolTip(t.description or t.name)
            button.setStyleSheet(
                f"QPushButton {{ border-left: 6px solid {t.color}; padding: 3px 8px; }}"
                f"QPushButton:checked {{ background: {t.color}; color: #111; }}")
            self._group.addButton(button, i)
            self._layout.insertWidget(self._layout.count() - 1, button)
            self._buttons[t.name] = button

    def set_current(self, name: str) -> None:
        button = self._buttons.get(name)
        if button is not None and not button.isChecked():
            button.setChecked(True)

    def current(self) -> str:
        button = self._group.checkedButton()
        for name, b in self._buttons.items():
            if b is button:
                return name
        return ""

    def _clicked(self, index: int) -> None:
        if 0 <= index < len(self._names):
            self.type_chosen.emit(self._names[index])
