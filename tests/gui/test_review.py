"""Reviewing detections on the waveform against a real Relay Local and a real detector.

A job of the test model over held-out demo recordings taken from a dataset (and one
uploaded file) is reviewed through the ReviewPanel: the queue's order, the keys
(accept, reject, relabel, nudge, undo), accepted detections reaching the server's
draft through the journal and sync, and progress kept across panels.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from relay_desktop.api import RelayClient
from relay_desktop.api.models import InferenceJob
from relay_desktop.core.audio.progressive import GrowingPyramid
from relay_desktop.core.review.queue import ACCEPTED, PENDING, REJECTED
from relay_desktop.services.context import AppContext
from relay_desktop.services.review import downloaded_path
from relay_desktop.ui.labelling import LabellingPanel
from relay_desktop.ui.review.detection_lane import DetectionLane, LaneDetection
from relay_desktop.ui.review.lanes import LaneSpan, SpanLane
from relay_desktop.ui.review.panel import NOT_FROM_DATASET, ReviewPanel
from relay_desktop.ui.waveform.editor import AudioEditor
from tests.gui.conftest import unique
from tests.support.inference_model import DEMO_DIR, TYPES, held_out, install_model
from tests.support.live_server import LiveServer

TYPE_COLORS = [{"name": t, "color": c} for t, c in zip(TYPES, ("#e53935", "#43a047",
                                                               "#1e88e5"), strict=True)]


@dataclass(frozen=True)
class Reviewed:
    job: InferenceJob  # over two held-out files taken from the dataset
    dataset_id: str
    upload_job: InferenceJob  # over one uploaded file


def _wait_done(client: RelayClient, job_id: str, timeout: float = 120.0) -> InferenceJob:
    deadline = time.monotonic() + timeout
    while True:
        job = client.inference_jobs.get(job_id)
        if job.is_terminal:
            return job
        assert time.monotonic() < deadline, "the inference job never finished"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def reviewed(relay_server: LiveServer) -> Iterator[Reviewed]:
    """Finished jobs: two held-out files from a dataset; one uploaded file."""
    model_id = install_model(relay_server, relay_server.api_key)
    with RelayClient(relay_server.base_url, relay_server.api_key) as client:
        ds = client.datasets.create(unique("review"), TYPE_COLORS)
        entries = held_out()[:3]
        audio_ids = [client.audio.upload(ds.id, DEMO_DIR / e["filename"]).audio_id
                     for e in entries[:2]]
        deadline = time.monotonic() + 90
        while any(client.audio.get(ds.id, a).processing_status != "ready" for a in audio_ids):
            assert time.monotonic() < deadline, "the dataset audio never became ready"
            time.sleep(0.2)
        job = client.inference_jobs.create(model_id, {"threshold": 0.3})
        client.inference_jobs.add_dataset_files(job.id, audio_ids)
        upload_job = client.inference_jobs.create(model_id, {"threshold": 0.3})
        client.inference_jobs.upload_file(upload_job.id, DEMO_DIR / entries[2]["filename"])
        done = _wait_done(client, job.id)
        assert done.status == "completed" and done.total_detections >= 4, done
        uploaded = _wait_done(client, upload_job.id)
        assert uploaded.status == "completed" and uploaded.total_detections > 0, uploaded
        yield Reviewed(done, ds.id, uploaded)


def _panel(qtbot: QtBot, context: AppContext) -> tuple[ReviewPanel, AudioEditor,
                                                        LabellingPanel]:
    editor = AudioEditor(context)
    labelling = LabellingPanel()
    panel = ReviewPanel()
    for widget in (editor, labelling, panel):
        qtbot.addWidget(widget)
    labelling.set_context(context)
    labelling.set_audio_editor(editor)
    panel.set_context(context)
    panel.set_editor(editor)
    panel.set_labelling(labelling)
    editor.resize(1000, 500)
    editor.show()
    panel.show()
    return panel, editor, labelling


def _start(qtbot: QtBot, panel: ReviewPanel, job: InferenceJob) -> None:
    with qtbot.waitSignal(panel.item_shown, timeout=30_000):
        panel.review_job(job.id)


def _key(qtbot: QtBot, panel: ReviewPanel, key: Any,
         modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(panel.table, key, modifier)


def _close(panel: ReviewPanel, labelling: LabellingPanel, editor: AudioEditor) -> None:
    panel.shutdown()
    panel.set_context(None)
    labelling.set_context(None)
    editor.shutdown()


def test_the_queue_is_ordered_and_shows_each_detection(
        qtbot: QtBot, app_context: AppContext, reviewed: Reviewed) -> None:
    panel, editor, labelling = _panel(qtbot, app_context)
    _start(qtbot, panel, reviewed.job)
    queue = panel.queue
    assert queue is not None and queue.total() == reviewed.job.total_detections
    confidences = [queue.at(r).confidence for r in range(len(queue))]
    assert confidences == sorted(confidences, reverse=True)
    first = queue.current()
    assert first is not None and first.key == queue.at(0).key
    assert panel.table.currentIndex().row() == 0
    # the editor shows the detection with context, outlined in the lane
    a, b = editor.view.view_range()
    assert a <= first.start_ms / 1000 and b >= first.end_ms / 1000 and b - a < 10
    assert panel.lane is not None and first.key in panel.lane.visible_keys()
    assert "confidence" in panel.lane.tooltip_for(first.key)

    panel.order.setCurrentIndex(panel.order.findData("time"))
    keys = queue.ordered_keys()
    assert keys == sorted(keys, key=lambda k: (k[0], queue.item(k).detection.start_ms, k[1]))
    assert queue.cursor == first.key  # the cursor survives re-sorting

    # the threshold filters the table and the lane live
    cut = math.floor(min(confidences) * 100 + 1) / 100  # drops the least confident
    with qtbot.waitSignal(panel.progress_changed):
        panel.threshold.slider.setValue(round(cut * 100))
    assert all(queue.at(r).confidence >= cut for r in range(len(queue)))
    assert panel.model.rowCount() == len(queue) < queue.total()
    assert all(queue.item(k).confidence >= cut  # type: ignore[arg-type]
               for k in panel.lane.visible_keys())
    panel.threshold.slider.setValue(0)
    assert len(queue) == queue.total()
    _close(panel, labelling, editor)


def test_the_next_file_is_ready_before_the_reviewer_reaches_it(
        qtbot: QtBot, app_context: AppContext, reviewed: Reviewed) -> None:
    panel, editor, labelling = _panel(qtbot, app_context)
    prepared: list[Path] = []
    editor.prefetcher.prepared.connect(prepared.append)
    _start(qtbot, panel, reviewed.job)
    queue, first = panel.queue, panel.current()
    assert queue is not None and first is not None
    next_id = queue.next_file_after(first.key)
    assert next_id is not None and next_id != first.file_id
    # fetched and its peaks built in the background while the first file is reviewed
    qtbot.waitUntil(lambda: len(prepared) == 1, timeout=30_000)
    assert editor.peak_cache.open(prepared[0], editor.audio_cache.digest_of(prepared[0]))
    growing: list[bool] = []
    editor.file_opened.connect(
        lambda _info: growing.append(isinstance(editor.view.pyramid, GrowingPyramid)))
    with qtbot.waitSignal(editor.file_decoded, timeout=30_000):
        panel.show_file(reviewed.job, next_id)
    assert growing == [False], "opened from the peak cache, complete at once"
    assert editor.view.path == prepared[0]
    _close(panel, labelling, editor)


def test_review_keys_accept_into_a_new_draft_synced_to_the_server(
        qtbot: QtBot, app_context: AppContext, reviewed: Reviewed,
        live_client: RelayClient) -> None:
    panel, editor, labelling = _panel(qtbot, app_context)
    _start(qtbot, panel, reviewed.job)
    queue = panel.queue
    assert queue is not None
    first = queue.current()
    assert first is not None and first.key == queue.at(0).key
    assert panel.target.currentText() == "New draft"
    qtbot.waitUntil(lambda: reviewed.dataset_id in panel.datasets, timeout=10_000)

    _key(qtbot, panel, Qt.Key.Key_A)  # accept: a new draft is created and opened
    assert queue.item(first.key).decision == ACCEPTED
    second = queue.current()
    assert second is not None and second.key != first.key and second.decision == PENDING
    qtbot.waitUntil(lambda: labelling.session is not None
                    and first.key not in panel.unsynced()
                    and len(labelling.session.document) == 1, timeout=20_000)
    session = labelling.session
    assert session is not None
    draft_id = session.set_id
    assert panel.drafts[reviewed.dataset_id] == draft_id
    assert panel.target_set_id() == draft_id and panel.target.currentData() == draft_id
    (region,) = list(session.document)
    accepted = queue.item(first.key)
    file = next(f for f in reviewed.job.files if f.id == first.file_id)
    assert (region.audio_file_id, region.artifact_type, region.start_ms, region.end_ms) == (
        file.source_audio_id, accepted.artifact_type, accepted.start_ms, accepted.end_ms)
    assert region.confidence == pytest.approx(first.confidence, abs=1e-3)

    _key(qtbot, panel, Qt.Key.Key_R)  # reject the second
    assert queue.item(second.key).decision == REJECTED
    third = queue.current()
    assert third is not None and third.decision == PENDING

    # relabel to the dataset's 2nd type, nudge both edges, then undo it all step by step
    other = next(i for i, t in enumerate(TYPES) if t != third.artifact_type)
    _key(qtbot, panel, getattr(Qt.Key, f"Key_{other + 1}"))
    assert queue.item(third.key).artifact_type == TYPES[other]
    _key(qtbot, panel, Qt.Key.Key_BracketLeft)
    _key(qtbot, panel, Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ShiftModifier)
    edited = queue.item(third.key)
    assert (edited.start_ms, edited.end_ms) == (max(0, third.start_ms - 10), third.end_ms + 10)
    assert "*" in panel.model.index(queue.row_of(third.key) or 0, 1).data()
    for _ in range(3):
        _key(qtbot, panel, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    restored = queue.item(third.key)
    assert (restored.artifact_type, restored.start_ms, restored.end_ms) == (
        third.artifact_type, third.start_ms, third.end_ms)
    _key(qtbot, panel, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the reject
    assert queue.item(second.key).decision == PENDING and queue.cursor == second.key
    _key(qtbot, panel, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the accept
    assert queue.item(first.key).decision == PENDING and queue.cursor == first.key
    qtbot.waitUntil(lambda: len(session.document) == 0, timeout=5_000)

    # accept twice more (the second one relabelled); both reach the server's draft
    _key(qtbot, panel, Qt.Key.Key_A)
    nxt = queue.current()
    assert nxt is not None
    _key(qtbot, panel, Qt.Key.Key_3)
    _key(qtbot, panel, Qt.Key.Key_A)
    assert queue.item(nxt.key).decision == ACCEPTED
    expected = {(queue.item(first.key).artifact_type, first.start_ms),
                (TYPES[2], nxt.start_ms)}

    def on_server() -> set[tuple[str, int]]:
        detail = live_client.annotation_sets.get(reviewed.dataset_id, draft_id)
        return {(a.artifact_type, a.start_ms) for a in detail.annotations}

    qtbot.waitUntil(lambda: on_server() == expected, timeout=30_000)
    _close(panel, labelling, editor)


def test_accept_into_an_existing_draft(
        qtbot: QtBot, app_context: AppContext, reviewed: Reviewed,
        live_client: RelayClient) -> None:
    existing = live_client.annotation_sets.create(reviewed.dataset_id)
    panel, editor, labelling = _panel(qtbot, app_context)
    _start(qtbot, panel, reviewed.job)
    qtbot.waitUntil(lambda: panel.target.findData(existing.id) >= 0, timeout=10_000)
    panel.target.setCurrentIndex(panel.target.findData(existing.id))
    panel.target.activated.emit(panel.target.currentIndex())  # as a user's pick
    assert panel.target_set_id() == existing.id
    qtbot.waitUntil(lambda: labelling.session is not None
                    and labelling.session.set_id == existing.id, timeout=10_000)
    item = panel.current()
    assert item is not None
    _key(qtbot, panel, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: not panel.unsynced(), timeout=10_000)
    session = labelling.session
    assert session is not None and [r.start_ms for r in session.document] == [item.start_ms]

    def on_server() -> list[int]:
        detail = live_client.annotation_sets.get(reviewed.dataset_id, existing.id)
        return [a.start_ms for a in detail.annotations]

    qtbot.waitUntil(lambda: on_server() == [item.start_ms], timeout=30_000)
    _close(panel, labelling, editor)


def test_progress_is_restored_by_a_new_panel(
        qtbot: QtBot, app_context: AppContext, reviewed: Reviewed) -> None:
    panel, editor, labelling = _panel(qtbot, app_context)
    _start(qtbot, panel, reviewed.job)
    queue = panel.queue
    assert queue is not None
    panel.order.setCurrentIndex(panel.order.findData("time"))
    panel.threshold.slider.setValue(35)
    before = queue.current()
    assert before is not None
    _key(qtbot, panel, Qt.Key.Key_R)
    _key(qtbot, panel, Qt.Key.Key_1)
    decided = queue.to_json()
    cursor = queue.cursor
    _start(qtbot, panel, reviewed.job)  # loaded again (as when more files finish)
    assert panel.queue is not None and panel.queue is not queue
    queue = panel.queue
    assert queue.to_json() == decided
    _close(panel, labelling, editor)

    again, editor2, labelling2 = _panel(qtbot, app_context)
    _start(qtbot, again, reviewed.job)
    restored = again.queue
    assert restored is not None
    assert restored.order == "time" and restored.threshold == pytest.approx(0.35)
    assert again.threshold.threshold() == pytest.approx(0.35)
    assert restored.item(before.key).decision == REJECTED
    assert restored.cursor == cursor
    assert restored.to_json()["items"] == decided["items"]
    assert again.progress.text().startswith("1 of ")
    _close(again, labelling2, editor2)


def test_an_uploaded_file_is_reviewed_but_not_accepted(
        qtbot: QtBot, app_context: AppContext, reviewed: Reviewed) -> None:
    panel, editor, labelling = _panel(qtbot, app_context)
    job = reviewed.upload_job
    (upload,) = job.files
    with qtbot.waitSignal(editor.file_opened, timeout=30_000):
        panel.show_file(job, upload)
    path = downloaded_path(app_context.paths.audio_cache, job.id, upload)
    assert path.exists() and editor.view.path == path  # downloaded once into the cache
    queue = panel.queue
    assert queue is not None
    if upload.detection_count:  # (the fixture made sure it has some)
        qtbot.waitUntil(lambda: panel.current() is not None
                        and panel.current().file_id == upload.id)  # type: ignore[union-attr]
        assert not panel.buttons["review.accept"].isEnabled()
        assert panel.target_note.text() == NOT_FROM_DATASET
        _key(qtbot, panel, Qt.Key.Key_A)
        assert panel.message.text() == NOT_FROM_DATASET
        current = panel.current()
        assert current is not None and current.decision == PENDING
        _key(qtbot, panel, Qt.Key.Key_3)  # relabelled among the model's types
        assert queue.item(current.key).artifact_type == TYPES[2]
        _key(qtbot, panel, Qt.Key.Key_R)  # and rejected
        assert queue.progress().rejected == 1
    _close(panel, labelling, editor)


def test_span_lane_draws_and_reports_hover_and_clicks(qtbot: QtBot) -> None:
    from relay_desktop.ui.waveform.view import WaveformView

    view = WaveformView()
    qtbot.addWidget(view)
    view.resize(800, 400)
    view.show()
    lane = SpanLane(view.plots(), name="test", row=1, rows=2)
    lane.set_spans([LaneSpan(i * 0.5, i * 0.5 + 0.2, QColor(255, 0, 0, 200), f"span {i}", i)
                    for i in range(2000)])
    view.plots()[0].getViewBox().setXRange(0, 1000, padding=0)
    assert lane.key_at(10.1) == 20 and lane.key_at(10.3) is None
    assert lane.tooltip_for(20) == "span 20"
    assert len(lane.visible_indices(0, 4.9)) == 10
    assert not view.grab().isNull()
    item = lane.items[0]
    assert not item.boundingRect().isNull()
    # a real mouse over a span: hover (tooltip, signal), then a click
    hovered: list[object] = []
    clicked: list[object] = []
    lane.hovered.connect(hovered.append)
    lane.clicked.connect(clicked.append)
    canvas = view.findChild(pg.GraphicsLayoutWidget)
    assert canvas is not None
    view.plots()[0].getViewBox().setXRange(0, 50, padding=0)
    QApplication.processEvents()
    point = canvas.mapFromScene(item.mapToScene(QPointF(10.1, item.band().center().y())))
    QTest.mouseMove(canvas.viewport(), point)
    qtbot.waitUntil(lambda: hovered == [20])
    assert item.toolTip() == "span 20"
    QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, point)
    qtbot.waitUntil(lambda: clicked == [20])
    lane.set_visible(False)
    assert not lane.is_visible()
    lane.detach()
    assert item.scene() is None


def test_detection_lane_filters_and_colours(qtbot: QtBot) -> None:
    from relay_desktop.ui.waveform.view import WaveformView

    view = WaveformView()
    qtbot.addWidget(view)
    lane = DetectionLane(view.plots())
    lane.set_detections([LaneDetection(("f", 0), "click", 0, 100, 0.9),
                         LaneDetection(("f", 1), "glitch", 200, 300, 0.4)],
                        {"click": "#00ff00"})
    assert lane.visible_keys() == [("f", 0), ("f", 1)]
    assert lane.lane.palette[0].green() == 255 and lane.lane.palette[0].alpha() > 200
    lane.set_threshold(0.5)
    assert lane.visible_keys() == [("f", 0)]
    assert "click · confidence 0.90" in lane.tooltip_for(("f", 0))


def test_a_5000_detection_queue_stays_responsive(
        qtbot: QtBot, app_context: AppContext, relay_server: LiveServer) -> None:
    """The benchmark's job (5,000 detections over 50 files) loads and steps through."""
    from benchmarks.review_latency import build_review_job

    with RelayClient(relay_server.base_url, relay_server.api_key) as client:
        job_id, _ds = build_review_job(relay_server, client, files=50, per_file=100)
    panel, editor, labelling = _panel(qtbot, app_context)
    with qtbot.waitSignal(panel.item_shown, timeout=60_000):
        panel.review_job(job_id)
    queue = panel.queue
    assert queue is not None and queue.total() == 5000 and panel.model.rowCount() == 5000
    panel.order.setCurrentIndex(panel.order.findData("time"))
    shown: list[object] = []
    panel.item_shown.connect(shown.append)
    for n in range(30):
        if n % 3 == 2:  # the keys work in the editor too (before its own N: next region)
            qtbot.keyClick(editor.view, Qt.Key.Key_N)
        else:
            _key(qtbot, panel, Qt.Key.Key_A if n % 3 == 0 else Qt.Key.Key_N)
        expected = n + 1
        qtbot.waitUntil(lambda: len(shown) == expected, timeout=20_000)  # noqa: B023
        QApplication.processEvents()
        assert shown[-1] == queue.cursor
        assert panel.table.currentIndex().row() == queue.row_of(queue.cursor)  # type: ignore[arg-type]
    assert queue.progress().accepted == 10
    _close(panel, labelling, editor)
