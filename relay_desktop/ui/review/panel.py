"""ReviewPanel: the review queue of an inference job, driving the waveform editor.

The queue table lists the job's detections (sorted by confidence or by time,
filtered by the confidence slider); the current one is opened in the editor,
zoomed with some context, outlined in the detection lane and played with half a
second either side. Keys (while this panel or the editor showing the detection
has the focus; see :mod:`relay_desktop.core.review.keys`): A accept, R reject,
1-9 relabel to the dataset's n-th type, [ ] move the start, Shift+[ Shift+] move
the end, N/J next, P/K previous, Ctrl+Z undo.

Accepted detections become regions (with the detection's confidence) of a draft
annotation set of the file's dataset, opened in the Labels dock (so they are
journaled and synced like any edit); undoing an accept deletes its region.
Detections of files uploaded to the job (not taken from a dataset) can be
reviewed but not accepted. Progress is kept across restarts (ReviewService).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.api.models import AnnotationSet, Dataset, InferenceFile, InferenceJob
from relay_desktop.core.annotations.document import new_local_id
from relay_desktop.core.review.keys import NUDGE_MS, REVIEW, register
from relay_desktop.core.review.queue import Key, Progress, ReviewItem, ReviewQueue
from relay_desktop.services.context import AppContext
from relay_desktop.services.review import ReviewService, is_from_dataset
from relay_desktop.ui.button_row import ButtonRow
from relay_desktop.ui.review.detection_lane import DetectionLane, LaneDetection
from relay_desktop.ui.review.drafts import DraftWriter
from relay_desktop.ui.review.queue_model import ReviewQueueModel
from relay_desktop.ui.review.threshold import ThresholdSlider
from relay_desktop.ui.shortcuts import command_for, keymap_for

CONTEXT_MS = 500
NOT_FROM_DATASET = ("This file was uploaded to the job, not taken from a dataset: add it to a "
                    "dataset first to accept its detections.")
NEW_DRAFT = "New draft"
UNDO = QKeySequence("Ctrl+Z")


def snapshot(queue: ReviewQueue, drafts: dict[str, str], unsynced: set[Key]) -> dict[str, Any]:
    """What is kept of a review (see ReviewService.save_later)."""
    out = queue.to_json()
    out["drafts"] = dict(drafts)
    out["unsynced"] = [list(k) for k in sorted(unsynced)]
    return out


def focus_window(item: ReviewItem) -> tuple[float, float]:
    """The time range (seconds) a detection is shown in: itself with context either side."""
    start, end = item.start_ms / 1000, item.end_ms / 1000
    pad = max(CONTEXT_MS / 1000, 0.5 * (end - start))
    return start - pad, end + pad


class ReviewPanel(QWidget):
    """Review an inference job's detections on the waveform (see the module doc).

    Signals:
        item_shown(object): the key (file id, detection index) of the detection now
            shown: the editor zoomed to it and its playback started.
        progress_changed(object): the queue's ``Progress``.
        notice(str): something to tell the user (status bar).
    """

    item_shown = Signal(object)
    progress_changed = Signal(object)
    notice = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewPanel")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.context: AppContext | None = None
        self.service: ReviewService | None = None
        self.editor: Any = None
        self.labelling: Any = None
        self.lane: DetectionLane | None = None
        self.job: InferenceJob | None = None
        self.queue: ReviewQueue | None = None
        self.files: dict[str, InferenceFile] = {}
        self.writer = DraftWriter(self)
        self.writer.message.connect(self._say)
        self.writer.changed.connect(self._save)
        self.writer.targets_changed.connect(self._update_target)
        self.shown_file_id: str | None = None
        self._loading_job: str | None = None
        self._want_file: str | None = None
        self._expect_open: str | None = None
        self._pending_show: tuple[Key, bool] | None = None
        self._syncing = False
        self._build()

    # -- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        self.title = QLabel("Open an inference job's results to review its detections.")
        self.title.setWordWrap(True)
        self.order = QComboBox()
        self.order.addItem("By confidence", "confidence")
        self.order.addItem("By time", "time")
        self.order.currentIndexChanged.connect(self._order_changed)
        self.threshold = ThresholdSlider(0.0)
        self.threshold.threshold_changed.connect(self._threshold_changed)
        self.progress = QLabel("")
        self.target = QComboBox()
        self.target.setToolTip("The draft annotation set accepted detections are added to")
        self.target.activated.connect(self._target_chosen)
        self.target_note = QLabel("")
        self.target_note.setWordWrap(True)
        self.target_note.setObjectName("reviewTargetNote")
        self.model = ReviewQueueModel(self)
        self.table = QTableView()
        self.table.setObjectName("reviewQueue")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.buttons: dict[str, QPushButton] = {}
        for command, text, tip in (
                ("review.accept", "Accept", "A"), ("review.reject", "Reject", "R"),
                ("undo", "Undo", "Ctrl+Z"), ("review.previous", "◀ Previous", "P / K"),
                ("review.next", "Next ▶", "N / J")):
            button = QPushButton(text)
            button.setToolTip(f"{text} ({tip})")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _c=False, cmd=command: self.run_command(cmd))
            self.buttons[command] = button
        self.button_row = ButtonRow(list(self.buttons.values()))
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setObjectName("reviewMessage")

        top = QHBoxLayout()
        top.addWidget(self.order)
        top.addWidget(self.threshold, 1)
        target = QHBoxLayout()
        target.addWidget(QLabel("Accept into:"))
        target.addWidget(self.target, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addLayout(target)
        layout.addWidget(self.target_note)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.button_row)
        layout.addWidget(self.message)
        self.table.installEventFilter(self)
        self.installEventFilter(self)
        self._update_target()

    # -- wiring ------------------------------------------------------------------------
    def set_context(self, context: AppContext | None) -> None:
        """A new connection (None: disconnected): the review starts over."""
        if context is self.context:
            return
        if self.service is not None:
            self.service.shutdown()
            self.service.deleteLater()
            self.service = None
        self.context = context
        self._clear()
        if context is not None:
            self.service = ReviewService(context, self)
            self.service.job_loaded.connect(self._job_loaded)
            self.service.file_opening.connect(self._file_opening)
            self.service.failed.connect(self._say)
        self.writer.set_service(self.service)

    def set_editor(self, editor: Any) -> None:
        """The AudioEditor detections are shown in (None: none)."""
        if self.editor is not None:
            self.editor.file_opened.disconnect(self._file_opened)
            self.editor.view.removeEventFilter(self)
        if self.lane is not None:
            self.lane.detach()
            self.lane.deleteLater()
            self.lane = None
        self.editor = editor
        self.shown_file_id = None
        if editor is None:
            return
        self.lane = DetectionLane(editor.view.plots(), parent=self)
        self.lane.set_threshold(self.threshold.threshold())
        self.lane.clicked.connect(self._lane_clicked)
        editor.file_opened.connect(self._file_opened)
        editor.view.installEventFilter(self)

    def set_labelling(self, labelling: Any) -> None:
        """The Labels dock (LabellingPanel) accepted detections are written through."""
        if self.labelling is not None:
            self.labelling.session_changed.disconnect(self._session_changed)
        self.labelling = labelling
        if labelling is not None:
            labelling.session_changed.connect(self._session_changed)
        self.writer.set_labelling(labelling)

    def shutdown(self) -> None:
        """Save what is pending (the window is closing)."""
        if self.service is not None:
            self.service.flush()

    def _clear(self) -> None:
        self.job = self.queue = None
        self.files = {}
        self.writer.clear()
        self._loading_job = self._want_file = self._expect_open = None
        self._pending_show = None
        self.model.set_queue(None, {})
        if self.lane is not None:
            self.lane.set_detections([])
        self.title.setText("Open an inference job's results to review its detections.")
        self.progress.setText("")
        self._update_target()

    # -- opening jobs and files --------------------------------------------------------
    def review_job(self, job_or_id: InferenceJob | str) -> None:
        """Load a job's detections (and the progress kept for it) into the queue."""
        job_id = job_or_id.id if isinstance(job_or_id, InferenceJob) else str(job_or_id)
        if self.service is None:
            return
        if self.job is not None and self.job.id != job_id:
            self._save()
        self._loading_job = job_id
        self.title.setText("Loading detections…")
        self.service.load_job(job_id)

    def show_file(self, job: InferenceJob | str, file: InferenceFile | str) -> None:
        """Open one file's results in the editor with its detections (the queue follows)."""
        job_id = job.id if isinstance(job, InferenceJob) else str(job)
        file_id = file.id if isinstance(file, InferenceFile) else str(file)
        if self.job is not None and self.job.id == job_id and self.queue is not None:
            self._go_to_file(file_id)
        else:
            self._want_file = file_id
            self.review_job(job)

    def _job_loaded(self, job: InferenceJob, state: dict[str, Any] | None) -> None:
        if job.id != self._loading_job:
            return
        self._loading_job = None
        if self.job is not None and self.job.id == job.id and self.queue is not None:
            # loaded again (more files finished): what is in memory is newer than the disk
            state = snapshot(self.queue, self.writer.drafts, self.writer.pending)
        self.job = job
        self.files = {f.id: f for f in job.files}
        queue = ReviewQueue.from_job(job)
        queue.restore(state)
        self.queue = queue
        state = state or {}
        self.writer.start(
            queue, self.files, {str(k): str(v) for k, v in (state.get("drafts") or {}).items()},
            [(str(k[0]), int(k[1])) for k in state.get("unsynced") or ()
             if isinstance(k, list) and len(k) == 2])
        self.model.set_queue(queue, {f.id: f.original_filename for f in job.files})
        self._syncing = True
        self.order.setCurrentIndex(max(0, self.order.findData(queue.order)))
        self._syncing = False
        self.threshold.set_threshold(queue.threshold)
        if self.lane is not None:
            self.lane.set_threshold(queue.threshold)
        self.title.setText(f"Inference job {job.id[:8]} · {len(job.files)} files · "
                           f"{queue.total()} detections")
        for ds in sorted({str(f.source_dataset_id) for f in job.files if is_from_dataset(f)}):
            self._fetch_dataset(ds)
        if self.service is not None:
            self.service.prefetch(job)
        self._show_progress()
        want, self._want_file = self._want_file, None
        if want is not None:
            self._go_to_file(want)
        elif queue.current() is not None:
            if state.get("cursor") is None:
                queue.first_pending()
            self._show_current(play=True)

    def _go_to_file(self, file_id: str) -> None:
        queue = self.queue
        if queue is None:
            return
        visible = [i for i in queue.items_of_file(file_id) if queue.row_of(i.key) is not None]
        if visible and queue.set_cursor(visible[0].key):
            self._show_current(play=False)
        elif file_id in self.files:
            self._open(file_id)

    def _fetch_dataset(self, dataset_id: str) -> None:
        if self.service is None or dataset_id in self.datasets:
            return
        handle = self.service.dataset(dataset_id)
        handle.succeeded.connect(self._dataset_arrived)
        drafts = self.service.drafts(dataset_id)
        drafts.succeeded.connect(lambda sets, ds=dataset_id: self._drafts_arrived(ds, sets))

    def _dataset_arrived(self, dataset: Dataset) -> None:
        self.writer.add_dataset(dataset)
        self._refresh_lane()

    def _drafts_arrived(self, dataset_id: str, sets: list[AnnotationSet]) -> None:
        self.writer.add_drafts(dataset_id, sets)

    def _open(self, file_id: str, at: tuple[float, float] | None = None) -> None:
        if self.service is None or self.editor is None or self.job is None:
            return
        self._expect_open = file_id
        self.service.open_file(self.editor, self.job.id, self.files[file_id], at=at)

    def _file_opening(self, file: InferenceFile, audio: Any) -> None:
        self._expect_open = file.id
        self.writer.file_shown(file.id, audio)

    def _file_opened(self, _info: Any) -> None:
        fid, self._expect_open = self._expect_open, None
        self.shown_file_id = fid
        if fid is None:
            self.writer.file_shown(None)
        self._refresh_lane()
        pending, self._pending_show = self._pending_show, None
        if fid is None or pending is None or self.queue is None:
            return
        item = self.queue.get(pending[0])
        if item is not None and item.file_id == fid:
            self._focus(item, pending[1])

    # -- showing the current detection ---------------------------------------------------
    def current(self) -> ReviewItem | None:
        return self.queue.current() if self.queue is not None else None

    def go_to(self, key: Key, play: bool = True) -> bool:
        """Make the detection ``key`` current and show it; False when it is not listed."""
        if self.queue is None or not self.queue.set_cursor(key):
            return False
        self._show_current(play=play)
        return True

    def _show_current(self, play: bool = True) -> None:
        item = self.current()
        if item is None or self.queue is None:
            return
        row = self.queue.row_of(item.key)
        if row is not None:
            self._syncing = True
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
            self.table.scrollTo(self.model.index(row, 0))
            self._syncing = False
        self._update_target()
        self._save()
        if self.editor is None:
            return
        if self.shown_file_id == item.file_id and self._expect_open is None:
            self._focus(item, play)
        else:
            self._pending_show = (item.key, play)
            if self._expect_open != item.file_id:
                self._open(item.file_id, at=focus_window(item))

    def _focus(self, item: ReviewItem, play: bool) -> None:
        view = self.editor.view
        start, end = item.start_ms / 1000, item.end_ms / 1000
        view.set_view_range(*focus_window(item))
        view.set_selection(start, end)  # the span stands out; Shift+Space plays it again
        if self.lane is not None:
            self.lane.set_current(item.key)
        if play:
            self.editor.player.play_range(max(0, item.start_ms - CONTEXT_MS),
                                          item.end_ms + CONTEXT_MS)
        self.item_shown.emit(item.key)
        self._prepare_next_file(item)

    def _prepare_next_file(self, item: ReviewItem) -> None:
        """Get the file the queue reaches next ready (audio fetched, peaks cached)."""
        if self.queue is None or self.service is None or self.job is None:
            return
        next_id = self.queue.next_file_after(item.key)
        if next_id is not None and next_id in self.files:
            self.service.prepare_file(self.editor, self.job.id, self.files[next_id])

    def _refresh_lane(self) -> None:
        if self.lane is None:
            return
        fid = self.shown_file_id
        if fid is None or self.queue is None or fid not in self.files:
            self.lane.set_detections([])
            return
        self.lane.set_detections([self._lane_item(i) for i in self.queue.items_of_file(fid)],
                                 self._colors(self.files[fid]))
        current = self.current()
        self.lane.set_current(current.key if current is not None else None)

    @staticmethod
    def _lane_item(i: ReviewItem) -> LaneDetection:
        return LaneDetection(i.key, i.artifact_type, i.start_ms, i.end_ms, i.confidence,
                             i.decision)

    def _colors(self, file: InferenceFile) -> dict[str, str]:
        ds = self.datasets.get(str(file.source_dataset_id))
        return {t.name: t.color for t in ds.artifact_types} if ds is not None else {}

    def _lane_clicked(self, key: object) -> None:
        if self.queue is not None and isinstance(key, tuple) and self.queue.set_cursor(key):
            self._show_current(play=True)

    def _row_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        # the view picks a first row by itself after a reset (previous invalid): not a move
        if self._syncing or self.queue is None or not current.isValid() or (
                not previous.isValid()):
            return
        self.queue.set_cursor(self.queue.at(current.row()).key)
        self._show_current(play=True)

    # -- order, threshold, progress ----------------------------------------------------
    def _order_changed(self, _index: int) -> None:
        if self._syncing or self.queue is None:
            return
        self.queue.set_order(str(self.order.currentData()))
        self.model.reset()
        self._show_current(play=False)
        self._save()

    def _threshold_changed(self, value: float) -> None:
        if self.lane is not None:
            self.lane.set_threshold(value)
        if self.queue is None:
            return
        before = self.queue.cursor
        self.queue.set_threshold(value)
        self.model.reset()
        self._show_current(play=self.queue.cursor != before)
        self._show_progress()
        self._save()

    def _show_progress(self) -> None:
        if self.queue is None:
            return
        progress: Progress = self.queue.progress()
        self.progress.setText(progress.text())
        self.progress_changed.emit(progress)

    def _save(self) -> None:
        if self.service is None or self.job is None or self.queue is None:
            return
        # bound to this job's objects: a job loaded before the write does not leak in
        queue, drafts, unsynced = self.queue, self.writer.drafts, self.writer.pending
        self.service.save_later(self.job.id, lambda: snapshot(queue, drafts, unsynced))

    def _say(self, text: str) -> None:
        self.message.setText(text)
        if text:
            self.notice.emit(text)

    # -- commands ----------------------------------------------------------------------
    def run_command(self, command: str) -> bool:
        """Do a review command ("review.accept", "undo"...); False when it does not apply."""
        if self.queue is None or self.current() is None:
            return False
        self._say("")
        if command == "undo":
            return self.undo()
        if command == "review.accept":
            return self.accept()
        if command == "review.reject":
            return self._decide(self.queue.reject())
        if command in ("review.next", "review.previous"):
            return self.step(1 if command == "review.next" else -1)
        if command == "review.replay":
            item = self.current()
            if item is not None:
                self._show_current(play=True)
            return True
        if command.startswith("review.type_"):
            return self.relabel(int(command.rsplit("_", 1)[1]))
        edge, sign = {"review.start_earlier": ("start", -1), "review.start_later": ("start", 1),
                      "review.end_earlier": ("end", -1), "review.end_later": ("end", 1)
                      }.get(command, ("", 0))
        return bool(edge) and self.nudge(edge, sign * NUDGE_MS)

    def step(self, direction: int) -> bool:
        """Go to the next (1) or previous (-1) pending detection."""
        if self.queue is None:
            return False
        if self.queue.next_pending(direction) is None:
            self._say("No other detection is waiting for review.")
            return False
        self._show_current(play=True)
        return True

    def accept(self) -> bool:
        item, queue = self.current(), self.queue
        if item is None or queue is None:
            return False
        file = self.files.get(item.file_id)
        if file is None or not is_from_dataset(file):
            self._say(NOT_FROM_DATASET)
            return False
        if self.labelling is None:
            self._say("Open the Labels dock to accept detections into a draft.")
            return False
        ds = str(file.source_dataset_id)
        dataset = self.datasets.get(ds)
        if dataset is not None and item.artifact_type not in {t.name for t in
                                                              dataset.artifact_types}:
            self._say(f"{dataset.name} has no type {item.artifact_type!r}: relabel the "
                      "detection (1-9) first.")
            return False
        region_id = item.region_id or new_local_id()
        return self._decide(queue.accept(region_id=region_id))

    def relabel(self, n: int) -> bool:
        item, queue = self.current(), self.queue
        if item is None or queue is None:
            return False
        types = self.type_names(self.files[item.file_id])
        if not 1 <= n <= len(types):
            self._say(f"There is no type {n} (this dataset has {len(types)}).")
            return False
        return self._changed(queue.relabel(types[n - 1]))

    def nudge(self, edge: str, delta_ms: int) -> bool:
        item, queue = self.current(), self.queue
        if item is None or queue is None:
            return False
        duration = self.files[item.file_id].duration_ms
        return self._changed(queue.nudge(edge, delta_ms, duration_ms=duration))

    def undo(self) -> bool:
        if self.queue is None:
            return False
        step = self.queue.undo()
        if step is None:
            return False
        self._after_change(step.after.key)
        self._say(f"Undid: {step.label.lower()}.")
        self._show_current(play=True)
        return True

    def type_names(self, file: InferenceFile) -> list[str]:
        """The types 1-9 choose: the dataset's, else the model's (else those detected)."""
        ds = self.datasets.get(str(file.source_dataset_id))
        if ds is not None:
            return [t.name for t in ds.artifact_types]
        model_types = (self.service.model_types.get(self.job.model_id)
                       if self.service is not None and self.job is not None else None)
        if model_types:
            return list(model_types)
        return sorted({d.artifact_type for f in self.files.values()
                       for d in f.detections or ()})

    def _decide(self, step: Any) -> bool:
        if step is None or self.queue is None:
            return False
        self._after_change(step.after.key)
        if self.queue.next_pending() is None:
            self._say("Every detection above the threshold has been reviewed.")
        self._show_current(play=True)
        return True

    def _changed(self, step: Any) -> bool:
        if step is None:
            return False
        self._after_change(step.after.key)
        item = self.current()
        if item is not None and self.lane is not None:
            self.lane.set_current(item.key)
        return True

    def _after_change(self, key: Key) -> None:
        self.model.item_changed(key)
        if self.queue is not None and self.lane is not None and key[0] == self.shown_file_id:
            self.lane.update_detection(self._lane_item(self.queue.item(key)))
        self.writer.mark(key)
        self._show_progress()
        self._save()

    # -- the draft accepted detections go to -------------------------------------------
    @property
    def datasets(self) -> dict[str, Dataset]:
        """The datasets of the job's files, as they arrive."""
        return self.writer.datasets

    @property
    def drafts(self) -> dict[str, str]:
        """Dataset id -> the draft its accepted detections go to."""
        return self.writer.drafts

    def unsynced(self) -> set[Key]:
        """Decisions not yet written to their draft (it is being created or opened)."""
        return set(self.writer.pending)

    def _current_dataset(self) -> str | None:
        item = self.current()
        return self.writer.dataset_of(item.file_id) if item is not None else None

    def target_set_id(self) -> str | None:
        """The draft the current file's accepted detections go to (None: a new one)."""
        ds = self._current_dataset()
        return self.writer.chosen(ds) if ds is not None else None

    def _update_target(self) -> None:
        item = self.current()
        file = self.files.get(item.file_id) if item is not None else None
        ds = self._current_dataset()
        self.target.clear()
        if ds is None:
            self.target.setEnabled(False)
            self.target_note.setText(NOT_FROM_DATASET if file is not None else "")
            self.target_note.setVisible(file is not None)
            self.buttons["review.accept"].setEnabled(False)
            return
        self.target.setEnabled(True)
        self.target_note.hide()
        self.buttons["review.accept"].setEnabled(True)
        for s in self.writer.sets_of(ds):
            self.target.addItem(f"Draft v{s.version}", s.id)
        self.target.addItem(NEW_DRAFT, "")
        self.target.setCurrentIndex(max(0, self.target.findData(self.writer.chosen(ds) or "")))

    def _target_chosen(self, _index: int) -> None:
        ds = self._current_dataset()
        if ds is not None:
            self.writer.choose(ds, str(self.target.currentData() or "") or None)

    def _session_changed(self, _session: Any) -> None:
        if self.editor is not None:
            # the region layer of a newly opened set filters the view's keys: stay first
            self.editor.view.installEventFilter(self)

    # -- keys ----------------------------------------------------------------------------
    def _review_active(self, watched: QObject) -> bool:
        item = self.current()
        if item is None:
            return False
        if self.editor is not None and watched is self.editor.view:
            return self.shown_file_id == item.file_id
        return True

    def _command(self, watched: QObject, ev: QKeyEvent) -> str | None:
        if not self._review_active(watched):
            return None
        combo = QKeySequence(ev.keyCombination())
        if combo.matches(UNDO) == QKeySequence.SequenceMatch.ExactMatch:
            return "undo" if self.queue is not None and self.queue.can_undo() else None
        widget = watched if isinstance(watched, QWidget) else self
        register(keymap_for(widget))
        return command_for(widget, ev, (REVIEW,), "review.")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and isinstance(
                event, QKeyEvent):
            command = self._command(watched, event)
            if command is not None:
                event.accept()
                if kind == QEvent.Type.KeyPress:
                    self.run_command(command)
                return True
        return super().eventFilter(watched, event)

    def showEvent(self, ev: Any) -> None:
        register(keymap_for(self))  # Help > Keyboard shortcuts lists the review keys
        super().showEvent(ev)

    def closeEvent(self, ev: Any) -> None:
        self.shutdown()
        super().closeEvent(ev)
