"""SelectionBar: the time selection's start, end and length, shown and editable.

Each field takes ``h:mm:ss.mmm``, ``m:ss.mmm`` or plain seconds; Enter (or
leaving the field) applies it: a new start or end keeps the other edge, a new
length keeps the start. A time that cannot be read is refused with a tooltip
and the field goes back to the selection.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QWidget

from relay_desktop.core.audio.timefmt import format_time, parse_time

FIELDS = ("start", "end", "length")


class SelectionBar(QWidget):
    """Start / End / Length of the time selection (empty fields: no selection).

    Signals:
        selection_edited(float, float): the user typed a new selection (seconds).
    """

    selection_edited = Signal(float, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("selectionBar")
        self._selection: tuple[float, float] | None = None
        self._duration = 0.0
        self.fields: dict[str, QLineEdit] = {}
        self._tips: dict[str, str] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        title = QLabel("Selection", self)
        title.setObjectName("selectionTitle")
        layout.addWidget(title)
        for name in FIELDS:
            label = QLabel(name.capitalize(), self)
            field = QLineEdit(self)
            field.setObjectName(f"selection_{name}")
            field.setAlignment(Qt.AlignmentFlag.AlignRight)
            field.setPlaceholderText("\N{EN DASH}")
            self._tips[name] = f"Selection {name}: h:mm:ss.mmm, m:ss.mmm or seconds; Enter applies"
            field.setToolTip(self._tips[name])
            field.setFixedWidth(field.fontMetrics().horizontalAdvance("0:00:00.000") + 18)
            field.editingFinished.connect(lambda n=name: self._edited(n))
            label.setBuddy(field)
            layout.addWidget(label)
            layout.addWidget(field)
            self.fields[name] = field
        self.set_duration(0.0)

    def set_duration(self, seconds: float) -> None:
        """The file's length (the selection is kept inside it); 0 disables the fields."""
        self._duration = max(0.0, seconds)
        for field in self.fields.values():
            field.setEnabled(self._duration > 0)

    def set_selection(self, start_s: float, end_s: float) -> None:
        """Show ``[start_s, end_s]`` (an empty range: no selection)."""
        self._selection = (start_s, end_s) if end_s > start_s else None
        self._show()

    def selection(self) -> tuple[float, float] | None:
        return self._selection

    def _show(self) -> None:
        sel = self._selection
        values = ("", "", "") if sel is None else (
            format_time(sel[0]), format_time(sel[1]), format_time(sel[1] - sel[0]))
        for name, value in zip(FIELDS, values, strict=True):
            field = self.fields[name]
            if not field.hasFocus() or field.text() != value:
                field.setText(value)
            field.setToolTip(self._tips[name])
            self._mark(field, False)

    @staticmethod
    def _mark(field: QLineEdit, invalid: bool) -> None:
        """Outline a field whose text could not be read (its tooltip says why)."""
        if bool(field.property("invalid")) != invalid:
            field.setProperty("invalid", invalid)
            field.setStyleSheet("border: 1px solid #e57373;" if invalid else "")

    def _edited(self, name: str) -> None:
        field = self.fields[name]
        text = field.text().strip()
        sel = self._selection
        if not text:
            self._show()
            return
        try:
            value = parse_time(text)
        except ValueError as exc:
            self._show()
            field.setToolTip(f"{self._tips[name]}\n{exc}")
            self._mark(field, True)
            return
        start, end = sel if sel is not None else (0.0, 0.0)
        if name == "start":
            start = value
            if sel is None or start >= end:
                end = start + (end - sel[0] if sel is not None else 1.0)
        elif name == "end":
            end = value
            if sel is None:
                start = max(0.0, end - 1.0)
        else:
            end = start + value
        start = min(max(0.0, start), self._duration)
        end = min(max(0.0, end), self._duration)
        if end <= start:
            self._show()
            return
        if sel is not None and (abs(start - sel[0]) < 5e-4 and abs(end - sel[1]) < 5e-4):
            self._show()
            return
        self._selection = (start, end)
        self._show()
        self.selection_edited.emit(start, end)
