"""The Inference view: one inference job, its files with live per-file progress, and what
to do with it (add files by dropping, choosing or from a dataset; export; review; evaluate;
cancel).

Live state comes from the JobsService (``job_updated("inference", job)``) and,
for files uploaded through the upload manager, from the connection's JobMonitor
(``inference_file`` updates); a file that finishes makes the panel read the job
again (debounced) so the counters follow. Every call goes through the ApiWorker.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QMetaObject, QModelIndex, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.api import CancelToken, RelayClient
from relay_desktop.api.models import InferenceFile, InferenceJob, Model
from relay_desktop.core.uploads.state import UploadRow, UploadState, UploadTarget
from relay_desktop.services.api_worker import Priority, RequestHandle
from relay_desktop.ui.button_row import ButtonRow
from relay_desktop.ui.errors import describe_error
from relay_desktop.ui.inference.dataset_files_dialog import DatasetFilesDialog
from relay_desktop.ui.inference.export_dialog import ExportDetectionsDialog
from relay_desktop.ui.inference.files_model import InferenceFilesModel
from relay_desktop.ui.inference.header import config_text, counts_text, status_text
from relay_desktop.ui.inference.new_job_dialog import NewInferenceJobDialog
from relay_desktop.ui.uploads.drop import DropSpot, FileDropTarget

if TYPE_CHECKING:
    from relay_desktop.services.context import AppContext

log = logging.getLogger(__name__)

AUDIO_FILTER = ("Audio files (*.wav *.wave *.flac *.ogg *.oga *.opus *.mp3 *.aif *.aiff "
                "*.m4a *.aac *.webm);;All files (*)")
REFRESH_DELAY_MS = 300
RUNNING = ("pending", "processing")
NO_JOB = ("No inference job is open. Start one with “New job…” (or “Run inference…” on a "
          "model), or pick one in the Jobs dock.")
NO_UPLOADS = "Uploads are not available on this connection."


class InferencePanel(QWidget):
    """Shows one inference job and its files.

    Signals:
        open_file_requested(object, object): (InferenceJob, InferenceFile) open a completed
            file's results in the waveform editor (double-click or "Open").
        review_requested(object): review this InferenceJob's detections.
        evaluate_requested(object): evaluate this InferenceJob against ground truth.
        new_job_requested(): "New job…" was pressed (the panel opens its dialog too).
        job_shown(object): the InferenceJob now shown, each time it changes.
        message(str): a confirmation or failure worth a status-bar line.
    """

    open_file_requested = Signal(object, object)
    review_requested = Signal(object)
    evaluate_requested = Signal(object)
    new_job_requested = Signal()
    job_shown = Signal(object)
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inferencePanel")
        self.context: AppContext | None = None
        self.jobs: Any = None
        self.job: InferenceJob | None = None
        self.dialog: QWidget | None = None
        self._models: dict[str, Model] = {}
        self._job_handle: RequestHandle | None = None
        self._connections: list[QMetaObject.Connection] = []
        self._jobs_connections: list[QMetaObject.Connection] = []
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self.reload)
        self._build()
        self.drop_target = FileDropTarget(self, self._drop_spot)
        self.drop_target.files_dropped.connect(self._dropped)
        self.drop_target.refused.connect(self._say)
        self.set_context(None)

    def _build(self) -> None:
        self.title = QLabel(NO_JOB)
        self.title.setObjectName("inferenceTitle")
        self.title.setWordWrap(True)
        bold = QFont(self.title.font())
        bold.setBold(True)
        self.title.setFont(bold)
        self.model_label = QLabel()
        self.model_label.setObjectName("inferenceModelName")
        self.model_label.setWordWrap(True)
        self.config_label = QLabel()
        self.config_label.setObjectName("inferenceConfig")
        self.config_label.setWordWrap(True)
        self.status_label = QLabel()
        self.status_label.setObjectName("inferenceStatus")
        self.status_label.setWordWrap(True)
        self.counts_label = QLabel()
        self.counts_label.setObjectName("inferenceCounts")
        self.counts_label.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Model:", self.model_label)
        form.addRow("Settings:", self.config_label)
        form.addRow("Status:", self.status_label)
        form.addRow("Files:", self.counts_label)
        self.files = InferenceFilesModel(self)
        self.table = QTableView()
        self.table.setObjectName("inferenceFiles")
        self.table.setModel(self.files)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate((220, 120, 100, 90)):
            header.resizeSection(col, width)
        self.table.doubleClicked.connect(self._double_clicked)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.empty_hint = QLabel("Drop audio files or folders here to run the model over "
                                 "them, or use “Add files…” / “Add from dataset…”.")
        self.empty_hint.setObjectName("subtle")
        self.empty_hint.setWordWrap(True)

        def button(text: str, name: str, tip: str, slot: Any) -> QPushButton:
            b = QPushButton(text)
            b.setObjectName(name)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            return b

        self.new_button = button("New job…", "inferenceNewJob",
                                 "Start an inference job with a model", self._new_clicked)
        self.add_files_button = button("Add files…", "inferenceAddFiles",
                                       "Upload audio files to this job (or drop them here)",
                                       lambda: self.add_files())
        self.add_dataset_button = button("Add from dataset…", "inferenceAddDataset",
                                         "Run this job over ready files of a dataset "
                                         "(nothing is uploaded again)",
                                         lambda: self.add_from_dataset())
        self.open_button = button("Open", "inferenceOpen",
                                  "Open the selected file's detections in the editor",
                                  self._open_selected)
        self.review_button = button("Review…", "inferenceReview",
                                    "Accept or reject the detections one by one",
                                    lambda: self._emit_job(self.review_requested))
        self.evaluate_button = button("Evaluate…", "inferenceEvaluate",
                                      "Compare the detections with labelled ground truth",
                                      lambda: self._emit_job(self.evaluate_requested))
        self.export_button = button("Export detections…", "inferenceExport",
                                    "Save the detections as JSON, CSV, Audacity labels or "
                                    "Raven selection tables", lambda: self.export())
        self.cancel_button = button("Cancel job", "inferenceCancel",
                                    "Stop the job: files not processed yet are cancelled",
                                    self.cancel_job)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.new_button)
        # rows of buttons wrap in a narrow dock instead of scrolling out of sight
        adds = ButtonRow([self.add_files_button, self.add_dataset_button], fill=False)
        adds.setObjectName("inferenceAdds")
        adding = QHBoxLayout()
        adding.addWidget(adds, 1)
        adding.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignTop)
        acts = ButtonRow([self.open_button, self.review_button, self.evaluate_button,
                          self.export_button], fill=False)
        acts.setObjectName("inferenceActions")
        self.log_label = QLabel()
        self.log_label.setObjectName("inferenceMessage")
        self.log_label.setWordWrap(True)
        self.log_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(form)
        layout.addLayout(adding)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_hint)
        layout.addWidget(acts)
        layout.addWidget(self.log_label)

    # -- wiring -----------------------------------------------------------------------

    def set_context(self, context: AppContext | None) -> None:
        """Follow ``context``'s connection (None: disconnected; the panel empties)."""
        for connection in self._connections:
            QObject.disconnect(connection)
        self._connections.clear()
        if self._job_handle is not None:
            self._job_handle.cancel()
            self._job_handle = None
        self.context = context
        self._models.clear()
        self._close_dialog()
        self._show(None)
        self.log_label.clear()
        if context is None:
            return
        if context.monitor is not None:
            self._connections += [context.monitor.updated.connect(self._file_polled),
                                  context.monitor.finished.connect(self._file_finished)]
        if context.uploads is not None:
            self._connections.append(context.uploads.rows_changed.connect(self._rows_changed))

    def set_jobs(self, jobs: Any) -> None:
        """Take live job states from ``jobs`` (the connection's JobsService; None: none)."""
        for connection in self._jobs_connections:
            QObject.disconnect(connection)
        self._jobs_connections.clear()
        self.jobs = jobs
        if jobs is not None:
            self._jobs_connections += [jobs.job_updated.connect(self._job_event),
                                       jobs.job_finished.connect(self._job_event)]
            if self.job is not None and self.job.status in RUNNING:
                jobs.track("inference", self.job.id)

    def show_job(self, job: InferenceJob | str) -> None:
        """Show a job (an InferenceJob, or its id: read from the server first)."""
        if isinstance(job, InferenceJob):
            if self.job is None or self.job.id != job.id:
                self._show(job)
            else:
                self._update_job(job)
            if not job.files and (job.total_files or job.status in RUNNING):
                self.reload()
            self._track()
            return
        if self.job is None or self.job.id != job:
            self._show(None)
            self.title.setText("Loading the inference job…")
        self._read_job(str(job))

    def reload(self) -> None:
        """Read the shown job again (with its files)."""
        if self.job is not None:
            self._read_job(self.job.id)

    def current_file(self) -> InferenceFile | None:
        index = self.table.currentIndex()
        rows = self.table.selectionModel().selectedRows()
        if rows:
            return self.files.file_at(rows[0].row())
        return self.files.file_at(index.row()) if index.isValid() else None

    def selected_files(self) -> list[InferenceFile]:
        out = []
        for index in sorted(self.table.selectionModel().selectedRows(), key=lambda i: i.row()):
            file = self.files.file_at(index.row())
            if file is not None:
                out.append(file)
        return out

    # -- reading and showing ----------------------------------------------------------

    def _read_job(self, job_id: str) -> None:
        if self.context is None:
            return
        if self._job_handle is not None:
            self._job_handle.cancel()
        handle = self.context.worker.submit(
            lambda client, cancel, _p: client.inference_jobs.get(job_id, cancel=cancel),
            priority=Priority.USER, description="Reading the inference job")
        self._job_handle = handle
        handle.succeeded.connect(lambda job, h=handle: self._job_read(h, job))
        handle.failed.connect(lambda exc, h=handle: self._job_failed(h, exc))

    def _job_read(self, handle: RequestHandle, job: InferenceJob) -> None:
        if handle is not self._job_handle:
            return
        self._job_handle = None
        if self.job is None or self.job.id != job.id:
            self._show(job)
        else:
            self._update_job(job)
        self._track()

    def _job_failed(self, handle: RequestHandle, exc: BaseException) -> None:
        if handle is not self._job_handle:
            return
        self._job_handle = None
        self._say(f"The inference job could not be read. {describe_error(exc)}")
        if self.job is None:
            self.title.setText(NO_JOB)

    def _show(self, job: InferenceJob | None) -> None:
        """Show a different job (or none)."""
        self.job = job
        self.files.set_files(job.files if job is not None else ())
        if job is None:
            self.title.setText(NO_JOB)
            for label in (self.model_label, self.config_label, self.status_label,
                          self.counts_label):
                label.clear()
        else:
            self._fill_header(job)
            self._read_model(job.model_id)
            self.job_shown.emit(job)
        self._update_buttons()

    def _update_job(self, job: InferenceJob) -> None:
        """A newer state of the shown job; a state without files keeps the files shown."""
        if self.job is None or job.id != self.job.id:
            return
        if job.files or not self.job.files:
            self.files.set_files(job.files)
        self.job = job
        self._fill_header(job)
        self._update_buttons()
        self.job_shown.emit(job)

    def _fill_header(self, job: InferenceJob) -> None:
        self.title.setText(f"Inference job {job.id[:8]}")
        self.title.setToolTip(job.id)
        model = self._models.get(job.model_id)
        self.model_label.setText(model.name or model.id if model is not None else job.model_id)
        self.config_label.setText(config_text(job.config))
        self.status_label.setText(status_text(job))
        self.counts_label.setText(counts_text(job))

    def _read_model(self, model_id: str) -> None:
        if self.context is None or model_id in self._models or not model_id:
            return
        handle = self.context.worker.submit(
            lambda client, cancel, _p: client.models.get(model_id, cancel=cancel),
            priority=Priority.BACKGROUND, description="Reading the model")
        handle.succeeded.connect(self._model_read)

    def _model_read(self, model: Model) -> None:
        self._models[model.id] = model
        if self.job is not None and self.job.model_id == model.id:
            self.model_label.setText(model.name or model.id)
            self.model_label.setToolTip(", ".join(model.artifact_types))

    def _track(self) -> None:
        if self.jobs is not None and self.job is not None and self.job.status in RUNNING:
            self.jobs.track("inference", self.job.id)

    def _update_buttons(self) -> None:
        job = self.job
        connected = self.context is not None
        open_job = job is not None and job.status != "cancelled"
        done = job is not None and any(f.status == "completed" for f in job.files)
        file = self.current_file()
        self.new_button.setEnabled(connected)
        self.add_files_button.setEnabled(connected and open_job
                                         and self.context is not None
                                         and self.context.uploads is not None)
        self.add_dataset_button.setEnabled(connected and open_job)
        self.cancel_button.setEnabled(connected and job is not None and job.status in RUNNING)
        self.open_button.setEnabled(file is not None and file.status == "completed")
        self.review_button.setEnabled(done)
        self.evaluate_button.setEnabled(done)
        self.export_button.setEnabled(connected and done)
        self.empty_hint.setVisible(job is not None and not job.files)

    # -- live updates -----------------------------------------------------------------

    def _job_event(self, kind: str, job: Any) -> None:
        if kind == "inference" and self.job is not None and isinstance(job, InferenceJob) \
                and job.id == self.job.id:
            self._update_job(job)

    def _file_polled(self, kind: str, scope: str, _item_id: str, payload: Any) -> None:
        if kind == "inference_file" and self.job is not None and scope == self.job.id \
                and isinstance(payload, InferenceFile):
            self.files.update_file(payload)

    def _file_finished(self, kind: str, scope: str, item_id: str, payload: Any) -> None:
        if kind == "inference_file" and self.job is not None and scope == self.job.id:
            if isinstance(payload, InferenceFile):
                self.files.update_file(payload)
            self._refresh_timer.start()

    def _rows_changed(self, rows: list[UploadRow]) -> None:
        """An upload to the shown job was confirmed: read the job, follow it."""
        if self.job is None:
            return
        if any(r.target.kind == "inference_job" and r.target.id == self.job.id
               and r.state is UploadState.PROCESSING for r in rows):
            self._refresh_timer.start()
            if self.jobs is not None:
                self.jobs.track("inference", self.job.id)

    # -- actions ----------------------------------------------------------------------

    def _new_clicked(self) -> None:
        self.new_job_requested.emit()
        self.open_new_job_dialog()

    def open_new_job_dialog(self, model: Model | str | None = None) -> NewInferenceJobDialog | None:
        """The "New inference job" dialog (the model preselected); the new job is shown."""
        if self.context is None:
            return None
        model_id = model.id if isinstance(model, Model) else model
        self._close_dialog()
        dialog = NewInferenceJobDialog(self.context, self.jobs, model_id=model_id, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.created.connect(self._created)
        self._keep_dialog(dialog)
        dialog.open()
        return dialog

    def _created(self, job: InferenceJob) -> None:
        self._say(f"Inference job {job.id[:8]} started ({config_text(job.config)}). "
                  "Add files to run it.")
        self.show_job(job)

    def add_files(self, paths: list[Path] | None = None) -> QFileDialog | None:
        """Upload ``paths`` (files or folders) to the job, or ask for files natively."""
        if self.job is None or self.context is None:
            return None
        if paths is not None:
            self._upload(paths)
            return None
        dialog = QFileDialog(self, "Add audio files to the inference job")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        dialog.setNameFilter(AUDIO_FILTER)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.filesSelected.connect(lambda files: self._upload([Path(f) for f in files]))
        self._keep_dialog(dialog)
        dialog.open()
        return dialog

    def target(self) -> UploadTarget | None:
        """Where dropped or chosen files go: the shown job (None when it cannot take files)."""
        if self.job is None or self.job.status == "cancelled":
            return None
        return UploadTarget("inference_job", self.job.id, f"inference job {self.job.id[:8]}")

    def _drop_spot(self, _pos: QPoint) -> DropSpot:
        if self.context is None or self.context.uploads is None:
            return DropSpot(None, reason=NO_UPLOADS)
        if self.job is None:
            return DropSpot(None, reason="Start or open an inference job first, then drop "
                                         "files on it.")
        target = self.target()
        if target is None:
            return DropSpot(None, reason="This inference job was cancelled; start a new one.")
        return DropSpot(target)

    def _dropped(self, paths: list[Path], target: UploadTarget) -> None:
        if self.job is not None and target.id == self.job.id:
            self._upload(paths)

    def _upload(self, paths: list[Path]) -> None:
        target = self.target()
        if not paths or target is None or self.context is None:
            return
        if self.context.uploads is None:
            self._say(NO_UPLOADS)
            return
        self.context.uploads.add_paths(paths, target)
        what = "1 item" if len(paths) == 1 else f"{len(paths)} items"
        self._say(f"Uploading {what} to {target.name} (see the Uploads dock).")

    def add_from_dataset(self) -> DatasetFilesDialog | None:
        """The "Add from dataset…" dialog for the shown job."""
        if self.job is None or self.context is None:
            return None
        self._close_dialog()
        dialog = DatasetFilesDialog(self.context, self.job.id,
                                    job_name=f"{self.job.id[:8]}", parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.added.connect(self._dataset_files_added)
        self._keep_dialog(dialog)
        dialog.open()
        return dialog

    def _dataset_files_added(self, files: tuple[InferenceFile, ...]) -> None:
        if self.job is None or not files or files[0].inference_job_id not in ("", self.job.id):
            return
        for file in files:
            self.files.update_file(file)
        self._say(f"Added {len(files)} dataset file{'s' if len(files) != 1 else ''} to the job.")
        self._update_buttons()
        if self.jobs is not None:
            self.jobs.track("inference", self.job.id)
        elif self.context is not None and self.context.monitor is not None:
            for file in files:
                self.context.monitor.watch("inference_file", self.job.id, file.id)
        self.reload()

    def export(self) -> ExportDetectionsDialog | None:
        """The "Export detections…" dialog (the selected files offered as a choice)."""
        if self.job is None or self.context is None:
            return None
        self._close_dialog()
        selected = [f.id for f in self.selected_files() if f.status == "completed"]
        dialog = ExportDetectionsDialog(self.context, self.job.id, selected_file_ids=selected,
                                        default_name=f"detections-{self.job.id[:8]}",
                                        parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.exported.connect(lambda result, fmt: self._say(result.summary(fmt)))
        self._keep_dialog(dialog)
        dialog.open()
        return dialog

    def cancel_job(self) -> RequestHandle | None:
        """Cancel the shown job (through the JobsService when there is one)."""
        if self.job is None or self.context is None or self.job.status not in RUNNING:
            return None
        job_id = self.job.id
        if self.jobs is not None:
            handle: RequestHandle = self.jobs.cancel("inference", job_id)
        else:
            handle = self.context.worker.submit(
                lambda client, cancel, _p: _cancel(client, cancel, job_id),
                priority=Priority.USER, description="Cancelling the inference job")
        self.cancel_button.setEnabled(False)
        handle.succeeded.connect(lambda _job: self._cancelled(job_id))
        handle.failed.connect(lambda exc: self._cancel_failed(exc))
        return handle

    def _cancelled(self, job_id: str) -> None:
        self._say(f"Inference job {job_id[:8]} cancelled.")
        if self.job is not None and self.job.id == job_id:
            self.reload()

    def _cancel_failed(self, exc: BaseException) -> None:
        self._say(f"The job was not cancelled. {describe_error(exc)}")
        self._update_buttons()

    def _open_selected(self) -> None:
        file = self.current_file()
        if self.job is not None and file is not None and file.status == "completed":
            self.open_file_requested.emit(self.job, file)

    def _double_clicked(self, index: QModelIndex) -> None:
        file = self.files.file_at(index.row())
        if self.job is not None and file is not None and file.status == "completed":
            self.open_file_requested.emit(self.job, file)

    def _emit_job(self, signal: Any) -> None:
        if self.job is not None:
            signal.emit(self.job)

    def _say(self, text: str) -> None:
        log.info("%s", text)
        self.log_label.setText(text)
        self.message.emit(text)

    def _keep_dialog(self, dialog: QWidget) -> None:
        self.dialog = dialog
        dialog.destroyed.connect(lambda _o=None, d=dialog: self._forget_dialog(d))

    def _forget_dialog(self, dialog: QWidget) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _close_dialog(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog = None


def _cancel(client: RelayClient, cancel: CancelToken, job_id: str) -> InferenceJob:
    return client.inference_jobs.cancel(job_id, cancel=cancel)

