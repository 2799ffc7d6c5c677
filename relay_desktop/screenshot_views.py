"""``--screenshot --view NAME``: bring one step of the model loop on screen before the grab.

The demo workspace trains a model and runs it over the held-out dataset as it is
seeded; this waits (bounded by the screenshot's own timeout) for both jobs to
complete, then shows the view: the training job with its loss curve (jobs), the
model's metrics (models), the inference job's files (inference), its first
detection in the editor (review), or its scores against the ground truth (evaluate).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

if TYPE_CHECKING:
    from relay_desktop.app import Application

log = logging.getLogger(__name__)

VIEWS = ("label", "jobs", "models", "inference", "review", "evaluate")
POLL_MS = 1000
SETTLE_MS = 1200


class ViewDriver(QObject):
    """Shows one model-loop view of the running app, then says it is ready.

    Signals:
        ready(): the view is on screen (grab now).
        failed(str): the view could not be shown (a sentence).
    """

    ready = Signal()
    failed = Signal(str)

    def __init__(self, app: Application, view: str) -> None:
        super().__init__(app)
        if view not in VIEWS:
            raise ValueError(f"view must be one of {', '.join(VIEWS)}")
        self.app = app
        self.view = view
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._check_jobs)
        self._started = False

    def start(self) -> None:
        """Wait for the demo's completed training and inference jobs, then show the view."""
        if self._started:
            return
        self._started = True
        self._check_jobs()
        self._poll.start()

    def _check_jobs(self) -> None:
        jobs = self.app.loop.jobs.jobs
        if jobs is None:
            return
        training = next((j for j in jobs.training_jobs() if j.status == "completed"), None)
        inference = next((j for j in jobs.inference_jobs() if j.status == "completed"), None)
        if training is None or inference is None:
            jobs.refresh()
            return
        self._poll.stop()
        self._show(training, inference)

    def _show(self, training: Any, inference: Any) -> None:
        loop = self.app.loop
        settle = lambda: QTimer.singleShot(SETTLE_MS, self.ready.emit)  # noqa: E731
        if self.view == "jobs":
            loop.show(loop.jobs_dock)
            loop.jobs.select_job("training", training.id)
            settle()
        elif self.view == "models":
            loop.models.models_loaded.connect(lambda _m: settle())
            loop.show_model(training.model_id)
            loop.models.refresh()
        elif self.view == "inference":
            loop.inference.job_shown.connect(lambda _j: settle())
            loop.show_inference_job(inference.id)
        elif self.view == "review":
            loop.show_inference_job(inference.id)
            loop.review.item_shown.connect(lambda _i: settle())
            loop.review_job(inference.id)
        elif self.view == "evaluate":
            evaluate = loop.evaluate
            evaluate.evaluated.connect(self._open_evaluated_file)
            evaluate.lanes_drawn.connect(lambda _f: settle())
            loop.evaluate_job(inference.id)
        else:
            settle()

    def _open_evaluated_file(self, result: Any) -> None:
        """Open the file with the most events, so the lanes show matches and misses."""
        evaluate = self.app.loop.evaluate
        if evaluate.shown_file() is not None:
            return
        files = sorted(result.files, key=lambda f: -(f.scores.tp + f.scores.fp + f.scores.fn))
        if not files or not evaluate.select_file(files[0].file.id):
            QTimer.singleShot(SETTLE_MS, self.ready.emit)
