"""The selected model: overall and per-type figures, baseline, extras, lineage, "Run inference…"."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.api.models import Model
from relay_desktop.core.text import local_minutes
from relay_desktop.ui.models.lineage import Lineage
from relay_desktop.ui.models.metrics import (
    GOOD,
    ModelFigures,
    Overall,
    heading,
    number,
    ratio_text,
    read_figures,
    value_text,
)

BASE_COLUMNS = ("Type", "Precision", "Recall", "F1", "Support")
VALUE_ROLE = Qt.ItemDataRole.UserRole
"""Each figure cell keeps the exact value from ``eval_metrics`` under this role."""
NO_MODEL = "Select a model to see how well it detects each artifact type."
NO_METRICS = "This model has no evaluation figures."
GOOD_TIP = f"Above {GOOD:g} counts as good (the guide's rule of thumb)."


def overall_text(overall: Overall, baseline: Overall | None) -> str:
    """'Precision 0.890 · Recall 0.850 · F1 0.870 (baseline F1 0.590)'."""
    text = (f"Precision {ratio_text(overall.precision)} · Recall {ratio_text(overall.recall)}"
            f" · F1 {ratio_text(overall.f1)}")
    if baseline is not None and baseline.f1 is not None:
        text += f"  (baseline F1 {ratio_text(baseline.f1)})"
    return text


class ModelDetails(QWidget):
    """Shows one model. ``figure_table`` holds a row per type; each number cell has its
    raw value under ``VALUE_ROLE``.

    Signals:
        inference_requested(object): "Run inference…" was pressed (the Model).
    """

    inference_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model: Model | None = None
        self.figures: ModelFigures | None = None
        self.lineage: Lineage | None = None
        self.title = QLabel(NO_MODEL)
        self.title.setObjectName("modelTitle")
        self.title.setWordWrap(True)
        font = QFont(self.title.font())
        font.setBold(True)
        self.title.setFont(font)
        self.description = QLabel()
        self.description.setObjectName("subtle")
        self.description.setWordWrap(True)
        self.overall = QLabel()
        self.overall.setObjectName("modelOverall")
        self.overall.setToolTip(GOOD_TIP)
        self.overall.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.figure_table = QTableWidget(0, len(BASE_COLUMNS))
        self.figure_table.setObjectName("modelFigures")
        self.figure_table.setHorizontalHeaderLabels(list(BASE_COLUMNS))
        self.figure_table.verticalHeader().setVisible(False)
        self.figure_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.figure_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.figure_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setMinimumSectionSize(70)
        header.setStretchLastSection(False)
        self.figure_table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.others = QLabel()
        self.others.setObjectName("modelOtherFigures")
        self.others.setWordWrap(True)
        self.types = QLabel()
        self.types.setWordWrap(True)
        self.created = QLabel()
        self.active = QLabel()
        # ids do not wrap: a read-only line scrolls them instead of widening the dock
        self.job = _id_line("modelTrainingJob")
        self.dataset = QLabel()
        self.dataset.setObjectName("modelDataset")
        self.dataset.setWordWrap(True)
        self.annotation_set = QLabel()
        self.annotation_set.setObjectName("modelSet")
        self.model_id = _id_line("modelId")
        self.lineage_note = QLabel()
        self.lineage_note.setObjectName("subtle")
        self.lineage_note.setWordWrap(True)
        self.run_button = QPushButton("Run inference…")
        self.run_button.setObjectName("runInference")
        self.run_button.setToolTip("Start an inference job with this model")
        self.run_button.clicked.connect(self._run)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Artifact types:", self.types)
        form.addRow("Created:", self.created)
        form.addRow("Active:", self.active)
        form.addRow("Training job:", self.job)
        form.addRow("Dataset:", self.dataset)
        form.addRow("Annotation set:", self.annotation_set)
        form.addRow("Model id:", self.model_id)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.run_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.description)
        layout.addWidget(self.overall)
        layout.addWidget(self.figure_table)
        layout.addWidget(self.others)
        layout.addLayout(form)
        layout.addWidget(self.lineage_note)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.show_model(None)

    def show_model(self, model: Model | None) -> None:
        """Show ``model`` (None: the empty state); lineage follows with :meth:`show_lineage`."""
        self.model = model
        self.lineage = None
        self.run_button.setEnabled(model is not None)
        for label in (self.description, self.overall, self.others, self.types, self.created,
                      self.active, self.job, self.dataset, self.annotation_set, self.model_id,
                      self.lineage_note):
            label.clear()
        self.figure_table.setRowCount(0)
        self._fit_table_height()
        if model is None:
            self.title.setText(NO_MODEL)
            self.figures = None
            return
        self.title.setText(model.name or model.id)
        self.description.setText(model.description or "")
        self.description.setVisible(bool(model.description))
        self.figures = read_figures(model.eval_metrics, model.artifact_types)
        self.overall.setText(NO_METRICS if self.figures.empty
                             else overall_text(self.figures.overall, self.figures.baseline))
        self._fill_table(self.figures)
        self.others.setText("\n".join(f"{heading(k)}: {value_text(v)}"
                                      for k, v in self.figures.others))
        self.others.setVisible(bool(self.figures.others))
        self.types.setText(", ".join(model.artifact_types) or "—")
        self.created.setText(local_minutes(model.created_at))
        self.active.setText("yes" if model.is_active else "no")
        _show_line(self.job, model.training_job_id or "—")
        self.dataset.setText("…" if model.dataset_id or model.training_job_id else "unknown")
        self.annotation_set.setText("…" if model.annotation_set_id or model.training_job_id
                                    else "unknown")
        _show_line(self.model_id, model.id)

    def show_lineage(self, lineage: Lineage) -> None:
        """Fill in the training job, dataset name and set version (if still the same model)."""
        if self.model is None or lineage.model_id != self.model.id:
            return
        self.lineage = lineage
        job = lineage.training_job
        if job is not None:
            when = local_minutes(job.completed_at)
            epochs = job.config.get("epochs")
            parts = [job.id, job.status]
            if epochs is not None:
                parts.append(f"{epochs} epochs")
            if when:
                parts.append(f"finished {when}")
            _show_line(self.job, " · ".join(str(p) for p in parts))
        self.dataset.setText(lineage.dataset_text())
        self.annotation_set.setText(lineage.set_text())
        self.lineage_note.setText(" ".join(lineage.notes))

    def show_lineage_error(self, text: str) -> None:
        self.dataset.setText("unknown")
        self.annotation_set.setText("unknown")
        self.lineage_note.setText(f"Where this model came from could not be read: {text}")

    def _fill_table(self, figures: ModelFigures) -> None:
        with_baseline = any(r.baseline_f1 is not None for r in figures.rows)
        columns = list(BASE_COLUMNS) + (["Baseline F1"] if with_baseline else []) + [
            heading(k) for k in figures.extra_columns]
        table = self.figure_table
        table.setColumnCount(len(columns))
        table.setHorizontalHeaderLabels(columns)
        table.setRowCount(len(figures.rows))
        for row, entry in enumerate(figures.rows):
            table.setItem(row, 0, QTableWidgetItem(entry.artifact_type))
            values: list[float | int | None] = [entry.precision, entry.recall, entry.f1,
                                                entry.support]
            if with_baseline:
                values.append(entry.baseline_f1)
            values += [number(entry.extras.get(k)) for k in figures.extra_columns]
            for col, value in enumerate(values, start=1):
                if col == 4:
                    text = "—" if value is None else str(value)
                elif col <= 3 or (with_baseline and col == 5):
                    text = ratio_text(None if value is None else float(value))
                else:
                    text = value_text(value) if value is not None else "—"
                item = QTableWidgetItem(text)
                item.setData(VALUE_ROLE, value)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if col <= 3 and value is not None:
                    item.setToolTip(GOOD_TIP)
                    if float(value) >= GOOD:
                        bold = QFont(item.font())
                        bold.setBold(True)
                        item.setFont(bold)
                table.setItem(row, col, item)
        self._fit_table_height()

    def _fit_table_height(self) -> None:
        """As tall as its rows (up to 12; more scroll), so the lineage stays in view."""
        table = self.figure_table
        rows = min(table.rowCount(), 12)
        height = table.horizontalHeader().height() + 2 * table.frameWidth() + sum(
            table.rowHeight(r) for r in range(rows))
        table.setFixedHeight(max(height, table.horizontalHeader().height() + 30))

    def _run(self) -> None:
        if self.model is not None:
            self.inference_requested.emit(self.model)


def _id_line(name: str) -> QLineEdit:
    """A selectable, frameless, read-only line for an id (narrow: it scrolls, not wraps)."""
    line = QLineEdit()
    line.setObjectName(name)
    line.setReadOnly(True)
    line.setFrame(False)
    line.setStyleSheet("QLineEdit { background: transparent; }")
    return line


def _show_line(line: QLineEdit, text: str) -> None:
    """Show ``text`` from its start, all of it in the tooltip."""
    line.setText(text)
    line.setToolTip(text)
    line.setCursorPosition(0)
