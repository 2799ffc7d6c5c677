"""The whole label -> train -> detect -> review -> relabel loop, driven through the window.

A fresh Relay Local holds what the demo workspace holds: the ten demo recordings with
their published labels, and the two held-out recordings (never trained on) in a
dataset of their own with published ground truth. Through the Application's own
menus, docks and dialogs: train from the published set (the Labels dock's "Train
model…"), watch it complete with its loss curve, show its model, run inference from
the model on the held-out files, evaluate against the ground truth, review and accept
detections into a new draft, and publish that draft.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from relay_desktop.api import RelayClient
from relay_desktop.core.evaluation import Span, evaluate
from relay_desktop.core.review.queue import ACCEPTED
from relay_desktop.ui.annotations.publish_dialog import PublishDialog
from relay_desktop.ui.inference.new_job_dialog import NewInferenceJobDialog
from relay_desktop.ui.training.dialog import TrainingDialog
from resources import resource_path
from tests.support.app_driver import running_app, shown_dialog
from tests.support.live_server import LiveServer
from tests.support.trainable import DEMO_TYPES, Trainable, trainable_dataset

TRAIN_TIMEOUT_MS = 240_000
INFER_TIMEOUT_MS = 120_000
EPOCHS = 3
W = TypeVar("W", bound=QWidget)


@dataclass(frozen=True)
class HeldOut:
    dataset_id: str
    truth_set_id: str
    audio_ids: tuple[str, ...]


def _held_out(client: RelayClient) -> HeldOut:
    """The held-out demo recordings with their published ground truth."""
    folder = resource_path("demo")
    entries = json.loads((folder / "manifest.json").read_text())["heldout_files"]
    ds = client.datasets.create("Loop: held-out", list(DEMO_TYPES))
    ids = {e["filename"]: client.audio.upload(ds.id, folder / e["filename"]).audio_id
           for e in entries}
    deadline = time.monotonic() + 120
    while any(client.audio.get(ds.id, a).processing_status != "ready" for a in ids.values()):
        assert time.monotonic() < deadline, "the held-out audio never became ready"
        time.sleep(0.2)
    truth = client.annotation_sets.create(ds.id)
    client.annotations.bulk_create(ds.id, truth.id, [
        {"audio_file_id": ids[e["filename"]], "artifact_type": a["artifact_type"],
         "start_ms": a["start_ms"], "end_ms": a["end_ms"]}
        for e in entries for a in e["annotations"]])
    client.annotation_sets.publish(ds.id, truth.id)
    return HeldOut(ds.id, truth.id, tuple(ids.values()))


@pytest.fixture
def workspace(monkeypatch: pytest.MonkeyPatch,
              fresh_server: LiveServer) -> Iterator[tuple[LiveServer, Trainable, HeldOut]]:
    monkeypatch.setenv("RELAY_BASE_URL", fresh_server.base_url)
    monkeypatch.setenv("RELAY_API_KEY", fresh_server.api_key)
    trained = trainable_dataset(fresh_server.base_url, fresh_server.api_key,
                                "Loop: demo recordings")
    with RelayClient(fresh_server.base_url, fresh_server.api_key) as client:
        held = _held_out(client)
    yield fresh_server, trained, held


def test_train_infer_evaluate_review_and_publish_through_the_window(
        qtbot: Any, tmp_path: Path,
        workspace: tuple[LiveServer, Trainable, HeldOut]) -> None:
    server, trained, held = workspace
    client = RelayClient(server.base_url, server.api_key)
    with running_app(qtbot, tmp_path) as shell:
        loop = shell.loop
        assert loop.train_action.isEnabled() and loop.infer_action.isEnabled()

        # 1. "Train model…" on the published set in the Labels dock
        assert shell.window.datasets.select_dataset(trained.dataset_id)
        labelling = shell.labelling
        qtbot.waitUntil(lambda: labelling.sets_panel is not None and any(
            s.id == trained.annotation_set_id for s in labelling.sets_panel.sets),
            timeout=15_000)
        sets = labelling.sets_panel
        assert sets is not None
        sets.select_set(trained.annotation_set_id)
        assert sets.train_action.isEnabled()
        sets.train_action.trigger()
        training = shown_dialog(qtbot, TrainingDialog)
        qtbot.waitUntil(lambda: training.data is not None, timeout=15_000)
        assert all(c.passed for c in training.checks()), training.checks()
        training.set_value("epochs", EPOCHS)
        with qtbot.waitSignal(training.job_created, timeout=15_000) as created:
            training.train_button.click()
        train_job = created.args[0]
        assert loop.jobs_dock.isVisible()
        jobs = loop.jobs.jobs
        assert jobs is not None
        qtbot.waitUntil(lambda: jobs.job("training", train_job.id).status == "completed",
                        timeout=TRAIN_TIMEOUT_MS)
        done = client.training_jobs.get(train_job.id)
        assert done.model_id and done.progress is not None
        train_loss, validation_loss = loop.jobs.loss_plot.points()
        assert train_loss == pytest.approx(list(done.progress.train_loss))
        assert validation_loss == pytest.approx(list(done.progress.validation_loss))
        assert len(train_loss) == EPOCHS

        # 2. its model, then "Run inference…" from the Models dock
        loop.jobs.select_job("training", train_job.id)
        loop.jobs.model_action.trigger()
        assert loop.models_dock.isVisible()
        qtbot.waitUntil(lambda: (m := loop.models.selected_model()) is not None
                        and m.id == done.model_id, timeout=15_000)
        loop.models.details.run_button.click()
        new_job = shown_dialog(qtbot, NewInferenceJobDialog)
        qtbot.waitUntil(lambda: new_job.model_id() == done.model_id, timeout=15_000)
        with qtbot.waitSignal(new_job.created, timeout=15_000) as made:
            new_job.submit()
        infer_job = made.args[0]
        assert loop.inference_dock.isVisible()
        qtbot.waitUntil(lambda: loop.inference.job is not None
                        and loop.inference.job.id == infer_job.id, timeout=15_000)

        # 3. the held-out files, chosen from their dataset; run to completion
        picker = loop.inference.add_from_dataset()
        assert picker is not None
        qtbot.waitUntil(lambda: picker.dataset_combo.findData(held.dataset_id) >= 0,
                        timeout=15_000)
        with qtbot.waitSignal(picker.files_loaded, timeout=15_000):
            picker.select_dataset(held.dataset_id)
        picker.set_checked(held.audio_ids)
        with qtbot.waitSignal(picker.added, timeout=15_000):
            picker.add_button.click()
        qtbot.waitUntil(lambda: jobs.job("inference", infer_job.id) is not None
                        and jobs.job("inference", infer_job.id).status == "completed",
                        timeout=INFER_TIMEOUT_MS)
        final = client.inference_jobs.get(infer_job.id)
        assert {f.source_audio_id for f in final.files} == set(held.audio_ids)
        assert final.total_detections > 0, "the model found nothing in the held-out audio"
        qtbot.waitUntil(lambda: loop.inference.review_button.isEnabled(), timeout=15_000)

        # 4. evaluate against the held-out ground truth: the figures a direct computation gives
        loop.inference.evaluate_button.click()
        assert loop.evaluate_dock.isVisible()
        qtbot.waitUntil(lambda: loop.evaluate.result() is not None, timeout=30_000)
        def ground_truth() -> str:
            shown = loop.evaluate.result()
            return shown.annotation_set.id if shown is not None else ""

        if ground_truth() != held.truth_set_id:
            assert loop.evaluate.choose_set(held.truth_set_id)
            qtbot.waitUntil(lambda: ground_truth() == held.truth_set_id, timeout=30_000)
        result = loop.evaluate.result()
        assert result is not None
        truth_set = client.annotation_sets.get(held.dataset_id, held.truth_set_id)
        truth = [Span(f.id, a.artifact_type, a.start_ms, a.end_ms)
                 for f in final.files for a in truth_set.annotations
                 if a.audio_file_id == f.source_audio_id]
        found = [Span(f.id, d.artifact_type, d.start_ms, d.end_ms, d.confidence)
                 for f in final.files for d in f.detections or ()]
        overall, _per_type = evaluate(truth, found, types=result.types,
                                      tolerance_ms=result.tolerance_ms)
        assert (result.overall.tp, result.overall.fp, result.overall.fn) == (
            overall.tp, overall.fp, overall.fn)

        # 5. review: the first detection is drawn and accepted (A) into a new draft
        loop.inference.review_button.click()
        assert loop.review_dock.isVisible()
        review = loop.review
        qtbot.waitUntil(lambda: review.current() is not None
                        and review.shown_file_id is not None, timeout=30_000)
        first = review.current()
        assert first is not None and review.lane is not None
        assert review.lane.lane.spans_count() > 0
        qtbot.keyClick(review.table, Qt.Key.Key_A)
        qtbot.waitUntil(lambda: review.queue is not None
                        and review.queue.item(first.key).decision == ACCEPTED, timeout=5_000)

        def draft_with_the_detection() -> bool:
            drafts = [s for s in client.annotation_sets.iter_items(held.dataset_id)
                      if s.status == "draft"]
            return any((a.artifact_type, a.start_ms, a.end_ms)
                       == (first.artifact_type, first.start_ms, first.end_ms)
                       for s in drafts
                       for a in client.annotation_sets.get(held.dataset_id, s.id).annotations)

        qtbot.waitUntil(draft_with_the_detection, timeout=30_000)
        session = labelling.session
        assert session is not None and session.dataset_id == held.dataset_id
        draft_id = session.set_id

        # 6. publish the reviewed draft from the Labels dock
        assert labelling.editor is not None
        labelling.editor.publish_button.click()
        publish = shown_dialog(qtbot, PublishDialog)
        for i in range(publish.files.count()):  # files without labels: reviewed, none there
            publish.files.item(i).setCheckState(Qt.CheckState.Checked)
        publish.confirm.setChecked(True)
        qtbot.waitUntil(publish.publish_button.isEnabled, timeout=15_000)
        with qtbot.waitSignal(session.published, timeout=30_000):
            publish.publish_button.click()
        published = client.annotation_sets.get(held.dataset_id, draft_id)
        assert published.status == "published"
        assert any((a.artifact_type, a.start_ms, a.end_ms)
                   == (first.artifact_type, first.start_ms, first.end_ms)
                   for a in published.annotations)
        client.close()
