"""The annotation table: the open set's regions, synced both ways with the plots.

It shows the regions of the file in the waveform by default ("All files" shows
every file's). Sortable by any column, filterable by type, with editable cells
(type from a list, times as ``m:ss.mmm``/seconds/ms, confidence 0 to 1, a
free-text note) that are validated before anything changes; a refused edit
shows why under the table and changes nothing.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.core.annotations.commands import fmt_ms
from relay_desktop.core.annotations.document import DocumentChange, Region
from relay_desktop.core.text import plural
from relay_desktop.services.annotation_session import AnnotationSession

COLUMNS = ("File", "Type", "Start", "End", "Duration", "Confidence", "Note")
FILE, TYPE, START, END, DURATION, CONFIDENCE, NOTE = range(7)
MAX_NOTE = 2000
SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 1
ID_ROLE = int(Qt.ItemDataRole.UserRole)
AnyIndex = QModelIndex | QPersistentModelIndex

_TIME = re.compile(r"^\s*(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d*)?)\s*(ms|s)?\s*$")


def parse_time_ms(text: str) -> int:
    """``"1:23.456"``, ``"83.456 s"``, ``"83456 ms"`` or ``"83456"`` (ms) -> ms."""
    m = _TIME.match(text)
    if not m:
        raise ValueError(f"“{text}” is not a time: write 1:23.456, 83.456 s or 83456 ms.")
    h_or_m, m_or_none, number, unit = m.groups()
    if h_or_m is not None or m_or_none is not None:
        hours = int(h_or_m) if m_or_none is not None else 0
        minutes = int(m_or_none) if m_or_none is not None else int(h_or_m)
        return round(((hours * 60 + minutes) * 60 + float(number)) * 1000)
    if unit == "s" or (unit is None and "." in number):
        return round(float(number) * 1000)
    return round(float(number))


class RegionTableModel(QAbstractTableModel):
    """The session's regions as rows.

    Signals:
        validation_error(str): an edit was refused (why).
    """

    validation_error = Signal(str)

    def __init__(self, session: AnnotationSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._ids: list[str] = []
        self._row_of: dict[str, int] = {}
        session.changed.connect(self._on_changed)
        session.loaded.connect(self.reload)
        session.read_only_changed.connect(lambda _ro: self.reload())
        session.rejected_edit.connect(self.validation_error)
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self._ids = [r.local_id for r in sorted(
            self.session.document, key=lambda r: (r.audio_file_id, r.start_ms, r.local_id))]
        self._row_of = {i: n for n, i in enumerate(self._ids)}
        self.endResetModel()

    def _on_changed(self, change: DocumentChange) -> None:
        if change.added or change.removed:
            self.reload()
            return
        for _, new in change.changed:
            row = self._row_of.get(new.local_id)
            if row is not None:
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def row_of(self, local_id: str) -> int:
        return self._row_of.get(local_id, -1)

    def region_at(self, row: int) -> Region | None:
        if 0 <= row < len(self._ids):
            return self.session.document.get(self._ids[row])
        return None

    # -- Qt model API ------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        region = self.region_at(index.row()) if index.isValid() else None
        if region is None:
            return None
        col = index.column()
        doc = self.session.document
        if role == ID_ROLE:
            return region.local_id
        if role == Qt.ItemDataRole.DisplayRole:
            return (doc.filenames.get(region.audio_file_id, region.audio_file_id[:8]),
                    region.artifact_type, fmt_ms(region.start_ms), fmt_ms(region.end_ms),
                    f"{region.duration_ms} ms", f"{region.confidence:.2f}",
                    " ".join(region.note.split()))[col]
        if role == Qt.ItemDataRole.EditRole:
            return (None, region.artifact_type, fmt_ms(region.start_ms), fmt_ms(region.end_ms),
                    None, region.confidence, region.note)[col]
        if role == SORT_ROLE:
            return (doc.filenames.get(region.audio_file_id, region.audio_file_id),
                    region.artifact_type, region.start_ms, region.end_ms, region.duration_ms,
                    region.confidence, region.note.casefold())[col]
        if role == Qt.ItemDataRole.DecorationRole and col == TYPE:
            return QColor(doc.color_of(region.artifact_type))
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= START:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col == TYPE:
            return "Double-click to relabel (or press 1-9 on the waveform)."
        if role == Qt.ItemDataRole.ToolTipRole and col == NOTE:
            return region.note or "Double-click to add a note."
        if role == Qt.ItemDataRole.ToolTipRole and col == FILE:
            return f"{doc.filenames.get(region.audio_file_id, region.audio_file_id)}: " \
                "double-click to open this file at the region."
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() in (TYPE, START, END, CONFIDENCE, NOTE) \
                and not self.session.read_only:
            base |= Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: AnyIndex, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        region = self.region_at(index.row()) if index.isValid() else None
        if region is None or role != Qt.ItemDataRole.EditRole:
            return False
        col = index.column()
        try:
            if col == TYPE:
                changes: dict[str, Any] = {"artifact_type": str(value)}
                kind = "relabel"
            elif col in (START, END):
                ms = parse_time_ms(str(value))
                changes = {"start_ms" if col == START else "end_ms": ms}
                kind = "resize"
            elif col == CONFIDENCE:
                changes = {"confidence": float(value)}
                kind = "confidence"
            elif col == NOTE:
                note = str(value).strip()
                if len(note) > MAX_NOTE:
                    self.validation_error.emit(f"A note is at most {MAX_NOTE} characters; "
                                               f"this one has {len(note)}.")
                    return False
                changes, kind = {"note": note}, "note"
            else:
                return False
        except ValueError as exc:
            message = str(exc) if "“" in str(exc) else f"“{value}” is not a number."
            self.validation_error.emit(message)
            return False
        after = region.with_fields(**changes)
        problems = self.session.problems(after)
        if problems:
            self.validation_error.emit(" ".join(str(p) for p in problems))
            return False
        return self.session.edit(region.local_id, kind, **changes)


class RegionFilterProxy(QSortFilterProxyModel):
    """Filters rows by artifact type and, optionally, by audio file."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.type_filter: str | None = None
        self.file_filter: str | None = None
        self.setSortRole(SORT_ROLE)

    def set_type_filter(self, name: str | None) -> None:
        self._refilter(lambda: setattr(self, "type_filter", name or None))

    def set_file_filter(self, audio_file_id: str | None) -> None:
        self._refilter(lambda: setattr(self, "file_filter", audio_file_id or None))

    def _refilter(self, change: Any) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.10
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # pragma: no cover - older Qt
            change()
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self.sourceModel()
        if not isinstance(model, RegionTableModel):
            return True
        region = model.region_at(source_row)
        if region is None:
            return False
        if self.type_filter and region.artifact_type != self.type_filter:
            return False
        return not (self.file_filter and region.audio_file_id != self.file_filter)


