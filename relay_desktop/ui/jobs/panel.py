"""The "Jobs" dock: training and inference jobs, their progress, cancel, and the loss plot."""

from __future__ import annotations

import contextlib
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStyle,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.api import CancelToken, RelayClient
from relay_desktop.services.api_worker import Priority
from relay_desktop.services.context import AppContext
from relay_desktop.services.jobs import INFERENCE, TERMINAL, TRAINING, JobsService
from relay_desktop.ui.adaptive_splitter import AdaptiveSplitter
from relay_desktop.ui.errors import describe_error
from relay_desktop.ui.jobs.loss_plot import LossPlot
from relay_desktop.ui.jobs.model import (
    ELAPSED,
    JOB_ROLE,
    KIND,
    KIND_ROLE,
    PROGRESS,
    STARTED,
    STATUS,
    WHAT,
    JobsFilter,
    JobsTableModel,
    describe_job,
)
from relay_desktop.ui.jobs.notifier import JobNotifier
from relay_desktop.ui.theme import icon
from relay_desktop.ui.training import TrainingDialog

TICK_MS = 1000
#: the longest text of the columns with a fixed format (sized without measuring any cell;
#: the ones that change while a job runs never need a refit)
FIXED_TEXT = {KIND: "Inference", STATUS: "cancelled", PROGRESS: "100% (epoch 1000/1000)",
              ELAPSED: "00:00:00", STARTED: "0000-00-00 00:00"}
COLUMN_PADDING = 18
KIND_FILTERS = (("All jobs", ""), ("Training", TRAINING), ("Inference", INFERENCE))
EMPTY_TEXT = ("No jobs yet. Train a model from a published annotation set "
              "(Train model…), then run it on new audio.")


def read_names(client: RelayClient, cancel: CancelToken, dataset_ids: set[str]
               ) -> tuple[dict[str, str], dict[str, int], dict[str, str]]:
    """Dataset names, set versions (of ``dataset_ids``) and model names, for the What column."""
    datasets = {d.id: d.name for d in client.datasets.iter_items(cancel=cancel)}
    versions: dict[str, int] = {}
    for ds in dataset_ids:
        if ds in datasets:
            for s in client.annotation_sets.iter_items(ds, cancel=cancel):
                versions[s.id] = s.version
    models = {m.id: m.name or m.id[:8] for m in client.models.iter_items(cancel=cancel)}
    return datasets, versions, models


