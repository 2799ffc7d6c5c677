""""New inference job": a model, the threshold, merge window and minimum duration.

The ranges are the documented ones, enforced by the spin boxes (an out-of-range
value cannot be typed). The minimum duration defaults to 0 here rather than the
server's 50 ms: clicks last a few milliseconds and 50 ms would drop them all.
A refusal by the server is shown in the dialog, next to the field it names.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.api.models import InferenceJob, Model
from relay_desktop.core.job_start import start_inference
from relay_desktop.services.api_worker import Priority, RequestHandle
from relay_desktop.ui.errors import apply_field_errors, describe_error
from relay_desktop.ui.fit import grow_to_fit
from relay_desktop.ui.models.metrics import number, ratio_text

if TYPE_CHECKING:
    from relay_desktop.services.context import AppContext

log = logging.getLogger(__name__)

THRESHOLD_RANGE = (0.0, 1.0)
MERGE_RANGE = (0, 5000)
MIN_DURATION_RANGE = (0, 1000)
DEFAULT_THRESHOLD = 0.5
DEFAULT_MERGE_MS = 200
DEFAULT_MIN_DURATION_MS = 0
"""The documented default is 50 ms, which drops clicks (a few ms long)."""
THRESHOLD_HINT = ("Confidence: 0.9-1.0 very high (almost certainly real) · 0.7-0.9 high "
                  "(likely real) · 0.5-0.7 moderate (worth a listen) · 0.3-0.5 low (possible "
                  "false positive). A threshold of 0.3-0.5 catches more; 0.7-0.9 is "
                  "conservative.")
MERGE_HINT = "Same-type detections closer than this become one."
MIN_DURATION_HINT = ("Shorter detections are dropped. 0 keeps clicks, which last a few "
                     "milliseconds (the server's default of 50 ms would drop them).")


def model_label(model: Model) -> str:
    f1 = number(model.eval_metrics.get("f1_score"))
    name = model.name or model.id
    suffix = f" — F1 {ratio_text(f1)}" if f1 is not None else ""
    return f"{name}{suffix}" + ("" if model.is_active else " (inactive)")


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("subtle")
    label.setWordWrap(True)
    return label


class NewInferenceJobDialog(QDialog):
    """Create an inference job (through ``jobs.start_inference`` when a JobsService is given,
    which then follows it; else straight through the worker).

    Signals:
        created(object): the new InferenceJob (the dialog then closes).
        models_loaded(object): the model list arrived (list[Model]).
    """

    created = Signal(object)
    models_loaded = Signal(object)

    def __init__(self, context: AppContext, jobs: Any = None, *,
                 model_id: str | None = None, models: Sequence[Model] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("newInferenceJob")
        self.setWindowTitle("New inference job")
        self.context = context
        self.jobs = jobs
        self.handle: RequestHandle | None = None
        self._want_model = model_id
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("inferenceModel")
        self.model_combo.setMinimumWidth(320)
        self.threshold = QDoubleSpinBox()
        self.threshold.setObjectName("inferenceThreshold")
        self.threshold.setRange(*THRESHOLD_RANGE)
        self.threshold.setDecimals(2)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(DEFAULT_THRESHOLD)
        self.merge = QSpinBox()
        self.merge.setObjectName("inferenceMerge")
        self.merge.setRange(*MERGE_RANGE)
        self.merge.setSingleStep(50)
        self.merge.setSuffix(" ms")
        self.merge.setValue(DEFAULT_MERGE_MS)
        self.min_duration = QSpinBox()
        self.min_duration.setObjectName("inferenceMinDuration")
        self.min_duration.setRange(*MIN_DURATION_RANGE)
        self.min_duration.setSingleStep(10)
        self.min_duration.setSuffix(" ms")
        self.min_duration.setValue(DEFAULT_MIN_DURATION_MS)
        self.field_labels = {"model_id": QLabel(), "config.threshold": QLabel(),
                             "config.merge_window_ms": QLabel(),
                             "config.min_duration_ms": QLabel()}
        for label in self.field_labels.values():
            label.setObjectName("fieldError")
            label.setWordWrap(True)
            label.setVisible(False)
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        form = QFormLayout()
        form.addRow("Model:", self.model_combo)
        form.addRow("", self.field_labels["model_id"])
        form.addRow("Threshold:", self.threshold)
        form.addRow("", _hint(THRESHOLD_HINT))
        form.addRow("", self.field_labels["config.threshold"])
        form.addRow("Merge window:", self.merge)
        form.addRow("", _hint(MERGE_HINT))
        form.addRow("", self.field_labels["config.merge_window_ms"])
        form.addRow("Minimum duration:", self.min_duration)
        form.addRow("", _hint(MIN_DURATION_HINT))
        form.addRow("", self.field_labels["config.min_duration_ms"])
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.start_button = self.buttons.addButton("Start job",
                                                   QDialogButtonBox.ButtonRole.AcceptRole)
        self.start_button.setObjectName("startInference")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(520, 0)
        if models is not None:
            self.set_models(models)
        else:
            self._load_models()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        grow_to_fit(self)   # the wrapped hints need their height

    # -- models -----------------------------------------------------------------------

    def _load_models(self) -> None:
        self.model_combo.setEnabled(False)
        self.start_button.setEnabled(False)
        self.model_combo.addItem("Loading models…")
        handle = self.context.worker.submit(
            lambda client, cancel, _p: list(client.models.iter_items(cancel=cancel)),
            priority=Priority.USER, description="Listing models")
        handle.succeeded.connect(self.set_models)
        handle.failed.connect(lambda exc: self._show_error(exc, "The models could not be "
                                                                "listed."))

    def set_models(self, models: Sequence[Model]) -> None:
        """Offer ``models`` (active first, newest first) and preselect the wanted one."""
        self.model_combo.clear()
        ordered = sorted(models, key=lambda m: (not m.is_active, -(m.created_at.timestamp()
                                                                    if m.created_at else 0)))
        for model in ordered:
            self.model_combo.addItem(model_label(model), model.id)
            self.model_combo.setItemData(self.model_combo.count() - 1,
                                         ", ".join(model.artifact_types),
                                         Qt.ItemDataRole.ToolTipRole)
        if not ordered:
            self.model_combo.addItem("No models yet: train one first")
        self.model_combo.setEnabled(bool(ordered))
        self.start_button.setEnabled(bool(ordered))
        if self._want_model is not None:
            index = self.model_combo.findData(self._want_model)
            if index >= 0:
                self.model_combo.setCurrentIndex(index)
        self.models_loaded.emit(list(ordered))

    def model_id(self) -> str | None:
        data = self.model_combo.currentData()
        return str(data) if data else None

    def config(self) -> dict[str, Any]:
        return {"threshold": round(float(self.threshold.value()), 4),
                "merge_window_ms": int(self.merge.value()),
                "min_duration_ms": int(self.min_duration.value())}

    # -- submit -----------------------------------------------------------------------

    def submit(self) -> None:
        """Create the job; the dialog closes on success and explains a refusal."""
        model_id = self.model_id()
        if model_id is None or self.handle is not None:
            return
        config = self.config()
        if self.jobs is not None:
            handle = self.jobs.start_inference(model_id, config)
        else:
            handle = self.context.worker.submit(
                lambda client, cancel, _p: start_inference(client, model_id, config,
                                                           cancel=cancel),
                priority=Priority.USER, description="Starting an inference job")
        self.handle = handle
        self.start_button.setEnabled(False)
        self.error.setText("Starting…")
        self.error.setVisible(True)
        handle.succeeded.connect(self._created)
        handle.failed.connect(lambda exc: self._show_error(exc, ""))

    def _created(self, job: InferenceJob) -> None:
        self.handle = None
        log.info("Inference job %s started with model %s (%s)", job.id, job.model_id,
                 job.config)
        self.created.emit(job)
        self.accept()

    def _show_error(self, exc: BaseException, prefix: str) -> None:
        self.handle = None
        self.start_button.setEnabled(self.model_id() is not None)
        if not apply_field_errors(exc, self.field_labels, self.error):
            self.error.setText(f"{prefix} {describe_error(exc)}".strip())
        self.error.setVisible(True)
        grow_to_fit(self)
