"""The table model behind the upload queue dock: rows keyed by id, updated in bulk.

It is a ``QStandardItemModel``: the cells live in Qt, so painting the table never
calls into Python. That matters while a scan or the lanes keep other Python threads
busy: every call from a view into a Python ``data()`` waits for the interpreter lock,
and a repaint of a few hundred cells could stall the GUI for a long time.

The manager publishes rows in batches; each batch becomes one insertion, one
``dataChanged`` over the span of changed rows (cells are written with the model's
signals held back), or one removal per contiguous run, so 10,000 rows stay smooth.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from PySide6.QtCore import QObject, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap, QStandardItem, QStandardItemModel

from relay_desktop.core.uploads.state import UploadRow, UploadState
from relay_desktop.ui.audio_list.format import format_size
from relay_desktop.ui.quiet_model import quiet
from relay_desktop.ui.uploads.format import state_text

ROW_ROLE = Qt.ItemDataRole.UserRole + 1
FRACTION_ROLE = Qt.ItemDataRole.UserRole + 2  # 0..1 while uploading, else None (the pie)
COLUMNS = ("File", "Destination", "Size", "State", "Reason")
FILE, DESTINATION, SIZE, STATE, REASON = range(len(COLUMNS))

#: above this many separate runs a removal rebuilds the table (two signals, not hundreds)
_MAX_REMOVAL_RUNS = 64

STATE_COLORS = {
    "light": {UploadState.SCANNING: "#5f6b7a", UploadState.WAITING: "#5f6b7a",
              UploadState.DUPLICATE: "#9a6700", UploadState.PAUSED: "#9a6700",
              UploadState.UPLOADING: "#1f6fd1", UploadState.CONFIRMING: "#1f6fd1",
              UploadState.PROCESSING: "#6b3fd1", UploadState.READY: "#1b8a3a",
              UploadState.FAILED: "#c62828", UploadState.SKIPPED: "#8b949e",
              UploadState.CANCELLED: "#8b949e"},
    "dark": {UploadState.SCANNING: "#9aa4b2", UploadState.WAITING: "#9aa4b2",
             UploadState.DUPLICATE: "#e0b84a", UploadState.PAUSED: "#e0b84a",
             UploadState.UPLOADING: "#6aa8ff", UploadState.CONFIRMING: "#6aa8ff",
             UploadState.PROCESSING: "#b197ff", UploadState.READY: "#5fd07a",
             UploadState.FAILED: "#ff6b6b", UploadState.SKIPPED: "#8b949e",
             UploadState.CANCELLED: "#8b949e"},
}

_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_DECORATION = Qt.ItemDataRole.DecorationRole
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def _runs(positions: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted positions -> contiguous (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for pos in positions:
        if runs and pos == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], pos)
        else:
            runs.append((pos, pos))
    return runs


def _tooltip(row: UploadRow) -> str:
    return f"{state_text(row)}: {row.reason}" if row.reason else state_text(row)


class UploadQueueModel(QStandardItemModel):
    """One row per queued file, in queue order; ``ROW_ROLE`` of the File cell is the UploadRow."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))
        header = self.horizontalHeaderItem(SIZE)
        if header is not None:
            header.setTextAlignment(_RIGHT)
        self.theme = "light"
        self._rows: list[UploadRow] = []
        self._where: dict[str, int] = {}
        self._states: Counter[UploadState] = Counter()  # kept in step: no scans on the GUI
        self._icons: dict[tuple[str, UploadState], QIcon] = {}
        self._pies: dict[tuple[str, int], QIcon] = {}
        self._colors: dict[tuple[str, UploadState], QColor] = {}

    # -- updates from the manager ------------------------------------------------

    def set_rows(self, rows: Iterable[UploadRow]) -> None:
        """Replace everything (a new connection's queue)."""
        self.setRowCount(0)
        self._rows, self._where, self._states = [], {}, Counter()
        self._append(list(rows))

    def add_rows(self, rows: Iterable[UploadRow]) -> None:
        """Append new rows (rows already known are updated instead)."""
        fresh: list[UploadRow] = []
        known: list[UploadRow] = []
        for row in rows:
            (known if row.id in self._where else fresh).append(row)
        self._append(fresh)
        if known:
            self.change_rows(known)

    def _append(self, rows: list[UploadRow]) -> None:
        if not rows:
            return
        start = len(self._rows)
        for offset, row in enumerate(rows):
            self._where[row.id] = start + offset
        self._rows.extend(rows)
        self._states.update(r.state for r in rows)
        self.insertRows(start, len(rows))  # one rowsInserted; the cells are filled quietly
        with quiet(self):
            for pos in range(start, start + len(rows)):
                self._fill(pos, self._rows[pos])
        self._changed(start, start + len(rows) - 1)

    def change_rows(self, rows: Iterable[UploadRow]) -> None:
        """Replace rows by id; one ``dataChanged`` over the span they cover."""
        first, last = len(self._rows), -1
        with quiet(self):
            for row in rows:
                pos = self._where.get(row.id)
                if pos is None:
                    continue
                old = self._rows[pos]
                if old.state is not row.state:
                    self._states[old.state] -= 1
                    self._states[row.state] += 1
                self._rows[pos] = row
                self._update(pos, old, row)
                first, last = min(first, pos), max(last, pos)
        if last >= 0:
            self._changed(first, last)

    def remove_rows(self, row_ids: Iterable[str]) -> None:
        """Drop rows by id: one removal per contiguous run (a rebuild when they are scattered)."""
        positions = sorted({self._where[i] for i in row_ids if i in self._where})
        if not positions:
            return
        runs = _runs(positions)
        if len(runs) > _MAX_REMOVAL_RUNS:
            gone = set(positions)
            self.set_rows([r for i, r in enumerate(self._rows) if i not in gone])
            return
        self._states.subtract(self._rows[p].state for p in positions)
        for first, last in reversed(runs):
            self.removeRows(first, last - first + 1)
            del self._rows[first:last + 1]
        self._where = {r.id: i for i, r in enumerate(self._rows)}

    # -- cells -----------------------------------------------------------------------

    def _fill(self, pos: int, row: UploadRow) -> None:
        # as few calls per cell as will do: this runs for every row of a 10,000-file drop
        name = QStandardItem(row.filename)
        name.setToolTip(str(row.path))
        name.setData(row, ROW_ROLE)
        size = QStandardItem(format_size(row.size))
        size.setTextAlignment(_RIGHT)
        cells = (name, QStandardItem(row.target.name or row.target.id), size,
                 QStandardItem(), QStandardItem())
        for col, item in enumerate(cells):
            self.setItem(pos, col, item)
        self._set_state(pos, row)
        self._set_reason(pos, row)

    def _update(self, pos: int, old: UploadRow, row: UploadRow) -> None:
        name = self.item(pos, FILE)
        if name is not None:
            name.setData(row, ROW_ROLE)
        if (old.state, old.bytes_sent, old.speed_bps, old.reason) != \
                (row.state, row.bytes_sent, row.speed_bps, row.reason):
            self._set_state(pos, row)
        if (old.reason, old.state) != (row.reason, row.state):
            self._set_reason(pos, row)

    def _set_state(self, pos: int, row: UploadRow) -> None:
        item = self.item(pos, STATE)
        if item is None:
            return
        # few calls: under a busy scan each one may wait for the interpreter lock
        item.setData(state_text(row), _DISPLAY)
        item.setData(self._color(row.state), _FOREGROUND)
        uploading = row.state is UploadState.UPLOADING
        item.setData(self._pie(row.fraction) if uploading else self._icon(row.state),
                     _DECORATION)
        if uploading or item.data(FRACTION_ROLE) is not None:
            item.setData(row.fraction if uploading else None, FRACTION_ROLE)
        if row.reason or item.toolTip():
            item.setData(_tooltip(row) if row.reason else "", _TOOLTIP)

    def _set_reason(self, pos: int, row: UploadRow) -> None:
        item = self.item(pos, REASON)
        if item is None or (not row.reason and not item.text()):
            return
        item.setData(row.reason, _DISPLAY)
        item.setData(_tooltip(row) if row.reason else "", _TOOLTIP)
        item.setData(self._color(row.state), _FOREGROUND)

    def _changed(self, first: int, last: int) -> None:
        self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))

    # -- reading -----------------------------------------------------------------

    def rows(self) -> list[UploadRow]:
        return list(self._rows)

    def row_at(self, pos: int) -> UploadRow | None:
        return self._rows[pos] if 0 <= pos < len(self._rows) else None

    def row_of(self, row_id: str) -> int:
        return self._where.get(row_id, -1)

    def row_by_id(self, row_id: str) -> UploadRow | None:
        pos = self._where.get(row_id)
        return None if pos is None else self._rows[pos]

    def count(self, *states: UploadState) -> int:
        """How many rows are in any of ``states`` (kept up to date, not counted)."""
        return sum(self._states[s] for s in states)

    def states(self) -> set[UploadState]:
        """The states at least one row is in."""
        return {s for s, n in self._states.items() if n > 0}

    # -- look --------------------------------------------------------------------------

    def _color(self, state: UploadState) -> QColor:
        key = (self.theme, state)
        color = self._colors.get(key)
        if color is None:
            palette = STATE_COLORS.get(self.theme, STATE_COLORS["light"])
            color = self._colors[key] = QColor(palette.get(state, "#7a7a7a"))
        return color

    def _pie(self, fraction: float) -> QIcon:
        """The uploading dot as a pie filled to ``fraction`` (drawn once per percent)."""
        percent = max(0, min(100, int(fraction * 100)))
        key = (self.theme, percent)
        cached = self._pies.get(key)
        if cached is None:
            color = self._color(UploadState.UPLOADING)
            pixmap = QPixmap(12, 12)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(color, 1.2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(QRectF(1.5, 1.5, 9, 9))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawPie(QRectF(1.5, 1.5, 9, 9), 90 * 16, -int(percent * 3.6 * 16))
            painter.end()
            cached = self._pies[key] = QIcon(pixmap)
        return cached

    def _icon(self, state: UploadState) -> QIcon:
        """A filled dot in the state's colour (drawn once per theme and state)."""
        key = (self.theme, state)
        cached = self._icons.get(key)
        if cached is None:
            pixmap = QPixmap(12, 12)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self._color(state))
            painter.drawEllipse(2, 2, 8, 8)
            painter.end()
            cached = self._icons[key] = QIcon(pixmap)
        return cached

    def set_theme(self, theme: str) -> None:
        """Recolour the states for ``theme`` ("light" or "dark")."""
        if theme == self.theme:
            return
        self.theme = theme
        if self._rows:
            with quiet(self):
                for pos, row in enumerate(self._rows):
                    self._set_state(pos, row)
                    self._set_reason(pos, row)
            self._changed(0, len(self._rows) - 1)
