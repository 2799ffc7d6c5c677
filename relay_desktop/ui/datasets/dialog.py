"""Create or edit a dataset: name, description and artifact types (name, description, colour)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.api import errors
from relay_desktop.api.models import ArtifactType, Dataset
from relay_desktop.core.names import name_key, normalise_name
from relay_desktop.services.api_worker import ApiWorker, Priority
from relay_desktop.ui.errors import apply_field_errors

HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
DEFAULT_COLORS = ("#E5534B", "#3B6FF5", "#2EA043", "#D9A400", "#A371F7", "#F0883E", "#1F9ECE")


class ColorButton(QPushButton):
    """A swatch that opens a (non-blocking) colour dialog.

    Signals:
        color_changed(str): the new colour as ``#RRGGBB``.
    """

    color_changed = Signal(str)

    def __init__(self, color: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("colorButton")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._color = ""
        self.set_color(color)
        self.clicked.connect(self.pick)
        self.dialog: QColorDialog | None = None

    @property
    def color(self) -> str:
        return self._color

    def set_color(self, color: str) -> None:
        qcolor = QColor(color)
        self._color = qcolor.name().upper() if qcolor.isValid() else color
        self.setText(self._color)
        self.setToolTip(f"Colour {self._color}: click to change")
        text = "#000000" if qcolor.isValid() and qcolor.lightness() > 140 else "#FFFFFF"
        self.setStyleSheet(f"QPushButton {{ background: {self._color}; color: {text}; "
                           "border-radius: 4px; padding: 2px 8px; }")
        self.color_changed.emit(self._color)

    @Slot()
    def pick(self) -> None:
        self.dialog = QColorDialog(QColor(self._color), self)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.dialog.colorSelected.connect(lambda c: self.set_color(c.name()))
        self.dialog.open()


class DatasetDialog(QDialog):
    """Create (``dataset=None``) or edit a dataset; saves through the ApiWorker.

    The dialog stays open with everything the user typed when the server
    rejects it; 422 field errors appear under their fields.

    Signals:
        saved(object): the Dataset the server returned.
    """

    saved = Signal(object)

    def __init__(self, worker: ApiWorker, dataset: Dataset | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.dataset = dataset
        self.setObjectName("datasetDialog")
        self.setWindowTitle("Edit dataset" if dataset else "New dataset")
        self.name = QLineEdit(self)
        self.name.setObjectName("nameEdit")
        self.name.setPlaceholderText("e.g. TTS glitch detection")
        self.name.setMaxLength(500)
        self.description = QPlainTextEdit(self)
        self.description.setObjectName("descriptionEdit")
        self.description.setPlaceholderText("What this dataset is for (optional)")
        self.description.setFixedHeight(64)
        self.types = QTableWidget(0, 3, self)
        self.types.setObjectName("typesTable")
        self.types.setHorizontalHeaderLabels(["Artifact type", "Description", "Colour"])
        self.types.verticalHeader().setVisible(False)
        self.types.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.types.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(0, 160)
        self.add_type_button = QPushButton("Add type", self)
        self.remove_type_button = QPushButton("Remove type", self)
        self.add_type_button.clicked.connect(lambda: self.add_type())
        self.remove_type_button.clicked.connect(self.remove_selected_type)

        self.errors: dict[str, QLabel] = {}
        for field in ("name", "description", "artifact_types"):
            label = QLabel(self)
            label.setObjectName("fieldError")
            label.setWordWrap(True)
            label.setVisible(False)
            self.errors[field] = label
        self.form_error = QLabel(self)
        self.form_error.setObjectName("formError")
        self.form_error.setWordWrap(True)
        self.form_error.setVisible(False)

        form = QFormLayout()
        form.addRow("Name", self._with_error(self.name, "name"))
        form.addRow("Description", self._with_error(self.description, "description"))
        type_buttons = QHBoxLayout()
        type_buttons.addWidget(self.add_type_button)
        type_buttons.addWidget(self.remove_type_button)
        type_buttons.addStretch(1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setDefault(True)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Artifact types", self))
        layout.addWidget(self.types, 1)
        layout.addWidget(self.errors["artifact_types"])
        layout.addLayout(type_buttons)
        layout.addWidget(self.form_error)
        layout.addWidget(self.buttons)
        self.resize(620, 480)
        self.taken_names: list[str] = []
        self.dataset_name = dataset.name if dataset else ""
        self.name.textEdited.connect(lambda _t: self._clear_error("name"))
        self.types.itemChanged.connect(lambda _i: self._clear_error("artifact_types"))
        self._load(dataset)

    def _with_error(self, widget: QWidget, field: str) -> QWidget:
        box = QWidget(self)
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        col.addWidget(widget)
        col.addWidget(self.errors[field])
        return box

    def _load(self, dataset: Dataset | None) -> None:
        if dataset is None:
            self.add_type("glitch", "Short click or digital glitch", DEFAULT_COLORS[0])
            return
        self.name.setText(dataset.name)
        self.description.setPlainText(dataset.description or "")
        for t in dataset.artifact_types:
            self.add_type(t.name, t.description or "", t.color)

    def add_type(self, name: str = "", description: str = "", color: str | None = None) -> int:
        row = self.types.rowCount()
        self.types.insertRow(row)
        self.types.setItem(row, 0, QTableWidgetItem(name))
        self.types.setItem(row, 1, QTableWidgetItem(description))
        self.types.setCellWidget(row, 2, ColorButton(
            color or DEFAULT_COLORS[row % len(DEFAULT_COLORS)], self.types))
        return row

    @Slot()
    def remove_selected_type(self) -> None:
        rows = sorted({i.row() for i in self.types.selectedIndexes()}, reverse=True)
        for row in rows or ([self.types.rowCount() - 1] if self.types.rowCount() else []):
            self.types.removeRow(row)

    def color_button(self, row: int) -> ColorButton:
        widget = self.types.cellWidget(row, 2)
        assert isinstance(widget, ColorButton)
        return widget

    def artifact_types(self) -> list[ArtifactType]:
        """The types as typed, names normalised (trimmed, inner spaces collapsed)."""
        out = []
        for row in range(self.types.rowCount()):
            name_item, desc_item = self.types.item(row, 0), self.types.item(row, 1)
            name = normalise_name(name_item.text()) if name_item else ""
            desc = desc_item.text().strip() if desc_item else ""
            out.append(ArtifactType(name, desc or None, self.color_button(row).color))
        return out

    def validate(self) -> dict[str, str]:
        """Problems found before asking the server (field -> sentence)."""
        problems: dict[str, str] = {}
        name = normalise_name(self.name.text())
        if not name:
            problems["name"] = "Give the dataset a name."
        else:
            clash = next((n for n in self.taken_names if name_key(n) == name_key(name)), None)
            if clash is not None:
                problems["name"] = (f"A dataset named “{clash}” already exists: choose another "
                                    "name (names ignore case and extra spaces).")
        seen: dict[str, str] = {}
        for i, t in enumerate(self.artifact_types(), start=1):
            if not t.name:
                problems["artifact_types"] = f"Type {i} needs a name."
            elif len(t.name) > 100:
                problems["artifact_types"] = f"Type {i}: names are at most 100 characters."
            elif name_key(t.name) in seen:
                first = seen[name_key(t.name)]
                problems["artifact_types"] = (
                    f"The type name “{t.name}” is used twice." if first == t.name else
                    f"“{t.name}” and “{first}” are the same type (names ignore case and "
                    "extra spaces): keep one.")
            elif not HEX_COLOR.match(t.color):
                problems["artifact_types"] = f"Type {i}: {t.color!r} is not a #RRGGBB colour."
            seen.setdefault(name_key(t.name), t.name)
        return problems

    def set_taken_names(self, names: Iterable[str]) -> None:
        """Names of the workspace's other datasets, refused before asking the server."""
        own = self.dataset.id if self.dataset is not None else None
        self.taken_names = [n for n in names if own is None or n != self.dataset_name]

    def _clear_error(self, field: str) -> None:
        """Hide a field's error once the user edits that field."""
        self.errors[field].clear()
        self.errors[field].setVisible(False)

    @Slot()
    def submit(self) -> None:
        """Validate, then create or update through the worker; the dialog closes on success."""
        for label in (*self.errors.values(), self.form_error):
            label.clear()
            label.setVisible(False)
        problems = self.validate()
        if problems:
            for field, text in problems.items():
                self.errors[field].setText(text)
                self.errors[field].setVisible(True)
            return
        name = normalise_name(self.name.text())
        description = self.description.toPlainText().strip() or None
        types = self.artifact_types()
        existing = self.dataset

        def call(client: Any, _cancel: Any, _progress: Any) -> Dataset:
            if existing is None:
                return client.datasets.create(name, artifact_types=types, description=description)
            return client.datasets.update(existing.id, name=name, description=description,
                                          artifact_types=types)

        self._set_busy(True)
        handle = self.worker.submit(call, priority=Priority.USER,
                                    description=f"Saving dataset {name}")
        handle.succeeded.connect(self._on_saved)
        handle.failed.connect(self._on_failed)
        handle.cancelled.connect(lambda: self._set_busy(False))

    def _set_busy(self, busy: bool) -> None:
        self.save_button.setEnabled(not busy)
        self.save_button.setText("Saving…" if busy else "Save")

    @Slot(object)
    def _on_saved(self, dataset: Dataset) -> None:
        self._set_busy(False)
        self.dataset = dataset
        self.saved.emit(dataset)
        self.accept()

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        apply_field_errors(exc, self.errors, self.form_error)
        if isinstance(exc, errors.Conflict) and "already exists" in str(exc.detail):
            self.form_error.setVisible(False)  # the name is taken: say so under the name
            self.errors["name"].setText(str(exc.detail))
            self.errors["name"].setVisible(True)
