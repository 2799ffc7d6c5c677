"""The Models view: the connection's models, an "Active only" filter, and the selected one's
figures and lineage (read through the ApiWorker; nothing here blocks the GUI)."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.api.models import Model
from relay_desktop.core.text import local_minutes
from relay_desktop.services.api_worker import Priority, RequestHandle
from relay_desktop.ui.errors import describe_error
from relay_desktop.ui.models.details import ModelDetails
from relay_desktop.ui.models.lineage import Lineage, fetch_lineage
from relay_desktop.ui.models.metrics import number, ratio_text
from relay_desktop.ui.theme import icon

if TYPE_CHECKING:
    from relay_desktop.services.context import AppContext

log = logging.getLogger(__name__)

COLUMNS = ("Name", "Created", "Artifact types", "F1", "Active")
NAME, CREATED, TYPES, F1, ACTIVE = range(5)
ID_ROLE = Qt.ItemDataRole.UserRole
_OLDEST = datetime.min.replace(tzinfo=UTC)


class _Item(QTreeWidgetItem):
    """Sorts the Created and F1 columns by value, not text."""

    def __lt__(self, other: QTreeWidgetItem) -> bool:
        col = self.treeWidget().sortColumn() if self.treeWidget() else NAME
        mine, theirs = self.data(col, Qt.ItemDataRole.UserRole + 1), other.data(
            col, Qt.ItemDataRole.UserRole + 1)
        if mine is not None and theirs is not None:
            return bool(mine < theirs)
        return self.text(col).lower() < other.text(col).lower()


class ModelsPanel(QWidget):
    """Lists models (newest first) and shows the selected one.

    Signals:
        inference_requested(object): run inference with this Model ("Run inference…").
        models_loaded(object): the list arrived (list[Model], as filtered).
        model_selected(object): the Model now shown (None: none).
        error(str): a list or lineage read failed (a sentence).
    """

    inference_requested = Signal(object)
    models_loaded = Signal(object)
    model_selected = Signal(object)
    error = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelsPanel")
        self.context: AppContext | None = None
        self.models: dict[str, Model] = {}
        self._list_handle: RequestHandle | None = None
        self._lineage_handle: RequestHandle | None = None
        self._lineage: dict[str, Lineage] = {}
        self._want: str | None = None
        self._jobs: Any = None
        self.active_only = QCheckBox("Active only")
        self.active_only.setObjectName("modelsActiveOnly")
        self.active_only.setToolTip("Show only the models marked active")
        self.active_only.toggled.connect(lambda _on: self.refresh())
        self.refresh_button = QPushButton(icon("refresh"), "Refresh")
        self.refresh_button.setObjectName("modelsRefresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.status = QLabel()
        self.status.setObjectName("subtle")
        self.status.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setObjectName("modelsList")
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(CREATED, Qt.SortOrder.DescendingOrder)
        header = self.tree.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in zip(COLUMNS, (200, 120, 160, 50), strict=False):
            header.resizeSection(COLUMNS.index(col), width)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.details = ModelDetails()
        self.tree.itemDoubleClicked.connect(lambda *_: self.details.run_button.click())
        self.details.inference_requested.connect(self.inference_requested)
        bar = QHBoxLayout()
        bar.addWidget(self.active_only)
        bar.addStretch(1)
        bar.addWidget(self.refresh_button)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(bar)
        top_layout.addWidget(self.tree, 1)
        top_layout.addWidget(self.status)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter)
        self.set_context(None)

    # -- public -----------------------------------------------------------------------

    def set_context(self, context: AppContext | None) -> None:
        """Show the models of ``context``'s connection (None: disconnected, empty)."""
        self._cancel()
        self.context = context
        self.models.clear()
        self._lineage.clear()
        self.tree.clear()
        self.details.show_model(None)
        self.refresh_button.setEnabled(context is not None)
        self.active_only.setEnabled(context is not None)
        self.status.setText("" if context is not None else "Not connected.")
        if context is not None:
            self.refresh()

    def set_jobs(self, jobs: Any) -> None:
        """Refresh when a training job completes (``jobs``: the JobsService; None: none)."""
        if self._jobs is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                self._jobs.job_finished.disconnect(self._job_finished)
        self._jobs = jobs
        if jobs is not None:
            jobs.job_finished.connect(self._job_finished)

    def refresh(self) -> None:
        """Read the list again (keeps the selection when the model is still there)."""
        if self.context is None:
            return
        if self._list_handle is not None:
            self._list_handle.cancel()
        active = True if self.active_only.isChecked() else None
        self.status.setText("Loading models…")
        handle = self.context.worker.submit(
            lambda client, cancel, _p: list(client.models.iter_items(is_active=active,
                                                                     cancel=cancel)),
            priority=Priority.USER, description="Listing models")
        self._list_handle = handle
        handle.succeeded.connect(lambda models, h=handle: self._loaded(h, models))
        handle.failed.connect(lambda exc, h=handle: self._list_failed(h, exc))

    def select_model(self, model_id: str) -> None:
        """Select ``model_id`` (after the list arrives; a model not listed yet refreshes)."""
        self._want = model_id
        if model_id in self.models:
            self._select_item(model_id)
        elif self._list_handle is None:
            if self.active_only.isChecked() and self.models:
                self.active_only.setChecked(False)  # refreshes: it may be inactive
            else:
                self.refresh()

    def selected_model(self) -> Model | None:
        return self.details.model

    # -- list -------------------------------------------------------------------------

    def _loaded(self, handle: RequestHandle, models: list[Model]) -> None:
        if handle is not self._list_handle:
            return
        self._list_handle = None
        keep = self._want or (self.details.model.id if self.details.model else None)
        self.models = {m.id: m for m in models}
        self.tree.blockSignals(True)
        self.tree.clear()
        for model in models:
            self.tree.addTopLevelItem(self._make_item(model))
        self.tree.blockSignals(False)
        count = len(models)
        none = ("No active models." if self.active_only.isChecked()
                else "No models yet. Train one from a published annotation set.")
        self.status.setText(none if not count else
                            f"{count} model{'s' if count != 1 else ''}")
        if keep is not None and keep in self.models:
            self._select_item(keep)
        elif self._want is not None and self.active_only.isChecked():
            self.active_only.setChecked(False)   # the wanted model may be inactive: list all
        else:
            self.details.show_model(None)
            self.model_selected.emit(None)
        self.models_loaded.emit(models)

    def _make_item(self, model: Model) -> QTreeWidgetItem:
        f1 = number(model.eval_metrics.get("f1_score"))
        item = _Item([model.name or model.id, local_minutes(model.created_at),
                      ", ".join(model.artifact_types), ratio_text(f1),
                      "yes" if model.is_active else "no"])
        item.setData(NAME, ID_ROLE, model.id)
        item.setData(CREATED, Qt.ItemDataRole.UserRole + 1,
                     (model.created_at or _OLDEST).timestamp())
        item.setData(F1, Qt.ItemDataRole.UserRole + 1, -1.0 if f1 is None else f1)
        item.setToolTip(NAME, model.description or model.name or model.id)
        item.setTextAlignment(F1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return item

    def _list_failed(self, handle: RequestHandle, exc: BaseException) -> None:
        if handle is not self._list_handle:
            return
        self._list_handle = None
        text = describe_error(exc)
        self.status.setText(f"The models could not be listed. {text}")
        self.error.emit(text)

    def _select_item(self, model_id: str) -> None:
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            if item is not None and item.data(NAME, ID_ROLE) == model_id:
                self.tree.setCurrentItem(item)
                self.tree.scrollToItem(item)
                self._want = None
                if self.details.model is None or self.details.model.id != model_id:
                    self._selection_changed()
                return

    def _selection_changed(self) -> None:
        items = self.tree.selectedItems()
        model = self.models.get(items[0].data(NAME, ID_ROLE)) if items else None
        if model is not None and self.details.model is not None \
                and self.details.model.id == model.id and self.details.model == model:
            return
        self.details.show_model(model)
        self.model_selected.emit(model)
        if model is not None:
            self._fetch_lineage(model)

    # -- lineage ----------------------------------------------------------------------

    def _fetch_lineage(self, model: Model) -> None:
        known = self._lineage.get(model.id)
        if known is not None:
            self.details.show_lineage(known)
            return
        if self.context is None or not (model.training_job_id or model.dataset_id):
            return
        if self._lineage_handle is not None:
            self._lineage_handle.cancel()
        handle = self.context.worker.submit(
            lambda client, cancel, _p: fetch_lineage(client, cancel, model),
            priority=Priority.USER, description="Reading where the model came from")
        self._lineage_handle = handle
        handle.succeeded.connect(lambda lineage: self._lineage_read(lineage))
        handle.failed.connect(lambda exc, h=handle: self._lineage_failed(h, exc))

    def _lineage_read(self, lineage: Lineage) -> None:
        self._lineage_handle = None
        self._lineage[lineage.model_id] = lineage
        self.details.show_lineage(lineage)

    def _lineage_failed(self, handle: RequestHandle, exc: BaseException) -> None:
        if handle is self._lineage_handle:
            self._lineage_handle = None
            self.details.show_lineage_error(describe_error(exc))

    def _job_finished(self, kind: str, job: Any) -> None:
        if kind == "training" and getattr(job, "status", "") == "completed":
            self.refresh()

    def _cancel(self) -> None:
        for handle in (self._list_handle, self._lineage_handle):
            if handle is not None:
                handle.cancel()
        self._list_handle = self._lineage_handle = None
