"""The list model behind the dataset browser, and its search filter."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from relay_desktop.api.models import Dataset

DATASET_ROLE = Qt.ItemDataRole.UserRole + 1

AnyIndex = QModelIndex | QPersistentModelIndex


def _count(n: int | None, one: str, many: str) -> str:
    if n is None:
        return ""
    return f"{n:,} {one if n == 1 else many}"


class DatasetListModel(QAbstractListModel):
    """Datasets in server order; ``DATASET_ROLE`` gives the Dataset."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[Dataset] = []

    def set_datasets(self, items: Sequence[Dataset]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def upsert(self, dataset: Dataset) -> int:
        """Replace the dataset with the same id, or append it; returns its row."""
        for row, existing in enumerate(self._items):
            if existing.id == dataset.id:
                self._items[row] = dataset
                index = self.index(row)
                self.dataChanged.emit(index, index)
                return row
        row = len(self._items)
        self.beginInsertRows(QModelIndex(), row, row)
        self._items.append(dataset)
        self.endInsertRows()
        return row

    def remove(self, dataset_id: str) -> None:
        for row, existing in enumerate(self._items):
            if existing.id == dataset_id:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._items[row]
                self.endRemoveRows()
                return

    def datasets(self) -> list[Dataset]:
        return list(self._items)

    def row_of(self, dataset_id: str) -> int:
        return next((r for r, d in enumerate(self._items) if d.id == dataset_id), -1)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        ds = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            counts = " · ".join(x for x in (
                _count(ds.audio_count, "file", "files"),
                _count(len(ds.artifact_types), "type", "types")) if x)
            return f"{ds.name}\n{counts}" if counts else ds.name
        if role == Qt.ItemDataRole.ToolTipRole:
            types = ", ".join(t.name for t in ds.artifact_types) or "none"
            return f"{ds.name}\n{ds.description or ''}\nArtifact types: {types}".strip()
        if role == DATASET_ROLE:
            return ds
        return None


class DatasetFilterModel(QSortFilterProxyModel):
    """Case-insensitive search over name, description and artifact type names."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._needle = ""

    def set_search(self, text: str) -> None:
        self.beginFilterChange()
        self._needle = text.strip().lower()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        if not self._needle:
            return True
        model = self.sourceModel()
        ds = model.data(model.index(source_row, 0, source_parent), DATASET_ROLE)
        if not isinstance(ds, Dataset):
            return False
        hay = " ".join([ds.name, ds.description or "", *ds.type_names]).lower()
        return self._needle in hay
