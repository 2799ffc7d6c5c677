"""SelectionBar: the time selection's start, end and length, shown and editable.

Each field takes ``h:mm:ss.mmm``, ``m:ss.mmm`` or plain seconds; Enter (or
leaving the field) applies it: a new start or end keeps the other edge, a new
length keeps the start. A time that cannot be read is refused with a tooltip
and the field goes back to the selection.

Narrower than it asks for (a small window with both side docks open), the bar
gives way step by step instead of letting its parts overlap: the "Selection"
title goes first, then the Length field, then the Start / End labels (each field
still names itself in its tooltip).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QWidget

from relay_desktop.core.audio.timefmt import format_time, parse_time

FIELDS = ("start", "end", "length")
SPACING_PX = 4


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
        self.labels: dict[str, QLabel] = {}
        self._compactness = 0
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(SPACING_PX)
        layout.addStretch(1)   # room to spare goes before the title, not between the parts
        self.title = QLabel("Selection", self)
        self.title.setObjectName("selectionTitle")
        layout.addWidget(self.title)
        for name in FIELDS:
            label = QLabel(name.capitalize(), self)
            self.labels[name] = label
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

    # -- giving way when narrow -----------------------------------------------------------------

    def _shown_at(self, compactness: int) -> list[QWidget]:
        """The parts shown at a compactness step (0: all of them; 3: the Start / End fields)."""
        parts: list[QWidget] = [] if compactness >= 1 else [self.title]
        for name in FIELDS:
            if name == "length" and compactness >= 2:
                continue
            if compactness < 3:
                parts.append(self.labels[name])
            parts.append(self.fields[name])
        return parts

    def _width_at(self, compactness: int) -> int:
        parts = self._shown_at(compactness)
        return sum(_laid_out_width(w) for w in parts) + SPACING_PX * (len(parts) - 1)

    def compactness(self) -> int:
        """How many steps the bar has given way (0: everything shown)."""
        return self._compactness

    def sizeHint(self) -> QSize:
        return QSize(self._width_at(0), super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(self._width_at(3), super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        width = event.size().width()
        step = next((c for c in range(4) if self._width_at(c) <= width), 3)
        if step != self._compactness:
            self._compactness = step
            shown = self._shown_at(step)
            for part in [self.title, *self.labels.values(), *self.fields.values()]:
                part.setVisible(part in shown)

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


def _laid_out_width(widget: QWidget) -> int:
    """The width a layout gives ``widget`` at its size hint (a fixed width wins over the hint)."""
    return max(widget.minimumWidth(), min(widget.maximumWidth(), widget.sizeHint().width()))
