"""Evaluating an inference job against a ground-truth set, against a real Relay Local.

A real detector (tests/support/inference_model.py) runs over held-out demo files
taken from the trainable demo dataset, whose published set is the ground truth.
The panel's table, threshold plot and lanes must equal a direct computation with
``core.evaluation`` from the same labels and detections read over HTTP.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from relay_desktop.api import RelayClient
from relay_desktop.api.models import InferenceJob
from relay_desktop.core.evaluation import Span, best_f1, evaluate, match, sweep
from relay_desktop.services.context import AppContext
from relay_desktop.ui.evaluate import EvaluatePanel
from relay_desktop.ui.evaluate.lanes import FALSE_POSITIVE, MATCHED, MISSED
from relay_desktop.ui.evaluate.metrics_table import OVERALL, cells
from relay_desktop.ui.evaluate.threshold_plot import ThresholdPlot
from relay_desktop.ui.waveform.editor import AudioEditor
from tests.support.inference_model import TRAIN_FILES, TYPES, install_model
from tests.support.live_server import LiveServer
from tests.support.trainable import Trainable, trainable_dataset

EVALUATED_FILES = 3


@dataclass(frozen=True)
class Evaluated:
    job: InferenceJob
    trainable: Trainable


@pytest.fixture(scope="module")
def evaluated(relay_server: LiveServer) -> Evaluated:
    """A finished job over held-out files of the trainable dataset (a low threshold)."""
    trainable = trainable_dataset(relay_server.base_url, relay_server.api_key)
    model_id = install_model(relay_server, relay_server.api_key)
    audio_ids = trainable.audio_ids[TRAIN_FILES:TRAIN_FILES + EVALUATED_FILES]
    with RelayClient(relay_server.base_url, relay_server.api_key) as client:
        job = client.inference_jobs.create(model_id, {"threshold": 0.1})
        client.inference_jobs.add_dataset_files(job.id, audio_ids)
        deadline = time.monotonic() + 180
        while not (done := client.inference_jobs.get(job.id)).is_terminal:
            assert time.monotonic() < deadline, "the inference job never finished"
            time.sleep(0.2)
    assert done.status == "completed" and len(done.files) == EVALUATED_FILES, done
    return Evaluated(done, trainable)


def direct_spans(client: RelayClient, ev: Evaluated) -> tuple[list[Span], list[Span]]:
    """Labels and detections read over HTTP, keyed by inference file id."""
    job = client.inference_jobs.get(ev.job.id)
    detail = client.annotation_sets.get(ev.trainable.dataset_id, ev.trainable.annotation_set_id)
    truth, dets = [], []
    for f in job.files:
        truth += [Span(f.id, a.artifact_type, a.start_ms, a.end_ms)
                  for a in detail.annotations if a.audio_file_id == f.source_audio_id]
        dets += [Span(f.id, d.artifact_type, d.start_ms, d.end_ms, d.confidence)
                 for d in f.detections or ()]
    return truth, dets


def wait_result(qtbot: QtBot, panel: EvaluatePanel, tolerance_ms: int) -> Any:
    qtbot.waitUntil(lambda: (r := panel.result()) is not None
                    and r.tolerance_ms == tolerance_ms, timeout=30000)
    return panel.result()


def check_figures(panel: EvaluatePanel, truth: list[Span], dets: list[Span],
                  tolerance_ms: int) -> None:
    overall, per_type = evaluate(truth, dets, types=TYPES, tolerance_ms=tolerance_ms)
    for t in TYPES:
        assert panel.table.row_texts(t) == cells(t, per_type[t])
    assert panel.table.row_texts(OVERALL) == cells(OVERALL, overall)
    assert panel.table.rowCount() == len(TYPES) + 1
    points = sweep(truth, dets, tolerance_ms=tolerance_ms, types=TYPES)
    xs, ys = panel.plot.curves["f1"].getData()
    assert list(xs) == [p.threshold for p in points]
    assert list(ys) == [p.f1 for p in points]
    assert list(panel.plot.curves["recall"].getData()[1]) == [p.recall for p in points]
    assert list(panel.plot.curves["precision"].getData()[1]) == [p.precision for p in points]
    best = best_f1(points)
    assert best is not None and panel.plot.best_line.value() == best.threshold
    assert panel.plot.best_text() == ThresholdPlot.best_label(best)


def test_panel_figures_and_lanes_equal_a_direct_computation(
        qtbot: QtBot, app_context: AppContext, evaluated: Evaluated,
        live_client: RelayClient) -> None:
    editor = AudioEditor(app_context)
    panel = EvaluatePanel()
    qtbot.addWidget(editor)
    qtbot.addWidget(panel)
    panel.set_context(app_context)
    panel.set_editor(editor)
    panel.evaluate_job(evaluated.job)
    result = wait_result(qtbot, panel, 0)
    assert result.annotation_set.id == evaluated.trainable.annotation_set_id  # the published one
    assert panel.set_combo.count() >= 1 and "published" in panel.set_combo.currentText()
    truth, dets = direct_spans(live_client, evaluated)
    overall, _ = evaluate(truth, dets, types=TYPES)
    assert overall.tp > 0 and overall.support == len(truth) > 0  # the test can fail
    check_figures(panel, truth, dets, 0)
    assert panel.files.rowCount() == EVALUATED_FILES

    # a wider tolerance is recomputed live and still equals the direct figures
    panel.tolerance.setValue(400)
    wait_result(qtbot, panel, 400)
    check_figures(panel, truth, dets, 400)
    assert evaluate(truth, dets, types=TYPES, tolerance_ms=400)[0].tp >= overall.tp

    # choosing a file opens it in the editor with its three lanes
    target = max(evaluated.job.files, key=lambda f: f.detection_count)
    with qtbot.waitSignal(panel.lanes_drawn, timeout=60000):
        assert panel.select_file(target.id)
    shown = panel.shown_file()
    assert shown is not None and shown.file.id == target.id
    expected = match([s for s in truth if s.audio_file_id == target.id],
                     [s for s in dets if s.audio_file_id == target.id], tolerance_ms=400)
    lanes = panel.lanes()
    assert lanes is not None
    assert lanes.counts() == {MATCHED: len(expected.pairs),
                              FALSE_POSITIVE: len(expected.false_positives),
                              MISSED: len(expected.missed)}
    assert panel.legend_counts() == {"matched": len(expected.pairs),
                                     "false_positive": len(expected.false_positives),
                                     "missed": len(expected.missed)}
    assert sum(lanes.counts().values()) > 0
    assert all(item.scene() is not None for lane in lanes.lanes.values() for item in lane.items)
    assert editor.view.duration_s > 0
    # clicking a span selects it in the editor
    name = next(n for n, c in lanes.counts().items() if c)
    lane = lanes.lanes[name]
    index = next(i for i in range(lane.spans_count()) if lane.ends[i] > lane.starts[i])
    lane.click_index(index)
    key = lane.keys[index]
    span = lanes.span(key)
    assert span is not None and isinstance(key, tuple) and key[0] == name
    selection = editor.view.selection()
    assert selection is not None
    assert selection == pytest.approx((span.start_s, span.end_s), abs=1e-3)

    # back to no tolerance: the lanes follow the new matching of the same file
    panel.tolerance.setValue(0)
    wait_result(qtbot, panel, 0)
    exact = match([s for s in truth if s.audio_file_id == target.id],
                  [s for s in dets if s.audio_file_id == target.id])
    assert lanes.counts() == {MATCHED: len(exact.pairs),
                              FALSE_POSITIVE: len(exact.false_positives),
                              MISSED: len(exact.missed)}
    panel.set_context(None)
    assert panel.table.rowCount() == 0 and lanes.counts() == {MATCHED: 0, FALSE_POSITIVE: 0,
                                                              MISSED: 0}
    editor.shutdown()


def test_a_job_with_no_dataset_files_says_so(qtbot: QtBot, app_context: AppContext,
                                             relay_server: LiveServer,
                                             live_client: RelayClient) -> None:
    model_id = install_model(relay_server, relay_server.api_key)
    job = live_client.inference_jobs.create(model_id)
    panel = EvaluatePanel()
    qtbot.addWidget(panel)
    panel.set_context(app_context)
    panel.evaluate_job(job.id)
    qtbot.waitUntil(lambda: "None of this job's files" in panel.status.text(), timeout=15000)
    assert panel.set_combo.count() == 0 and panel.result() is None
    live_client.inference_jobs.cancel(job.id)
