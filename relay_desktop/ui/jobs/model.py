"""The jobs table: training and inference jobs in one list, with kind and status filters."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel

from relay_desktop.api.models import InferenceJob, TrainingJob
from relay_desktop.core.text import local_minutes
from relay_desktop.ui.quiet_model import quiet

COLUMNS = ("Kind", "What", "Status", "Progress", "Elapsed", "Started", "Error")
KIND, WHAT, STATUS, PROGRESS, ELAPSED, STARTED, ERROR = range(len(COLUMNS))
TERMINAL = ("completed", "failed", "cancelled")
KIND_ROLE = Qt.ItemDataRole.UserRole + 1
JOB_ROLE = Qt.ItemDataRole.UserRole + 2

_Index = QModelIndex | QPersistentModelIndex


def progress_fraction(job: Any) -> float | None:
    """0..1 for a job with a known amount of work, else None."""
    if isinstance(job, TrainingJob):
        if job.status == "completed":
            return 1.0
        p = job.progress
        return p.epoch / p.epochs if p is not None and p.epochs else None
    if isinstance(job, InferenceJob):
        if job.total_files:
            return job.processed_files / job.total_files
        return 1.0 if job.status == "completed" else None
    return None


def elapsed_s(job: Any, now: datetime | None = None) -> float | None:
    """Seconds from start to the end (or to now while running); None before it starts."""
    start = job.started_at or (job.created_at if job.status not in ("pending", "queued")
                               else None)
    if start is None:
        return None
    end = job.completed_at if job.status in TERMINAL else None
    end = end or (now or datetime.now(UTC))
    return max(0.0, (end - start).total_seconds())


def format_elapsed(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def progress_text(job: Any) -> str:
    fraction = progress_fraction(job)
    if fraction is None:
        return ""
    pct = f"{round(fraction * 100)}%"
    if isinstance(job, TrainingJob) and job.progress is not None and job.progress.epochs:
        return f"{pct} (epoch {job.progress.epoch}/{job.progress.epochs})"
    if isinstance(job, InferenceJob) and job.total_files:
        return f"{pct} ({job.processed_files}/{job.total_files} files)"
    return pct


class JobsTableModel(QStandardItemModel):
    """Rows of (kind, job), newest first; ``describe(kind, job)`` names what a job is about.

    The cells are Qt's own items, written when a row changes (a new job state, the
    elapsed time ticking, a description arriving): a repaint reads them without
    calling into Python. Read through the filter, a Python ``data()`` cost three
    calls into Python per role and cell, which made this table the costliest part of
    the Jobs dock's repaint while a job was followed. A row's first cell (``KIND``)
    carries its kind (``KIND_ROLE``) and job (``JOB_ROLE``).
    """

    def __init__(self, describe: Callable[[str, Any], str] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self._rows: list[tuple[str, Any]] = []
        self._describe = describe or (lambda kind, job: "")

    def _text(self, kind: str, job: Any, column: int) -> str:
        if column == KIND:
            return "Training" if kind == "training" else "Inference"
        if column == WHAT:
            return self._describe(kind, job)
        if column == STATUS:
            return str(job.status)
        if column == PROGRESS:
            return progress_text(job)
        if column == ELAPSED:
            return format_elapsed(elapsed_s(job))
        if column == STARTED:
            stamp = job.started_at or job.created_at
            return local_minutes(stamp)
        if column == ERROR:
            return (job.error_message or "").splitlines()[0] if job.error_message else ""
        return ""

    @staticmethod
    def _tip(kind: str, job: Any, column: int) -> str:
        if column == ERROR and job.error_message:
            return str(job.error_message)
        return f"{kind.capitalize()} job {job.id}"

    def _new_row(self, kind: str, job: Any) -> list[QStandardItem]:
        items = []
        for column in range(len(COLUMNS)):
            item = QStandardItem(self._text(kind, job, column))
            item.setToolTip(self._tip(kind, job, column))
            items.append(item)
        items[KIND].setData(kind, KIND_ROLE)
        items[KIND].setData(job, JOB_ROLE)
        return items

    def _fill(self, row: int, columns: Collection[int] = range(len(COLUMNS))) -> None:
        """Rewrite a row's cells from its job (quietly: the caller signals the change)."""
        kind, job = self._rows[row]
        for column in columns:
            item = self.item(row, column)
            if item is not None:
                item.setText(self._text(kind, job, column))
                item.setToolTip(self._tip(kind, job, column))
        first = self.item(row, KIND)
        if first is not None and KIND in columns:   # the row's job, for its readers
            first.setData(job, JOB_ROLE)

    def _changed(self, first: int, last: int, column: int | None = None) -> None:
        left = 0 if column is None else column
        right = len(COLUMNS) - 1 if column is None else column
        self.dataChanged.emit(self.index(first, left), self.index(last, right))

    def set_jobs(self, training: Sequence[Any], inference: Sequence[Any]) -> None:
        """Replace the rows (newest first across both kinds)."""
        rows = [("training", j) for j in training] + [("inference", j) for j in inference]
        rows.sort(key=lambda r: (r[1].created_at.timestamp() if r[1].created_at else 0.0,
                                 r[1].id), reverse=True)
        old = self._rows
        added = len(rows) - len(old)
        if added >= 0 and [(k, j.id) for k, j in rows[added:]] == [(k, j.id) for k, j in old]:
            # the same rows, perhaps under new jobs at the top (newest first): new rows are
            # inserted, changed ones rewritten, the selection kept
            self._rows = rows
            for i in reversed(range(added)):
                self.insertRow(0, self._new_row(*rows[i]))
            changed = [i for i in range(added, len(rows)) if rows[i][1] != old[i - added][1]]
            with quiet(self):
                for i in changed:
                    self._fill(i)
            for i in changed:
                self._changed(i, i)
            return
        self.beginResetModel()
        with quiet(self):
            self._rows = rows
            self.setRowCount(0)
            for kind, job in rows:
                self.appendRow(self._new_row(kind, job))
        self.endResetModel()

    def refresh_descriptions(self) -> None:
        if self._rows:
            with quiet(self):
                for i in range(len(self._rows)):
                    self._fill(i, (WHAT,))
            self._changed(0, len(self._rows) - 1, WHAT)

    def tick(self) -> None:
        """Elapsed time moves on for running jobs."""
        running = [row for row, (_kind, job) in enumerate(self._rows)
                   if job.status not in TERMINAL]
        with quiet(self):
            for row in running:
                self._fill(row, (ELAPSED,))
        for row in running:
            self._changed(row, row, ELAPSED)

    def running(self) -> int:
        return sum(1 for _k, j in self._rows if j.status not in TERMINAL)

    def row_of(self, kind: str, job_id: str) -> int:
        for row, (k, j) in enumerate(self._rows):
            if k == kind and j.id == job_id:
                return row
        return -1

    def job_at(self, row: int) -> tuple[str, Any] | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None


class JobsFilter(QSortFilterProxyModel):
    """Filters by kind ("" for both) and by text in the status (or error) column."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._kind = ""
        self._status = ""

    def set_kind(self, kind: str) -> None:
        self.beginFilterChange()
        self._kind = kind
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_status_text(self, text: str) -> None:
        self.beginFilterChange()
        self._status = text.strip().lower()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        index = model.index(source_row, STATUS, source_parent)
        if self._kind and model.data(index.siblingAtColumn(KIND), KIND_ROLE) != self._kind:
            return False
        if self._status:
            status = str(model.data(index) or "").lower()
            return self._status in status
        return True


def describe_job(kind: str, job: Any, datasets: Mapping[str, str],
                 set_versions: Mapping[str, int], models: Mapping[str, str]) -> str:
    """``Demo v2`` for a training job (dataset and set), the model's name for inference."""
    if kind == "training":
        name = datasets.get(job.dataset_id or "", "")
        version = set_versions.get(job.annotation_set_id or "")
        if not name:
            name = f"dataset {str(job.dataset_id or '')[:8]}"
        return f"{name} v{version}" if version is not None else name
    model = models.get(job.model_id or "")
    return model or f"model {str(job.model_id or '')[:8]}"
