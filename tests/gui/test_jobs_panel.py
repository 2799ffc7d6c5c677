"""The Jobs dock against a live Relay Local: train from the dialog, watch, cancel, filter.

One small model is trained on the demo recordings (tests/support/trainable.py),
launched through the "Train model…" dialog and followed by the panel until its
loss curve is plotted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt, QThreadPool

from relay_desktop.api import RelayClient
from relay_desktop.api.models import AnnotationSet, TrainingJob
from relay_desktop.core.paths import AppPaths
from relay_desktop.core.settings import Settings
from relay_desktop.services.activity import ActivityTracker
from relay_desktop.services.api_worker import ApiWorker
from relay_desktop.services.context import AppContext, ConnectionInfo
from relay_desktop.ui.jobs import JobNotifier, JobsPanel
from relay_desktop.ui.jobs.model import ELAPSED, KIND, PROGRESS, STATUS, WHAT
from tests.support.fault_server import FaultServer, Reply
from tests.support.live_server import LiveServer
from tests.support.trainable import Trainable, build_trainable, trainable_dataset

TRAIN_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def demo(relay_server: LiveServer) -> Trainable:
    return trainable_dataset(relay_server.base_url, relay_server.api_key)


@pytest.fixture
def panel(qtbot: Any, app_context: AppContext) -> Iterator[JobsPanel]:
    widget = JobsPanel()
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    widget.set_context(app_context)
    yield widget
    widget.shutdown()


def demo_set(client: RelayClient, demo: Trainable) -> AnnotationSet:
    return next(s for s in client.annotation_sets.iter_items(demo.dataset_id)
                if s.id == demo.annotation_set_id)


def cell(panel: JobsPanel, kind: str, job_id: str, column: int) -> str:
    row = panel.model.row_of(kind, job_id)
    assert row >= 0, f"{kind} job {job_id} is not listed"
    return str(panel.model.index(row, column).data())


def shown_rows(panel: JobsPanel) -> list[tuple[str, str]]:
    return [(str(panel.proxy.index(r, KIND).data()), str(panel.proxy.index(r, STATUS).data()))
            for r in range(panel.proxy.rowCount())]


def test_train_from_the_dialog_and_watch_the_loss_curve(qtbot: Any, app_context: AppContext,
                                                         panel: JobsPanel,
                                                         live_client: RelayClient,
                                                         demo: Trainable) -> None:
    assert panel.jobs is not None
    requested: list[Any] = []
    panel.train_requested.connect(lambda: requested.append(True))
    panel.train_action.trigger()
    assert requested == [True]

    dialog = panel.open_training_dialog(demo_set(live_client, demo))
    assert dialog is not None and dialog.jobs is panel.jobs
    qtbot.waitUntil(lambda: dialog.data is not None, timeout=15000)
    assert all(c.passed for c in dialog.checks()), dialog.checks()
    assert "small dataset" in dialog.advice.text()   # about 7 minutes of demo audio
    dialog.set_types(["glitch", "long_pause"])
    dialog.set_value("epochs", 2)
    assert dialog.train_button.isEnabled()
    with qtbot.waitSignal(dialog.job_created, timeout=15000) as created:
        dialog.train_button.click()
    job: TrainingJob = created.args[0]
    assert job.config["epochs"] == 2 and sorted(job.config["artifact_types"]) == [
        "glitch", "long_pause"]
    assert panel.model.row_of("training", job.id) >= 0   # listed at once
    assert panel.jobs.tracked("training") >= 1
    selected = panel.selected_job()
    assert selected is not None and selected[1].id == job.id
    assert panel.loss_plot.isVisible()

    qtbot.waitUntil(lambda: panel.jobs.job("training", job.id).status == "completed",
                    timeout=TRAIN_TIMEOUT_MS)
    done = live_client.training_jobs.get(job.id)
    assert done.status == "completed" and done.model_id
    assert done.progress is not None
    train, validation = panel.loss_plot.points()
    assert train == pytest.approx(list(done.progress.train_loss))
    assert validation == pytest.approx(list(done.progress.validation_loss))
    assert len(train) == len(validation) == 2
    assert cell(panel, "training", job.id, STATUS) == "completed"
    assert cell(panel, "training", job.id, PROGRESS).startswith("100%")
    assert cell(panel, "training", job.id, ELAPSED) != ""
    qtbot.waitUntil(lambda: cell(panel, "training", job.id, WHAT)
                    == f"{demo.dataset_name} v{demo.set_version}", timeout=15000)
    assert panel.jobs.tracked("training") == 0   # nothing left to poll
    assert panel.model_action.isEnabled() and not panel.cancel_action.isEnabled()
    with qtbot.waitSignal(panel.model_requested, timeout=1000) as shown:
        panel.model_action.trigger()
    assert shown.args == [done.model_id]

    # an inference job from the new model: listed, named after the model, double-click opens it
    with qtbot.waitSignal(panel.jobs.job_updated, timeout=15000):
        handle = panel.jobs.start_inference(done.model_id, {"threshold": 0.5})
    inference = handle.outcome == "succeeded" and panel.jobs.inference_jobs()[0]
    assert inference and inference.model_id == done.model_id
    qtbot.waitUntil(lambda: cell(panel, "inference", inference.id, WHAT)
                    == live_client.models.get(done.model_id).name, timeout=15000)
    panel.select_job("inference", inference.id)
    assert not panel.loss_plot.isVisible()
    activated: list[Any] = []
    panel.inference_job_activated.connect(activated.append)
    index = panel.table.selectionModel().selectedRows()[0]
    rect = panel.table.visualRect(index)
    viewport = panel.table.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    assert [j.id for j in activated] == [inference.id]
    with qtbot.waitSignal(panel.jobs.job_finished, timeout=15000):
        panel.cancel_selected()
    assert cell(panel, "inference", inference.id, STATUS) == "cancelled"


def test_cancel_a_running_job_and_filter(qtbot: Any, panel: JobsPanel,
                                         live_client: RelayClient, demo: Trainable) -> None:
    jobs = panel.jobs
    assert jobs is not None
    with qtbot.waitSignal(jobs.job_updated, timeout=15000):
        handle = jobs.start_training(demo.dataset_id, demo.annotation_set_id,
                                     {"artifact_types": ["long_pause"], "epochs": 100})
    job = handle.outcome == "succeeded" and jobs.training_jobs()[0]
    assert job and job.status not in ("completed", "failed", "cancelled")
    qtbot.waitUntil(lambda: jobs.job("training", job.id).status == "training",
                    timeout=60_000)   # really running, followed by the monitor
    assert panel.select_job("training", job.id)
    assert panel.cancel_action.isEnabled() and not panel.model_action.isEnabled()
    with qtbot.waitSignal(jobs.job_finished, timeout=15000) as finished:
        panel.cancel_action.trigger()
    assert finished.args[0] == "training" and finished.args[1].status == "cancelled"
    assert cell(panel, "training", job.id, STATUS) == "cancelled"
    assert not panel.cancel_action.isEnabled()
    assert live_client.training_jobs.get(job.id).status == "cancelled"
    assert jobs.job("training", job.id).completed_at is not None
    qtbot.waitUntil(lambda: jobs.tracked("training") == 0, timeout=15000)

    with qtbot.waitSignal(jobs.jobs_changed, timeout=15000):
        panel.refresh_action.trigger()
    assert panel.model.row_of("training", job.id) >= 0
    panel.status_filter.setText("cancel")
    assert shown_rows(panel) and all(s == "cancelled" for _k, s in shown_rows(panel))
    panel.status_filter.setText("")
    panel.kind_filter.setCurrentIndex(panel.kind_filter.findData("inference"))
    assert all(k == "Inference" for k, _s in shown_rows(panel))
    panel.kind_filter.setCurrentIndex(panel.kind_filter.findData("training"))
    assert shown_rows(panel) and all(k == "Training" for k, _s in shown_rows(panel))


def test_disconnect_empties_the_list(qtbot: Any, panel: JobsPanel) -> None:
    assert panel.jobs is not None
    with qtbot.waitSignal(panel.jobs.jobs_changed, timeout=15000):
        panel.refresh()
    panel.set_context(None)
    assert panel.jobs is None and panel.model.rowCount() == 0
    assert not panel.train_action.isEnabled()
    assert panel.table.model().rowCount(QModelIndex()) == 0


def test_jobs_are_followed_across_a_server_restart(qtbot: Any, fresh_server: LiveServer,
                                                   gui_paths: AppPaths) -> None:
    """The app talks to a proxy on a fixed port (a restarted Relay Local picks a new one)."""
    demo = build_trainable(fresh_server.base_url, fresh_server.api_key, "Restart demo")
    with FaultServer() as proxy:
        proxy.script("*", "*", Reply(proxy=fresh_server.base_url))
        worker = ApiWorker(proxy.url, fresh_server.api_key)
        pool = QThreadPool()
        context = AppContext(worker=worker, connection=ConnectionInfo("Proxy", proxy.url),
                             settings=Settings(gui_paths.config / "settings.json"),
                             paths=gui_paths, thread_pool=pool, activity=ActivityTracker())
        panel = JobsPanel()
        qtbot.addWidget(panel)
        try:
            panel.set_context(context)
            jobs = panel.jobs
            assert jobs is not None
            with qtbot.waitSignal(jobs.job_updated, timeout=15000):
                handle = jobs.start_training(demo.dataset_id, demo.annotation_set_id, {
                    "artifact_types": ["long_pause"], "epochs": 100, "stride_ms": 50})
            job_id = jobs.training_jobs()[0].id
            assert handle.outcome == "succeeded"

            def epoch() -> int:
                job = jobs.job("training", job_id)
                return job.progress.epoch if job is not None and job.progress else 0

            qtbot.waitUntil(lambda: epoch() >= 1, timeout=60_000)
            fresh_server.stop()
            qtbot.wait(2500)   # polls fail meanwhile: the job is still shown, still followed
            assert jobs.job("training", job_id).status == "training"
            assert jobs.tracked("training") == 1
            fresh_server.start()
            proxy.script("*", "*", Reply(proxy=fresh_server.base_url))
            after: list[Any] = []
            jobs.job_updated.connect(lambda _kind, job: after.append(job))
            qtbot.waitUntil(lambda: any(j.id == job_id and j.status == "training"
                                        for j in after), timeout=60_000)
            panel.select_job("training", job_id)
            with qtbot.waitSignal(jobs.job_finished, timeout=15000) as finished:
                panel.cancel_selected()
            assert finished.args[1].status == "cancelled"
            assert cell(panel, "training", job_id, STATUS) == "cancelled"
        finally:
            panel.shutdown()
            assert worker.shutdown(5000)
            pool.waitForDone(5000)


def test_notifier_only_speaks_for_jobs_that_end_in_the_background(qtbot: Any) -> None:
    notifier = JobNotifier()
    shown: list[tuple[str, str]] = []
    notifier.notified.connect(lambda title, text: shown.append((title, text)))
    cancelled = TrainingJob(id="j1", status="cancelled")
    assert not notifier.job_finished("training", cancelled)
    failed = TrainingJob(id="j2", status="failed", error_message="out of memory")
    expected = notifier.available() and notifier.in_background()
    assert notifier.job_finished("training", failed) is expected
    assert shown == ([("Training failed", "Training job failed: out of memory")]
                     if expected else [])
    notifier.close()
