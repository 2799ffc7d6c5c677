"""The train -> infer -> review -> evaluate docks, wired to each other and to the window.

The Jobs, Detections and Evaluate docks are tabs beside the audio list; Models and
Review are tabs beside the Labels dock. A "Jobs" menu reaches each step from the
keyboard. Every panel follows the window's connection on its own (``set_context``);
this module only passes things along between them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QFrame, QMenu, QScrollArea, QWidget

from relay_desktop.core.review import keys as review_keys
from relay_desktop.services.context import AppContext
from relay_desktop.ui.evaluate.panel import EvaluatePanel
from relay_desktop.ui.inference.panel import InferencePanel
from relay_desktop.ui.jobs.notifier import job_message
from relay_desktop.ui.jobs.panel import JobsPanel
from relay_desktop.ui.labelling import LabellingPanel
from relay_desktop.ui.main_window import MainWindow
from relay_desktop.ui.models.panel import ModelsPanel
from relay_desktop.ui.review.panel import ReviewPanel

STATUS_MS = 10_000


class PanelHost(QScrollArea):
    """A dock's frame for one panel: a small window scrolls the panel instead of growing
    to fit it (the window keeps the size the user gave it)."""

    def __init__(self, panel: QWidget) -> None:
        super().__init__()
        self.setObjectName(f"{panel.objectName() or type(panel).__name__}Host")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidget(panel)
        self.setFocusProxy(panel)

    def set_context(self, context: AppContext | None) -> None:
        """The window hands each dock its connection; the panel takes it."""
        setter = getattr(self.widget(), "set_context", None)
        if callable(setter):
            setter(context)


def register_keys(window: MainWindow) -> None:
    """The review keys go in the window's keymap before the user's bindings are applied."""
    review_keys.register(window.keymap)


class ModelLoop(QObject):
    """Owns the Jobs, Models, Detections, Review and Evaluate docks and connects them.

    Each panel's request becomes the next panel's action: a published set's "Train
    model…" opens the training dialog, a finished training job shows its model, a
    model's "Run inference…" opens the new-job dialog, a job's detections open for
    review in the editor and are evaluated against a ground-truth set.
    """

    def __init__(self, window: MainWindow, labelling: LabellingPanel,
                 labels_dock: QDockWidget) -> None:
        super().__init__(window)
        self.window = window
        self.labelling = labelling
        self.jobs = JobsPanel()
        self.models = ModelsPanel()
        self.inference = InferencePanel()
        self.review = ReviewPanel()
        self.evaluate = EvaluatePanel(lanes_first_row=1)  # the review lane keeps the top band
        audio = window.audio_dock
        self.jobs_dock = window.add_panel(PanelHost(self.jobs), "Jobs", "bottom",
                                          "jobsDock", tab_with=audio)
        self.inference_dock = window.add_panel(PanelHost(self.inference), "Detections",
                                               "bottom", "inferenceDock", tab_with=audio)
        self.evaluate_dock = window.add_panel(PanelHost(self.evaluate), "Evaluate", "bottom",
                                              "evaluateDock", tab_with=audio)
        self.models_dock = window.add_panel(PanelHost(self.models), "Models", "right",
                                            "modelsDock", tab_with=labels_dock)
        self.review_dock = window.add_panel(PanelHost(self.review), "Review", "right",
                                            "reviewDock", tab_with=labels_dock)
        audio.raise_()
        labels_dock.raise_()
        self.review.set_labelling(labelling)
        self.menu = self._build_menu()
        self._connect()

    # -- the menu ------------------------------------------------------------------------

    def _build_menu(self) -> QMenu:
        window = self.window
        menu = QMenu("&Jobs", window)
        menu.setToolTipsVisible(True)
        self.train_action = self._action("Train a &model…", "Ctrl+T",
                                         lambda: self.train(None))
        self.train_action.setToolTip("Train a detector on a published annotation set")
        self.infer_action = self._action("New &inference job…", "Ctrl+I",
                                         lambda: self.new_inference(None))
        self.infer_action.setToolTip("Run a trained model over new audio")
        self.jobs_action = self._action("Show &jobs", "Ctrl+Shift+J",
                                        lambda: self.show(self.jobs_dock))
        self.models_action = self._action("Show m&odels", "Ctrl+Shift+M",
                                          lambda: self.show(self.models_dock))
        self.detections_action = self._action("Show &detections", "Ctrl+Shift+D",
                                              lambda: self.show(self.inference_dock))
        self.review_action = self._action("&Review detections", "Ctrl+Shift+R",
                                          lambda: self.show(self.review_dock))
        self.evaluate_action = self._action("&Evaluate against ground truth", "Ctrl+Shift+E",
                                            lambda: self.show(self.evaluate_dock))
        for action in (self.train_action, self.infer_action):
            menu.addAction(action)
        menu.addSeparator()
        for action in (self.jobs_action, self.models_action, self.detections_action,
                       self.review_action, self.evaluate_action):
            menu.addAction(action)
        window.menuBar().insertMenu(window.view_menu.menuAction(), menu)
        self._set_enabled(False)
        return menu

    def _action(self, text: str, keys: str, slot: Any) -> QAction:
        action = QAction(text, self.window)
        action.triggered.connect(lambda _checked=False: slot())
        self.window.shortcuts.register("Jobs", action, keys)
        self.window.addAction(action)
        return action

    def _set_enabled(self, connected: bool) -> None:
        for action in (self.train_action, self.infer_action):
            action.setEnabled(connected)
            if not connected:
                action.setToolTip("Connect to a workspace first")

    # -- wiring --------------------------------------------------------------------------

    def _connect(self) -> None:
        status = self.window.status
        self.window.context_changed.connect(self._context_changed)
        self.labelling.train_requested.connect(self.train)
        self.jobs.train_requested.connect(lambda: self.train(None))
        self.jobs.inference_job_activated.connect(self.show_inference_job)
        self.jobs.model_requested.connect(self.show_model)
        self.jobs.notifier.notified.connect(lambda title, text: status.showMessage(
            f"{title}: {text}", STATUS_MS))
        self.models.inference_requested.connect(self.new_inference)
        self.models.error.connect(lambda text: status.showMessage(text, STATUS_MS))
        self.inference.new_job_requested.connect(lambda: self.show(self.inference_dock))
        self.inference.open_file_requested.connect(self.review_file)
        self.inference.review_requested.connect(self.review_job)
        self.inference.evaluate_requested.connect(self.evaluate_job)
        self.inference.message.connect(lambda text: status.showMessage(text, STATUS_MS))
        self.review.notice.connect(lambda text: status.showMessage(text, STATUS_MS))

    @Slot(object)
    def _context_changed(self, context: AppContext | None) -> None:
        """The panels have their context; the jobs service is shared with the others."""
        jobs = self.jobs.jobs
        self.models.set_jobs(jobs)
        self.inference.set_jobs(jobs)
        if jobs is not None:
            jobs.job_finished.connect(self._job_finished)
        self._set_enabled(context is not None)

    def set_editor(self, editor: Any) -> None:
        """The audio editor the review and evaluate lanes are drawn in (None: none; an
        editor plug-in without plots and a ``file_opened`` signal carries no lanes)."""
        if not (hasattr(editor, "view") and hasattr(editor, "file_opened")):
            editor = None
        self.review.set_editor(editor)
        self.evaluate.set_editor(editor)

    def shutdown(self) -> None:
        """The window is closing: save the review's progress, stop following jobs."""
        self.review.shutdown()
        self.jobs.shutdown()

    # -- steps of the loop -----------------------------------------------------------------

    def show(self, dock: QDockWidget) -> None:
        dock.show()
        dock.raise_()
        dock.widget().setFocus()

    @Slot(object)
    def train(self, annotation_set: Any = None) -> None:
        """Open the training dialog (for this published set, if one is given)."""
        self.show(self.jobs_dock)
        self.jobs.open_training_dialog(annotation_set)

    @Slot(object)
    def new_inference(self, model: Any = None) -> None:
        """Open the new-inference-job dialog (with this model chosen, if one is given)."""
        self.show(self.inference_dock)
        self.inference.open_new_job_dialog(model)

    @Slot(str)
    def show_model(self, model_id: str) -> None:
        self.show(self.models_dock)
        self.models.select_model(model_id)

    @Slot(object)
    def show_inference_job(self, job: Any) -> None:
        self.show(self.inference_dock)
        self.inference.show_job(job)

    @Slot(object, object)
    def review_file(self, job: Any, file: Any) -> None:
        self.show(self.review_dock)
        self.review.show_file(job, file)

    @Slot(object)
    def review_job(self, job: Any) -> None:
        self.show(self.review_dock)
        self.review.review_job(job)

    @Slot(object)
    def evaluate_job(self, job: Any) -> None:
        self.show(self.evaluate_dock)
        self.evaluate.evaluate_job(job)

    @Slot(str, object)
    def _job_finished(self, kind: str, job: Any) -> None:
        if job is None:
            return
        if kind == "inference" and self.evaluate.job_id() == job.id:
            self.evaluate.refresh()
        if not self.jobs.notifier.in_background():
            title, text = job_message(kind, job, self.jobs.describe(kind, job))
            self.window.status.showMessage(f"{title}: {text}", STATUS_MS)
