"""A table model over a dataset's audio files that fetches pages lazily through the ApiWorker.

Nothing here blocks: ``fetchMore`` submits one page request and returns; the
rows are inserted when the page arrives. Filtering by processing status is
done by the server (the list is reloaded); sorting orders the rows loaded so
far, and pages that arrive later are merged into that order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor

from relay_desktop.api.models import AudioFile, Page
from relay_desktop.core.text import local_minutes
from relay_desktop.services.api_worker import ApiWorker, Priority, RequestHandle
from relay_desktop.ui.audio_list.format import format_duration, format_rate, format_size
from relay_desktop.ui.theme import status_color

AUDIO_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
STATUSES = ("pending", "normalizing", "embedding", "ready", "failed")
AnyIndex = QModelIndex | QPersistentModelIndex

_EPOCH = datetime.min


def _sort_keys() -> list[tuple[str, Callable[[AudioFile], Any]]]:
    return [
        ("Name", lambda a: a.filename.lower()),
        ("Duration", lambda a: a.duration_ms if a.duration_ms is not None else -1),
        ("Sample rate", lambda a: a.sample_rate or 0),
        ("Channels", lambda a: a.channels or 0),
        ("Size", lambda a: a.file_size or 0),
        ("Status", lambda a: STATUSES.index(a.processing_status)
         if a.processing_status in STATUSES else len(STATUSES)),
        ("Created", lambda a: a.created_at.timestamp() if a.created_at else 0.0),
    ]


COLUMNS = _sort_keys()
NUMERIC = frozenset({1, 2, 3, 4})
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole.value)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
_AUDIO = int(AUDIO_ROLE)
_SORT = int(SORT_ROLE)
_HANDLED_ROLES = frozenset({_DISPLAY, _TOOLTIP, _ALIGN, _FOREGROUND, _AUDIO, _SORT})
_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)


def display_cells(audio: AudioFile) -> tuple[str, ...]:
    """The seven column strings of one file (computed once, on the API thread)."""
    return (audio.filename, format_duration(audio.duration_ms), format_rate(audio.sample_rate),
            "" if audio.channels is None else str(audio.channels), format_size(audio.file_size),
            audio.processing_status, local_minutes(audio.created_at))


class AudioListModel(QAbstractTableModel):
    """Audio files of one dataset, ``page_size`` at a time, as the view scrolls.

    Signals:
        page_loaded(int, int): (page number, rows in it) after rows were inserted.
        load_failed(object): a page request failed (the exception); ``retry()`` resumes.
        total_changed(object): the server's total (int or None) for the current filter.
        loading_changed(bool): a page request started or ended.
    """

    page_loaded = Signal(int, int)
    load_failed = Signal(object)
    total_changed = Signal(object)
    loading_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, page_size: int = 100) -> None:
        super().__init__(parent)
        self.page_size = page_size
        self.worker: ApiWorker | None = None
        self.dataset_id: str | None = None
        self.status_filter: str | None = None
        self.theme = "light"
        self.total: int | None = None
        self.pages_requested: list[int] = []
        self.error: BaseException | None = None
        self._rows: list[AudioFile] = []
        self._cells: list[tuple[str, ...]] = []  # display strings, parallel to _rows
        self._known: set[str] = set()
        self._server_order: dict[str, int] = {}
        self._next_page = 1
        self._has_more = False
        self._inflight: RequestHandle | None = None
        self._generation = 0
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._colors: dict[tuple[str, str], QColor] = {}

    # -- configuration ---------------------------------------------------------

    def set_source(self, worker: ApiWorker | None, dataset_id: str | None,
                   status_filter: str | None = None) -> None:
        """Show ``dataset_id`` (None: nothing); the first page is fetched on demand."""
        if status_filter is not None and status_filter not in STATUSES:
            raise ValueError(f"unknown processing status {status_filter!r}")
        self.worker, self.dataset_id, self.status_filter = worker, dataset_id, status_filter
        self.reload()

    def set_status_filter(self, status: str | None) -> None:
        self.set_source(self.worker, self.dataset_id, status)

    @Slot()
    def reload(self) -> None:
        """Forget every row and start again from page 1."""
        self._generation += 1
        if self._inflight is not None and not self._inflight.done:
            self._inflight.cancel()
        self._inflight = None
        self.beginResetModel()
        self._rows = []
        self._cells = []
        self._known = set()
        self._server_order = {}
        self._next_page = 1
        self._has_more = self.worker is not None and self.dataset_id is not None
        self.total = None
        self.error = None
        self.pages_requested = []
        self.endResetModel()
        self.total_changed.emit(None)

    @Slot()
    def retry(self) -> None:
        """Resume after a failed page."""
        if self.error is not None:
            self.error = None
            self.fetchMore(QModelIndex())

    # -- lazy loading ----------------------------------------------------------

    @property
    def loading(self) -> bool:
        return self._inflight is not None

    @property
    def has_more(self) -> bool:
        return self._has_more

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:
        if parent.isValid():
            return False
        return self._has_more and self._inflight is None and self.error is None

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:
        if not self.canFetchMore(parent) or self.worker is None or self.dataset_id is None:
            return
        page, size = self._next_page, self.page_size
        dataset_id, status = self.dataset_id, self.status_filter
        generation = self._generation
        self.pages_requested.append(page)
        def fetch(client: Any, _cancel: Any, _progress: Any
                  ) -> tuple[Page[AudioFile], list[tuple[str, ...]]]:
            result = client.audio.list(dataset_id, page=page, page_size=size,
                                       processing_status=status)
            return result, [display_cells(a) for a in result.items]  # formatted off the GUI

        handle = self.worker.submit(fetch, priority=Priority.USER,
                                    description=f"Loading audio files (page {page})")
        self._inflight = handle
        handle.succeeded.connect(lambda result: self._on_page(generation, page, result))
        handle.failed.connect(lambda exc: self._on_failed(generation, exc))
        handle.cancelled.connect(lambda: self._on_cancelled(generation))
        self.loading_changed.emit(True)

    def _on_page(self, generation: int, page: int,
                 loaded: tuple[Page[AudioFile], list[tuple[str, ...]]]) -> None:
        if generation != self._generation:
            return
        self._inflight = None
        result, cells = loaded
        # rows shifted by concurrent inserts may come twice: keep the first copy
        fresh = [(a, c) for a, c in zip(result.items, cells, strict=True)
                 if a.id not in self._known]
        items = [a for a, _c in fresh]
        if items:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(items) - 1)
            for offset, audio in enumerate(items):
                self._server_order[audio.id] = start + offset
                self._known.add(audio.id)
            self._rows.extend(items)
            self._cells.extend(c for _a, c in fresh)
            self.endInsertRows()
        self._next_page = page + 1
        self._has_more = bool(result.has_more) and bool(result.items)
        if result.total != self.total:
            self.total = result.total
            self.total_changed.emit(result.total)
        if self._sort is not None and items:
            self._apply_sort()
        self.loading_changed.emit(False)
        self.page_loaded.emit(page, len(items))

    def _on_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._inflight = None
        self.error = exc
        self.loading_changed.emit(False)
        self.load_failed.emit(exc)

    def _on_cancelled(self, generation: int) -> None:
        if generation == self._generation:
            self._inflight = None
            self.loading_changed.emit(False)

    # -- updates from elsewhere (uploads, processing) --------------------------

    def update_file(self, audio: AudioFile) -> bool:
        """Replace a loaded row with a newer copy of the same file (True if it was loaded)."""
        for row, existing in enumerate(self._rows):
            if existing.id == audio.id:
                self._rows[row] = audio
                self._cells[row] = display_cells(audio)
                self.dataChanged.emit(self.index(row, 0),
                                      self.index(row, len(COLUMNS) - 1))
                return True
        return False

    def remove_files(self, audio_ids: Iterable[str]) -> int:
        """Drop loaded rows by id (deleted on the server); returns how many went."""
        gone = set(audio_ids) & self._known
        if not gone:
            return 0
        positions = [r for r, a in enumerate(self._rows) if a.id in gone]
        for row in reversed(positions):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            del self._cells[row]
            self.endRemoveRows()
        self._known -= gone
        for audio_id in gone:
            self._server_order.pop(audio_id, None)
        if self.total is not None:
            self.total = max(0, self.total - len(gone))
            self.total_changed.emit(self.total)
        return len(gone)

    def fetch_new(self) -> bool:
        """Ask for files added since the last page (new uploads come last in server order).

        Only once every page is loaded (otherwise they arrive with the pages still to
        come); pages overlap the rows already known and duplicates are dropped. Returns
        True when a request was sent.
        """
        if (self.worker is None or self.dataset_id is None or self._has_more
                or self._inflight is not None or self.error is not None):
            return False
        self._next_page = max(1, len(self._rows) // self.page_size + 1)
        self._has_more = True
        self.fetchMore(QModelIndex())
        return True

    def file_at(self, row: int) -> AudioFile | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, audio_id: str) -> int:
        return next((r for r, a in enumerate(self._rows) if a.id == audio_id), -1)

    # -- Qt model API ----------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section][0]
            if role == Qt.ItemDataRole.TextAlignmentRole and section in NUMERIC:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        # called ~7 times per visible cell on every paint: int roles, no enum compares
        if role not in _HANDLED_ROLES:
            return None
        row = index.row()
        if row < 0 or row >= len(self._rows):
            return None
        col = index.column()
        if role == _DISPLAY:
            return self._cells[row][col]
        if role == _ALIGN:
            return _RIGHT if col in NUMERIC else None
        audio = self._rows[row]
        if role == _FOREGROUND:
            return self._status_color(audio.processing_status) if col == 5 else None
        if role == _AUDIO:
            return audio
        if role == _SORT:
            return COLUMNS[col][1](audio)
        if audio.processing_status == "failed" and audio.error_message:
            return f"Processing failed: {audio.error_message}"
        if col == 4 and audio.file_size is not None:
            return f"{audio.file_size:,} bytes"
        return audio.filename

    def _status_color(self, status: str) -> QColor:
        key = (self.theme, status)
        color = self._colors.get(key)
        if color is None:
            color = self._colors[key] = QColor(status_color(status, self.theme))
        return color

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Order the loaded rows (column < 0: the server's order)."""
        self._sort = (column, order) if 0 <= column < len(COLUMNS) else None
        self._apply_sort()

    def _apply_sort(self) -> None:
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        ids = [(self._rows[i.row()].id, i.column()) if 0 <= i.row() < len(self._rows)
               else None for i in persistent]
        rows, order_of = self._rows, self._server_order
        if self._sort is None:
            order = sorted(range(len(rows)), key=lambda i: order_of.get(rows[i].id, 0))
        else:
            column, direction = self._sort
            key = COLUMNS[column][1]
            order = sorted(range(len(rows)),
                           key=lambda i: (key(rows[i]), order_of.get(rows[i].id, 0)),
                           reverse=direction == Qt.SortOrder.DescendingOrder)
        self._rows = [rows[i] for i in order]
        self._cells = [self._cells[i] for i in order]
        where = {a.id: r for r, a in enumerate(self._rows)}
        new = [self.index(where[item[0]], item[1]) if item and item[0] in where
               else QModelIndex() for item in ids]
        self.changePersistentIndexList(persistent, new)
        self.layoutChanged.emit()
