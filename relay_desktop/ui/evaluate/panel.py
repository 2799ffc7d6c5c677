"""EvaluatePanel: an inference job's detections against a chosen ground-truth set.

The ground-truth set, the overlap tolerance (figures follow live), per-type and
overall precision/recall/F1 with counts, a precision/recall/F1 against
threshold plot with the best F1 marked, and the evaluated files with their
counts. Choosing a file opens it in the editor with matched, false-positive and
missed lanes over its waveform and spectrogram; clicking a span selects it
there. All reading and computing is done by
:class:`~relay_desktop.services.evaluation.EvaluationService`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.api.models import AnnotationSet, AudioFile, InferenceJob
from relay_desktop.services.context import AppContext
from relay_desktop.services.evaluation import (
    EvaluationResult,
    EvaluationService,
    FileResult,
    JobSources,
)
from relay_desktop.ui.adaptive_splitter import AdaptiveSplitter
from relay_desktop.ui.errors import describe_error
from relay_desktop.ui.evaluate.lanes import COLORS, ORDER, TITLES, EvaluationLanes
from relay_desktop.ui.evaluate.metrics_table import MetricsTable
from relay_desktop.ui.evaluate.threshold_plot import ThresholdPlot
from relay_desktop.ui.theme import icon

FILE_COLUMNS = ("File", "TP", "FP", "FN", "F1")
MAX_TOLERANCE_MS = 60_000


def set_title(s: AnnotationSet, dataset_names: dict[str, str]) -> str:
    name = dataset_names.get(s.dataset_id, "dataset")
    return f"{name} · v{s.version} ({s.status}, {s.total_annotations} labels)"


class EvaluatePanel(QWidget):
    """Evaluate an inference job against a ground-truth annotation set.

    Signals:
        evaluated(object): an ``EvaluationResult`` is shown (after each recompute).
        file_opening(object): a ``FileResult`` is being opened in the editor.
        lanes_drawn(object): a ``FileResult`` whose lanes are now drawn in the editor.
    """

    evaluated = Signal(object)
    file_opening = Signal(object)
    lanes_drawn = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, lanes_first_row: int = 0) -> None:
        """``lanes_first_row``: the editor band the three lanes start at (1 leaves the top
        band to the review panel's detection lane)."""
        super().__init__(parent)
        self.setObjectName("evaluatePanel")
        self._lanes_first_row = lanes_first_row
        self._context: AppContext | None = None
        self.service: EvaluationService | None = None
        self._editor: Any = None
        self._lanes: EvaluationLanes | None = None
        self._job_id: str | None = None
        self._result: EvaluationResult | None = None
        self._opening: str | None = None  # inference file id being opened in the editor
        self._shown: str | None = None  # inference file id whose lanes are drawn
        self._sets: list[AnnotationSet] = []

        self.job_label = QLabel("No inference job chosen.", self)
        self.job_label.setWordWrap(True)
        self.set_combo = QComboBox(self)
        self.set_combo.setObjectName("evaluationSet")
        self.set_combo.setToolTip("The ground-truth annotation set the detections are "
                                  "compared with")
        self.set_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.set_combo.setMinimumContentsLength(8)
        self.set_combo.activated.connect(self._set_chosen)
        self.tolerance = QSpinBox(self)
        self.tolerance.setObjectName("evaluationTolerance")
        self.tolerance.setRange(0, MAX_TOLERANCE_MS)
        self.tolerance.setSingleStep(10)
        self.tolerance.setSuffix(" ms")
        self.tolerance.setToolTip("Each label and detection is widened by this much on both "
                                  "sides before overlaps are found")
        self.tolerance.valueChanged.connect(self._tolerance_changed)
        self.refresh_button = QToolButton(self)
        self.refresh_button.setIcon(icon("refresh"))
        self.refresh_button.setToolTip("Read the job and the set again")
        self.refresh_button.clicked.connect(self.refresh)
        self.status = QLabel("", self)
        self.status.setObjectName("evaluationStatus")
        self.status.setWordWrap(True)

        self.table = MetricsTable(self)
        self.plot = ThresholdPlot(self)
        self.files = QTableWidget(0, len(FILE_COLUMNS), self)
        self.files.setObjectName("evaluationFiles")
        self.files.setHorizontalHeaderLabels(list(FILE_COLUMNS))
        self.files.verticalHeader().hide()
        self.files.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.files.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.files.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.files.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(FILE_COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.files.itemSelectionChanged.connect(self._file_selected)
        self.legend = QLabel("", self)
        self.legend.setObjectName("evaluationLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)

        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(QLabel("Ground truth:", self))
        controls.addWidget(self.set_combo, 1)
        controls.addWidget(QLabel("Tolerance:", self))
        controls.addWidget(self.tolerance)
        controls.addWidget(self.refresh_button)
        files_box = QWidget(self)
        fl = QVBoxLayout(files_box)
        fl.setContentsMargins(0, 0, 0, 0)
        fl.addWidget(self.files, 1)
        fl.addWidget(self.legend)
        figures = QSplitter(Qt.Orientation.Vertical, self)
        figures.setChildrenCollapsible(False)
        figures.addWidget(self.table)
        figures.addWidget(files_box)
        self.splitter = AdaptiveSplitter((0.6, 0.4), self)
        self.splitter.addWidget(figures)
        self.splitter.addWidget(self.plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.job_label)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.splitter, 1)
        self._show_legend(None)
        self.status.hide()

    def _say(self, text: str) -> None:
        """The status line (hidden while there is nothing to say)."""
        self.status.setText(text)
        self.status.setVisible(bool(text))

    # -- wiring -----------------------------------------------------------------------------
    def set_context(self, context: AppContext | None) -> None:
        """Use a connection (None on disconnect: everything is cleared)."""
        if self.service is not None:
            self.service.shutdown()
            self.service.deleteLater()
            self.service = None
        self._context = context
        self._clear()
        if context is None:
            self._job_id = None
            self.job_label.setText("No inference job chosen.")
            return
        service = self.service = EvaluationService(context, self)
        service.set_tolerance(self.tolerance.value())
        service.sources_loaded.connect(self._sources_loaded)
        service.result_ready.connect(self._show_result)
        service.busy.connect(self._busy)
        service.failed.connect(self._failed)
        if self._job_id is not None:
            self.evaluate_job(self._job_id)

    def set_editor(self, editor: Any) -> None:
        """The AudioEditor that opens chosen files and carries the lanes."""
        if self._lanes is not None:
            self._lanes.detach()
            self._lanes.deleteLater()
            self._lanes = None
        if self._editor is not None:
            try:
                self._editor.file_opened.disconnect(self._editor_opened)
                self._editor.error.disconnect(self._editor_failed)
            except (RuntimeError, TypeError):
                pass
        self._editor = editor
        self._opening = self._shown = None
        if editor is not None:
            self._lanes = EvaluationLanes(editor.view.plots(), self._lanes_first_row,
                                          parent=self)
            self._lanes.clicked.connect(self._lane_clicked)
            editor.file_opened.connect(self._editor_opened)
            editor.error.connect(self._editor_failed)

    def evaluate_job(self, job_or_id: InferenceJob | str) -> None:
        """Evaluate this inference job (its files added from a dataset)."""
        job_id = job_or_id if isinstance(job_or_id, str) else job_or_id.id
        self._job_id = job_id
        self._clear()
        self.job_label.setText(f"Inference job {job_id[:8]}…")
        if self.service is None:
            self._say("Not connected.")
            return
        self.service.load_job(job_id)

    def refresh(self) -> None:
        """Read the job and the chosen set again."""
        if self.service is not None and self.service.reload() is None and self._job_id:
            self.evaluate_job(self._job_id)

    # -- reading state (for the window and tests) -----------------------------------------
    def job_id(self) -> str | None:
        """The inference job being evaluated (None: none yet)."""
        return self._job_id

    def result(self) -> EvaluationResult | None:
        return self._result

    def lanes(self) -> EvaluationLanes | None:
        return self._lanes

    def shown_file(self) -> FileResult | None:
        """The file whose lanes are drawn in the editor."""
        if self._result is None or self._shown is None:
            return None
        return self._result.file(self._shown)

    def select_file(self, file_id: str) -> bool:
        """Choose an evaluated file (as a click in the list would); False if not listed."""
        for r in range(self.files.rowCount()):
            item = self.files.item(r, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == file_id:
                self.files.selectRow(r)
                return True
        return False

    def choose_set(self, set_id: str) -> bool:
        """Use the listed set with this id as ground truth; False if it is not listed."""
        for i, s in enumerate(self._sets):
            if s.id == set_id:
                self.set_combo.setCurrentIndex(i)
                self._set_chosen(i)
                return True
        return False

    # -- service results --------------------------------------------------------------------
    def _sources_loaded(self, sources: JobSources) -> None:
        job = sources.job
        model = ", ".join(sources.model_types) or "every type"
        self.job_label.setText(f"Inference job {job.id[:8]}… · {job.status} · "
                               f"{len(job.files)} files · types: {model}")
        self._sets = list(sources.sets)
        self.set_combo.blockSignals(True)
        self.set_combo.clear()
        for s in self._sets:
            self.set_combo.addItem(set_title(s, sources.dataset_names), s.id)
        self.set_combo.blockSignals(False)
        if not self._sets:
            self._say("None of this job's files came from a dataset with annotation "
                                "sets. Add labelled dataset files to the job to evaluate it.")
            return
        chosen = next((i for i, s in enumerate(self._sets) if s.status == "published"), 0)
        self.set_combo.setCurrentIndex(chosen)
        self._set_chosen(chosen)

    def _set_chosen(self, index: int) -> None:
        if self.service is None or not 0 <= index < len(self._sets):
            return
        s = self._sets[index]
        sources = self.service.sources()
        if sources is not None and not sources.evaluable_files(s.dataset_id):
            self._say("No finished file of this job came from this set's dataset.")
        self.service.choose_set(s)

    def _tolerance_changed(self, value: int) -> None:
        if self.service is not None:
            self.service.set_tolerance(value)

    def _busy(self, busy: bool) -> None:
        if busy:
            self._say("Evaluating…")
        elif self.status.text() == "Evaluating…":
            self._say("")

    def _failed(self, what: str, exc: object) -> None:
        text = describe_error(exc) if isinstance(exc, BaseException) else str(exc)
        self._say(f"{what} failed. {text}")

    def _show_result(self, result: EvaluationResult) -> None:
        self._result = result
        self.table.set_scores(result.overall, result.per_type)
        self.plot.set_points(result.sweep, result.best)
        selected = self._selected_file_id()
        self.files.blockSignals(True)
        self.files.setRowCount(len(result.files))
        for r, f in enumerate(result.files):
            s = f.scores
            texts = [f.file.original_filename, str(s.tp), str(s.fp), str(s.fn), f"{s.f1:.3f}"]
            for c, text in enumerate(texts):
                item = QTableWidgetItem(text)
                if c == 0:
                    item.setData(Qt.ItemDataRole.UserRole, f.file.id)
                    item.setToolTip(text)
                else:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.files.setItem(r, c, item)
        self.files.blockSignals(False)
        if selected is not None:
            self.select_file(selected)
        if not result.files:
            self._say("No finished file of this job came from this set's dataset.")
        elif self.status.text() == "Evaluating…" or self.status.text().startswith("No "):
            self._say("")
        shown = self.shown_file()
        if shown is not None and self._lanes is not None:
            self._lanes.show_matching(shown.matching)
            self.lanes_drawn.emit(shown)
        self._show_legend(shown)
        self.evaluated.emit(result)

    # -- files and lanes -------------------------------------------------------------------
    def _selected_file_id(self) -> str | None:
        rows = self.files.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.files.item(rows[0].row(), 0)
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def _file_selected(self) -> None:
        file_id = self._selected_file_id()
        if file_id is None or self._result is None or self.service is None:
            return
        if file_id == self._shown:
            return
        chosen = self._result.file(file_id)
        if chosen is None or self._editor is None:
            return
        self._opening = file_id
        if self._lanes is not None:
            self._lanes.show_matching(None)
        self._shown = None
        self._show_legend(None)
        self.file_opening.emit(chosen)
        handle = self.service.fetch_audio(chosen.dataset_id, chosen.audio_id)
        handle.succeeded.connect(lambda audio, fid=file_id: self._audio_ready(fid, audio))
        handle.failed.connect(lambda exc: self._failed("Opening the file", exc))

    def _audio_ready(self, file_id: str, audio: AudioFile) -> None:
        if file_id != self._opening or self._editor is None:
            return
        self._editor.open_audio(audio.dataset_id, audio)

    def _editor_opened(self, _info: object) -> None:
        opening, self._opening = self._opening, None
        self._shown = opening
        shown = self.shown_file()
        if self._lanes is not None:
            self._lanes.show_matching(shown.matching if shown is not None else None)
        self._show_legend(shown)
        if shown is not None:
            self.lanes_drawn.emit(shown)

    def _lane_clicked(self, start_s: float, end_s: float) -> None:
        """Select a clicked span in the editor (Play selection then plays it)."""
        if self._editor is not None and self._shown is not None:
            self._editor.view.set_selection(start_s, end_s)
            self._editor.view.ensure_visible(start_s)

    def _editor_failed(self, _message: str) -> None:
        self._opening = None

    def _show_legend(self, shown: FileResult | None) -> None:
        if shown is not None:
            m = shown.matching
            counts = {"matched": len(m.pairs), "false_positive": len(m.false_positives),
                      "missed": len(m.missed)}
            where = "in this file"
        elif self._result is not None:
            o = self._result.overall
            counts = {"matched": o.tp, "false_positive": o.fp, "missed": o.fn}
            where = "in all files"
        else:
            counts, where = {}, ""
        parts = []
        for name in ORDER:
            color = COLORS[name].name()
            n = counts.get(name)
            parts.append(f"<span style='color:{color}'>■</span> {TITLES[name]}"
                         + (f" {n}" if n is not None else ""))
        self.legend.setText("&nbsp;&nbsp;".join(parts) + (f" &nbsp;({where})" if where else ""))

    def legend_counts(self) -> dict[str, int]:
        """The counts the legend shows for the file drawn (empty when none is)."""
        shown = self.shown_file()
        if shown is None:
            return {}
        m = shown.matching
        return {"matched": len(m.pairs), "false_positive": len(m.false_positives),
                "missed": len(m.missed)}

    def _clear(self) -> None:
        self._result = None
        self._sets = []
        self._opening = self._shown = None
        self.set_combo.clear()
        self.table.set_scores(None, {})
        self.plot.set_points([], None)
        self.files.setRowCount(0)
        self._say("")
        if self._lanes is not None:
            self._lanes.show_matching(None)
        self._show_legend(None)