class RegionDelegate(QStyledItemDelegate):
    """A type list for the Type column and a 0-1 spin box for Confidence."""

    def __init__(self, session: AnnotationSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: AnyIndex) -> QWidget:
        if index.column() == TYPE:
            combo = QComboBox(parent)
            combo.addItems(self.session.document.type_names())
            return combo
        if index.column() == CONFIDENCE:
            spin = QDoubleSpinBox(parent)
            spin.setRange(0.0, 1.0)
            spin.setSingleStep(0.05)
            spin.setDecimals(2)
            return spin
        return super().createEditor(parent, option, index)

    def setEditorData(self, editor: QWidget, index: AnyIndex) -> None:
        value = index.data(Qt.ItemDataRole.EditRole)
        if isinstance(editor, QComboBox):
            editor.setCurrentText(str(value))
        elif isinstance(editor, QDoubleSpinBox):
            editor.setValue(float(value))
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor: QWidget, model: Any, index: AnyIndex) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentText())
        elif isinstance(editor, QDoubleSpinBox):
            model.setData(index, editor.value())
        else:
            super().setModelData(editor, model, index)


class RegionTable(QWidget):
    """Filter bar + table + validation message, selection shared with the session.

    Signals:
        region_activated(str): a row was double-clicked on a read-only column or
            activated with Enter (local id): show and play it.
    """

    region_activated = Signal(str)

    def __init__(self, session: AnnotationSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.model = RegionTableModel(session, self)
        self.proxy = RegionFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.current_file: str | None = None
        self._syncing = False

        self.type_combo = QComboBox()
        self.type_combo.setObjectName("typeFilter")
        self.file_only = QCheckBox("This file only")
        self.file_only.setToolTip("Show only the regions of the file in the waveform; "
                                  "untick to list every file's regions.")
        self.file_only.setChecked(True)
        self.count_label = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Type:"))
        bar.addWidget(self.type_combo)
        bar.addWidget(self.file_only)
        bar.addStretch(1)
        bar.addWidget(self.count_label)

        self.view = QTableView()
        self.view.setObjectName("regionTable")
        self.view.setModel(self.proxy)
        self.view.setItemDelegate(RegionDelegate(session, self.view))
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(START, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked |
                                  QAbstractItemView.EditTrigger.EditKeyPressed |
                                  QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.view.verticalHeader().hide()
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.message = QLabel()
        self.message.setObjectName("tableMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #e57373;")
        self.message.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)

        self.type_combo.currentIndexChanged.connect(self._type_filter_changed)
        self.file_only.toggled.connect(self._file_filter_changed)
        self.model.validation_error.connect(self.show_message)
        self.model.modelReset.connect(self._after_reset)
        self.view.selectionModel().selectionChanged.connect(self._view_selection_changed)
        self.view.doubleClicked.connect(self._double_clicked)
        session.selection_changed.connect(self._session_selection_changed)
        session.loaded.connect(self._fill_types)
        self._fill_types()

    def _fill_types(self) -> None:
        current = self.type_combo.currentData()
        self.type_combo.blockSignals(True)
        self.type_combo.clear()
        self.type_combo.addItem("All types", None)
        for name in self.session.document.type_names():
            self.type_combo.addItem(name, name)
        index = self.type_combo.findData(current)
        self.type_combo.setCurrentIndex(max(0, index))
        self.type_combo.blockSignals(False)
        self._update_count()

    def set_type_filter(self, name: str | None) -> None:
        index = self.type_combo.findData(name)
        self.type_combo.setCurrentIndex(max(0, index))

    def set_current_file(self, audio_file_id: str | None) -> None:
        self.current_file = audio_file_id
        self._file_filter_changed(self.file_only.isChecked())

    def _type_filter_changed(self) -> None:
        self.proxy.set_type_filter(self.type_combo.currentData())
        self._update_count()
        self._session_selection_changed(self.session.selection)

    def _file_filter_changed(self, checked: bool) -> None:
        only_one = checked and self.current_file is not None
        self.proxy.set_file_filter(self.current_file if only_one else None)
        self.view.setColumnHidden(FILE, only_one)  # one file: its name says nothing
        self._update_count()

    def _after_reset(self) -> None:
        self._update_count()
        self._session_selection_changed(self.session.selection)

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{shown} of {plural(total, 'region')}" if shown != total
                                 else plural(total, "region"))

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def selected_ids(self) -> list[str]:
        rows = self.view.selectionModel().selectedRows()
        return [str(self.proxy.data(i, ID_ROLE)) for i in sorted(rows, key=lambda i: i.row())]

    def _view_selection_changed(self, *_args: Any) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self.session.select(self.selected_ids())
        finally:
            self._syncing = False

    def _session_selection_changed(self, ids: list[str]) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            selection = QItemSelection()
            first: QModelIndex | None = None
            for local_id in ids:
                row = self.model.row_of(local_id)
                if row < 0:
                    continue
                proxy_index = self.proxy.mapFromSource(self.model.index(row, 0))
                if not proxy_index.isValid():
                    continue
                first = first or proxy_index
                selection.select(proxy_index, proxy_index.siblingAtColumn(len(COLUMNS) - 1))
            sm = self.view.selectionModel()
            sm.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            if first is not None:
                self.view.scrollTo(first)
        finally:
            self._syncing = False

    def _double_clicked(self, index: QModelIndex) -> None:
        if not (self.proxy.flags(index) & Qt.ItemFlag.ItemIsEditable):
            self.region_activated.emit(str(self.proxy.data(index, ID_ROLE)))
