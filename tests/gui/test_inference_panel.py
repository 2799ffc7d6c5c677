"""The Inference view against a real Relay Local and a real trained detector: a new job
from the dialog, files dropped on the panel (real QDropEvents, the upload manager) and
added from a dataset, per-file progress to completion with detection counts, exports
that parse back with the formats package, and the server's refusals shown."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from relay_desktop import formats
from relay_desktop.api import RelayClient
from relay_desktop.api.models import AnnotationCreate, InferenceJob, Model
from relay_desktop.services.context import AppContext
from relay_desktop.services.job_monitor import JobMonitor
from relay_desktop.services.jobs import JobsService
from relay_desktop.services.upload_manager import UploadManager
from relay_desktop.ui.inference import InferencePanel
from relay_desktop.ui.inference.files_model import DETECTIONS, NAME, STATUS
from relay_desktop.ui.inference.new_job_dialog import NewInferenceJobDialog
from tests.gui.conftest import unique
from tests.support.inference_model import DEMO_DIR, held_out, install_model
from tests.support.live_server import LiveServer

COPY = Qt.DropAction.CopyAction
DONE_S = 120_000   # ms: a few demo recordings through the detector on a busy 2-core box


@pytest.fixture(scope="module")
def model_id(relay_server: LiveServer) -> str:
    return install_model(relay_server, relay_server.api_key, name=unique("panel detector"))


@dataclass(frozen=True)
class ReadyDataset:
    """Two held-out demo recordings, ready, with labels on the first in a draft set."""

    id: str
    audio_ids: list[str]
    set_id: str
    labels: int


@pytest.fixture(scope="module")
def ready_dataset(relay_server: LiveServer) -> ReadyDataset:
    entries = held_out()[2:4]
    with RelayClient(relay_server.base_url, relay_server.api_key) as client:
        dataset = client.datasets.create(unique("Infer from dataset"),
                                         artifact_types=["glitch", "long_pause", "click"])
        audio_ids = [client.audio.upload(dataset.id, DEMO_DIR / e["filename"]).audio_id
                     for e in entries]
        wait_ready(client, dataset.id, audio_ids)
        labels = client.annotation_sets.create(dataset.id)
        client.annotations.bulk_create(dataset.id, labels.id, [
            AnnotationCreate(audio_ids[0], a["artifact_type"], a["start_ms"], a["end_ms"])
            for a in entries[0]["annotations"]])
    return ReadyDataset(dataset.id, audio_ids, labels.id, len(entries[0]["annotations"]))


@dataclass
class Services:
    context: AppContext
    jobs: JobsService


@pytest.fixture
def services(app_context: AppContext) -> Iterator[Services]:
    """What the app gives a connection: a JobMonitor, the upload manager, the JobsService."""
    app_context.monitor = JobMonitor(app_context.worker)
    app_context.uploads = UploadManager(app_context, monitor=app_context.monitor)
    jobs = JobsService(app_context)
    yield Services(app_context, jobs)
    jobs.shutdown()
    app_context.uploads.shutdown(5000)
    app_context.monitor.stop()


@pytest.fixture
def panel(qtbot: Any, services: Services) -> Iterator[InferencePanel]:
    widget = InferencePanel()
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    widget.set_context(services.context)
    widget.set_jobs(services.jobs)
    yield widget
    widget.set_context(None)


def file_mime(paths: list[Path]) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drop(widget: QWidget, pos: QPoint, mime: QMimeData) -> QDropEvent:
    """DragEnter, DragMove, then Drop at ``pos``, as Qt sends them."""
    for kind in (QDragEnterEvent, QDragMoveEvent):
        QApplication.sendEvent(widget, kind(pos, COPY, mime, Qt.MouseButton.LeftButton,
                                            Qt.KeyboardModifier.NoModifier))
    event = QDropEvent(QPointF(pos), COPY, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier, QEvent.Type.Drop)
    QApplication.sendEvent(widget, event)
    return event


def shown(panel: InferencePanel) -> list[tuple[str, str, str]]:
    m = panel.files
    return [(m.index(r, NAME).data(), m.index(r, STATUS).data(), m.index(r, DETECTIONS).data())
            for r in range(m.rowCount())]


def all_done(panel: InferencePanel, count: int) -> bool:
    job = panel.job
    return (job is not None and job.status == "completed" and len(panel.files.files) == count
            and all(f.status == "completed" for f in panel.files.files)
            and job.processed_files == count)


def wait_ready(client: RelayClient, dataset_id: str, audio_ids: list[str]) -> None:
    deadline = time.monotonic() + 120
    for audio_id in audio_ids:
        while client.audio.get(dataset_id, audio_id).processing_status != "ready":
            assert time.monotonic() < deadline, "processing took too long"
            time.sleep(0.2)


def test_new_job_dialog_enforces_ranges_and_starts_the_job(
        qtbot: Any, panel: InferencePanel, model_id: str, live_client: RelayClient) -> None:
    dialog = panel.open_new_job_dialog(model_id)
    assert isinstance(dialog, NewInferenceJobDialog)
    qtbot.waitUntil(lambda: dialog.model_id() == model_id, timeout=15000)
    # the documented defaults, except the minimum duration (50 ms would drop every click)
    assert dialog.config() == {"threshold": 0.5, "merge_window_ms": 200, "min_duration_ms": 0}
    texts = " ".join(label.text() for label in dialog.findChildren(type(dialog.error)))
    assert "0.9-1.0 very high" in texts and "0.3-0.5 low" in texts and "clicks" in texts
    # out-of-range values cannot be entered
    for box, wrong, clamped in ((dialog.threshold, 1.7, 1.0), (dialog.threshold, -0.2, 0.0),
                                (dialog.merge, 99_999, 5000), (dialog.merge, -1, 0),
                                (dialog.min_duration, 5000, 1000)):
        box.setValue(wrong)
        assert box.value() == clamped
    dialog.threshold.setValue(0.35)
    dialog.merge.setValue(150)
    dialog.min_duration.setValue(0)
    with qtbot.waitSignal(panel.job_shown, timeout=15000) as started:
        dialog.start_button.click()
    job: InferenceJob = started.args[0]
    assert not dialog.isVisible()
    assert live_client.inference_jobs.get(job.id).config == {
        "threshold": 0.35, "merge_window_ms": 150, "min_duration_ms": 0}
    assert panel.config_label.text() == ("threshold 0.35 · merge window 150 ms · minimum "
                                         "duration 0 ms")
    assert panel.status_label.text() == "waiting for files"
    assert "started" in panel.log_label.text()
    qtbot.waitUntil(lambda: panel.model_label.text().startswith("panel detector"),
                    timeout=15000)


def test_dropped_files_run_to_completion_with_per_file_counts(
        qtbot: Any, panel: InferencePanel, model_id: str, live_client: RelayClient) -> None:
    job = live_client.inference_jobs.create(model_id, {"min_duration_ms": 0})
    with qtbot.waitSignal(panel.job_shown, timeout=15000):
        panel.show_job(job.id)
    assert panel.empty_hint.isVisible()
    names = [entry["filename"] for entry in held_out()[:2]]
    hints: list[str] = []
    panel.drop_target.hint_changed.connect(hints.append)
    processed: list[int] = []
    panel.job_shown.connect(lambda j: processed.append(j.processed_files))
    event = drop(panel, QPoint(200, 300), file_mime([DEMO_DIR / n for n in names]))
    assert event.isAccepted()
    assert hints[0] == f"Drop to upload 2 items to “inference job {job.id[:8]}”"
    assert "Uploading 2 items" in panel.log_label.text()
    qtbot.waitUntil(lambda: all_done(panel, 2), timeout=DONE_S)

    final = live_client.inference_jobs.get(job.id)
    assert final.status == "completed" and final.total_files == 2
    by_name = {f.original_filename: f for f in final.files}
    assert sorted(by_name) == sorted(names)
    assert sorted(shown(panel)) == sorted((f.original_filename, "done", str(f.detection_count))
                                          for f in final.files)
    assert sum(f.detection_count for f in final.files) == final.total_detections > 0
    assert panel.counts_label.text() == (f"2 of 2 files processed · "
                                         f"{final.total_detections} detections")
    assert panel.status_label.text().startswith("completed")
    assert processed[-1] == 2 and processed == sorted(processed)   # followed, never back
    assert not panel.empty_hint.isVisible()
    assert panel.review_button.isEnabled() and panel.evaluate_button.isEnabled()

    # double-clicking a completed file asks to open it; Review and Evaluate hand on the job
    index = panel.files.index(0, NAME)
    with qtbot.waitSignal(panel.open_file_requested, timeout=2000) as opened:
        panel.table.doubleClicked.emit(index)
    assert opened.args[0].id == job.id and opened.args[1] == panel.files.files[0]
    with qtbot.waitSignal(panel.review_requested, timeout=2000) as review:
        panel.review_button.click()
    assert review.args[0].id == job.id


def test_add_from_dataset_then_export_every_format(
        qtbot: Any, panel: InferencePanel, model_id: str, live_client: RelayClient,
        ready_dataset: ReadyDataset, tmp_path: Path) -> None:
    dataset, audio_ids = ready_dataset, ready_dataset.audio_ids
    job = live_client.inference_jobs.create(model_id, {"min_duration_ms": 0})
    with qtbot.waitSignal(panel.job_shown, timeout=15000):
        panel.show_job(job)

    dialog = panel.add_from_dataset()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.dataset_combo.findData(dataset.id) >= 0, timeout=15000)
    with qtbot.waitSignal(dialog.files_loaded, timeout=15000):
        dialog.select_dataset(dataset.id)
    assert sorted(dialog.checked_ids()) == sorted(audio_ids)   # every ready file, ticked
    with qtbot.waitSignal(dialog.labels_loaded, timeout=15000) as counted:
        assert dialog.select_set(dataset.set_id)
    assert counted.args[0] == {audio_ids[0]: dataset.labels}
    assert [dialog.tree.topLevelItem(i).text(2) for i in range(2)] == sorted(
        [str(dataset.labels), "0"], reverse=dialog.files[0].id == audio_ids[0])
    dialog.labelled_button.click()
    assert dialog.checked_ids() == [audio_ids[0]]
    dialog.all_button.click()
    assert dialog.add_button.text() == "Add 2 files"
    inserted: list[str] = []
    panel.files.rowsInserted.connect(lambda _p, first, last: inserted.extend(
        panel.files.index(r, STATUS).data() for r in range(first, last + 1)))
    with qtbot.waitSignal(dialog.added, timeout=15000) as added:
        dialog.add_button.click()
    assert sorted(f.source_audio_id for f in added.args[0]) == sorted(audio_ids)
    assert "Added 2 dataset files" in panel.log_label.text()
    # the new rows came in queued (the server's answer), then moved on by themselves
    assert inserted == ["queued", "queued"]
    qtbot.waitUntil(lambda: all_done(panel, 2), timeout=DONE_S)
    final = live_client.inference_jobs.get(job.id)
    assert {f.source_audio_id for f in final.files} == set(audio_ids)
    assert sorted(shown(panel)) == sorted((f.original_filename, "done", str(f.detection_count))
                                          for f in final.files)

    want = sorted((f.source_audio_id, f.original_filename, d.artifact_type, d.start_ms,
                   d.end_ms) for f in final.files for d in f.detections or ())
    assert want, "the detector found something in the demo recordings"
    for fmt, per_file in (("json", False), ("csv", False), ("raven", False),
                          ("raven", True), ("audacity", True)):
        export = panel.export()
        assert export is not None
        export.set_format(fmt, per_file=per_file)
        assert export.splits() == per_file
        dest = tmp_path / f"{fmt}-{per_file}"
        export.path_edit.setText(str(dest / f"out{formats.EXTENSIONS[fmt]}") if not per_file
                                 else str(dest))
        with qtbot.waitSignal(export.exported, timeout=15000) as written:
            export.buttons.button(export.buttons.StandardButton.Save).click()
        result = written.args[0]
        assert panel.log_label.text() == result.summary(fmt)
        assert f"Exported {len(want)} detections of 2 audio files" in panel.log_label.text()
        got = []
        for path in result.paths:
            parsed = formats.import_regions(path.read_text(encoding="utf-8"), fmt)
            assert parsed.ok, parsed.rejected
            for r in parsed.regions:
                # Audacity names neither the file nor its id: the export file's name does
                name = r.filename or next(f.original_filename for f in final.files
                                          if Path(f.original_filename).stem
                                          == path.name.split(".")[0])
                audio = r.audio_file_id or next(f.source_audio_id for f in final.files
                                                if f.original_filename == name)
                got.append((audio, name, r.artifact_type, r.start_ms, r.end_ms))
        assert sorted(got) == want, fmt
        assert len(result.paths) == (2 if per_file else 1)


def test_server_refusals_are_shown_and_a_cancelled_job_takes_no_files(
        qtbot: Any, panel: InferencePanel, model_id: str, live_client: RelayClient,
        ready_dataset: ReadyDataset) -> None:
    # a model the server does not know: the form is valid, the server says no
    dialog = panel.open_new_job_dialog()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.model_id() is not None, timeout=15000)
    ghost = Model(id=str(uuid.uuid4()), name="gone", description=None, artifact_types=("x",),
                  training_job_id=None, eval_metrics={}, is_active=True, created_at=None)
    dialog.set_models([ghost])
    dialog.start_button.click()
    qtbot.waitUntil(lambda: "Model not found" in dialog.error.text(), timeout=15000)
    assert dialog.isVisible() and dialog.start_button.isEnabled()
    dialog.close()

    # a dataset dialog is open when the job is cancelled through the panel (JobsService)
    job = live_client.inference_jobs.create(model_id)
    with qtbot.waitSignal(panel.job_shown, timeout=15000):
        panel.show_job(job.id)
    adder = panel.add_from_dataset()
    assert adder is not None and panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: adder.dataset_combo.findData(ready_dataset.id) >= 0, timeout=15000)
    with qtbot.waitSignal(adder.files_loaded, timeout=15000):
        adder.select_dataset(ready_dataset.id)
    panel.cancel_job()
    qtbot.waitUntil(lambda: panel.job is not None and panel.job.status == "cancelled",
                    timeout=15000)
    assert live_client.inference_jobs.get(job.id).status == "cancelled"
    assert f"Inference job {job.id[:8]} cancelled." in panel.log_label.text()
    assert not panel.cancel_button.isEnabled()
    assert not panel.add_files_button.isEnabled()
    assert not panel.add_dataset_button.isEnabled()

    # the server refuses the files (409), and the dialog says so and stays open
    adder.set_checked(ready_dataset.audio_ids[:1])
    adder.add_button.click()
    qtbot.waitUntil(lambda: "not added" in adder.status.text(), timeout=15000)
    assert "cancelled" in adder.status.text().lower()
    assert adder.isVisible() and adder.add_button.isEnabled()
    assert live_client.inference_jobs.get(job.id).files == ()

    # and a drop on the panel is refused with the reason
    refused: list[str] = []
    panel.drop_target.refused.connect(refused.append)
    drop(panel, QPoint(100, 100), file_mime([DEMO_DIR / held_out()[0]["filename"]]))
    assert refused == ["This inference job was cancelled; start a new one."]
