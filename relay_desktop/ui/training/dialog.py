"""The "Train model…" dialog: types, parameters, the guide's advice and the pre-flight list.

Everything the checks need (the set's state and counts, every audio file's
status and duration) is read through the ApiWorker when the dialog opens (and
on Recheck); the checks are then computed locally as types are ticked. Train
stays disabled while a check fails or a value is out of range; the server's
refusal is shown in the same list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.api import CancelToken, RelayClient
from relay_desktop.api.models import AnnotationSet, AudioFile, Dataset
from relay_desktop.core.job_start import start_training
from relay_desktop.core.training import (
    PARAMS,
    Check,
    TrainingConfig,
    all_passed,
    preflight,
    ready_audio_ms,
    tuning_advice,
)
from relay_desktop.services.api_worker import Priority, RequestHandle
from relay_desktop.services.context import AppContext
from relay_desktop.services.jobs import JobsService
from relay_desktop.ui.errors import describe_error, field_errors
from relay_desktop.ui.training.checks import PreflightList, server_checks


@dataclass(frozen=True)
class TrainingData:
    """What the pre-flight needs, read off the GUI thread."""

    dataset: Dataset
    annotation_set: AnnotationSet
    files: tuple[AudioFile, ...]


def load_training_data(client: RelayClient, cancel: CancelToken, dataset_id: str,
                       set_id: str) -> TrainingData:
    """The dataset, the set (fresh: status and counts per type) and every audio file."""
    dataset = client.datasets.get(dataset_id, cancel=cancel)
    found = [s for s in client.annotation_sets.iter_items(dataset_id, cancel=cancel)
             if s.id == set_id]
    annotation_set = found[0] if found else client.annotation_sets.get(
        dataset_id, set_id, cancel=cancel)
    files = tuple(client.audio.iter_items(dataset_id, cancel=cancel))
    return TrainingData(dataset, annotation_set, files)


def published_sets(client: RelayClient, cancel: CancelToken
                   ) -> list[tuple[Dataset, AnnotationSet]]:
    """Every published set of every dataset (for a dialog opened without a set)."""
    out = []
    for dataset in client.datasets.iter_items(cancel=cancel):
        for s in client.annotation_sets.iter_items(dataset.id, cancel=cancel):
            if s.status == "published":
                out.append((dataset, s))
    return out


class TrainingDialog(QDialog):
    """Configure and start a training job on a published annotation set.

    Signals:
        job_created(object): the created TrainingJob.
        data_loaded(): the set, dataset and files arrived and the checks are shown.
        refused(object): the server refused the job (list[Check], also shown in the list).
    """

    job_created = Signal(object)
    data_loaded = Signal()
    refused = Signal(object)

    def __init__(self, context: AppContext, annotation_set: AnnotationSet | None = None, *,
                 jobs: JobsService | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingDialog")
        self.setWindowTitle("Train model")
        self.context = context
        self.jobs = jobs
        self.data: TrainingData | None = None
        self._set_id = annotation_set.id if annotation_set is not None else None
        self._dataset_id = annotation_set.dataset_id if annotation_set is not None else None
        self._server: list[Check] = []
        self._loading: RequestHandle | None = None
        self._sending: RequestHandle | None = None

        self.heading = QLabel("Loading…")
        self.heading.setWordWrap(True)
        self.set_combo = QComboBox()
        self.set_combo.setObjectName("trainingSetCombo")
        self.set_combo.setVisible(annotation_set is None)
        self.set_combo.currentIndexChanged.connect(self._set_chosen)

        self.types_box = QGroupBox("Artifact types")
        self.all_types = QCheckBox("All types")
        self.all_types.setTristate(False)
        self.all_types.toggled.connect(self._all_toggled)
        self._types_layout = QVBoxLayout(self.types_box)
        self._types_layout.addWidget(self.all_types)
        self.type_boxes: dict[str, QCheckBox] = {}

        params = QGroupBox("Parameters")
        form = QFormLayout(params)
        self.spins: dict[str, QSpinBox | QDoubleSpinBox] = {}
        self.field_labels: dict[str, QLabel] = {}
        for param in PARAMS:
            spin: QSpinBox | QDoubleSpinBox
            if param.integer:
                spin = QSpinBox()
                spin.setRange(int(param.minimum), int(param.maximum))
                spin.setSingleStep(int(param.step))
                spin.setValue(int(param.default))
            else:
                spin = QDoubleSpinBox()
                spin.setDecimals(param.decimals)
                spin.setRange(param.minimum, param.maximum)
                spin.setSingleStep(param.step)
                spin.setValue(param.default)
            spin.setObjectName(f"param_{param.name}")
            spin.setToolTip(f"{param.help} Default {param.default:g}; "
                            f"{param.minimum:g}-{param.maximum:g}.")
            spin.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
            spin.valueChanged.connect(self._values_changed)
            error = QLabel()
            error.setObjectName(f"error_{param.name}")
            error.setWordWrap(True)
            error.setStyleSheet("color: #c62828;")
            error.setVisible(False)
            cell = QVBoxLayout()
            cell.setSpacing(0)
            cell.addWidget(spin)
            cell.addWidget(error)
            form.addRow(param.label, cell)
            self.spins[param.name] = spin
            self.field_labels[param.name] = error
        self.defaults_button = QPushButton("Defaults")
        self.defaults_button.clicked.connect(self.reset_defaults)

        advice_box = QGroupBox("Tuning advice")
        self.advice = QLabel("The guide's advice appears once the dataset's size is known.")
        self.advice.setObjectName("tuningAdvice")
        self.advice.setWordWrap(True)
        self.suggest_button = QPushButton("Use suggested values")
        self.suggest_button.setEnabled(False)
        self.suggest_button.clicked.connect(self.apply_advice)
        advice_layout = QVBoxLayout(advice_box)
        advice_layout.addWidget(self.advice)
        row = QHBoxLayout()
        row.addWidget(self.suggest_button)
        row.addWidget(self.defaults_button)
        row.addStretch(1)
        advice_layout.addLayout(row)

        self.checks_list = PreflightList()
        self.checks_list.set_message("Checking…")
        self.status = QLabel()
        self.status.setObjectName("trainingStatus")
        self.status.setWordWrap(True)

        self.buttons = QDialogButtonBox()
        self.train_button = self.buttons.addButton("Train", QDialogButtonBox.ButtonRole.AcceptRole)
        self.train_button.setObjectName("trainButton")
        self.recheck_button = self.buttons.addButton("Recheck",
                                                     QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.train_button.clicked.connect(self.train)
        self.recheck_button.clicked.connect(self.reload)
        self.buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(self.types_box)
        left.addWidget(advice_box)
        left.addStretch(1)
        top.addLayout(left, 1)
        top.addWidget(params, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.set_combo)
        layout.addLayout(top)
        layout.addWidget(QLabel("Before training"))
        layout.addWidget(self.checks_list, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(820, 640)
        self._update_train()
        if annotation_set is None:
            self._load_candidates()
        else:
            self.reload()

    # ---- loading ------------------------------------------------------------------------
    def _load_candidates(self) -> None:
        self.heading.setText("Choose a published annotation set to train on.")
        handle = self.context.worker.submit(
            lambda client, cancel, _p: published_sets(client, cancel),
            priority=Priority.USER, description="Listing published sets")
        handle.succeeded.connect(self._candidates_loaded)
        handle.failed.connect(lambda exc: self._load_failed(exc))

    def _candidates_loaded(self, pairs: list[tuple[Dataset, AnnotationSet]]) -> None:
        self.set_combo.blockSignals(True)
        self.set_combo.clear()
        for dataset, s in pairs:
            self.set_combo.addItem(f"{dataset.name} v{s.version}", (dataset.id, s.id))
        self.set_combo.blockSignals(False)
        if not pairs:
            self.checks_list.set_message("No published annotation set yet: publish a set "
                                         "first (drafts cannot be trained on).")
            return
        self._set_chosen(0)

    def _set_chosen(self, index: int) -> None:
        data = self.set_combo.itemData(index)
        if data:
            self._dataset_id, self._set_id = data
            self.reload()

    def reload(self) -> None:
        """Read the set, dataset and files again, then check (also the Recheck button)."""
        ds, set_id = self._dataset_id, self._set_id
        if not ds or not set_id:
            return
        if self._loading is not None and not self._loading.done:
            self._loading.cancel()
        self._server = []
        self.checks_list.set_message("Checking…")
        self.status.setText("")
        handle = self.context.worker.submit(
            lambda client, cancel, _p: load_training_data(client, cancel, ds, set_id),
            priority=Priority.USER, description="Reading the set and its audio for training")
        self._loading = handle
        handle.succeeded.connect(self._loaded)
        handle.failed.connect(self._load_failed)
        self._update_train()

    def _loaded(self, data: TrainingData) -> None:
        if data.annotation_set.id != self._set_id:
            return
        previous = self.data
        self.data = data
        self.heading.setText(f"Train a detector on {data.dataset.name!r}, annotation set "
                             f"v{data.annotation_set.version} ({data.annotation_set.status}).")
        names = [t.name for t in data.dataset.artifact_types]
        if previous is None or [t.name for t in previous.dataset.artifact_types] != names:
            self._build_type_boxes(names)
        advice = tuning_advice(ready_audio_ms(data.files))
        self.advice.setText(advice.text())
        self.suggest_button.setEnabled(bool(advice.suggested))
        self._recheck()
        self.data_loaded.emit()

    def _load_failed(self, exc: BaseException) -> None:
        self.checks_list.set_message("The checks could not be made.")
        self.status.setText(describe_error(exc))
        self._update_train()

    def _build_type_boxes(self, names: Sequence[str]) -> None:
        for box in self.type_boxes.values():
            self._types_layout.removeWidget(box)
            box.deleteLater()
        self.type_boxes = {}
        for name in names:
            box = QCheckBox(name)
            box.setChecked(True)
            box.toggled.connect(self._type_toggled)
            self._types_layout.addWidget(box)
            self.type_boxes[name] = box
        self.all_types.blockSignals(True)
        self.all_types.setChecked(True)
        self.all_types.setEnabled(bool(names))
        self.all_types.blockSignals(False)

    # ---- form ---------------------------------------------------------------------------
    def chosen_types(self) -> list[str]:
        return [name for name, box in self.type_boxes.items() if box.isChecked()]

    def set_types(self, names: Sequence[str]) -> None:
        """Tick exactly ``names``."""
        for name, box in self.type_boxes.items():
            box.setChecked(name in names)

    def _all_toggled(self, checked: bool) -> None:
        for box in self.type_boxes.values():
            box.blockSignals(True)
            box.setChecked(checked)
            box.blockSignals(False)
        self._recheck()

    def _type_toggled(self, _checked: bool) -> None:
        self.all_types.blockSignals(True)
        self.all_types.setChecked(all(b.isChecked() for b in self.type_boxes.values()))
        self.all_types.blockSignals(False)
        self._recheck()

    def config(self) -> TrainingConfig:
        values: dict[str, Any] = {name: spin.value() for name, spin in self.spins.items()}
        return TrainingConfig(artifact_types=tuple(self.chosen_types()), **values)

    def set_value(self, name: str, value: float) -> None:
        """Put a value in a parameter's spin box (clamped to its range, as typing would)."""
        spin = self.spins[name]
        if isinstance(spin, QSpinBox):
            spin.setValue(round(value))
        else:
            spin.setValue(float(value))

    def reset_defaults(self) -> None:
        for param in PARAMS:
            self.set_value(param.name, param.default)

    def apply_advice(self) -> None:
        """Put the guide's suggested values for this dataset's size in the form."""
        if self.data is None:
            return
        for name, value in tuning_advice(ready_audio_ms(self.data.files)).suggested.items():
            self.set_value(name, value)

    def _values_changed(self) -> None:
        stride = self.spins["stride_ms"]
        if isinstance(stride, QSpinBox):
            stride.setMaximum(round(self.spins["chunk_size_ms"].value()))
        self._server = []
        self._show_field_errors(self.config().validate())
        self._show_checks()

    def _show_field_errors(self, problems: dict[str, str]) -> None:
        for name, label in self.field_labels.items():
            text = problems.get(name, "")
            label.setText(text)
            label.setVisible(bool(text))

    # ---- checks -------------------------------------------------------------------------
    def _recheck(self) -> None:
        self._server = []
        self._show_checks()

    def local_checks(self) -> list[Check]:
        if self.data is None:
            return []
        by_type = {k: int(v or 0) for k, v in
                   self.data.annotation_set.annotations_by_type.items()}
        return preflight(self.data.annotation_set, self.data.files, by_type,
                         self.chosen_types())

    def checks(self) -> list[Check]:
        """What the list shows: the local checks, then the server's refusal if any."""
        return self.local_checks() + self._server

    def _show_checks(self) -> None:
        if self.data is not None:
            self.checks_list.set_checks(self.checks())
        self._update_train()

    def _update_train(self) -> None:
        busy = (self._sending is not None and not self._sending.done) or (
            self._loading is not None and not self._loading.done)
        ok = (self.data is not None and not busy and not self._server
              and all_passed(self.local_checks()) and not self.config().validate())
        self.train_button.setEnabled(ok)
        self.recheck_button.setEnabled(self._set_id is not None and not busy)

    # ---- sending ------------------------------------------------------------------------
    def train(self) -> None:
        """Send the job (only when every check passes and every value is in range)."""
        data = self.data
        config = self.config()
        problems = config.validate([t.name for t in data.dataset.artifact_types]
                                   if data else None)
        self._show_field_errors(problems)
        if data is None or problems or not all_passed(self.local_checks()):
            self._update_train()
            return
        body = config.to_json()
        if self.jobs is not None:
            handle = self.jobs.start_training(data.dataset.id, data.annotation_set.id, body)
        else:
            ds, set_id = data.dataset.id, data.annotation_set.id
            handle = self.context.worker.submit(
                lambda client, cancel, _p: start_training(client, ds, set_id, body,
                                                          cancel=cancel),
                priority=Priority.USER, description="Starting training")
        self._sending = handle
        self.status.setText("Starting training…")
        handle.succeeded.connect(self._created)
        handle.failed.connect(self._refused)
        handle.finished.connect(self._update_train)
        self._update_train()

    def _created(self, job: Any) -> None:
        self.status.setText("Training started.")
        self.job_created.emit(job)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self._server = server_checks(exc)
        fields = field_errors(exc)
        if fields:
            self._show_field_errors({k.split(".")[-1]: v for k, v in fields.items()
                                     if k.startswith("config.")})
        self.status.setText("The server did not start training; see the checks above.")
        self._show_checks()
        self.refused.emit(list(self._server))

    def done(self, result: int) -> None:
        """Close; what is still loading or unsent is cancelled (not a created job)."""
        for handle in (self._loading, self._sending):
            if handle is not None and not handle.done and result != QDialog.DialogCode.Accepted:
                handle.cancel()
        super().done(result)