class JobsPanel(QWidget):
    """Lists the connection's training and inference jobs and follows the running ones.

    Signals:
        inference_job_activated(object): an inference job was double-clicked (InferenceJob).
        model_requested(str): show the model of a finished training job (its id).
        train_requested(): the user asked to train a model (open the training dialog).
    """

    inference_job_activated = Signal(object)
    model_requested = Signal(str)
    train_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobsPanel")
        self.context: AppContext | None = None
        self.jobs: JobsService | None = None
        self.notifier = JobNotifier(self)
        self.notifier.describe = self.describe
        self._datasets: dict[str, str] = {}
        self._versions: dict[str, int] = {}
        self._models: dict[str, str] = {}
        self._names_loading = False

        self.model = JobsTableModel(self.describe, self)
        self.proxy = JobsFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("jobsTable")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        # fitted when the list changes, not on every change of a cell: a header resizing
        # to contents measures every cell again on each one (the elapsed time ticks every
        # second: about 90 ms of the GUI thread per tick with 100 jobs listed)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setResizeContentsPrecision(0)   # fit the rows on screen
        header.setStretchLastSection(True)
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self.fit_columns)
        for changed in (self.proxy.modelReset, self.proxy.rowsInserted,
                        self.proxy.layoutChanged):
            changed.connect(lambda *_args: self._fit_timer.start())
        self.table.doubleClicked.connect(self._activated)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        style = self.style()
        self.toolbar = QToolBar()
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.train_action = QAction(icon("add"), "Train model…", self)
        self.train_action.setToolTip("Train a detector on a published annotation set")
        self.refresh_action = QAction(icon("refresh"), "Refresh", self)
        self.cancel_action = QAction(
            style.standardIcon(QStyle.StandardPixmap.SP_DialogCancelButton), "Cancel job", self)
        self.model_action = QAction("Show model", self)
        self.model_action.setToolTip("Show the model this training job made")
        for action in (self.train_action, self.refresh_action, self.cancel_action,
                       self.model_action):
            self.toolbar.addAction(action)
        self.train_action.triggered.connect(lambda _checked=False: self.train_requested.emit())
        self.refresh_action.triggered.connect(self.refresh)
        self.cancel_action.triggered.connect(self.cancel_selected)
        self.model_action.triggered.connect(self._show_model)

        self.kind_filter = QComboBox()
        self.kind_filter.setObjectName("jobsKindFilter")
        for text, kind in KIND_FILTERS:
            self.kind_filter.addItem(text, kind)
        self.kind_filter.currentIndexChanged.connect(
            lambda _i: self.proxy.set_kind(self.kind_filter.currentData()))
        self.status_filter = QLineEdit()
        self.status_filter.setObjectName("jobsStatusFilter")
        self.status_filter.setPlaceholderText("Filter by status…")
        self.status_filter.setClearButtonEnabled(True)
        self.status_filter.textChanged.connect(self.proxy.set_status_text)
        self.toolbar.addSeparator()
        self.toolbar.addWidget(self.kind_filter)
        self.toolbar.addWidget(self.status_filter)

        self.message = QLabel(EMPTY_TEXT)
        self.message.setObjectName("jobsMessage")
        self.message.setWordWrap(True)
        self.loss_plot = LossPlot()
        self.loss_plot.setVisible(False)
        self.splitter = AdaptiveSplitter((0.55, 0.45))
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.loss_plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.message)
        layout.addWidget(self.splitter, 1)

        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self._tick)
        self._update_actions()

    # ---- connection ---------------------------------------------------------------------
    def set_context(self, context: AppContext | None) -> None:
        """Follow this connection's jobs (None: disconnected, the list empties)."""
        if self.jobs is not None:
            self.jobs.shutdown()
            with contextlib.suppress(RuntimeError, TypeError):
                self.jobs.jobs_changed.disconnect(self._jobs_changed)
                self.jobs.job_finished.disconnect(self._job_finished)
                self.jobs.failed.disconnect(self._failed)
            self.jobs.deleteLater()
            self.jobs = None
        self.context = context
        self._datasets, self._versions, self._models = {}, {}, {}
        self.model.set_jobs([], [])
        self.loss_plot.show_job(None)
        self.loss_plot.setVisible(False)
        self._ticker.stop()
        if context is None:
            self.message.setText("Not connected.")
            self.message.setVisible(True)
            self._update_actions()
            return
        self.jobs = JobsService(context, parent=self)
        self.jobs.jobs_changed.connect(self._jobs_changed)
        self.jobs.job_finished.connect(self._job_finished)
        self.jobs.failed.connect(self._failed)
        self.message.setText("Loading jobs…")
        self._update_actions()
        self.refresh()

    def refresh(self) -> None:
        """Read the job lists (and the names they refer to) again."""
        if self.jobs is not None:
            self.jobs.refresh()
            self._load_names(force=True)

    def shutdown(self) -> None:
        """Stop following jobs (before the connection closes)."""
        self.set_context(None)
        self.notifier.close()

    def open_training_dialog(self, annotation_set: Any = None) -> TrainingDialog | None:
        """Open "Train model…" (for ``annotation_set``, or a chooser of published sets).

        The created job is followed here and selected, so its loss curve shows.
        """
        if self.context is None or self.jobs is None:
            return None
        dialog = TrainingDialog(self.context, annotation_set, jobs=self.jobs,
                                parent=self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.job_created.connect(lambda job: self.select_job("training", job.id))
        dialog.open()
        return dialog

    # ---- names --------------------------------------------------------------------------
    def describe(self, kind: str, job: Any) -> str:
        return describe_job(kind, job, self._datasets, self._versions, self._models)

    def _unknown_names(self) -> bool:
        if self.jobs is None:
            return False
        return (any(j.annotation_set_id not in self._versions
                    for j in self.jobs.training_jobs())
                or any(j.model_id not in self._models for j in self.jobs.inference_jobs()))

    def _load_names(self, force: bool = False) -> None:
        context = self.context
        if context is None or self._names_loading or not (force or self._unknown_names()):
            return
        dataset_ids = {j.dataset_id for j in self.jobs.training_jobs()
                       if j.dataset_id} if self.jobs is not None else set()
        self._names_loading = True
        handle = context.worker.submit(
            lambda client, cancel, _p: read_names(client, cancel, set(dataset_ids)),
            priority=Priority.BACKGROUND, description="Reading job names")
        handle.succeeded.connect(self._names_loaded)
        handle.finished.connect(self._names_done)

    def _names_loaded(self, names: tuple[dict[str, str], dict[str, int], dict[str, str]]
                      ) -> None:
        datasets, versions, models = names
        if (datasets == self._datasets and models == self._models
                and versions.items() <= self._versions.items()):
            return   # a refresh that found the same names repaints nothing
        self._datasets, self._models = datasets, models
        self._versions.update(versions)
        self.model.refresh_descriptions()
        self._fit_timer.start()

    def fit_columns(self) -> None:
        """Fit the What column to the rows on screen and give the fixed-format columns room
        for their longest text (measured once, not per cell), so ticks never need a refit."""
        self.table.resizeColumnToContents(WHAT)
        header = self.table.horizontalHeader()
        metrics = self.table.fontMetrics()
        for column, longest in FIXED_TEXT.items():
            need = max(metrics.horizontalAdvance(longest) + COLUMN_PADDING,
                       header.sectionSizeHint(column))
            if header.sectionSize(column) != need:
                header.resizeSection(column, need)

    def _names_done(self) -> None:
        self._names_loading = False

    # ---- updates ------------------------------------------------------------------------
    def _jobs_changed(self) -> None:
        if self.jobs is None:
            return
        selected = self.selected_job()
        self.model.set_jobs(self.jobs.training_jobs(), self.jobs.inference_jobs())
        if selected is not None:
            kind, job = selected
            latest = self.jobs.job(kind, job.id)
            if latest is not None and self.selected_job() is None:
                self.select_job(kind, job.id)
        empty = self.model.rowCount() == 0
        self.message.setText(EMPTY_TEXT)
        self.message.setVisible(empty)
        self._show_selected_plot()
        if self.model.running():
            if not self._ticker.isActive():
                self._ticker.start()
        else:
            self._ticker.stop()
        self._update_actions()
        if self._unknown_names():
            self._load_names()

    def _job_finished(self, kind: str, job: Any) -> None:
        self.notifier.job_finished(kind, job)

    def _failed(self, message: str) -> None:
        self.message.setText(message)
        self.message.setVisible(True)

    def _tick(self) -> None:
        self.model.tick()
        if not self.model.running():
            self._ticker.stop()

    # ---- selection ----------------------------------------------------------------------
    def selected_job(self) -> tuple[str, Any] | None:
        """(kind, job) of the selected row, or None."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        index = rows[0]
        return str(index.data(KIND_ROLE)), index.data(JOB_ROLE)

    def select_job(self, kind: str, job_id: str) -> bool:
        """Select a job's row (if shown by the filters); True if selected."""
        row = self.model.row_of(kind, job_id)
        if row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.table.selectionModel().select(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)
        return True

    def _selection_changed(self, *_args: Any) -> None:
        self._show_selected_plot()
        self._update_actions()

    def _show_selected_plot(self) -> None:
        selected = self.selected_job()
        if selected is None or selected[0] != TRAINING:
            self.loss_plot.setVisible(False)
            self.loss_plot.show_job(None)
            return
        self.loss_plot.setVisible(True)
        self.loss_plot.show_job(selected[1])

    def _update_actions(self) -> None:
        selected = self.selected_job()
        connected = self.jobs is not None
        self.train_action.setEnabled(connected)
        self.refresh_action.setEnabled(connected)
        self.cancel_action.setEnabled(connected and selected is not None
                                      and selected[1].status not in TERMINAL)
        self.model_action.setEnabled(selected is not None and selected[0] == TRAINING
                                     and bool(selected[1].model_id))

    def _activated(self, index: QModelIndex) -> None:
        first = index.siblingAtColumn(KIND)
        kind, job = first.data(KIND_ROLE), first.data(JOB_ROLE)
        if kind == INFERENCE:
            self.inference_job_activated.emit(job)
        elif kind == TRAINING and job.model_id:
            self.model_requested.emit(job.model_id)

    def _show_model(self) -> None:
        selected = self.selected_job()
        if selected is not None and selected[0] == TRAINING and selected[1].model_id:
            self.model_requested.emit(selected[1].model_id)

    def cancel_selected(self) -> None:
        """Cancel the selected pending or running job."""
        selected = self.selected_job()
        if self.jobs is None or selected is None or selected[1].status in TERMINAL:
            return
        kind, job = selected
        self.cancel_action.setEnabled(False)
        handle = self.jobs.cancel(kind, job.id)
        handle.failed.connect(lambda exc: self._failed(
            f"The job could not be cancelled: {describe_error(exc)}"))
        handle.finished.connect(self._update_actions)
